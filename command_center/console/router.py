"""JSON read models for the consoles: the wall map, squads, jurisdictions as GeoJSON,
a clue's suggested squads and its evidence. Every answer is scoped by the token."""

from __future__ import annotations

import mimetypes
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from command_center.auth.dependencies import CurrentPrincipal
from command_center.auth.scope import Scope
from command_center.clues import service as clues_service
from command_center.console import service
from command_center.console.model import DEFAULT_MAX_POINTS, MAX_POINTS_LIMIT, MAX_ZOOM, BBox
from command_center.console.schemas import (
    CandidateOut,
    EvidenceOut,
    MapCluesOut,
    MapSquadOut,
)
from command_center.dependencies import ReadSession, now_of
from command_center.errors import NotFound
from command_center.evidence import service as evidence_service
from command_center.privacy import PERSONAL_RESPONSE_HEADERS
from command_center.realtime import service as events_service

router = APIRouter(prefix="/api/v1", tags=["consoles"])

Level = Literal["city", "district", "street", "community", "grid"]
PublicLevel = Literal["city", "district", "street"]


@router.get("/map/clues", response_model=MapCluesOut)
async def map_clues(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    bbox: Annotated[str, Query(description="west,south,east,north (WGS84)")],
    zoom: Annotated[int, Query(ge=0, le=MAX_ZOOM, description="Web-Mercator zoom")],
    max_points: Annotated[int, Query(ge=0, le=MAX_POINTS_LIMIT)] = DEFAULT_MAX_POINTS,
) -> MapCluesOut:
    """Open clues in the viewport, and those closed today: one by one when there are at
    most `max_points`, else aggregated server-side on a grid of ~64 px cells at `zoom`
    with the count in each state."""
    state = request.app.state
    return await service.map_clues(
        session=session,
        by=by,
        bbox=BBox.parse(bbox),
        zoom=zoom,
        now=now_of(request),
        zone=state.settings.zone,
        max_points=max_points,
    )


@router.get("/map/squads", response_model=list[MapSquadOut])
async def map_squads(
    request: Request, session: ReadSession, by: CurrentPrincipal
) -> list[MapSquadOut]:
    """Squads in scope: base, live position (a member's device), devices and workload."""
    state = request.app.state
    return await service.squads(
        session=session,
        by=by,
        now=now_of(request),
        zone=state.settings.zone,
        max_position_age_s=state.settings.position_max_age_seconds,
    )


@router.get("/jurisdictions")
async def jurisdictions(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    max_level: Annotated[Level, Query(description="Deepest level returned")] = "street",
    tolerance: Annotated[float, Query(ge=0, le=5000, description="Simplify, metres")] = 20.0,
) -> JSONResponse:
    """The jurisdictions in scope as a GeoJSON FeatureCollection (WGS84) with `bbox`."""
    body = await service.jurisdictions(
        session=session,
        scope=service.scope_of(by),
        max_level=max_level,
        tolerance_m=tolerance,
    )
    return JSONResponse(body, media_type="application/geo+json")


@router.get("/public/jurisdictions")
async def public_jurisdictions(
    request: Request,
    session: ReadSession,
    max_level: Annotated[PublicLevel, Query()] = "district",
    tolerance: Annotated[float, Query(ge=20, le=5000)] = 50.0,
) -> JSONResponse:
    """The city's outline and districts (down to streets at most) for the resident page's
    base map: public, no token."""
    body = await service.jurisdictions(
        session=session, scope=Scope(), max_level=max_level, tolerance_m=tolerance
    )
    return JSONResponse(
        body, media_type="application/geo+json", headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/clues/{clue_id}/candidates", response_model=list[CandidateOut])
async def candidates(
    clue_id: int,
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    department: Annotated[str | None, Query(max_length=100)] = None,
) -> list[CandidateOut]:
    """The squads that could take the clue, as the dispatch ranking sees them: distance
    (live position or base), workload, domain, score; eligible ones ranked first."""
    clue = await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    return await service.candidates(session=session, by=by, clue=clue, department=department)


@router.get("/clues/{clue_id}/evidence", response_model=list[EvidenceOut])
async def evidence(
    clue_id: int, request: Request, session: ReadSession, by: CurrentPrincipal
) -> list[EvidenceOut]:
    """Photos, snapshots and recordings attached to the clue, oldest first."""
    await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    items = await evidence_service.for_clue(session=session, clue_id=clue_id)
    return [
        EvidenceOut(
            id=e.id,
            kind=e.kind.value,
            media_type=e.media_type,
            sha256=e.sha256,
            size_bytes=e.size_bytes,
            taken_at=e.taken_at,
            created_at=e.created_at,
            note=e.note,
            device_id=e.device_id,
            url=f"/api/v1/clues/{clue_id}/evidence/{e.id}",
        )
        for e in items
    ]


@router.get("/clues/{clue_id}/evidence/{evidence_id}")
async def evidence_file(
    clue_id: int, evidence_id: int, request: Request, session: ReadSession, by: CurrentPrincipal
) -> Response:
    """The evidence file as stored (its SHA-256 is in the clue's record): a download,
    never sniffed as another type, never kept by a browser or proxy cache (it may show
    people and places; issue 15, finding 9)."""
    state = request.app.state
    await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    item = await evidence_service.get(session=session, evidence_id=evidence_id)
    if item is None or item.clue_id != clue_id:
        raise NotFound("no such evidence for this clue")
    extension = mimetypes.guess_extension(item.media_type) or ""
    headers: dict[str, Any] = {
        **PERSONAL_RESPONSE_HEADERS,
        "Content-Disposition": f'attachment; filename="evidence-{clue_id}-{item.id}{extension}"',
        "ETag": item.sha256,
    }
    return Response(state.media.get(item.storage_key), media_type=item.media_type, headers=headers)


@router.get("/events/latest")
async def latest_events(
    request: Request,
    session: ReadSession,
    by: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
) -> list[dict[str, Any]]:
    """The newest events in the token's scope, oldest first, as `/ws` sends them
    (`id`, `type`, `at`, `data`): the wall's latest-events panel on open."""
    events = await events_service.latest(session=session, by=by, limit=limit)
    return [event.public() for event in events]
