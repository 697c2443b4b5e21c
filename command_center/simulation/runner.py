"""The simulated city at work: residents and grid workers send tips, squads accept,
drive, arrive and handle them, grid workers verify, a colleague at the desk dispatches
what waits and closes what is verified, residents rate.

Each actor is a task with its own credentials, reacting to what its own `/ws` shows it,
as its console would. A step the service refuses (someone at a real console was
quicker, a limit) is logged and dropped: the simulation never stops for one.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from command_center.simulation.city import City, Squad
from command_center.simulation.client import Refused, Service, event_of, scene_photo
from command_center.simulation.model import Pacing, distance_m, drive, rating, route

Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Credentials:
    """Tokens of the simulated actors (subjects `demo-sim:…`) and the OsmAnd id of each
    simulated squad's phone. Squads without a token are left to people."""

    desk: str  # an operator
    supervisor: str
    grid_worker: str
    squads: dict[str, str]
    devices: dict[str, str]  # squad code → its simulated phone's device id
    tracker_ids: dict[str, str] = field(default_factory=dict)  # device id → secret OsmAnd id


@dataclass
class Tip:
    code: str
    secret: str | None  # residents' tips: the key to rate
    clue_id: int | None = None
    progress_code: str | None = None  # residents' tips: what opens the progress (and rating)


