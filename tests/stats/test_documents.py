"""A clue's documents as PDFs: the assignment sheet and the reminder letter the ladder
issued, with the clue's QR code, read back from the PDF."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

from command_center.auth.model import Principal, Role
from command_center.clues import service as clues_service
from command_center.clues.model import Channel, Submission
from command_center.db.session import Database
from command_center.supervision.scheduler import tick
from tests.conftest import LiveServer
from tests.stats.pdfs import flat, qr_codes, text_of
from tests.support import LIANDU, spread

OPERATOR = Principal(role=Role.OPERATOR, subject="desk-7")


async def submitted(database: Database, **fields: Any) -> clues_service.IntakeResult:
    lon, lat = spread(LIANDU)
    async with database.transaction() as session:
        return await clues_service.submit(
            session=session,
            submission=Submission(
                matter_code="CG-006", lon=lon, lat=lat, submitted_crs="wgs84", **fields
            ),
            by=OPERATOR,
            zone=ZoneInfo("Asia/Shanghai"),
        )


async def dispatched_clue(database: Database) -> tuple[int, str, str, datetime, datetime]:
    result = await submitted(database, channel=Channel.GRID, description="河道旁倾倒建筑垃圾约两方")
    async with database.sessions() as session:
        row = (
            await session.execute(
                text("SELECT dispatched_at, deadline FROM clues WHERE id = :id"),
                {"id": result.clue_id},
            )
        ).one()
    assert result.squad_code is not None
    return result.clue_id, result.service_request_id, result.squad_code, *row


async def progress_code_of(database: Database, clue_id: int) -> str:
    """What the QR code opens: the clue's random progress code, not its case number."""
    async with database.sessions() as session:
        found = await session.execute(
            text("SELECT progress_code FROM clues WHERE id = :id"), {"id": clue_id}
        )
    return str(found.scalar_one())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_assignment_sheet_names_the_squad_and_its_qr_opens_the_clue(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    clue_id, code, squad, _, deadline = await dispatched_clue(database)
    headers = bearer(live_server.token(Role.SQUAD, squad=squad))
    response = await client.get(f"/api/v1/clues/{clue_id}/assignment-sheet.pdf", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    words = flat(text_of(response.content))
    assert "交办单" in words and code in words and "河道旁倾倒建筑垃圾约两方" in words
    assert "莲都区综合行政执法队" in words  # the squad by its name
    local = deadline.astimezone(ZoneInfo("Asia/Shanghai"))  # as people read it (issue 22)
    assert f"{local.year}年{local.month}月{local.day}日{local:%H:%M}" in words
    assert "签收人（签字）" in words
    progress = await progress_code_of(database, clue_id)
    assert qr_codes(response.content) == [
        f"{live_server.settings.public_base_url}/track/{progress}"
    ]
    other = bearer(live_server.token(Role.SQUAD, squad="QT-01"))
    refused = await client.get(f"/api/v1/clues/{clue_id}/assignment-sheet.pdf", headers=other)
    assert refused.status_code == 403


async def test_the_reminder_letter_the_ladder_issued_prints_with_its_number(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    clue_id, code, _, dispatched_at, deadline = await dispatched_clue(database)
    await tick(database, now=dispatched_at + (deadline - dispatched_at) * 0.8, only_clues=[clue_id])
    headers = bearer(live_server.token(Role.SUPERVISOR))
    listed = await client.get(f"/api/v1/clues/{clue_id}/documents", headers=headers)
    [reminder] = listed.json()
    assert reminder["kind"] == "reminder"
    response = await client.get(
        f"/api/v1/clues/{clue_id}/documents/{reminder['id']}.pdf", headers=headers
    )
    assert response.status_code == 200, response.text
    words = flat(text_of(response.content))
    assert "提醒函" in words and flat(reminder["number"]) in words and code in words
    assert "办理时限已过75%" in words
    progress = await progress_code_of(database, clue_id)
    assert qr_codes(response.content) == [
        f"{live_server.settings.public_base_url}/track/{progress}"
    ]
    missing = await client.get(
        f"/api/v1/clues/{clue_id}/documents/{reminder['id'] + 999}.pdf", headers=headers
    )
    assert missing.status_code == 404


async def test_a_clue_nobody_has_has_no_assignment_sheet(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    queued = await submitted(
        database,
        channel=Channel.HOTLINE,
        address="莲都区某路 8 号",
        location_approximate=True,  # waits for the operator to confirm the place
    )
    assert queued.squad_code is None
    response = await client.get(
        f"/api/v1/clues/{queued.clue_id}/assignment-sheet.pdf",
        headers=bearer(live_server.token(Role.OPERATOR)),
    )
    assert response.status_code == 409
    assert "has not been assigned" in response.json()["detail"]
