"""The CMPP 2.0 codec against the specification's byte layouts (field by field, offsets
counted by hand from the field widths), without I/O."""

import hashlib
from datetime import datetime

import pytest

from command_center.alerts import cmpp
from command_center.alerts.cmpp import Command, Decoder, Frame, ProtocolError


def test_the_header_is_length_command_sequence_big_endian() -> None:
    raw = Frame(Command.ACTIVE_TEST, 7).encode()
    assert raw == bytes.fromhex("0000000c0000000800000007")
    assert Frame(Command.ACTIVE_TEST_RESP, 7, b"\0").encode()[:8] == bytes.fromhex(
        "0000000d80000008"
    )


def test_connect_carries_the_md5_authenticator_of_the_spec() -> None:
    moment = datetime(2026, 12, 3, 8, 5, 9)
    hello = cmpp.Connect.of("901234", "s3cret", moment)
    raw = Frame(Command.CONNECT, 1, hello.body()).encode()
    assert len(raw) == 12 + 6 + 16 + 1 + 4 == 39
    assert raw[12:18] == b"901234"
    expected = hashlib.md5(b"901234" + b"\0" * 9 + b"s3cret" + b"1203080509").digest()
    assert raw[18:34] == expected
    assert raw[34] == 0x20  # version 2.0
    assert int.from_bytes(raw[35:39], "big") == 1203080509
    assert cmpp.Connect.parse(raw[12:]) == hello
    assert hello.stamp() == "1203080509"


def test_a_january_timestamp_keeps_its_leading_zero_in_the_authenticator() -> None:
    hello = cmpp.Connect.of("901234", "k", datetime(2027, 1, 2, 3, 4, 5))
    assert hello.timestamp == 102030405 and hello.stamp() == "0102030405"
    assert hello.authenticator == cmpp.authenticator_source("901234", "k", "0102030405")


def test_connect_resp_is_status_authenticator_version() -> None:
    source = bytes(range(16))
    ismg = cmpp.authenticator_ismg(0, source, "s3cret")
    assert ismg == hashlib.md5(b"\0" + source + b"s3cret").digest()
    body = cmpp.ConnectResp(0, ismg).body()
    assert len(body) == 18 and body[0] == 0 and body[1:17] == ismg and body[17] == 0x20
    assert cmpp.ConnectResp.parse(body).status == 0


def test_submit_fields_sit_at_the_specified_offsets() -> None:
    content = "测试".encode("utf-16-be")
    submit = cmpp.Submit(
        sp_id="901234",
        src_id="106571234",
        destinations=("13800138000",),
        content=content,
        service_id="CGZF",
    )
    body = submit.body()
    # Msg_Id 8, Pk_total 1, Pk_number 1, Registered_Delivery 1, Msg_level 1, Service_Id 10,
    # Fee_UserType 1, Fee_terminal_Id 21, TP_pId 1, TP_udhi 1, Msg_Fmt 1, Msg_src 6,
    # FeeType 2, FeeCode 6, ValId_Time 17, At_Time 17, Src_Id 21, DestUsr_tl 1,
    # Dest_terminal_Id 21, Msg_Length 1, Msg_Content, Reserve 8
    assert (
        len(body)
        == 8
        + 1
        + 1
        + 1
        + 1
        + 10
        + 1
        + 21
        + 1
        + 1
        + 1
        + 6
        + 2
        + 6
        + 17
        + 17
        + 21
        + 1
        + 21
        + 1
        + 4
        + 8
    )
    assert body[0:8] == b"\0" * 8
    assert body[8:12] == bytes([1, 1, 1, 0])  # one part of one; a report wanted
    assert body[12:22] == b"CGZF" + b"\0" * 6
    assert body[22] == 2  # the SP pays
    assert body[44:47] == bytes([0, 0, 8])  # TP_pId, TP_udhi, Msg_Fmt UCS-2
    assert body[47:53] == b"901234"
    assert body[53:55] == b"01" and body[55:61] == b"000000"
    assert body[95:116] == b"106571234" + b"\0" * 12
    assert body[116] == 1
    assert body[117:138] == b"13800138000" + b"\0" * 10
    assert body[138] == 4 and body[139:143] == content
    assert body[143:] == b"\0" * 8
    assert cmpp.Submit.parse(body) == submit


