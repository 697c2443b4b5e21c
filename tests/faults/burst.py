"""A burst of residents' tips while something fails.

Every tip carries `burst <tag> <n>` as its description, so that the database can be
asked what became of each one, answered or not, and a phone number, name and e-mail
address of its own, so that the server's log can be searched for them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

BASES = (
    (119.9180, 28.4700),
    (119.8580, 28.4250),
    (120.2840, 28.1420),
    (120.0860, 28.6620),
    (119.2710, 28.5960),
    (119.4770, 28.4520),
    (119.5680, 28.1190),
    (119.0580, 27.6220),
    (119.6310, 27.9760),
    (119.1360, 28.0770),
)
STEP = 0.0008  # degrees: ~75 m, beyond the demo's 50 m duplicate radius


def spot(n: int) -> tuple[float, float]:
    """The n-th tip's position: round the bases, each spot used once per database."""
    lon, lat = BASES[n % len(BASES)]
    k = n // len(BASES)
    return round(lon + (k % 12 - 6) * STEP, 6), round(lat + (k // 12 % 12 - 6) * STEP, 6)


def phone(n: int) -> str:
    return f"1390571{n:04d}"


def surname(n: int) -> str:
    return f"司徒{n:04d}"


@dataclass
class Tip:
    n: int
    status: int | None = None  # None: no HTTP answer at all (connection lost)
    service_request_id: str | None = None
    error: str | None = None
    answered_at: float | None = None  # time.monotonic()
    finished_at: float | None = None  # time.monotonic() of the answer, error or failure


@dataclass
class Burst:
    """`count` Open311 tips at `rate` per second, at most `concurrency` in flight."""

    url: str
    tag: str
    count: int
    rate: float
    concurrency: int = 8
    tips: list[Tip] = field(default_factory=list)
    in_flight: int = 0

    @property
    def sent(self) -> int:
        return len(self.tips)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.url, timeout=10, limits=limits) as client:
            gate = asyncio.Semaphore(self.concurrency)
            start = time.monotonic()
            pending = []
            for n in range(self.count):
                await asyncio.sleep(max(0.0, start + n / self.rate - time.monotonic()))
                await gate.acquire()
                tip = Tip(n)
                self.tips.append(tip)
                pending.append(asyncio.create_task(self._send_then_release(client, tip, gate)))
            await asyncio.gather(*pending)

    async def _send_then_release(
        self, client: httpx.AsyncClient, tip: Tip, gate: asyncio.Semaphore
    ) -> None:
        try:
            await self._send(client, tip)
        finally:
            gate.release()

    async def send_one(self, n: int) -> Tip:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            tip = Tip(n)
            self.tips.append(tip)
            await self._send(client, tip)
            return tip

    async def _send(self, client: httpx.AsyncClient, tip: Tip) -> None:
        lon, lat = spot(tip.n)
        form = {
            "service_code": "CG-001",
            "long": str(lon),
            "lat": str(lat),
            "description": f"burst {self.tag} {tip.n}",
            "phone": phone(tip.n),
            "first_name": "晓梅",
            "last_name": surname(tip.n),
            "email": f"resident{tip.n:04d}@example.cn",
        }
        self.in_flight += 1
        try:
            response = await client.post("/open311/v2/requests.json", data=form)
            tip.status = response.status_code
            if response.status_code == 200:
                tip.service_request_id = str(response.json()[0]["service_request_id"])
                tip.answered_at = time.monotonic()
            else:
                tip.error = response.text[:300]
        except httpx.HTTPError as exc:
            tip.error = type(exc).__name__
        finally:
            tip.finished_at = time.monotonic()
            self.in_flight -= 1

    def answered(self) -> list[Tip]:
        return [t for t in self.tips if t.service_request_id is not None]

    def refused(self) -> list[Tip]:
        return [t for t in self.tips if t.service_request_id is None]

    def refusals(self) -> Counter[str]:
        """How the refused tips were answered: an HTTP status, or the client's error."""
        return Counter(str(t.status or t.error) for t in self.refused())


def personal_data_in(text: str, burst: Burst) -> list[str]:
    """The residents' phones, names and e-mail addresses of the burst found in `text`."""
    found = []
    for tip in burst.tips:
        for value in (phone(tip.n), surname(tip.n), f"resident{tip.n:04d}@"):
            if value in text:
                found.append(value)
    return found
