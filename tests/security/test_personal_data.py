"""Residents' phone numbers, names and e-mail addresses appear only where they are needed
— unmasked in the operator's contact look-up, masked (138****8000) for the reporter with
the tip's secret and in clue records — and never in events, in other answers, or in the
server's log, whatever the request (refused ones and ones with contact fields in the
URL included)."""

from __future__ import annotations

import asyncio

import httpx
from websockets.asyncio.client import connect

from tests.security.world import RESIDENT_A, World

SECRETS = (
    RESIDENT_A["phone"],
    RESIDENT_A["first_name"],
    RESIDENT_A["last_name"],
    RESIDENT_A["email"],
    "13905710077",  # the mini-program tip below
)
MASKED_A = "139****0001"


def leaked(text: str) -> list[str]:
    return [value for value in SECRETS if value in text]


async def test_contact_details_only_in_the_operators_look_up(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as client:
        for caller in ("operator", "admin"):
            look = await client.get(
                f"/api/v1/clues/{world.clue_a}/reporter",
                params={"reason": "回访核实"},
                headers=world.headers(caller),
            )
            assert look.json() == {
                "name": f"{RESIDENT_A['first_name']} {RESIDENT_A['last_name']}",  # Open311's
                "phone": RESIDENT_A["phone"],
                "email": RESIDENT_A["email"],
            }
        clue = await client.get(f"/api/v1/clues/{world.clue_a}", headers=world.headers("admin"))
        assert clue.json()["reporter_phone"] == MASKED_A


async def test_every_other_answer_holds_no_contact_details(world: World) -> None:
    paths = [
        "/api/v1/clues?limit=500",
        f"/api/v1/clues/{world.clue_a}",
        f"/api/v1/clues/{world.clue_a}/events",
        f"/api/v1/clues/{world.clue_a}/documents",
        "/api/v1/warnings",
        "/api/v1/devices",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        f"/open311/v2/requests/{world.code_a}.json",
        "/open311/v2/servicerequestupdates.json",
        f"/api/v1/public/clues/{world.progress_a}",
        f"/track/{world.progress_a}",
    ]
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as client:
        for caller in ("squad", "grid_worker", "operator", "supervisor", "admin", "anonymous"):
            for path in paths:
                answer = await client.get(path, headers=world.headers(caller))
                assert answer.status_code in (200, 401, 403), (caller, path, answer.status_code)
                assert leaked(answer.text) == [], (caller, path)


async def test_the_reporter_sees_the_phone_masked_with_the_secret_only(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as client:
        tip = await client.post(
            "/api/v1/public/tips",
            data={"service_code": "CG-001", "lon": "119.9300", "lat": "28.4640"},
            files={"phone": (None, "13905710077"), "device_id": (None, "wx-privacy")},
        )
        assert tip.status_code == 201, tip.text
        code, secret = tip.json()["progress_code"], tip.json()["secret"]
        public = await client.get(f"/api/v1/public/clues/{code}")
        mine = await client.get(
            f"/api/v1/public/clues/{code}", headers={"X-Tracking-Secret": secret}
        )
    assert "139****0077" not in public.text and leaked(public.text) == []
    assert "139****0077" in mine.text and leaked(mine.text) == []


async def test_no_event_and_no_log_line_holds_contact_details(world: World) -> None:
    ws = world.url.replace("http://", "ws://")
    async with connect(f"{ws}/ws?token={world.token('admin')}&after=0") as events:
        replayed = []
        while True:
            try:
                async with asyncio.timeout(0.7):
                    replayed.append(await events.recv())
            except TimeoutError:
                break
    assert replayed and leaked("\n".join(str(e) for e in replayed)) == []
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as client:
        # Refused requests that carry contact details, in the body and in the URL.
        refused = await client.post(
            "/open311/v2/requests.json?phone=13905710001&first_name=晓梅",
            data={"service_code": "NO-SUCH", "lat": "28.46", "long": "119.92", **RESIDENT_A},
        )
        assert refused.status_code == 400, refused.text
        outside = await client.post(
            "/open311/v2/requests.json",
            data={"service_code": "CG-001", "lat": "39.9", "long": "116.4", **RESIDENT_A},
        )
        assert outside.status_code == 400
        assert leaked(refused.text + outside.text) == []
    with world.connect() as conn:
        stored = conn.execute("SELECT string_agg(data::text, ' ') FROM events").fetchone()
    assert stored and stored[0] and leaked(stored[0]) == []
    assert leaked(world.server.log_text()) == []
