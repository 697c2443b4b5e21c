"""Benchmark: how many 640×480 camera streams one server ingests and relays to viewers.

    python -m bench.video [--steps 1,2,4,8,16,24,32] [--viewers 2] [--seconds 10]

Starts its own server (database command_center_bench, as bench.tips), then adds cameras
step by step — each publishing a 30 fps VP8 clip over WHIP and watched by `--viewers`
WHEP viewers — and at every step measures, over `--seconds`: the share of frames that
reached every viewer, the delay from camera to viewer (and how much the server adds to a
direct camera-to-viewer connection measured first), and the CPU the server used. A step
passes when viewers got at least 95 % of the frames with a p95 delay under 150 ms; the
answer is the last step that passed. Cameras and viewers run in this process, on the
same machine: the `machine` column says when it, not the server, is the limit.
Exit status 0 when the first step passed, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import cpu
from bench.report import summary_ms
from bench.server import (
    DEFAULT_DATABASE_URL,
    HEALTH_WAIT_SECONDS,
    BenchError,
    ManagedServer,
    ensure_database,
    load_demo_city,
    require_loopback,
    wait_healthy,
)
from bench.video_clients import Camera, Clip, direct_pair, make_clip, start_camera
from command_center.auth import tokens
from command_center.auth.model import Role
from feeds.video.ice import announce_host_addresses

# Its own database, so that it can run beside bench.tips.
DATABASE_URL = DEFAULT_DATABASE_URL.rsplit("/", 1)[0] + "/command_center_bench_video"
PASS_DELIVERY = 0.95
PASS_P95_MS = 150.0


@dataclass
class Step:
    streams: int
    viewers: int
    frames_sent: int
    frames_expected: int
    frames_received: int
    delivery: float
    delay_ms: dict[str, float | None]
    added_p50_ms: float | None
    server_cpu_pct: float | None
    server_cpu_per_stream_pct: float | None
    machine_cpu_pct: float | None
    client_cpu_pct: float | None

    @property
    def passed(self) -> bool:
        p95 = self.delay_ms.get("p95")
        return self.delivery >= PASS_DELIVERY and p95 is not None and p95 <= PASS_P95_MS


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.video", description=__doc__)
    parser.add_argument("--steps", default="1,2,4,8,12,16,24,32", help="streams at each step")
    parser.add_argument("--viewers", type=int, default=2, help="viewers per stream")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time per step")
    parser.add_argument("--warmup", type=float, default=3.0, help="settling time per step")
    parser.add_argument("--bitrate", type=int, default=1_000_000, help="clip bitrate, bit/s")
    parser.add_argument("--fps", type=int, default=30)
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


async def start_server(args: argparse.Namespace, workdir: Path) -> tuple[ManagedServer, str]:
    require_loopback(args.database_url)
    secret = secrets.token_urlsafe(48)
    env = dict(os.environ) | {
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secret,
        "EVENT_CHANNEL": f"command_center:bench-video:{os.getpid()}",
        "ICE_HOST_ADDRESSES": "127.0.0.1",
        "VIDEO_MAX_STREAMS": str(max(args.steps) + 8),
        "VIDEO_MAX_VIEWERS_PER_STREAM": str(args.viewers + 2),
        "RECORDINGS_DIR": str(workdir / "recordings"),
        "MEDIA_DIR": str(workdir / "media"),
    }
    env.pop("REDIS_URL", None)  # one process; video does not use the bus for media
    if not args.no_setup:
        await ensure_database(args.database_url)
        await load_demo_city(env=env, cwd=workdir)
    server = ManagedServer(env=env, cwd=workdir, workers=1)
    server.start()
    await wait_healthy(server.url, timeout=HEALTH_WAIT_SECONDS, server=server)
    return server, secret


async def baseline(clip: Clip, seconds: float) -> dict[str, float | None]:
    """The delay of a direct camera-to-viewer connection in this process, no server."""
    camera, watch = await direct_pair(clip)
    try:
        await asyncio.sleep(1.5)
        watch.recording = True
        await asyncio.sleep(seconds)
    finally:
        watch.recording = False
        await camera.close()
    return summary(watch.delays)


def summary(delays: list[float]) -> dict[str, float | None]:
    values = sorted(delays)
    found = summary_ms(values)
    found["p95"] = (
        round(values[min(len(values) - 1, int(0.95 * len(values)))] * 1000, 1) if values else None
    )
    return found


async def measure(
    cameras: list[Camera], args: argparse.Namespace, pgid: int | None, direct_p50: float | None
) -> Step:
    await asyncio.sleep(args.warmup)
    watches = [watch for camera in cameras for _, watch in camera.viewers]
    for watch in watches:
        watch.received, watch.delays = 0, []
        watch.recording = True
    sent_before = sum(c.track.sent for c in cameras)
    before, started = cpu.snapshot(pgid), time.monotonic()
    await asyncio.sleep(args.seconds)
    for watch in watches:
        watch.recording = False
    usage = cpu.usage(before, cpu.snapshot(pgid), time.monotonic() - started)
    sent = sum(c.track.sent for c in cameras) - sent_before
    expected = sent * args.viewers
    received = sum(w.received for w in watches)
    delays = summary([d for w in watches for d in w.delays])
    server = usage["server"]
    return Step(
        streams=len(cameras),
        viewers=len(watches),
        frames_sent=sent,
        frames_expected=expected,
        frames_received=received,
        delivery=round(min(1.0, received / expected) if expected else 0.0, 4),
        delay_ms=delays,
        added_p50_ms=(
            round(delays["p50"] - direct_p50, 1)
            if delays["p50"] is not None and direct_p50 is not None
            else None
        ),
        server_cpu_pct=server,
        server_cpu_per_stream_pct=round(server / len(cameras), 2) if server is not None else None,
        machine_cpu_pct=usage["machine"],
        client_cpu_pct=usage["client"],
    )


def row(step: Step) -> str:
    d = step.delay_ms
    return (
        f"{step.streams:>7} {step.viewers:>7} {100 * step.delivery:>8.1f}% "
        f"{_ms(d['p50'])} {_ms(d['p95'])} {_ms(d['p99'])} {_ms(step.added_p50_ms)} "
        f"{_pct(step.server_cpu_pct)} {_pct(step.server_cpu_per_stream_pct)} "
        f"{_pct(step.client_cpu_pct)} {_pct(step.machine_cpu_pct)}  "
        f"{'pass' if step.passed else 'FAIL'}"
    )


def _ms(value: float | None) -> str:
    return f"{value:>7.1f}" if value is not None else "      -"


def _pct(value: float | None) -> str:
    return f"{value:>7.1f}" if value is not None else "      -"


HEADER = (
    "streams viewers delivered  p50 ms  p95 ms  p99 ms  +srv ms  srv cpu  /stream   client  machine"
)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    announce_host_addresses(["127.0.0.1"])
    workdir = Path(tempfile.mkdtemp(prefix="bench-video-"))
    clip = make_clip(
        seconds=4, fps=args.fps, width=640, height=480, bitrate=args.bitrate, gop=2 * args.fps
    )
    print(
        f"clip: {clip.width}×{clip.height} VP8, {args.fps} fps, "
        f"{clip.bitrate_bps / 1e6:.2f} Mbit/s, {len(clip.frames)} frames",
        file=sys.stderr,
    )
    direct = await baseline(clip, min(args.seconds, 5))
    print(f"direct camera→viewer delay: {direct}", file=sys.stderr)
    server, secret = await start_server(args, workdir)
    cameras: list[Camera] = []
    steps: list[Step] = []
    operator = tokens.mint(key=secret, role=Role.OPERATOR, subject="bench-video")
    print(HEADER)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30, trust_env=False) as http:
            for target in args.steps:
                while len(cameras) < target:
                    name = f"bench-cam-{len(cameras) + 1:03d}"
                    token = tokens.mint(key=secret, role=Role.DEVICE, device=name)
                    cameras.append(
                        await start_camera(
                            http,
                            name=name,
                            device_token=token,
                            viewer_token=operator,
                            viewers=args.viewers,
                            clip=clip,
                        )
                    )
                step = await measure(cameras, args, server.pgid, direct["p50"])
                steps.append(step)
                print(row(step), flush=True)
                if not step.passed and not args.keep_going:
                    break
    finally:
        for camera in cameras:
            await camera.close()
        await server.stop()
    passed = [s.streams for s in steps if s.passed]
    return {
        "clip": {
            "width": clip.width,
            "height": clip.height,
            "fps": clip.fps,
            "bitrate_bps": round(clip.bitrate_bps),
        },
        "direct_delay_ms": direct,
        "steps": [asdict(s) | {"passed": s.passed} for s in steps],
        "max_streams_passed": max(passed) if passed else 0,
        "cores": os.cpu_count(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        result = asyncio.run(run(args))
    except (BenchError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    print(
        f"\nmost streams that passed: {result['max_streams_passed']} "
        f"(each to {args.viewers} viewers; ≥{PASS_DELIVERY:.0%} frames, p95 ≤ {PASS_P95_MS:.0f} ms)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    steps = result["steps"]
    raise SystemExit(0 if steps and steps[0]["passed"] else 1)


if __name__ == "__main__":
    main()
