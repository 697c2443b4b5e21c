"""Reports (weekly report, monthly bulletin) and the PDFs of a clue's documents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from command_center.auth.dependencies import CurrentPrincipal
from command_center.auth.model import Principal
from command_center.auth.scope import Scope
from command_center.dependencies import ReadSession, Transaction
from command_center.errors import Forbidden, InvalidInput
from command_center.reports import documents
from command_center.reports import service as reports_service
from command_center.reports.model import ReportKind, StoredReport
from command_center.stats import service as stats_service
from command_center.stats.periods import parse_month, parse_week

router = APIRouter(prefix="/api/v1", tags=["reports"])


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: ReportKind
    period: str = Field(description="2026-W47 for a weekly report, 2026-11 for a monthly one")


class ReportOut(BaseModel):
    id: int
    kind: str
    label: str
    jurisdiction: str | None
    period_start: datetime
    period_end: datetime
    sha256: str
    size_bytes: int
    generated_at: datetime
    pdf: str
    html: str

    @classmethod
    def of(cls, report: StoredReport) -> ReportOut:
        return cls(
            id=report.id,
            kind=report.kind,
            label=report.label,
            jurisdiction=report.jurisdiction,
            period_start=report.period_start,
            period_end=report.period_end,
            sha256=report.sha256,
            size_bytes=report.size_bytes,
            generated_at=report.generated_at,
            pdf=f"/api/v1/reports/{report.id}.pdf",
            html=f"/api/v1/reports/{report.id}.html",
        )


def _readers_scope(by: Principal) -> Scope:
    """Reports are for operators, supervisors and admins, by jurisdiction."""
    scope = stats_service.scope_of(by)
    if scope.squad is not None:
        raise Forbidden("reports are for operators, supervisors and admins")
    return scope


@router.get("/reports", response_model=list[ReportOut])
async def list_reports(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    kind: ReportKind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ReportOut]:
    """Stored reports (scheduled or asked for), newest first."""
    scope = _readers_scope(by)
    found = await reports_service.listing(session=session, kind=kind, scope=scope, limit=limit)
    return [ReportOut.of(r) for r in found]


@router.post("/reports", status_code=201, response_model=ReportOut)
async def generate_report(
    body: ReportIn, request: Request, session: Transaction, by: CurrentPrincipal
) -> ReportOut:
    """Generate a report now, for the caller's jurisdiction, and store it."""
    scope = _readers_scope(by)
    state = request.app.state
    zone = state.settings.zone
    parse = parse_week if body.kind is ReportKind.WEEKLY else parse_month
    period = parse(body.period, zone)
    rendered = await reports_service.generate(
        session=session,
        kind=body.kind,
        period=period,
        now=state.clock(),
        scope=scope,
        issuer=state.settings.report_issuer,
    )
    report_id = await reports_service.store(session=session, rendered=rendered, scope=scope, by=by)
    stored, _, _ = await reports_service.fetch(session=session, report_id=report_id, scope=scope)
    return ReportOut.of(stored)


@router.get("/reports/{report_id}.{fmt}")
async def get_report(
    report_id: int,
    fmt: Literal["pdf", "html"],
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
) -> Response:
    """A stored report as PDF or HTML (the same content)."""
    scope = _readers_scope(by)
    stored, html, pdf = await reports_service.fetch(
        session=session, report_id=report_id, scope=scope
    )
    if fmt == "html":
        return HTMLResponse(html)
    name = f"{stored.kind}-{stored.label}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


def _pdf(document: documents.Document, pdf: bytes) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
    )


@router.get("/clues/{clue_id}/assignment-sheet.pdf", response_class=Response)
async def assignment_sheet(
    clue_id: int, request: Request, session: ReadSession, by: CurrentPrincipal
) -> Response:
    """The assignment sheet (交办单) of the clue's current dispatch, with its QR code."""
    settings = request.app.state.settings
    document = await documents.assignment_sheet(
        session=session,
        clue_id=clue_id,
        by=by,
        issuer=settings.report_issuer,
        base_url=settings.public_base_url,
    )
    return _pdf(document, await documents.as_pdf(document, settings.zone))


@router.get("/clues/{clue_id}/documents/{document_id}.pdf", response_class=Response)
async def document_pdf(
    clue_id: int, document_id: int, request: Request, session: ReadSession, by: CurrentPrincipal
) -> Response:
    """A reminder letter (提醒函), supervision order (督办单) or escalation notice, from
    `GET /api/v1/clues/{id}/documents`, ready to print and sign."""
    if document_id < 1:
        raise InvalidInput("document ids are positive")
    settings = request.app.state.settings
    document = await documents.issued(
        session=session,
        clue_id=clue_id,
        document_id=document_id,
        by=by,
        issuer=settings.report_issuer,
        base_url=settings.public_base_url,
    )
    return _pdf(document, await documents.as_pdf(document, settings.zone))