def test_submit_resp_and_deliver_resp_are_msg_id_and_result() -> None:
    body = cmpp.SubmitResp(0x0102030405060708, 8).body()
    assert body == bytes.fromhex("0102030405060708") + b"\x08"
    assert cmpp.DeliverResp.parse(body).result == 8


def test_a_status_report_rides_in_a_deliver() -> None:
    report = cmpp.StatusReport(
        msg_id=42,
        stat="DELIVRD",
        submit_time="2612031805",
        done_time="2612031806",
        dest_terminal_id="13800138000",
        smsc_sequence=9,
    )
    content = report.content()
    assert len(content) == 8 + 7 + 10 + 10 + 21 + 4 == 60
    assert content[8:15] == b"DELIVRD"
    deliver = cmpp.Deliver(
        msg_id=99,
        dest_id="106571234",
        src_terminal_id="13800138000",
        content=content,
        registered_delivery=1,
    )
    body = deliver.body()
    # Msg_Id 8, Dest_Id 21, Service_Id 10, TP_pid 1, TP_udhi 1, Msg_Fmt 1,
    # Src_terminal_Id 21, Registered_Delivery 1, Msg_Length 1, Msg_Content, Reserved 8
    assert len(body) == 8 + 21 + 10 + 1 + 1 + 1 + 21 + 1 + 1 + 60 + 8
    assert body[63] == 1 and body[64] == 60
    parsed = cmpp.Deliver.parse(body)
    assert parsed.report == report and parsed.report.delivered
    assert (
        cmpp.StatusReport.parse(cmpp.StatusReport(1, "UNDELIV", "", "", "1").content()).delivered
        is False
    )


def test_a_reply_from_a_phone_is_not_a_report() -> None:
    deliver = cmpp.Deliver(
        msg_id=1, dest_id="106", src_terminal_id="13800138000", content="退订".encode("utf-16-be")
    )
    parsed = cmpp.Deliver.parse(deliver.body())
    assert parsed.report is None and parsed.text() == "退订"


def test_the_decoder_reassembles_frames_however_the_stream_is_cut() -> None:
    stream = b"".join(
        Frame(Command.SUBMIT_RESP, n, cmpp.SubmitResp(n, 0).body()).encode() for n in (1, 2, 3)
    )
    decoder, frames = Decoder(), []
    for i in range(0, len(stream), 5):
        frames += decoder.feed(stream[i : i + 5])
    assert [f.sequence for f in frames] == [1, 2, 3]
    assert all(f.command is Command.SUBMIT_RESP for f in frames)


@pytest.mark.parametrize(
    "raw",
    [bytes.fromhex("000000040000000800000001"), bytes.fromhex("0000000c0000009900000001")],
)
def test_a_broken_stream_is_refused(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        Decoder().feed(raw)


def test_long_texts_are_cut_into_concatenated_parts() -> None:
    assert cmpp.parts("短" * 70, 5) == [(0, ("短" * 70).encode("utf-16-be"))]
    parts = cmpp.parts("长" * 100, 7)
    assert [udhi for udhi, _ in parts] == [1, 1]
    first, second = parts[0][1], parts[1][1]
    assert first[:6] == bytes([5, 0, 3, 7, 2, 1]) and second[:6] == bytes([5, 0, 3, 7, 2, 2])
    assert len(first) == 6 + 67 * 2 <= 140
    assert (first[6:] + second[6:]).decode("utf-16-be") == "长" * 100


def test_a_field_too_long_for_its_width_is_refused() -> None:
    with pytest.raises(ProtocolError):
        cmpp.Submit(sp_id="9012345", src_id="1", destinations=("1",), content=b"").body()
    with pytest.raises(ProtocolError):
        cmpp.Submit(sp_id="1", src_id="1", destinations=("1",), content=b"x" * 141).body()
