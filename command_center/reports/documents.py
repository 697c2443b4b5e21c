"""A clue's documents as printable PDFs: the assignment sheet (交办单) of its dispatch and
the reminder letter (提醒函), supervision order (督办单) and escalation notice the
supervision ladder issued (the `documents` rows). Each carries the QR code of the clue's
public progress page (`PUBLIC_BASE_URL/track/{code}`), the code officers, supervisors and
the public scan."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal
from command_center.clues import service as clues_service
from command_center.clues.model import ClueRecord, State
from command_center.errors import Conflict, NotFound
from command_center.reports import render, repository
from command_center.residents.qr import qr_png
from command_center.supervision import service as supervision_service

TITLES = {
    "assignment": "交办单",
    "reminder": "提醒函",
    "supervision_order": "督办单",
    "escalation": "督办升级通知",
}
ASSIGNMENT_DEMAND = "现将下列线索交你单位办理，请在办理期限内处置完毕，并通过指挥平台反馈处置结果。"
STATE_NAMES = {
    State.RECEIVED: "已受理，待派遣",
    State.DISPATCHED: "已派遣，待签收",
    State.ACCEPTED: "已签收",
    State.ON_SCENE: "已到场处置",
    State.HANDLED: "已处置，待核查",
    State.VERIFIED: "已核查，待结案",
    State.CLOSED: "已结案",
    State.RETURNED: "已退回，待重新派遣",
    State.REOPENED: "已重新办理",
    State.CANCELLED: "已撤销",
    State.DUPLICATE: "已合并至其他线索",
}


@dataclass(frozen=True, slots=True)
class Document:
    """What a printed document shows; rendered by templates/document.html."""

    kind: str
    title: str
    number: str
    issuer: str
    issued_at: datetime
    addressee: str
    body: str  # the text the supervision ladder issued, as stored
    demand: str
    clue: ClueRecord
    squad_name: str | None
    dispatched_at: datetime | None
    state_name: str
    qr: str  # a data: URI of the QR code's PNG
    tracking_url: str

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.clue.service_request_id}-{self.number}.pdf"


def tracking_url(base_url: str, clue: ClueRecord) -> str:
    """The progress page by the clue's random progress code (the case number printed
    beside it cannot open it: issue 15, finding 3)."""
    return f"{base_url}/track/{clue.progress_code or clue.service_request_id}"


def _qr(url: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url)).decode()


async def assignment_sheet(
    *, session: AsyncSession, clue_id: int, by: Principal, issuer: str, base_url: str
) -> Document:
    """The sheet handed to the squad with the clue. Conflict while nobody has it."""
    clue = await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    facts = await repository.dispatch_facts(session, clue.id)
    if clue.squad_code is None or facts["dispatched_at"] is None:
        raise Conflict(f"clue {clue_id} is {clue.state.value}: it has not been assigned")
    url = tracking_url(base_url, clue)
    issued = facts["dispatched_at"]
    return Document(
        kind="assignment",
        title=TITLES["assignment"],
        number=f"JB-{clue.service_request_id}-{issued:%H%M%S}",
        issuer=issuer,
        issued_at=issued,
        addressee=facts["squad_name"] or clue.squad_code,
        body="",
        demand=ASSIGNMENT_DEMAND,
        clue=clue,
        squad_name=facts["squad_name"],
        dispatched_at=issued,
        state_name=STATE_NAMES[clue.state],
        qr=_qr(url),
        tracking_url=url,
    )


async def issued(
    *,
    session: AsyncSession,
    clue_id: int,
    document_id: int,
    by: Principal,
    issuer: str,
    base_url: str,
) -> Document:
    """A reminder letter, supervision order or escalation notice of the clue."""
    clue = await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    rows = await supervision_service.documents(session=session, clue_id=clue.id)
    row = next((r for r in rows if r["id"] == document_id), None)
    if row is None:
        raise NotFound(f"clue {clue_id} has no document {document_id}")
    kind = str(row["kind"])
    facts = await repository.dispatch_facts(session, clue.id)
    url = tracking_url(base_url, clue)
    issued_at = row["issued_at"]
    assert isinstance(issued_at, datetime)
    return Document(
        kind=kind,
        title=TITLES.get(kind, kind),
        number=str(row["number"]),
        issuer=issuer,
        issued_at=issued_at,
        addressee=str(row["addressee"]),
        body=_letter(str(row["body"])),
        demand="",  # the ladder wrote its demand into the body
        clue=clue,
        squad_name=facts["squad_name"],
        dispatched_at=facts["dispatched_at"],
        state_name=STATE_NAMES[clue.state],
        qr=_qr(url),
        tracking_url=url,
    )


def _letter(body: str) -> str:
    """The ladder's text without its first two lines (title and addressee), which the
    document prints in its own head."""
    lines = body.splitlines()
    if len(lines) > 2 and lines[1].startswith("致："):
        return "\n".join(lines[2:])
    return body


async def as_pdf(document: Document, zone: ZoneInfo) -> bytes:
    return await asyncio.to_thread(render.pdf, render.document_html(document, zone))
