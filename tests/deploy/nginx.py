"""A real nginx (Debian's package) of the test's own, running the shipped
deploy/nginx/command-center.conf with only its upstream, ports and certificate paths
replaced: its own prefix under a temporary folder, free ports, stopped by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from tests.conftest import ROOT, free_port
from tests.servers import wait_for_port

SHIPPED = ROOT / "deploy" / "nginx" / "command-center.conf"

MAIN = """
daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/command-center.conf;
}}
"""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (and its key) that the test's clients trust."""
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def adapted(text: str, replacements: dict[str, str]) -> str:
    """The shipped file with each replacement made; a line that is no longer there fails
    loudly, so the test keeps running the file as shipped."""
    for old, new in replacements.items():
        assert old in text, f"{SHIPPED.name} no longer has {old!r}"
        text = text.replace(old, new)
    return text


class OwnNginx:
    def __init__(self, prefix: Path, upstream_port: int) -> None:
        self.prefix = prefix
        self.https_port, self.http_port = free_port(), free_port()
        self.upstream_port = upstream_port
        self.process: subprocess.Popen[bytes] | None = None
        self.certificate: Path | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def start(self) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        assert os.path.exists(binary), "nginx is not installed (scripts/test installs it)"
        cert, key = self_signed_certificate(self.prefix)
        self.certificate = cert
        site = adapted(
            SHIPPED.read_text("utf-8"),
            {
                "server 127.0.0.1:8000;": f"server 127.0.0.1:{self.upstream_port};",
                "listen 443 ssl http2;": f"listen 127.0.0.1:{self.https_port} ssl http2;",
                "listen 80;": f"listen 127.0.0.1:{self.http_port};",
                "/etc/ssl/command-center/fullchain.pem": str(cert),
                "/etc/ssl/command-center/privkey.pem": str(key),
            },
        )
        (self.prefix / "command-center.conf").write_text(site, "utf-8")
        (self.prefix / "nginx.conf").write_text(MAIN.format(prefix=self.prefix), "utf-8")
        argv = [binary, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")]
        checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_for_port(self.https_port, self.process, "nginx", self.error_log)

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text("utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None
