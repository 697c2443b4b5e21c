"""ICE for the video server: the host addresses it announces and its STUN/TURN servers.

aioice (under aiortc) gathers host candidates from every interface but skips loopback
(`aioice.ice.get_host_addresses` drops 127.0.0.1 and ::1). A server on a machine whose
only interface is `lo`, or one that must announce exactly its LAN address, needs another
list: `announce_host_addresses` replaces that lookup with a fixed one.

The replacement is process-wide — aioice has no per-connection hook — so every peer
connection made in this process afterwards (test clients included) gathers on the same
addresses. The last call wins.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

AUTO = "auto"
LOOPBACK = "127.0.0.1"

# aioice's own lookup (non-loopback addresses of every interface), kept before any patch.
_machine_lookup: Callable[[bool, bool], list[str]] = aioice.ice.get_host_addresses


def machine_addresses() -> list[str]:
    """This machine's non-loopback IPv4 and IPv6 addresses, as aioice would gather them."""
    return list(_machine_lookup(True, True))


def resolve_host_addresses(
    configured: Sequence[str], *, machine: Callable[[], list[str]] = machine_addresses
) -> list[str]:
    """The addresses to announce: `auto` expands to the machine's non-loopback addresses,
    or to 127.0.0.1 when it has none; other entries are IP literals, kept in order.

    Raises ValueError for an entry that is neither.
    """
    chosen: list[str] = []
    for entry in configured or [AUTO]:
        if entry == AUTO:
            found = machine()
            expanded = found or [LOOPBACK]
        else:
            expanded = [str(ipaddress.ip_address(entry))]
        chosen.extend(address for address in expanded if address not in chosen)
    return chosen


def announce_host_addresses(addresses: Sequence[str]) -> None:
    """Make aioice gather host candidates on exactly `addresses` (process-wide)."""
    parsed = [ipaddress.ip_address(a) for a in addresses]

    def lookup(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [
            str(address)
            for address in parsed
            if (address.version == 4 and use_ipv4) or (address.version == 6 and use_ipv6)
        ]

    aioice.ice.get_host_addresses = lookup


@dataclass(frozen=True, slots=True)
class IceServers:
    """STUN/TURN servers offered to peers; aiortc uses the first STUN and first TURN one."""

    urls: tuple[str, ...] = ()
    username: str | None = None
    credential: str | None = None

    def rtc_configuration(self) -> RTCConfiguration:
        """An explicit list, even when empty: aiortc would otherwise ask a public STUN
        server, which an intranet cannot reach."""
        servers = [
            RTCIceServer(
                urls=url,
                username=self.username if url.startswith("turn") else None,
                credential=self.credential if url.startswith("turn") else None,
            )
            for url in self.urls
        ]
        return RTCConfiguration(iceServers=servers)

    def link_headers(self) -> list[str]:
        """`Link: <url>; rel="ice-server"` values (RFC 9725 section 4.6) for WHIP/WHEP
        answers, with the TURN credentials (the caller is authenticated)."""
        links = []
        for url in self.urls:
            link = f'<{url}>; rel="ice-server"'
            if url.startswith("turn") and self.username and self.credential:
                link += (
                    f'; username="{_quoted(self.username)}"'
                    f'; credential="{_quoted(self.credential)}"; credential-type="password"'
                )
            links.append(link)
        return links


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