@dataclass
class Simulation:
    service: Service
    city: City
    credentials: Credentials
    pacing: Pacing
    rng: random.Random
    log: Log
    tally: Counter[str] = field(default_factory=Counter)
    tips: dict[str, Tip] = field(default_factory=dict)  # by public code
    by_id: dict[int, Tip] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self, stop: asyncio.Event) -> Counter[str]:
        """Until `stop` is set; then every actor is cancelled and the tally returned."""
        actors = [self._tips(), self._desk(), self._verifier()]
        actors += [
            self._squad(squad)
            for squad in self.city.squads
            if squad.code in self.credentials.squads
        ]
        for actor in actors:
            self._spawn(actor)
        await stop.wait()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        return self.tally

    def simulated(self, clue_id: int | None) -> Tip | None:
        return self.by_id.get(clue_id) if clue_id is not None else None

    # --- actors ---------------------------------------------------------------------

    async def _tips(self) -> None:
        n = 0
        while True:
            if n >= self.pacing.opening_tips:  # a few at once, so that the wall fills
                await asyncio.sleep(self.pacing.next_tip_in(self.rng))
            n += 1
            matter = self.rng.choice(self.city.matters)
            lon, lat = self.city.spot(self.rng, self.pacing.tip_radius_m)
            words = self.city.words(matter, self.rng)
            try:
                if self.rng.random() < self.pacing.grid_worker_share:
                    await self._grid_tip(matter, lon, lat, words)
                else:
                    await self._resident_tip(n, matter, lon, lat, words)
            except Refused as refused:
                self._refused("tip", refused)

    async def _resident_tip(self, n: int, matter: str, lon: float, lat: float, words: str) -> None:
        data = {
            "service_code": matter,
            "lon": str(lon),
            "lat": str(lat),
            "crs": "wgs84",
            "description": words,
            "device_id": f"demo-sim-resident-{n % 50}",
            "phone": f"170{self.rng.randrange(10**8):08d}",
        }
        files = None
        if self.rng.random() < self.pacing.photo_share:
            files = [("photos", ("tip.jpg", scene_photo("tip"), "image/jpeg"))]
        answer = await self.service.json("POST", "/api/v1/public/tips", data=data, files=files)
        self._remember(
            Tip(
                answer["service_request_id"],
                answer["secret"],
                progress_code=answer["progress_code"],
            )
        )
        self.tally["tips"] += 1
        self.log(f"resident tip {answer['service_request_id']} {matter}: {answer['state']}")

    async def _grid_tip(self, matter: str, lon: float, lat: float, words: str) -> None:
        body = {"matter_code": matter, "lon": lon, "lat": lat, "description": f"网格巡查：{words}"}
        clue = await self.service.json(
            "POST", "/api/v1/clues", self.credentials.grid_worker, json=body
        )
        self._remember(Tip(clue["service_request_id"], None, clue["id"]))
        self.tally["tips"] += 1
        self.log(f"grid tip {clue['service_request_id']} {matter}: {clue['state']}")

    async def _desk(self) -> None:
        """The colleague at the desk: learns the clue ids, dispatches simulated tips that
        wait (queued, returned) to the squad ranked first, closes verified ones; residents
        rate what was closed."""
        async for event in self._events(self.credentials.desk):
            data = event["data"]
            tip = self.tips.get(data.get("service_request_id", ""))
            if tip is None:
                continue
            if tip.clue_id is None:
                tip.clue_id = data["clue_id"]
                self.by_id[tip.clue_id] = tip
            kind = event["type"]
            if kind == "clue.queued" or kind == "clue.returned":
                self._later(self.pacing.dispatch_after, self._dispatch(tip))
            elif kind == "clue.verified":
                self._later(
                    self.pacing.close_after,
                    self._step(self.credentials.desk, tip, "close", "核查属实，办结"),
                )
            elif kind == "clue.closed" and tip.secret:
                self._later(self.pacing.rate_after, self._rate(tip))

    async def _verifier(self) -> None:
        """A grid worker who goes back to look: a photo of the result, then verify."""
        async for event in self._events(self.credentials.grid_worker):
            tip = self.simulated(event["data"].get("clue_id"))
            if tip is not None and event["type"] == "clue.handled":
                self._later(self.pacing.verify_after, self._verify(tip))

    async def _squad(self, squad: Squad) -> None:
        """One squad's phone: takes its assignments one after another; its tracker reports
        where it is while driving and now and then while waiting."""
        token = self.credentials.squads[squad.code]
        device = self.credentials.devices.get(squad.code)
        at = squad.base
        jobs: asyncio.Queue[int] = asyncio.Queue()

        async def listen() -> None:
            async for event in self._events(token):
                data = event["data"]
                if event["type"] == "clue.dispatched" and data.get("squad_code") == squad.code:
                    jobs.put_nowait(data["clue_id"])

        self._spawn(listen())
        await self._report(device, at, 0.0)  # the phone is on: the wall shows it at once
        while True:
            try:
                clue_id = await asyncio.wait_for(jobs.get(), self.pacing.idle_position_every)
            except TimeoutError:
                await self._report(device, at, 0.0)
                continue
            try:
                at = await self._work(squad, token, device, clue_id, at)
            except Refused as refused:
                self._refused(f"squad {squad.code}", refused)

    # --- steps ----------------------------------------------------------------------

    async def _work(
        self, squad: Squad, token: str, device: str | None, clue_id: int, at: tuple[float, float]
    ) -> tuple[float, float]:
        """Accept, drive there, arrive, maybe return or ask for more time, handle with a
        photo. Where the squad is afterwards."""
        await asyncio.sleep(self.pacing.wait(self.pacing.accept_after, self.rng))
        clue = await self.service.act(token, clue_id, "accept", note="收到，马上出发")
        self.tally["accepted"] += 1
        target = (clue["location"]["lon"], clue["location"]["lat"])
        path = route(at, target)
        every = self.pacing.position_every
        points = drive(path, self.pacing.speed_kmh, every)
        self.log(
            f"squad {squad.code} accepted {clue['service_request_id']}: "
            f"{distance_m(*path[:2]) + (distance_m(*path[1:]) if len(path) > 2 else 0):.0f} m "
            f"to drive"
        )
        for point in points:
            await self._report(device, point, self.pacing.speed_kmh)
            await asyncio.sleep(every)
        await self._report(device, target, 0.0)
        await self.service.act(token, clue_id, "arrive", note="已到达现场")
        self.tally["arrived"] += 1
        if self.rng.random() < self.pacing.return_share:
            await self.service.act(token, clue_id, "return", note="现场核实不属于本队职责")
            self.tally["returned"] += 1
            return target
        if self.rng.random() < self.pacing.extension_share:
            await self._ask_extension(token, clue_id)
        await asyncio.sleep(self.pacing.wait(self.pacing.work_on_scene, self.rng))
        await self.service.photo(token, clue_id, "处置后现场")
        await self.service.act(token, clue_id, "handle", note="已劝离并清理现场")
        self.tally["handled"] += 1
        return target

    async def _ask_extension(self, token: str, clue_id: int) -> None:
        answer = await self.service.json(
            "POST",
            f"/api/v1/clues/{clue_id}/requests",
            token,
            json={"kind": "extension", "hours": 2, "note": "需联系当事人，申请延期两小时"},
        )
        self.tally["extensions"] += 1
        self._later(self.pacing.dispatch_after, self._approve(clue_id, answer["id"]))

    async def _approve(self, clue_id: int, request_id: int) -> None:
        await self.service.json(
            "POST",
            f"/api/v1/clues/{clue_id}/requests/{request_id}/decision",
            self.credentials.supervisor,
            json={"approve": True, "note": "同意延期"},
        )

    async def _dispatch(self, tip: Tip) -> None:
        assert tip.clue_id is not None
        clue = await self.service.json("GET", f"/api/v1/clues/{tip.clue_id}", self.credentials.desk)
        if clue["state"] not in ("received", "returned"):
            return  # someone at the desk was quicker
        candidates = await self.service.json(
            "GET", f"/api/v1/clues/{tip.clue_id}/candidates", self.credentials.desk
        )
        eligible = [
            c for c in candidates if c["eligible"] and c["squad_code"] != clue["squad_code"]
        ]
        if not eligible:
            self.log(f"desk: no squad can take {tip.code}; it waits for an operator")
            return
        squad = min(eligible, key=lambda c: c["rank"] or 1_000)["squad_code"]
        await self.service.act(
            self.credentials.desk, tip.clue_id, "dispatch", squad=squad, note="调度台指派"
        )
        self.tally["dispatched_by_desk"] += 1

    async def _verify(self, tip: Tip) -> None:
        assert tip.clue_id is not None
        await self.service.photo(self.credentials.grid_worker, tip.clue_id, "核查现场")
        await self._step(self.credentials.grid_worker, tip, "verify", "网格员核查：已整改")

    async def _step(self, token: str, tip: Tip, action: str, note: str) -> None:
        assert tip.clue_id is not None
        await self.service.act(token, tip.clue_id, action, note=note)
        self.tally[{"verify": "verified", "close": "closed"}.get(action, action)] += 1
        if action == "close":
            self.log(f"desk closed {tip.code}")

    async def _rate(self, tip: Tip) -> None:
        stars = rating(self.pacing, self.rng)
        await self.service.json(
            "POST",
            f"/api/v1/public/clues/{tip.progress_code}/rating",
            json={
                "secret": tip.secret,
                "rating": stars,
                "comment": "处理及时" if stars > 3 else "没有解决",
            },
        )
        self.tally["rated"] += 1
        self.log(f"resident rated {tip.code}: {stars} stars")

    async def _report(self, device: str | None, point: tuple[float, float], speed: float) -> None:
        if device is None:
            return
        try:
            tracker_id = self.credentials.tracker_ids.get(device, device)
            await self.service.osmand(device, point[0], point[1], speed, tracker_id=tracker_id)
            self.tally["positions"] += 1
        except Refused as refused:
            self._refused("position", refused)

    # --- plumbing -------------------------------------------------------------------

    async def _events(self, token: str) -> AsyncIterator[dict[str, Any]]:
        """Events of `/ws` for `token`, reconnecting after a drop and resuming after the
        last event seen (`after=`), as the consoles do."""
        last: int | None = None
        while True:
            try:
                async with self.service.events(token, after=last) as socket:
                    async for message in socket:
                        event = event_of(message)
                        last = event["id"]
                        yield event
            except Exception as error:  # any drop (server restart, network): reconnect
                self.log(f"event stream dropped ({type(error).__name__}); reconnecting")
                await asyncio.sleep(2)

    def _remember(self, tip: Tip) -> None:
        self.tips[tip.code] = tip
        if tip.clue_id is not None:
            self.by_id[tip.clue_id] = tip

    def _later(self, span: tuple[float, float], step: Coroutine[Any, Any, None]) -> None:
        async def run() -> None:
            await asyncio.sleep(self.pacing.wait(span, self.rng))
            try:
                await step
            except Refused as refused:
                self._refused("step", refused)

        self._spawn(run())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _refused(self, what: str, refused: Refused) -> None:
        self.tally["refused"] += 1
        self.log(f"{what} refused: {refused}")
