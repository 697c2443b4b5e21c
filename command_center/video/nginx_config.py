"""The nginx configuration that takes RTMP pushes for this service (`rtmp-config`). No I/O.

nginx with Debian's RTMP module (libnginx-mod-rtmp) accepts a device's push, asks this
service about it (`on_publish`, `on_publish_done`), and lets only loopback play it back:
the service reads each stream from there. Its logs leave out the stream key and its
arguments, where the device token travels (nginx's `combined` format and its `info`
level would write them down).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

DEBIAN_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
LISTEN = re.compile(r"^(?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$")
SERVICE_URL = re.compile(r"^http://[A-Za-z0-9.\[\]:-]+$")
APPLICATION = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class RtmpConfig:
    listen: str  # PORT or ADDRESS:PORT
    prefix: PurePosixPath  # absolute: pid and logs live under it
    service_url: str  # http://host:port of this service, as nginx reaches it
    application: str = "live"
    module: str = DEBIAN_MODULE

    def __post_init__(self) -> None:
        match = LISTEN.match(self.listen)
        if match is None or not 0 < int(match.group(1)) < 65536:
            raise ValueError(f"--listen must be PORT or ADDRESS:PORT, not {self.listen!r}")
        if not self.prefix.is_absolute():
            raise ValueError("the prefix must be an absolute directory")
        if not SERVICE_URL.match(self.service_url):
            raise ValueError(
                "the service URL must be http://HOST:PORT (nginx's RTMP module speaks "
                f"plain http only), not {self.service_url!r}"
            )
        if not APPLICATION.match(self.application):
            raise ValueError(f"not an RTMP application name: {self.application!r}")

    @property
    def port(self) -> int:
        match = LISTEN.match(self.listen)
        assert match is not None  # checked in __post_init__
        return int(match.group(1))


def render(config: RtmpConfig) -> str:
    """The complete configuration, for `nginx -p PREFIX -c FILE -g 'daemon off;'`."""
    prefix, callbacks, app = config.prefix, config.service_url, config.application
    return f"""\
# RTMP ingest for command-center: nginx with the RTMP module (libnginx-mod-rtmp).
# Devices push rtmp://HOST:{config.port}/{app}/<device id>?token=<push key> (or the
# push key alone as the stream key; a device gets both from GET /api/v1/rtmp/push).
# nginx asks the service about every push, and only loopback may play a stream back:
# that is the service reading it. Docs: docs/video-rtmp.md.
# Made by: command-center rtmp-config --listen {config.listen} --prefix {prefix} \\
#            --service-url {callbacks}
# Run:     nginx -p {prefix} -c THIS_FILE -g 'daemon off;'

load_module {config.module};

# One worker: a stream lives in the worker its push reached, and the service must play
# it from that same worker. One worker relays dozens of streams (it copies bytes).
worker_processes 1;
pid {prefix}/nginx.pid;
# notice, not info: at info the RTMP module logs each push's arguments (the token).
error_log {prefix}/logs/error.log notice;

events {{
    worker_connections 1024;
}}

rtmp {{
    # nginx's "combined" format writes the stream key and its arguments: not here.
    log_format pushes '$remote_addr [$time_local] $command "$app" '
                      '$bytes_received $bytes_sent ($session_readable_time)';
    access_log {prefix}/logs/rtmp-access.log pushes;

    server {{
        listen {config.listen};
        chunk_size 4096;

        application {app} {{
            live on;
            record off;
            # a reader starts at a keyframe, and with the video
            wait_key on;
            wait_video on;
            # a camera that stops sending without closing is let go
            drop_idle_publisher 10s;

            allow play 127.0.0.1;
            deny play all;

            notify_method post;
            on_publish {callbacks}/rtmp/on_publish;
            on_publish_done {callbacks}/rtmp/on_publish_done;
        }}
    }}
}}
"""
