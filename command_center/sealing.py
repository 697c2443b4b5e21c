"""Secrets sealed at rest, one way for the whole service: AES-256-GCM (the `cryptography`
package) with a fresh 96-bit nonce per sealing and associated data naming the row the
secret belongs to (a sealed value copied to another row does not open), and keys derived
from a key material by HKDF-SHA256 with a purpose label. No I/O; nothing here logs.

Used by the TOTP secrets (accounts/totp_vault.py) and the fixed cameras' RTSP passwords
(video/credentials.py), which add their own storage form and error wording.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class Unopened(ValueError):
    """The sealed value does not open with this key and associated data."""


def derive_key(material: str, *, purpose: bytes) -> bytes:
    """The AES-256 key a key material (e.g. SECRET_KEY) gives for one purpose."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        material.encode()
    )


def seal(key: bytes, secret: bytes, *, aad: bytes) -> bytes:
    """nonce + ciphertext + tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, secret, aad)


def unseal(key: bytes, sealed: bytes, *, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except (InvalidTag, ValueError):
        raise Unopened("the sealed value does not open") from None
