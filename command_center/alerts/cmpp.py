"""China Mobile CMPP 2.0 (中国移动通信互联网短信网关接口协议 v2.0): the few messages an SP
needs to send texts and hear their status reports. No I/O: bytes in, messages out.

Every message is a 12-byte header (Total_Length, Command_Id, Sequence_Id, unsigned
32-bit big-endian) and a body of fixed-width fields. Octet strings are ASCII, left
aligned and padded with NUL. What is here:

- CMPP_CONNECT / _RESP: the SP's id (Source_Addr, 6), AuthenticatorSource =
  MD5(Source_Addr + 9 NUL + shared secret + "MMDDHHMMSS"), Version 0x20, Timestamp; the
  answer's Status (1 byte in 2.0), AuthenticatorISMG = MD5(Status + AuthenticatorSource
  + secret), Version.
- CMPP_SUBMIT / _RESP: one short message to one or more numbers; Msg_Id and Result.
- CMPP_DELIVER / _RESP: a message from a phone, or (Registered_Delivery = 1) a status
  report whose content is Msg_Id, Stat (`DELIVRD` …), Submit_time, Done_time,
  Dest_terminal_Id, SMSC_sequence.
- CMPP_ACTIVE_TEST / _RESP (the link check) and CMPP_TERMINATE / _RESP.

Texts go as UCS-2 (Msg_Fmt 8): 70 characters fit one message; a longer text is cut into
parts of 67 with the concatenation header (TP_udhi = 1, `05 00 03 ref total n`).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

VERSION = 0x20
HEADER = struct.Struct(">III")
MAX_FRAME = 4096  # longer than any message here: a bigger length is a broken stream
UCS2 = 8
SINGLE_OCTETS = 140
PART_CHARS = 67


class ProtocolError(ValueError):
    """The bytes are not CMPP 2.0 as this codec knows it."""


class Command(IntEnum):
    CONNECT = 0x00000001
    CONNECT_RESP = 0x80000001
    TERMINATE = 0x00000002
    TERMINATE_RESP = 0x80000002
    SUBMIT = 0x00000004
    SUBMIT_RESP = 0x80000004
    DELIVER = 0x00000005
    DELIVER_RESP = 0x80000005
    ACTIVE_TEST = 0x00000008
    ACTIVE_TEST_RESP = 0x80000008


CONNECT_STATUS = {
    0: "correct",
    1: "bad message structure",
    2: "illegal source address",
    3: "authentication failed",
    4: "version too high",
}
SUBMIT_RESULT = {
    0: "correct",
    1: "bad message structure",
    2: "bad command",
    3: "repeated sequence",
    4: "bad message length",
    5: "bad fee code",
    6: "message too long",
    7: "bad service id",
    8: "flow control",
}


@dataclass(frozen=True, slots=True)
class Frame:
    command: Command
    sequence: int
    body: bytes = b""

    def encode(self) -> bytes:
        return HEADER.pack(HEADER.size + len(self.body), self.command, self.sequence) + self.body


class Decoder:
    """Frames from a byte stream, however it was cut. ProtocolError on a length outside
    12..4096 or an unknown command: the connection cannot be trusted after that."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER.size:
            length, command, sequence = HEADER.unpack_from(self._buffer)
            if not HEADER.size <= length <= MAX_FRAME:
                raise ProtocolError(f"frame length {length}")
            if len(self._buffer) < length:
                break
            try:
                kind = Command(command)
            except ValueError:
                raise ProtocolError(f"unknown command 0x{command:08x}") from None
            frames.append(Frame(kind, sequence, bytes(self._buffer[HEADER.size : length])))
            del self._buffer[:length]
        return frames


def octets(value: str, width: int) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > width:
        raise ProtocolError(f"{value!r} is longer than {width} octets")
    return raw.ljust(width, b"\0")


