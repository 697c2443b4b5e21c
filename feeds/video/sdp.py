"""Checks on SDP offers before aiortc sees them, with messages a client author can act on."""

from __future__ import annotations

from enum import StrEnum

from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.sdp import MediaDescription, SessionDescription

from command_center.errors import InvalidInput

MAX_OFFER_BYTES = 64 * 1024
MEDIA_KINDS = ("audio", "video")


class Purpose(StrEnum):
    PUBLISH = "publish"  # WHIP: the client sends media
    WATCH = "watch"  # WHEP: the client receives media


_SENDING = {Purpose.PUBLISH: ("sendonly", "sendrecv"), Purpose.WATCH: ("recvonly", "sendrecv")}


def parse_offer(body: bytes, purpose: Purpose) -> str:
    """The offer as text, normalised to CRLF line ends; InvalidInput naming what is wrong.

    A publisher's offer must send video, a viewer's must receive it; both need ICE
    credentials and a DTLS fingerprint.
    """
    if len(body) > MAX_OFFER_BYTES:
        raise InvalidInput(f"the SDP offer is larger than {MAX_OFFER_BYTES // 1024} KiB")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is not an SDP offer (not UTF-8 text)") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "v=0":
        raise InvalidInput("the body is not an SDP offer: it must start with the line v=0")
    text = "\r\n".join(lines) + "\r\n"
    try:
        description = SessionDescription.parse(text)
    except Exception:  # aiortc's parser raises whatever the line trips on
        raise InvalidInput("the SDP offer is malformed") from None
    _check_media(description, purpose)
    return text


def _check_media(description: SessionDescription, purpose: Purpose) -> None:
    media = [m for m in description.media if m.kind in MEDIA_KINDS]
    wanted = _SENDING[purpose]
    if not any(m.kind == "video" and (m.direction or "sendrecv") in wanted for m in media):
        verb = "send" if purpose is Purpose.PUBLISH else "receive"
        raise InvalidInput(
            f"the offer must {verb} video: an m=video section with a={' or a='.join(wanted)}"
        )
    for m in media:
        if m.ice is None or not m.ice.usernameFragment or not m.ice.password:
            raise InvalidInput("the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)")
        if m.dtls is None or not m.dtls.fingerprints:
            raise InvalidInput("the offer has no DTLS fingerprint (a=fingerprint)")


def answer_codec(answer: str, kind: str) -> RTCRtpCodecParameters | None:
    """The codec an answer chose for the first active section of `kind`, if any."""
    for media in SessionDescription.parse(answer).media:
        if media.kind == kind and media.direction != "inactive" and _codecs(media):
            return _codecs(media)[0]
    return None


def _codecs(media: MediaDescription) -> list[RTCRtpCodecParameters]:
    return [c for c in media.rtp.codecs if not c.mimeType.lower().endswith("/rtx")]
