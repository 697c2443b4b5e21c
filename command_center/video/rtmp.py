"""What nginx's RTMP module tells us of a push (`on_publish`, `on_publish_done`), and
the push key a device pushes with. No I/O.

nginx posts a form: `app`, `name` (the stream key, up to its `?`), `clientid` (nginx's
number of the connection), `addr` (the pusher's address), `tcurl`, `call`, and the
key's query parameters as fields of their own. A device pushes to
`rtmp://HOST:PORT/live/<device id>?token=<push key>` — or, where its app has one
field for a stream key, with the push key as the key: `rtmp://HOST:PORT/live/<push key>`.

The push key stands for the device token because nginx's RTMP module cuts a stream
name and its arguments at 255 bytes, and a device token is longer (about 330). It is
`device~squad~token id~expiry~MAC`: signed with the service's key, bound to the device
token it was made from (its record id: revoking the token revokes the key; the same
expiry). A device token short enough to pass is accepted in its place.

No token or key is ever put into a log line: `describe` names the stream only when the
key is not the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from command_center.auth.model import DEVICE_ID_PATTERN, Principal, Role
from command_center.errors import Forbidden, InvalidInput, NotFound, Unauthenticated

PUSH_HINT = "push to rtmp://HOST:PORT/live/<device id>?token=<push key>"
KEY_SEPARATOR = "~"  # in no device id, squad code, token id or base64url MAC
MAC_CHARACTERS = 22  # 128 bits of HMAC-SHA256, base64url
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class RtmpPush:
    app: str
    token: str
    name: str | None  # the stream the device named; None when the key is the token
    client_id: str
    address: str

    def describe(self) -> str:
        key = self.name if self.name is not None else "(the token as stream key)"
        return f"{self.app}/{key} from {self.address or 'an unknown address'}"


def read_push(form: Mapping[str, str], *, app: str) -> RtmpPush:
    """The push a callback describes. Unauthenticated without a token, InvalidInput for a
    stream name that is no device id, NotFound for another application than `app`."""
    name, token = form.get("name", ""), form.get("token", "")
    address = form.get("addr", "")[:64]
    pushed_to = form.get("app", "")
    if pushed_to != app:
        label = pushed_to if _DEVICE_ID.match(pushed_to) else "(unnamed)"
        raise NotFound(f"no RTMP application {label} here: {PUSH_HINT}")
    if token:
        if not _DEVICE_ID.match(name):
            raise InvalidInput(f"the stream name must be the device id: {PUSH_HINT}")
        stream: str | None = name
    elif name:
        token, stream = name, None
    else:
        raise Unauthenticated(f"no device token: {PUSH_HINT}")
    return RtmpPush(
        app=app, token=token, name=stream, client_id=form.get("clientid", ""), address=address
    )


def application(read_url: str) -> str:
    """The RTMP application of a read URL (`rtmp://127.0.0.1:1935/live` → `live`)."""
    return urlsplit(read_url).path.strip("/")


def push_key(by: Principal, *, signing_key: str) -> str:
    """The push key of a device token. Forbidden for any other principal, or a token
    without a record (one that cannot be revoked cannot be stood in for)."""
    if by.role is not Role.DEVICE or by.device is None:
        raise Forbidden("only a device token has an RTMP push key")
    kind, _, token_id = (by.credential or "").partition(":")
    if kind != "token" or not token_id or by.expires_at is None:
        raise Forbidden("this device token has no record; ask for a new one")
    fields = [by.device, by.squad or "", token_id, format(int(by.expires_at), "x")]
    if any(KEY_SEPARATOR in field for field in fields):
        raise Forbidden("this device token cannot be turned into a push key")
    return KEY_SEPARATOR.join([*fields, _mac(signing_key, fields)])


def is_push_key(secret: str) -> bool:
    return secret.count(KEY_SEPARATOR) == 4


def key_principal(key: str, *, signing_key: str, now: float) -> Principal:
    """The device a push key stands for; Unauthenticated when it is forged or expired
    (whether its token was revoked is the caller's check, as for a token)."""
    *fields, mac = key.split(KEY_SEPARATOR)
    if len(fields) != 4 or not hmac.compare_digest(mac, _mac(signing_key, fields)):
        raise Unauthenticated("the push key is not valid")
    device, squad, token_id, expiry = fields
    expires_at = float(int(expiry, 16))
    if expires_at <= now:
        raise Unauthenticated("the push key has expired with its device token; ask for a new one")
    return Principal(
        role=Role.DEVICE,
        subject=device,
        squad=squad or None,
        device=device,
        credential=f"token:{token_id}",
        expires_at=expires_at,
    )


def _mac(signing_key: str, fields: Sequence[str]) -> str:
    message = "\0".join(["rtmp-push-key", *fields]).encode()
    digest = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARACTERS]
