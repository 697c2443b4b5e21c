"""Camera credentials sealed at rest: AES-256-GCM (the `cryptography` package), a fresh
96-bit nonce per sealing, the device id as associated data (a sealed password copied to
another camera's row does not open). The key is CAMERA_KEY, or derived from SECRET_KEY
with HKDF-SHA256 when that is unset. Nothing here logs.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from command_center.errors import Unavailable

NONCE_BYTES = 12


def camera_key(*, configured: str | None, secret_key: str) -> bytes:
    if configured:
        return bytes.fromhex(configured)
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"camera-credentials")
    return derive.derive(secret_key.encode())


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, secret: str, *, device_id: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), device_id.encode())

    def open(self, sealed: bytes, *, device_id: str) -> str:
        """The secret; Unavailable when it was sealed with another key or altered."""
        nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, device_id.encode()).decode()
        except InvalidTag:
            raise Unavailable(
                f"the stored credentials of camera {device_id} cannot be read with this "
                "CAMERA_KEY; register the camera again"
            ) from None
