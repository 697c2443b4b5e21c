"""What a due timer does: an accept time-out moves the clue on; a rung of the ladder
issues its document and tells whom it concerns."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import SYSTEM
from command_center.clues import service as clues_service
from command_center.clues.events import about
from command_center.clues.model import ClueRecord, State
from command_center.dispatch.model import DEFAULT_POLICY
from command_center.readable_time import chinese
from command_center.realtime import outbox
from command_center.realtime.events import iso_utc
from command_center.supervision import repository
from command_center.supervision.ladder import DOCUMENT, EVENT, Rung
from command_center.supervision.repository import DueTimer

WORKING = frozenset({State.DISPATCHED, State.ACCEPTED, State.ON_SCENE})


async def fire(session: AsyncSession, *, timer: DueTimer, now: datetime) -> str:
    """Carry out one due timer (the clue's row is locked); returns the outcome noted on it."""
    clue = await clues_service.lock(session=session, clue_id=timer.clue_id)
    rung = Rung(timer.kind)
    if rung is Rung.ACCEPT_TIMEOUT:
        if clue.state is not State.DISPATCHED:
            return f"obsolete: clue {clue.state.value}"
        return await clues_service.accept_timed_out(session=session, clue=clue, now=now)
    if clue.state not in WORKING:
        return f"obsolete: clue {clue.state.value}"
    await _issue(session, clue, rung, now)
    return "issued"


async def _issue(session: AsyncSession, clue: ClueRecord, rung: Rung, now: datetime) -> None:
    kind, title = DOCUMENT[rung]
    number = await repository.next_document_number(session, kind, now)
    addressee = _addressee(rung, clue)
    zone = ZoneInfo(session.info.get("dispatch_policy", DEFAULT_POLICY).zone)
    deadline = clue.deadline.astimezone(zone) if clue.deadline else None
    body = (
        f"{title}（{number}）\n致：{addressee}\n"
        f"线索 {clue.service_request_id}（{clue.matter_name}，{clue.jurisdiction_name}）"
        f"由 {clue.squad_code} 办理，办理期限 {chinese(deadline, zone, year=True)}。"
        f"{_demand(rung)}\n依据：{clue.legal_basis}"
        if deadline
        else f"{title}（{number}）\n致：{addressee}\n线索 {clue.service_request_id}"
    )
    document_id = await repository.add_document(
        session,
        clue_id=clue.id,
        kind=kind,
        number=number,
        addressee=addressee,
        body=body,
        issued_at=now,
    )
    await outbox.record(
        session,
        [
            about(
                clue,
                EVENT[rung],
                {
                    "squad_code": clue.squad_code,
                    "department": clue.department,
                    "deadline": iso_utc(clue.deadline) if clue.deadline else None,
                    "document": {"id": document_id, "kind": kind, "number": number},
                    "addressee": addressee,
                    "by": SYSTEM.as_actor(),
                },
            )
        ],
    )


def _addressee(rung: Rung, clue: ClueRecord) -> str:
    if rung is Rung.REMINDER:
        return f"执法队 {clue.squad_code}"
    if rung is Rung.SUPERVISION:
        return f"{clue.department}；指挥中心"
    return "督办领导（supervisor）"


def _demand(rung: Rung) -> str:
    return {
        Rung.REMINDER: "办理时限已过 75%，请抓紧办理并及时反馈。",
        Rung.SUPERVISION: "已超过办理期限，现予督办，请立即办理并书面说明超期原因。",
        Rung.ESCALATION: "超期已达期限的 150%，升级至督办领导处理。",
    }[rung]


async def documents(*, session: AsyncSession, clue_id: int) -> list[dict[str, object]]:
    return await repository.documents_for(session, clue_id)
