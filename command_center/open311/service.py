"""GeoReport v2 use cases: the catalogue as services, request queries and updates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.apikeys import service as apikeys_service
from command_center.clues.model import CLOSED_STATES, State
from command_center.errors import InvalidInput, NotFound
from command_center.matters import service as matters_service
from command_center.open311 import repository
from command_center.open311.model import (
    PublicRequest,
    RequestUpdate,
    extended_status,
    public_description,
)
from command_center.open311.repository import RequestQuery
from command_center.publicview.model import (
    Audience,
    PublicPolicy,
    mask_personal,
    public_text,
    snap,
)

MAX_SPAN = timedelta(days=90)
MAX_RESULTS = 1000


async def check_jurisdiction(*, session: AsyncSession, jurisdiction_id: str | None) -> str | None:
    """The city code a request names (None for all); NotFound for an unknown one."""
    if jurisdiction_id is None or jurisdiction_id == "":
        return None
    if jurisdiction_id not in await repository.cities(session):
        raise NotFound(f"unknown jurisdiction_id {jurisdiction_id!r}")
    return jurisdiction_id


async def audience(*, session: AsyncSession, api_key: str | None, policy: PublicPolicy) -> Audience:
    """Who reads: a partner with a valid `api_key` (Forbidden, 403, for an invalid one)
    or anyone."""
    if api_key is None or api_key.strip() == "":
        return policy.anonymous()
    await apikeys_service.authenticate(session=session, key=api_key)
    return policy.partner()


async def services(*, session: AsyncSession) -> list[dict[str, Any]]:
    with_attributes = {a.matter_code for a in await matters_service.attributes(session=session)}
    return [
        {
            "service_code": m.code,
            "service_name": m.name,
            "description": m.legal_basis,
            "metadata": m.code in with_attributes,
            "type": "realtime",
            "keywords": m.keywords,
            "group": m.domain,
        }
        for m in await matters_service.list_all(session=session)
    ]


async def definition(*, session: AsyncSession, service_code: str) -> dict[str, Any]:
    if await matters_service.get(session=session, code=service_code) is None:
        raise NotFound(f"unknown service_code {service_code!r}")
    attributes = await matters_service.attributes(session=session, matter_code=service_code)
    return {"service_code": service_code, "attributes": [a.as_open311() for a in attributes]}


def parse_time(value: str | None, field: str, zone: ZoneInfo) -> datetime | None:
    """An ISO-8601 time; without an offset it is read in the city's time zone."""
    if value is None or value.strip() == "":
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"{field} must be an ISO-8601 time, e.g. 2026-11-01T00:00:00+08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def window(
    start: datetime | None, end: datetime | None, *, now: datetime, default: timedelta
) -> tuple[datetime, datetime]:
    """The time window asked for, defaulted and checked (at most 90 days)."""
    if start is None and end is None:
        return now - default, now
    if start is None:
        assert end is not None
        start = end - default
    if end is None:
        end = min(now, start + MAX_SPAN)
    if end < start:
        raise InvalidInput("end_date is before start_date")
    if end - start > MAX_SPAN:
        raise InvalidInput("start_date and end_date may span at most 90 days")
    return start, end


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


async def request_by_id(
    *, session: AsyncSession, service_request_id: str, audience: Audience
) -> PublicRequest | None:
    """One request as `audience` may see it (None: unknown, or not theirs to see)."""
    channels = None if audience.channels is None else sorted(audience.channels)
    found = await repository.by_ids(session, [service_request_id], channels=channels)
    return found[0] if found else None


async def requests(
    *,
    session: AsyncSession,
    ids: list[str],
    service_codes: list[str],
    start: datetime,
    end: datetime,
    statuses: list[str],
    city: str | None,
    audience: Audience,
) -> list[PublicRequest]:
    """What `audience` may see of the requests asked for: `ids` (at most 1000) override
    every other filter; a request of a channel it may not see, or one an operator hid,
    is as absent as an unknown one."""
    channels = None if audience.channels is None else sorted(audience.channels)
    if ids:
        if len(ids) > MAX_RESULTS:
            raise InvalidInput(f"at most {MAX_RESULTS} service_request_id values")
        return await repository.by_ids(session, ids, channels=channels)
    unknown = set(statuses) - {"open", "closed"}
    if unknown:
        raise InvalidInput(f"status must be open or closed, not {sorted(unknown)[0]!r}")
    query = RequestQuery(
        service_codes=service_codes,
        start=start,
        end=end,
        statuses=statuses,
        city=city,
        limit=MAX_RESULTS,
        channels=channels,
    )
    return await repository.search(session, query)


async def updates(
    *,
    session: AsyncSession,
    start: datetime,
    end: datetime,
    city: str | None,
    audience: Audience,
) -> list[RequestUpdate]:
    channels = None if audience.channels is None else sorted(audience.channels)
    return await repository.updates(
        session, start=start, end=end, city=city, limit=MAX_RESULTS, channels=channels
    )


def request_view(
    request: PublicRequest, zone: ZoneInfo, audience: Audience, base_url: str = ""
) -> dict[str, Any]:
    """The GeoReport v2 fields of a request as `audience` may see them (publicview/model.py):
    nothing about the reporter; the description masked or moderated; the position snapped
    to the audience's precision. `media_url` is absolute under `base_url` when it points at
    a photo's public copy here."""
    media = request.media_path()
    if media and media.startswith("/"):
        media = base_url + media
    status = "closed" if State(request.state) in CLOSED_STATES else "open"
    lon, lat = snap(request.lon, request.lat, audience.precision_m)
    notes = _masked(request.status_note, audience)
    if request.duplicate_of:
        merged = f"与 {request.duplicate_of} 为同一问题，合并办理"
        notes = f"{merged}；{notes}" if notes else merged
    return {
        "service_request_id": request.service_request_id,
        "status": status,
        "status_notes": notes,
        "service_name": request.matter_name,
        "service_code": request.matter_code,
        "description": public_text(
            request.description,
            moderated=request.public_description,
            hidden=request.public_hidden,
            mask=audience.mask,
        ),
        "agency_responsible": request.department,
        "service_notice": None,
        "requested_datetime": local_time(request.created_at, zone),
        "updated_datetime": local_time(request.updated_at, zone),
        "expected_datetime": local_time(request.deadline, zone),
        "address": _masked(request.address, audience),
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": lon,
        "media_url": media,
    }


def _masked(text: str | None, audience: Audience) -> str | None:
    return mask_personal(text) if text and audience.mask else text


def update_view(update: RequestUpdate, zone: ZoneInfo, audience: Audience) -> dict[str, Any]:
    return {
        "update_id": str(update.update_id),
        "service_request_id": update.service_request_id,
        "updated_datetime": local_time(update.at, zone),
        "status": extended_status(update.event_type, update.data),
        "description": _masked(public_description(update.event_type, update.data), audience),
        "media_url": None,
        "external_status_code": update.event_type.removeprefix("clue."),
    }


def local_time(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")
