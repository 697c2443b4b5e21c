"""Real RTMP for the tests: nginx with Debian's RTMP module, run with the configuration
`command-center rtmp-config` prints, and ffmpeg pushing a test pattern as a drone's
controller does (H.264 + AAC in FLV)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from command_center.settings import Settings
from command_center.video.nginx_config import DEBIAN_MODULE


def missing_tools() -> str | None:
    """Why these tests cannot run here (scripts/lib.sh `ensure_packages` installs both)."""
    if shutil.which("nginx") is None or not Path(DEBIAN_MODULE).exists():
        return "nginx with libnginx-mod-rtmp is not installed"
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed"
    return None


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class Nginx:
    prefix: Path
    port: int
    process: subprocess.Popen[bytes]

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.prefix / "logs").glob("*"))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)  # graceful: nginx's workers finish
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def start_nginx(settings: Settings, *, prefix: Path, port: int, service_url: str) -> Nginx:
    """`command-center rtmp-config` → a file → `nginx -p PREFIX -c FILE -g 'daemon off;'`."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "RTMP_READ_URL": settings.rtmp_read_url,
    }
    command = [sys.executable, "-m", "command_center", "rtmp-config"]
    command += ["--listen", f"127.0.0.1:{port}", "--prefix", str(prefix)]
    command += ["--service-url", service_url]
    made = subprocess.run(
        command,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert made.stderr == b"", made.stderr  # no warning: the read URL matches --listen
    config = prefix / "nginx.conf"
    config.write_bytes(made.stdout)
    process = subprocess.Popen(
        ["nginx", "-p", str(prefix), "-c", str(config), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port)
    except TimeoutError:
        process.kill()
        _, errors = process.communicate(timeout=5)
        raise RuntimeError(f"nginx did not start: {errors.decode(errors='replace')}") from None
    return Nginx(prefix, port, process)


class Pusher:
    """ffmpeg pushing lavfi's test pattern (640×480, 25 fps, a keyframe a second) with a
    sine tone as AAC: what a drone's controller sends."""

    def __init__(self, url: str) -> None:
        self.url = url
        command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re"]
        command += ["-f", "lavfi", "-i", "testsrc=size=640x480:rate=25"]
        command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
        command += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency"]
        command += ["-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", "25"]
        command += ["-c:a", "aac", "-b:a", "64k", "-f", "flv", url]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def kill(self) -> None:
        """Gone without a goodbye, as a controller whose app was killed."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def refused(self, timeout: float = 15.0) -> str:
        """ffmpeg's error output once it gave up; AssertionError if it is still pushing."""
        try:
            _, errors = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("the push was not refused") from None
        assert self.process.returncode != 0
        return errors.decode(errors="replace")
