"""Camera credentials sealed at rest (command_center/sealing.py), the device id as the
associated data (a sealed password copied to another camera's row does not open). The
key is CAMERA_KEY, or derived from SECRET_KEY with HKDF-SHA256 when that is unset.
Nothing here logs.
"""

from __future__ import annotations

from command_center import sealing
from command_center.errors import Unavailable


def camera_key(*, configured: str | None, secret_key: str) -> bytes:
    if configured:
        return bytes.fromhex(configured)
    return sealing.derive_key(secret_key, purpose=b"camera-credentials")


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def seal(self, secret: str, *, device_id: str) -> bytes:
        return sealing.seal(self._key, secret.encode(), aad=device_id.encode())

    def open(self, sealed: bytes, *, device_id: str) -> str:
        """The secret; Unavailable when it was sealed with another key or altered."""
        try:
            return sealing.unseal(self._key, sealed, aad=device_id.encode()).decode()
        except sealing.Unopened:
            raise Unavailable(
                f"the stored credentials of camera {device_id} cannot be read with this "
                "CAMERA_KEY; register the camera again"
            ) from None
