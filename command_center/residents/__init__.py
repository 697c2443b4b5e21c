"""The resident mini-program: tips with photos, progress by code, QR codes, ratings."""
