"""Who may publish, watch, record and take evidence from a stream. No I/O.

A stream is named after its device and belongs to it: only that device's token publishes
it. Watching follows the scope rule of clues: a squad watches its own devices; operators,
supervisors and admins watch the devices of their jurisdiction (the ones their squad
serves, or where they were last seen) and everything below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote, urlsplit, urlunsplit

from command_center.auth.model import Principal, Role
from command_center.errors import Forbidden, InvalidInput

WATCH_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.SQUAD})
EVIDENCE_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.SQUAD})
CLUE_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})
RECORD_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


def check_publisher(by: Principal, stream: str) -> None:
    if by.role is not Role.DEVICE:
        raise Forbidden("only a device token publishes video")
    if by.device != stream:
        raise Forbidden(f"this device token publishes /whip/{by.device}, not /whip/{stream}")


def may_watch(by: Principal, *, jurisdiction_path: Sequence[str], squad_code: str | None) -> bool:
    return by.role in WATCH_ROLES and by.sees_clue(
        jurisdiction_path=jurisdiction_path, squad_codes=(squad_code,) if squad_code else ()
    )


def check_watcher(
    by: Principal, stream: str, *, jurisdiction_path: Sequence[str], squad_code: str | None
) -> None:
    if not may_watch(by, jurisdiction_path=jurisdiction_path, squad_code=squad_code):
        raise Forbidden(f"stream {stream} is outside your scope")


def check_role(by: Principal, roles: frozenset[Role], what: str) -> None:
    if by.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(f"{what} needs one of the roles: {allowed}")


# --- fixed cameras --------------------------------------------------------------------

CAMERA_ROLES = frozenset({Role.ADMIN})  # who registers and removes cameras
RTSP_SCHEMES = ("rtsp", "rtsps")


def camera_url(url: str) -> str:
    """A camera's RTSP URL as stored: InvalidInput for another scheme, no host, or
    credentials inside it (they go in `username`/`password`, which are sealed)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in RTSP_SCHEMES or not parts.hostname:
        raise InvalidInput("rtsp_url must be rtsp://HOST[:PORT]/PATH (or rtsps://)")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidInput(
            "rtsp_url must not hold credentials: give them as username and password, "
            "which are stored encrypted"
        )
    try:
        parts.port  # noqa: B018 - a bad port raises
    except ValueError:
        raise InvalidInput("rtsp_url has an invalid port") from None
    return urlunsplit(parts)


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL FFmpeg opens: the credentials percent-encoded into its authority."""
    if not username:
        return url
    parts = urlsplit(url)
    secret = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    return urlunsplit(parts._replace(netloc=f"{secret}@{parts.netloc}"))
