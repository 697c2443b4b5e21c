"""The listening socket `command-center serve` hands to uvicorn, in one process or several.

Why not uvicorn's own: with `--workers N` uvicorn binds `socket.socket(family)`, whose
protocol number is 0. asyncio sets TCP_NODELAY only on connections of sockets whose
protocol is IPPROTO_TCP, so every accepted connection kept Nagle's algorithm: a response
written as headers and then body waited for the client's delayed ACK, about 40 ms per
keep-alive request (uvloop sets the option itself; the asyncio loop does not). This
socket is created as IPPROTO_TCP and has TCP_NODELAY set, which Linux passes on to
accepted connections, so every loop and every worker answers without that stall.
"""

from __future__ import annotations

import socket


class ListenError(Exception):
    """The address cannot be listened on; the message names it and why."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for `host:port` (IPv6 when the host contains a colon), not yet
    listening (the server calls listen with its backlog), inheritable by workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock
