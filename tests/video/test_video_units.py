"""The pure parts of live video and telemetry, without a server or a network."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aioice.ice
import pytest
from aiortc.jitterbuffer import JitterBuffer
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket

from command_center.auth import tokens
from command_center.auth.model import Principal, Role
from command_center.errors import IllegalTransition, InvalidInput, Unauthenticated
from command_center.telemetry.bus import Update
from command_center.telemetry.hub import Watcher
from command_center.telemetry.model import check_time
from command_center.telemetry.schemas import TelemetryIn
from command_center.video.model import may_watch
from feeds.video.frames import EncodedFrame, is_keyframe
from feeds.video.ice import IceServers, announce_host_addresses, resolve_host_addresses
from feeds.video.model import Change, StreamState, next_state
from feeds.video.relay import Relay
from feeds.video.sdp import Purpose, parse_offer
from feeds.video.tap import MarkerJitterBuffer
from gis.crs import to_wgs84

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
KEY = "k" * 40


def frame(timestamp: int, *, keyframe: bool) -> EncodedFrame:
    data = b"\x00" if keyframe else b"\x01"
    return EncodedFrame(
        "video", VP8, data, timestamp, keyframe, arrived=0.0, wall_clock=datetime.now(UTC)
    )


# --- frames and the jitter buffer -------------------------------------------------------


def test_keyframes_are_told_from_their_first_bytes() -> None:
    assert is_keyframe("video/VP8", b"\x10\x02\x00\x9d\x01\x2a")
    assert not is_keyframe("video/VP8", b"\x31\x02")
    idr = b"\x00\x00\x00\x01\x67\x42\x00\x00\x00\x01\x68\xce\x00\x00\x01\x65\x88"
    assert is_keyframe("video/H264", idr)
    assert not is_keyframe("video/H264", b"\x00\x00\x00\x01\x41\x9a")
    assert is_keyframe("audio/opus", b"\xfc")


def packets(timestamp: int, first: int, count: int) -> list[RtpPacket]:
    made = []
    for i in range(count):
        packet = RtpPacket(sequence_number=first + i, timestamp=timestamp)
        packet.marker = int(i == count - 1)
        packet._data = bytes([i])  # type: ignore[attr-defined]
        made.append(packet)
    return made


def test_a_frame_is_released_when_its_marker_packet_arrives_not_one_frame_later() -> None:
    ours, aiortcs = MarkerJitterBuffer(64, is_video=True), JitterBuffer(64, is_video=True)
    released = {"ours": [], "aiortc": []}
    for packet in packets(3000, first=10, count=3):
        released["ours"].append(ours.add(packet)[1])
        released["aiortc"].append(aiortcs.add(packet)[1])
    assert released["aiortc"] == [None, None, None]  # waits for the next frame to begin
    assert released["ours"][:2] == [None, None]
    done = released["ours"][2]
    assert done is not None and (done.data, done.timestamp) == (b"\x00\x01\x02", 3000)


def test_a_frame_with_a_gap_waits_for_the_missing_packet() -> None:
    buffer = MarkerJitterBuffer(64, is_video=True)
    first, middle, last = packets(6000, first=100, count=3)
    assert buffer.add(first)[1] is None
    assert buffer.add(last)[1] is None
    released = buffer.add(middle)[1]
    assert released is not None and released.data == b"\x00\x01\x02"


# --- the relay ----------------------------------------------------------------------------


async def test_viewers_start_at_a_keyframe_and_a_slow_one_never_holds_up_the_others() -> None:
    requests: list[str] = []
    relay = Relay("video", request_keyframe=lambda: requests.append("pli"), max_queue=4)
    relay.begin_epoch(VP8)
    fast, slow = relay.subscribe(), relay.subscribe()
    assert requests  # a new viewer asks the camera for a keyframe

    relay.publish(frame(0, keyframe=False))  # nobody can start here
    relay.publish(frame(3000, keyframe=True))
    for n in range(2, 12):
        relay.publish(frame(n * 3000, keyframe=False))
        await fast.recv()  # the fast viewer keeps up; the slow one reads nothing

    assert fast.delivered == 10 and fast.dropped == 0
    assert slow.dropped > 0  # its queue overflowed: dropped, waiting for a keyframe
    relay.publish(frame(12 * 3000, keyframe=True))
    assert (await slow.recv()).is_keyframe


async def test_a_viewer_sees_one_timeline_across_camera_reconnects() -> None:
    relay = Relay("video")
    relay.begin_epoch(VP8)
    viewer = relay.subscribe()
    relay.publish(frame(90000, keyframe=True))
    relay.publish(frame(93000, keyframe=False))
    relay.begin_epoch(VP8)  # the camera reconnected: its clock restarts at 0
    relay.publish(frame(0, keyframe=True))
    stamps = [(await viewer.recv()).pts for _ in range(3)]
    assert stamps[0] == 0 and stamps[1] == 3000
    assert stamps[2] is not None and stamps[2] > 3000


async def test_closing_a_relay_ends_its_viewers_and_keyframe_waits() -> None:
    relay = Relay("video")
    relay.begin_epoch(VP8)
    viewer = relay.subscribe()
    waiting = asyncio.create_task(relay.next_keyframe(5))
    await asyncio.sleep(0)
    relay.close()
    with pytest.raises(ConnectionError):
        await waiting
    with pytest.raises(MediaStreamError):
        await viewer.recv()
    assert viewer.readyState == "ended"


# --- SDP, ICE ----------------------------------------------------------------------------


def test_an_offer_must_be_sdp_that_sends_or_receives_video() -> None:
    with pytest.raises(InvalidInput, match="v=0"):
        parse_offer(b'{"sdp": "v=0"}', Purpose.PUBLISH)
    with pytest.raises(InvalidInput, match="UTF-8"):
        parse_offer(b"\xff\xfe", Purpose.PUBLISH)
    with pytest.raises(InvalidInput, match="larger"):
        parse_offer(b"v=0\r\n" + b"a=x\r\n" * 20000, Purpose.PUBLISH)
    audio_only = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"
        "a=rtpmap:111 opus/48000/2\r\n"
    )
    with pytest.raises(InvalidInput, match="must send video"):
        parse_offer(audio_only.encode(), Purpose.PUBLISH)


def test_auto_host_addresses_fall_back_to_loopback_on_a_machine_without_a_network() -> None:
    assert resolve_host_addresses(["auto"], machine=lambda: []) == ["127.0.0.1"]
    assert resolve_host_addresses(["auto"], machine=lambda: ["192.168.1.5"]) == ["192.168.1.5"]
    assert resolve_host_addresses(
        ["auto", "127.0.0.1", "192.168.1.5"], machine=lambda: ["192.168.1.5"]
    ) == ["192.168.1.5", "127.0.0.1"]
    with pytest.raises(ValueError):
        resolve_host_addresses(["example.org"])


def test_aioice_gathers_on_the_announced_addresses_of_the_wanted_family() -> None:
    before = aioice.ice.get_host_addresses
    try:
        announce_host_addresses(["127.0.0.1", "::1"])
        assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1", "::1"]
    finally:
        aioice.ice.get_host_addresses = before


def test_ice_servers_never_default_to_a_public_stun_server() -> None:
    assert IceServers().rtc_configuration().iceServers == []
    servers = IceServers(("stun:stun.lan:3478", "turn:turn.lan:3478"), "cc", 'p"w')
    assert servers.link_headers() == [
        '<stun:stun.lan:3478>; rel="ice-server"',
        '<turn:turn.lan:3478>; rel="ice-server"; username="cc"; credential="p\\"w"; '
        'credential-type="password"',
    ]


# --- life cycle and scope ---------------------------------------------------------------


def test_a_stream_life_cycle_refuses_what_cannot_happen() -> None:
    assert next_state(StreamState.CONNECTING, Change.CONNECT) is StreamState.LIVE
    assert next_state(StreamState.LIVE, Change.DROP) is StreamState.RECONNECTING
    assert next_state(StreamState.RECONNECTING, Change.CONNECT) is StreamState.LIVE
    with pytest.raises(IllegalTransition):
        next_state(StreamState.CONNECTING, Change.DROP)
    with pytest.raises(IllegalTransition):
        next_state(StreamState.ENDED, Change.PUBLISH)


def test_who_may_watch_a_stream() -> None:
    path = ("3311", "331102")
    operator = Principal(Role.OPERATOR, "op", jurisdiction="331102")
    elsewhere = Principal(Role.OPERATOR, "op", jurisdiction="331121")
    squad = Principal(Role.SQUAD, "sq", squad="LD-01")
    device = Principal(Role.DEVICE, "cam", device="cam")
    grid = Principal(Role.GRID_WORKER, "gw")
    assert may_watch(operator, jurisdiction_path=path, squad_code="LD-01")
    assert not may_watch(elsewhere, jurisdiction_path=path, squad_code="LD-01")
    assert may_watch(squad, jurisdiction_path=(), squad_code="LD-01")
    assert not may_watch(squad, jurisdiction_path=path, squad_code="LD-02")
    assert not may_watch(device, jurisdiction_path=path, squad_code="LD-01")
    assert not may_watch(grid, jurisdiction_path=path, squad_code="LD-01")


def test_a_device_token_names_its_device_and_is_refused_where_devices_have_no_business() -> None:
    token = tokens.mint(key=KEY, role=Role.DEVICE, device="UAV-7", squad="LD-01")
    principal = tokens.verify(token, key=KEY, allow_device=True)
    assert (principal.role, principal.device, principal.squad, principal.subject) == (
        Role.DEVICE,
        "UAV-7",
        "LD-01",
        "UAV-7",
    )
    with pytest.raises(Unauthenticated, match="device"):
        tokens.verify(token, key=KEY)
    with pytest.raises(InvalidInput, match="--device"):
        tokens.mint(key=KEY, role=Role.DEVICE)
    with pytest.raises(InvalidInput, match="device id"):
        tokens.mint(key=KEY, role=Role.DEVICE, device="../etc")
    with pytest.raises(InvalidInput, match="--device"):
        tokens.mint(key=KEY, role=Role.OPERATOR, device="UAV-7")


# --- telemetry -----------------------------------------------------------------------------


def test_telemetry_times_must_be_plausible() -> None:
    now = datetime.now(UTC)
    check_time(now - timedelta(hours=1), now)
    with pytest.raises(InvalidInput, match="future"):
        check_time(now + timedelta(minutes=10), now)
    with pytest.raises(InvalidInput, match="old"):
        check_time(now - timedelta(days=8), now)
    with pytest.raises(InvalidInput, match="time zone"):
        check_time(datetime(2026, 1, 1), now)


def test_a_gcj02_report_is_stored_in_wgs84() -> None:
    report = TelemetryIn(lon=119.9265, lat=28.4687, crs="gcj02").report(datetime.now(UTC))
    assert (report.lon, report.lat) == to_wgs84(119.9265, 28.4687, "gcj02")
    assert report.submitted_crs == "gcj02"


async def test_a_slow_watcher_gets_the_newest_position_of_each_device_only() -> None:
    watcher = Watcher(Principal(Role.OPERATOR, "op", jurisdiction="331102"))
    for n in range(100):
        update = Update("position:a", {"n": n}, jurisdiction_path=("3311", "331102"))
        watcher.offer(update, update.public_json())
    elsewhere = Update("position:b", {"n": 0}, jurisdiction_path=("3311", "331121"))
    watcher.offer(elsewhere, elsewhere.public_json())
    assert await watcher.next_batch() == ['{"n":99}']
