"""Benchmark: how many RTMP pushes one server ingests and relays to WHEP viewers at once.

    python -m bench.rtmp [--steps 1,2,4,8,12] [--viewers 2] [--seconds 10]

Starts its own server (database command_center_bench_rtmp) and its own nginx with the
RTMP module, configured by `command-center rtmp-config`. A 640×480 H.264 + AAC clip at
25 fps is encoded once with ffmpeg; at every step more ffmpeg pushers send it over RTMP
(`-c copy`, so a pusher costs little), each stream is watched by `--viewers` WHEP
viewers that count encoded frames without decoding them, and over `--seconds` it
measures the share of frames that reached every viewer and the CPU of the server, of
nginx, of the pushers and of this process (the viewers). Beside it, once: the CPU of
`ffmpeg` itself reading one such stream from nginx (`-c copy -f null`), the least any
reader of the stream pays. A step passes when viewers got at least 95 % of the frames.
Exit status 0 when the first step passed, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiortc import RTCPeerConnection

from bench import cpu
from bench.server import (
    DEFAULT_DATABASE_URL,
    HEALTH_WAIT_SECONDS,
    BenchError,
    ManagedServer,
    ensure_database,
    free_port,
    load_demo_city,
    require_loopback,
    wait_healthy,
)
from bench.video_clients import exchange, new_pc
from command_center.auth import tokens
from command_center.auth.model import Role
from feeds.video.ice import announce_host_addresses
from feeds.video.tap import tap_receiver

DATABASE_URL = DEFAULT_DATABASE_URL.rsplit("/", 1)[0] + "/command_center_bench_rtmp"
FPS = 25
PASS_DELIVERY = 0.95
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Step:
    streams: int
    viewers: int
    delivery: float
    server_cpu_pct: float
    server_cpu_per_stream_pct: float
    nginx_cpu_pct: float
    pushers_cpu_pct: float
    viewers_cpu_pct: float
    machine_cpu_pct: float

    @property
    def passed(self) -> bool:
        return self.delivery >= PASS_DELIVERY


@dataclass
class Count:
    frames: int = 0


@dataclass
class Stream:
    name: str
    pusher: subprocess.Popen[bytes]
    viewers: list[tuple[RTCPeerConnection, Count]] = field(default_factory=list)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.rtmp", description=__doc__)
    parser.add_argument("--steps", default="1,2,4,8,12", help="streams at each step")
    parser.add_argument("--viewers", type=int, default=2, help="viewers per stream")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per step")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time per step")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--no-setup", action="store_true", help="database is ready; skip it")
    parser.add_argument("--keep-going", action="store_true", help="run every step")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    try:
        args.steps = sorted({int(s) for s in args.steps.split(",") if s.strip()})
    except ValueError:
        parser.error("--steps takes numbers separated by commas")
    if not args.steps or args.steps[0] < 1 or args.viewers < 1 or args.seconds <= 0:
        parser.error("steps, viewers and seconds must be positive")
    return args


def make_clip(path: Path) -> None:
    """20 s of 640×480 H.264 (Baseline, a keyframe a second) with AAC, as FLV."""
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"]
    command += ["-i", f"testsrc2=size=640x480:rate={FPS}", "-f", "lavfi"]
    command += ["-i", "sine=frequency=440:sample_rate=44100", "-t", "20"]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency"]
    command += ["-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", str(FPS), "-b:v", "1M"]
    command += ["-c:a", "aac", "-b:a", "64k", "-f", "flv", str(path)]
    subprocess.run(command, check=True)


def ffmpeg(*arguments: str) -> subprocess.Popen[bytes]:
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", *arguments]
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def push(clip: Path, url: str) -> subprocess.Popen[bytes]:
    """A pusher of the clip, looped, as it is encoded: a pusher costs little."""
    return ffmpeg("-re", "-stream_loop", "-1", "-i", str(clip), "-c", "copy", "-f", "flv", url)


def start_nginx(workdir: Path, *, env: dict[str, str], port: int, service: str) -> Any:
    prefix = workdir / "nginx"
    command = ["command-center", "rtmp-config", "--listen", f"127.0.0.1:{port}"]
    command += ["--prefix", str(prefix), "--service-url", service]
    config = subprocess.run(command, env=env, check=True, capture_output=True).stdout
    (prefix / "nginx.conf").write_bytes(config)
    process = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(0.5)
    if process.poll() is not None:
        raise BenchError(f"nginx did not start; see {prefix / 'logs' / 'error.log'}")
    return process


async def push_key(http: httpx.AsyncClient, token: str) -> str:
    response = await http.get("/api/v1/rtmp/push", headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    return str(response.json()["stream_key"])


async def wait_live(http: httpx.AsyncClient, name: str, token: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = await http.get(
            f"/api/v1/streams/{name}", headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code == 200 and response.json()["connected"]:
            return
        await asyncio.sleep(0.2)
    raise BenchError(f"stream {name} did not go live within 20 s")


async def watch(http: httpx.AsyncClient, name: str, token: str) -> tuple[RTCPeerConnection, Count]:
    pc, count = new_pc(), Count()
    pc.addTransceiver("video", direction="recvonly")
    for transceiver in pc.getTransceivers():
        tap_receiver(transceiver.receiver, "video", lambda _frame: _count(count))
    await exchange(http, f"/whep/{name}", token, pc)
    return pc, count


def _count(count: Count) -> None:
    count.frames += 1


async def ffmpeg_reading_cost(url: str, seconds: float) -> float:
    """% of a core ffmpeg spends reading one stream from nginx without decoding it."""
    reader = ffmpeg("-i", url, "-c", "copy", "-f", "null", "-")
    await asyncio.sleep(2)  # connected and past its probing
    before, started = cpu.seconds_of([reader.pid]), time.monotonic()
    await asyncio.sleep(seconds)
    used = cpu.seconds_of([reader.pid]) - before
    reader.terminate()
    reader.wait(5)
    return round(100 * used / (time.monotonic() - started), 2)


async def measure(
    streams: list[Stream], args: argparse.Namespace, server: ManagedServer, nginx: Any
) -> Step:
    await asyncio.sleep(args.warmup)
    counts = [count for s in streams for _, count in s.viewers]
    pushers = [s.pusher.pid for s in streams]
    server_pids = cpu.group_pids(server.pgid or 0)
    start_counts = [c.frames for c in counts]
    before = (
        cpu.seconds_of(server_pids),
        cpu.seconds_of(cpu.group_pids(nginx.pid)),
        cpu.seconds_of(pushers),
        time.process_time(),
        cpu.machine_ticks(),
    )
    started = time.monotonic()
    await asyncio.sleep(args.seconds)
    wall = time.monotonic() - started
    after = (
        cpu.seconds_of(server_pids),
        cpu.seconds_of(cpu.group_pids(nginx.pid)),
        cpu.seconds_of(pushers),
        time.process_time(),
        cpu.machine_ticks(),
    )
    received = sum(c.frames - s for c, s in zip(counts, start_counts, strict=True))
    expected = FPS * wall * len(counts)

    def pct(i: int) -> float:
        return round(100 * (after[i] - before[i]) / wall, 1)  # type: ignore[operator]

    busy = after[4][0] - before[4][0]
    total = after[4][1] - before[4][1]
    server_pct = pct(0)
    return Step(
        streams=len(streams),
        viewers=len(counts),
        delivery=round(min(1.0, received / expected), 4) if expected else 0.0,
        server_cpu_pct=server_pct,
        server_cpu_per_stream_pct=round(server_pct / len(streams), 2),
        nginx_cpu_pct=pct(1),
        pushers_cpu_pct=pct(2),
        viewers_cpu_pct=pct(3),
        machine_cpu_pct=round(100 * busy / total, 1) if total else 0.0,
    )


HEADER = "streams viewers delivered  server  /stream   nginx  pushers  viewers  machine"


def row(step: Step) -> str:
    return (
        f"{step.streams:>7} {step.viewers:>7} {100 * step.delivery:>8.1f}% "
        f"{step.server_cpu_pct:>7.1f} {step.server_cpu_per_stream_pct:>7.2f} "
        f"{step.nginx_cpu_pct:>7.1f} {step.pushers_cpu_pct:>8.1f} {step.viewers_cpu_pct:>8.1f} "
        f"{step.machine_cpu_pct:>7.1f}%  {'pass' if step.passed else 'FAIL'}"
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    announce_host_addresses(["127.0.0.1"])
    require_loopback(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-rtmp-"))
    clip = workdir / "clip.flv"
    make_clip(clip)
    rtmp_port = free_port()
    secret = secrets.token_urlsafe(48)
    env = dict(os.environ) | {
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secret,
        "EVENT_CHANNEL": f"command_center:bench-rtmp:{os.getpid()}",
        "ICE_HOST_ADDRESSES": "127.0.0.1",
        "VIDEO_MAX_STREAMS": str(max(args.steps) + 8),
        "VIDEO_MAX_VIEWERS_PER_STREAM": str(args.viewers + 2),
        "RECORDINGS_DIR": str(workdir / "recordings"),
        "MEDIA_DIR": str(workdir / "media"),
        "RTMP_READ_URL": f"rtmp://127.0.0.1:{rtmp_port}/live",
        # the server under test is this checkout's code, whatever the venv was installed from
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    if not args.no_setup:
        await ensure_database(args.database_url)
        await load_demo_city(env=env, cwd=workdir)
    server = ManagedServer(env=env, cwd=workdir, workers=1)
    server.start()
    await wait_healthy(server.url, timeout=HEALTH_WAIT_SECONDS, server=server)
    nginx = start_nginx(workdir, env=env, port=rtmp_port, service=server.url)
    operator = tokens.mint(key=secret, role=Role.OPERATOR, subject="bench-rtmp")
    streams: list[Stream] = []
    steps: list[Step] = []
    reading: float | None = None
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30, trust_env=False) as http:
            for target in args.steps:
                while len(streams) < target:
                    name = f"bench-uav-{len(streams) + 1:03d}"
                    device = tokens.mint(key=secret, role=Role.DEVICE, device=name)
                    key = await push_key(http, device)
                    stream = Stream(name, push(clip, f"rtmp://127.0.0.1:{rtmp_port}/live/{key}"))
                    streams.append(stream)
                    await wait_live(http, name, operator)
                    for _ in range(args.viewers):
                        stream.viewers.append(await watch(http, name, operator))
                if reading is None:
                    url = f"rtmp://127.0.0.1:{rtmp_port}/live/{streams[0].name}"
                    reading = await ffmpeg_reading_cost(url, args.seconds)
                    print(f"ffmpeg reading one stream: {reading:.2f} % of a core", file=sys.stderr)
                    print(HEADER)
                step = await measure(streams, args, server, nginx)
                steps.append(step)
                print(row(step), flush=True)
                if not step.passed and not args.keep_going:
                    break
    finally:
        for stream in streams:
            for pc, _ in stream.viewers:
                await pc.close()
            stream.pusher.terminate()
            stream.pusher.wait(5)
        nginx.terminate()
        nginx.wait(10)
        await server.stop()
    passed = [s.streams for s in steps if s.passed]
    return {
        "clip": {"width": 640, "height": 480, "fps": FPS, "codec": "H.264 + AAC"},
        "ffmpeg_reading_one_stream_cpu_pct": reading,
        "steps": [asdict(s) | {"passed": s.passed} for s in steps],
        "max_streams_passed": max(passed) if passed else 0,
        "cores": os.cpu_count(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        result = asyncio.run(run(args))
    except (BenchError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    print(
        f"\nmost streams that passed: {result['max_streams_passed']} "
        f"(each to {args.viewers} viewers; ≥{PASS_DELIVERY:.0%} of the frames)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    steps = result["steps"]
    raise SystemExit(0 if steps and steps[0]["passed"] else 1)


if __name__ == "__main__":
    main()
