"""A database marked as a demo, and requests sent by its simulation."""
