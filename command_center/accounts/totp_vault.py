"""TOTP secrets encrypted at rest: AES-256-GCM with a key derived by HKDF-SHA256 from
`TOTP_KEY` (else from `SECRET_KEY`), so that a copy of the `users` table opens no
second factor. No I/O.

A stored value reads `enc1:<key id>:<base64 of nonce + ciphertext + tag>`; the key id (8
hex digits of the derived key's SHA-256) says which key sealed it, so that a rotation can
keep opening the old values (`TOTP_KEY_PREVIOUS`) while `command-center user rekey-totp`
seals them again with the current key. The account id is the associated data: a sealed
secret copied onto another account does not open.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from command_center import sealing

PREFIX = "enc1"
_INFO = b"command-center totp secret v1"


class VaultError(ValueError):
    """A sealed secret cannot be opened (unknown key, tampered, or not sealed at all)."""


def derive_key(material: str) -> bytes:
    """The AES-256 key of a key material (TOTP_KEY or SECRET_KEY)."""
    return sealing.derive_key(material, purpose=_INFO)


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX + ":")


@dataclass(frozen=True, slots=True)
class TotpVault:
    """Seals with the current key, opens with the current or any previous key."""

    current: bytes
    previous: tuple[bytes, ...] = ()

    @classmethod
    def from_materials(cls, current: str, previous: Sequence[str] = ()) -> TotpVault:
        return cls(derive_key(current), tuple(derive_key(m) for m in previous))

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def seal(self, secret: str, *, user_id: int) -> str:
        sealed = sealing.seal(self.current, secret.encode(), aad=_aad(user_id))
        body = base64.b64encode(sealed).decode()
        return f"{PREFIX}:{self.current_id}:{body}"

    def open(self, value: str, *, user_id: int) -> str:
        """The plain base32 secret; VaultError when no known key opens it."""
        parts = value.split(":")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise VaultError("the stored second factor is not sealed")
        keys = {key_id(k): k for k in (*self.previous, self.current)}
        key = keys.get(parts[1])
        if key is None:
            raise VaultError(f"the second factor is sealed with an unknown key {parts[1]}")
        try:
            raw = base64.b64decode(parts[2], validate=True)
            return sealing.unseal(key, raw, aad=_aad(user_id)).decode()
        except (sealing.Unopened, ValueError):
            raise VaultError("the stored second factor does not open") from None

    def needs_reseal(self, value: str) -> bool:
        """True when the value is plain or sealed by a key other than the current one."""
        return not is_sealed(value) or value.split(":")[1] != self.current_id


def _aad(user_id: int) -> bytes:
    return f"users:{user_id}".encode()