def text_of(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


def timestamp(moment: datetime) -> str:
    """MMDDHHMMSS of the SP's local time, as the authenticator takes it."""
    return moment.strftime("%m%d%H%M%S")


def authenticator_source(sp_id: str, secret: str, stamp: str) -> bytes:
    return hashlib.md5(
        octets(sp_id, 6) + b"\0" * 9 + secret.encode() + stamp.encode(), usedforsecurity=False
    ).digest()


def authenticator_ismg(status: int, source: bytes, secret: str) -> bytes:
    return hashlib.md5(bytes([status]) + source + secret.encode(), usedforsecurity=False).digest()


_CONNECT = struct.Struct(">6s16sBI")
_CONNECT_RESP = struct.Struct(">B16sB")


@dataclass(frozen=True, slots=True)
class Connect:
    source_addr: str
    authenticator: bytes
    timestamp: int
    version: int = VERSION

    @classmethod
    def of(cls, sp_id: str, secret: str, moment: datetime) -> Connect:
        stamp = timestamp(moment)
        return cls(sp_id, authenticator_source(sp_id, secret, stamp), int(stamp))

    def body(self) -> bytes:
        return _CONNECT.pack(
            octets(self.source_addr, 6), self.authenticator, self.version, self.timestamp
        )

    @classmethod
    def parse(cls, body: bytes) -> Connect:
        addr, auth, version, stamp = _unpack(_CONNECT, body)
        return cls(text_of(addr), auth, stamp, version)

    def stamp(self) -> str:
        return f"{self.timestamp:010d}"


@dataclass(frozen=True, slots=True)
class ConnectResp:
    status: int
    authenticator: bytes
    version: int = VERSION

    def body(self) -> bytes:
        return _CONNECT_RESP.pack(self.status, self.authenticator, self.version)

    @classmethod
    def parse(cls, body: bytes) -> ConnectResp:
        return cls(*_unpack(_CONNECT_RESP, body))


_SUBMIT_HEAD = struct.Struct(">QBBBB10sB21sBBB6s2s6s17s17s21sB")
_MSG_ID_RESULT = struct.Struct(">QB")


@dataclass(frozen=True, slots=True)
class Submit:
    sp_id: str
    src_id: str
    destinations: tuple[str, ...]
    content: bytes
    service_id: str = ""
    registered_delivery: int = 1
    msg_fmt: int = UCS2
    tp_udhi: int = 0
    pk_total: int = 1
    pk_number: int = 1
    msg_level: int = 0
    fee_user_type: int = 2  # the SP pays: alerts are free to whoever receives them
    fee_type: str = "01"  # free
    fee_code: str = "000000"

    def body(self) -> bytes:
        if not 1 <= len(self.destinations) <= 100:
            raise ProtocolError("a submit names 1 to 100 numbers")
        if len(self.content) > SINGLE_OCTETS:
            raise ProtocolError(f"content of {len(self.content)} octets (at most 140)")
        head = _SUBMIT_HEAD.pack(
            0,
            self.pk_total,
            self.pk_number,
            self.registered_delivery,
            self.msg_level,
            octets(self.service_id, 10),
            self.fee_user_type,
            octets("", 21),
            0,
            self.tp_udhi,
            self.msg_fmt,
            octets(self.sp_id, 6),
            octets(self.fee_type, 2),
            octets(self.fee_code, 6),
            octets("", 17),
            octets("", 17),
            octets(self.src_id, 21),
            len(self.destinations),
        )
        numbers = b"".join(octets(n, 21) for n in self.destinations)
        return head + numbers + bytes([len(self.content)]) + self.content + b"\0" * 8

    @classmethod
    def parse(cls, body: bytes) -> Submit:
        if len(body) < _SUBMIT_HEAD.size:
            raise ProtocolError("short CMPP_SUBMIT")
        f = _SUBMIT_HEAD.unpack_from(body)
        count, at = f[17], _SUBMIT_HEAD.size
        numbers = tuple(text_of(body[at + 21 * i : at + 21 * (i + 1)]) for i in range(count))
        at += 21 * count
        if len(body) < at + 1:
            raise ProtocolError("short CMPP_SUBMIT")
        length = body[at]
        content = body[at + 1 : at + 1 + length]
        if len(content) != length or len(body) != at + 1 + length + 8:
            raise ProtocolError("CMPP_SUBMIT content does not match Msg_Length")
        return cls(
            sp_id=text_of(f[11]),
            src_id=text_of(f[16]),
            destinations=numbers,
            content=content,
            service_id=text_of(f[5]),
            registered_delivery=f[3],
            msg_fmt=f[10],
            tp_udhi=f[9],
            pk_total=f[1],
            pk_number=f[2],
            msg_level=f[4],
            fee_user_type=f[6],
            fee_type=text_of(f[12]),
            fee_code=text_of(f[13]),
        )


@dataclass(frozen=True, slots=True)
class SubmitResp:
    msg_id: int
    result: int

    def body(self) -> bytes:
        return _MSG_ID_RESULT.pack(self.msg_id, self.result)

    @classmethod
    def parse(cls, body: bytes) -> SubmitResp:
        return cls(*_unpack(_MSG_ID_RESULT, body))


DeliverResp = SubmitResp  # the same two fields: Msg_Id of the DELIVER, Result


_DELIVER_HEAD = struct.Struct(">Q21s10sBBB21sBB")
_REPORT = struct.Struct(">Q7s10s10s21sI")


@dataclass(frozen=True, slots=True)
class StatusReport:
    msg_id: int
    stat: str
    submit_time: str
    done_time: str
    dest_terminal_id: str
    smsc_sequence: int = 0

    @property
    def delivered(self) -> bool:
        return self.stat == "DELIVRD"

    def content(self) -> bytes:
        return _REPORT.pack(
            self.msg_id,
            octets(self.stat, 7),
            octets(self.submit_time, 10),
            octets(self.done_time, 10),
            octets(self.dest_terminal_id, 21),
            self.smsc_sequence,
        )

    @classmethod
    def parse(cls, content: bytes) -> StatusReport:
        msg_id, stat, submitted, done, dest, sequence = _unpack(_REPORT, content)
        return cls(
            msg_id, text_of(stat), text_of(submitted), text_of(done), text_of(dest), sequence
        )


@dataclass(frozen=True, slots=True)
class Deliver:
    msg_id: int
    dest_id: str
    src_terminal_id: str
    content: bytes
    registered_delivery: int = 0
    service_id: str = ""
    msg_fmt: int = UCS2
    tp_pid: int = 0
    tp_udhi: int = 0

    def body(self) -> bytes:
        head = _DELIVER_HEAD.pack(
            self.msg_id,
            octets(self.dest_id, 21),
            octets(self.service_id, 10),
            self.tp_pid,
            self.tp_udhi,
            self.msg_fmt,
            octets(self.src_terminal_id, 21),
            self.registered_delivery,
            len(self.content),
        )
        return head + self.content + b"\0" * 8

    @classmethod
    def parse(cls, body: bytes) -> Deliver:
        if len(body) < _DELIVER_HEAD.size:
            raise ProtocolError("short CMPP_DELIVER")
        msg_id, dest, service, pid, udhi, fmt, src, registered, length = _DELIVER_HEAD.unpack_from(
            body
        )
        content = body[_DELIVER_HEAD.size : _DELIVER_HEAD.size + length]
        if len(content) != length or len(body) != _DELIVER_HEAD.size + length + 8:
            raise ProtocolError("CMPP_DELIVER content does not match Msg_Length")
        return cls(
            msg_id,
            text_of(dest),
            text_of(src),
            content,
            registered,
            text_of(service),
            fmt,
            pid,
            udhi,
        )

    @property
    def report(self) -> StatusReport | None:
        """The status report this DELIVER carries, or None for a message from a phone."""
        return StatusReport.parse(self.content) if self.registered_delivery == 1 else None

    def text(self) -> str:
        """The words of a message from a phone (UCS-2, GBK or ASCII)."""
        encoding = {UCS2: "utf-16-be", 15: "gbk"}.get(self.msg_fmt, "ascii")
        return self.content.decode(encoding, "replace")


def parts(text: str, reference: int) -> list[tuple[int, bytes]]:
    """The text as (tp_udhi, content) of each message: one when it fits 70 characters,
    else parts of 67 with the concatenation header (reference: 0..255, the same in every
    part of one text)."""
    encoded = text.encode("utf-16-be")
    if len(encoded) <= SINGLE_OCTETS:
        return [(0, encoded)]
    chunks = [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)]
    if len(chunks) > 255:
        raise ProtocolError("text too long for one concatenated message")
    return [
        (1, bytes([5, 0, 3, reference & 0xFF, len(chunks), n]) + chunk.encode("utf-16-be"))
        for n, chunk in enumerate(chunks, start=1)
    ]


def _unpack(shape: struct.Struct, body: bytes) -> tuple[Any, ...]:
    if len(body) != shape.size:
        raise ProtocolError(f"body of {len(body)} octets, expected {shape.size}")
    return shape.unpack(body)
