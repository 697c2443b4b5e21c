"""Use cases of the resident mini-program: a tip with photos, progress, rating."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import PUBLIC, SYSTEM
from command_center.clues import events as clue_events
from command_center.clues import repository as clues_repository
from command_center.clues import service as clues_service
from command_center.clues.model import Action, ClueRecord, State, Submission
from command_center.clues.service import IntakeResult
from command_center.errors import Conflict, Forbidden, NotFound
from command_center.evidence import service as evidence_service
from command_center.evidence.model import Kind, NewEvidence
from command_center.evidence.storage import MediaStore
from command_center.open311 import service as open311
from command_center.open311.model import EXTENDED_STATUS, extended_status, public_description
from command_center.privacy import mask_phone
from command_center.publicview.model import Audience, mask_personal
from command_center.realtime import outbox
from command_center.realtime import service as events_service
from command_center.realtime.events import PendingEvent
from command_center.residents.model import is_well_formed, normalise
from feeds.photos import CheckedPhoto

REOPEN_WITHIN = timedelta(days=7)
UNSATISFIED = frozenset({1, 2})


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TipResult:
    intake: IntakeResult
    secret: str
    progress_code: str


async def case_number(*, session: AsyncSession, code: str) -> str | None:
    """The case number a progress code (as typed) opens; None for a code no clue has.
    A code whose check character is wrong is not looked up (residents/model.py)."""
    typed = normalise(code)
    if is_well_formed(typed):
        return await clues_repository.by_progress_code(session, typed)
    # the old date-and-counter codes of tips made before migration 0013
    return await clues_repository.by_progress_code(session, code) if code.isdigit() else None


async def submit_tip(
    *,
    session: AsyncSession,
    store: MediaStore,
    submission: Submission,
    photos: list[CheckedPhoto],
    zone: ZoneInfo,
    code_prefix: str,
) -> TipResult:
    """Register the tip (deduplicated and dispatched like any clue), then attach each
    photo as evidence: the original with its hash, and a public copy without EXIF."""
    secret = secrets.token_urlsafe(16)
    submission = _with_secret(submission, secret_hash(secret))
    result = await clues_service.submit(
        session=session, submission=submission, by=PUBLIC, zone=zone, code_prefix=code_prefix
    )
    clue = await clues_service.get_scoped(session=session, clue_id=result.clue_id, by=SYSTEM)
    for photo in photos:
        await evidence_service.attach(
            session=session,
            store=store,
            clue=clue,
            item=NewEvidence(
                clue_id=clue.id,
                kind=Kind.PHOTO,
                media_type=photo.media_type,
                content=photo.original,
                public_content=photo.public_copy,
                added_by=PUBLIC.as_actor(),
                lon=submission.lon,
                lat=submission.lat,
            ),
        )
    assert clue.progress_code is not None  # the database gives every clue one
    return TipResult(result, secret, clue.progress_code)


def _with_secret(submission: Submission, hashed: str) -> Submission:
    return replace(submission, tracking_secret_hash=hashed)


async def progress(
    *,
    session: AsyncSession,
    code: str,
    case: str,
    secret: str | None,
    zone: ZoneInfo,
    audience: Audience,
) -> dict[str, Any]:
    """What a resident sees by code: the public view of the request (the same as the
    Open311 detail's for `audience`: masked or moderated text, rounded position), its
    status and public history, whatever its channel (the code is the reporter's). With
    the tip's secret, also whether it can be rated, the rating given and the reporter's
    masked phone."""
    audience = replace(audience, channels=None)
    [request] = await _request(session, case, audience)
    tracking = await clues_repository.tracking(session, case)
    assert tracking is not None
    history_ids = [tracking.clue_id] + ([tracking.duplicate_of] if tracking.duplicate_of else [])
    history = []
    for clue_id in history_ids:
        for event in await events_service.events_for_clue(session=session, clue_id=clue_id):
            if event.type in EXTENDED_STATUS:
                history.append(
                    {
                        "at": open311.local_time(event.at, zone),
                        "status": extended_status(event.type, event.data),
                        "description": mask_personal(public_description(event.type, event.data)),
                    }
                )
    history.sort(key=lambda item: str(item["at"]))
    photos = [
        f"/api/v1/public/clues/{code}/photos/{item.id}"
        for item in await evidence_service.for_clue(session=session, clue_id=tracking.clue_id)
        if item.public_key is not None
    ]
    view = open311.request_view(request, zone, audience)
    body: dict[str, Any] = {
        "service_request_id": case,
        "progress_code": code,
        "status": view["status"],
        "state": request.state,
        "status_notes": view["status_notes"],
        "service_name": request.matter_name,
        "description": view["description"],
        "address": view["address"],
        "lat": view["lat"],
        "long": view["long"],
        "agency_responsible": request.department,
        "requested_datetime": view["requested_datetime"],
        "updated_datetime": view["updated_datetime"],
        "duplicate_of": request.duplicate_of,
        "report_count": request.report_count,
        "history": history,
        "photos": photos,
    }
    if secret is not None and _secret_ok(tracking.secret_hash, secret):
        body["rating"] = tracking.rating
        body["can_rate"] = tracking.rating is None and request.state == State.CLOSED.value
        body["phone"] = mask_phone(tracking.reporter_phone)
    return body


async def rate(
    *,
    session: AsyncSession,
    code: str,
    secret: str,
    rating: int,
    comment: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Rate a closed clue once. A rating of 1–2 within 7 days of closing reopens it
    (the clue it repeats, for a duplicate), which the squad and the center are told."""
    tracking = await clues_repository.tracking(session, code)
    if tracking is None:
        raise NotFound(f"no clue {code}")
    if not _secret_ok(tracking.secret_hash, secret):
        raise Forbidden("the tracking secret does not match this code")
    if tracking.rating is not None:
        raise Conflict("this tip has already been rated")
    judged = await _judged_clue(session, tracking.duplicate_of or tracking.clue_id)
    if judged.state is not State.CLOSED:
        raise Conflict(f"a tip can be rated once it is closed; it is {judged.state.value}")
    await clues_repository.set_rating(session, tracking.clue_id, rating=rating, comment=comment)
    reopen = (
        rating in UNSATISFIED
        and judged.closed_at is not None
        and now - judged.closed_at <= REOPEN_WITHIN
    )
    await outbox.record(session, [_rated_event(judged, code, rating, comment, reopen)])
    if reopen:
        note = f"居民评价不满意（{rating} 星）" + (f"：{comment}" if comment else "")
        await clues_service.act(
            session=session, clue_id=judged.id, action=Action.REOPEN, by=SYSTEM, note=note
        )
    return {"service_request_id": code, "rating": rating, "reopened": reopen}


def _rated_event(
    judged: ClueRecord, code: str, rating: int, comment: str | None, reopen: bool
) -> PendingEvent:
    return clue_events.about(
        judged,
        "clue.rated",
        {
            "rated_by_code": code,
            "rating": rating,
            "comment": comment,
            "satisfied": rating >= 4,
            "reopens": reopen,
        },
    )


async def _judged_clue(session: AsyncSession, clue_id: int) -> ClueRecord:
    return await clues_service.get_scoped(session=session, clue_id=clue_id, by=SYSTEM)


async def _request(session: AsyncSession, code: str, audience: Audience) -> list[Any]:
    found = await open311.requests(
        session=session,
        ids=[code],
        service_codes=[],
        start=datetime.min,
        end=datetime.max,
        statuses=[],
        city=None,
        audience=audience,
    )
    if not found:
        raise NotFound(f"no clue {code}")
    return found


def _secret_ok(stored: str | None, secret: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, secret_hash(secret))
