"""One run of the simulation against a service: check that it is a demo, learn the city,
give every simulated actor its credentials, run until stopped."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable, Iterable

from command_center.demo.model import simulated_subject
from command_center.simulation.city import city_from
from command_center.simulation.client import Service
from command_center.simulation.model import Pacing
from command_center.simulation.runner import Credentials, Log, Simulation

# The OsmAnd ids of simulated squads' phones start with this (demo/lishui/simulation-members.csv).
SIMULATED_DEVICE_PREFIX = "sim-"

# (role, subject, squad) → a bearer token: the caller's token helper (command-center token).
Mint = Callable[[str, str, str | None], str]


class NotADemo(Exception):
    """The service is not marked as a demo: the simulation refuses to run against it."""


async def simulate(
    *,
    base_url: str,
    mint: Mint,
    pacing: Pacing,
    stop: asyncio.Event,
    leave: Iterable[str] = (),
    seed: int | None = None,
    log: Log = print,
    trackers: dict[str, str] | None = None,
) -> Counter[str]:
    """Run against `base_url` until `stop` is set; the tally of what the actors did.
    NotADemo before anything is sent when the service's database is not a demo; squads
    in `leave` are left to people (their phones are not simulated). `trackers` maps a
    simulated phone's device id to the id its OsmAnd reports carry, where the service
    issues secret ids (see `tracker_ids`); without it the device id is sent."""
    service = Service(base_url)
    try:
        demo = await service.demo()
        if not demo.get("demo"):
            raise NotADemo(
                f"{base_url} is not a demo (its database was not marked with "
                "`command-center demo-mark`): the simulation refuses to run against it"
            )
        desk = mint("operator", simulated_subject("desk"), None)
        squads = await service.json("GET", "/api/v1/map/squads", desk)
        city = city_from(
            await service.json("GET", "/api/v1/public/jurisdictions?max_level=district"),
            await service.json("GET", "/open311/v2/services.json"),
            squads,
        )
        left = set(leave)
        credentials = Credentials(
            desk=desk,
            supervisor=mint("supervisor", simulated_subject("supervisor"), None),
            grid_worker=mint("grid_worker", simulated_subject("grid"), None),
            squads={
                s.code: mint("squad", simulated_subject(f"squad:{s.code}"), s.code)
                for s in city.squads
                if s.code not in left
            },
            devices={
                s.code: device
                for s in city.squads
                for device in s.devices
                if device.startswith(SIMULATED_DEVICE_PREFIX)
            },
            tracker_ids=trackers or {},
        )
        log(
            f"simulating {demo.get('city')}: {len(credentials.squads)} squads "
            f"({len(credentials.devices)} with a tracker), {pacing.tips_per_minute:g} tips/min"
        )
        simulation = Simulation(service, city, credentials, pacing, random.Random(seed), log)  # noqa: S311 (no secret)
        return await simulation.run(stop)
    finally:
        await service.close()


def tracker_ids(text: str) -> dict[str, str]:
    """Device id → OsmAnd id, from lines `MEMBER DEVICE ID` as `command-center import
    members` prints the ids it issues (other lines are skipped)."""
    ids = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].startswith(SIMULATED_DEVICE_PREFIX):
            ids[parts[1]] = parts[2]
    return ids
