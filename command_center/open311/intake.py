"""Creating a service request from a GeoReport v2 form: API key, rate limits, attribute
answers, address-only locations, then the normal intake (dedupe, dispatch)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.apikeys import service as apikeys_service
from command_center.auth.model import PUBLIC, Principal, Role
from command_center.clues import service as clues_service
from command_center.clues.service import IntakeResult
from command_center.errors import InvalidInput, UnknownMatter
from command_center.jurisdictions import service as jurisdictions_service
from command_center.matters import service as matters_service
from command_center.matters.attributes import check_answers
from command_center.ratelimit import Limit, RateLimiter, enforce
from feeds.open311 import RequestForm, attribute_answers


@dataclass(frozen=True, slots=True)
class Limits:
    resident: Limit  # per client address and per device id, without an api_key
    partner_default: float  # requests/s for keys created without --rate


async def create_request(
    *,
    session: AsyncSession,
    form: RequestForm,
    items: Iterable[tuple[str, str]],
    client: str,
    limiter: RateLimiter,
    limits: Limits,
    zone: ZoneInfo,
    code_prefix: str,
) -> IntakeResult:
    """Store and dispatch one request, or raise before anything is stored:
    Forbidden (bad api_key), RateLimited, InvalidInput, UnknownMatter, OutsideArea."""
    by, api_key_id = PUBLIC, None
    if form.api_key is not None:
        partner = await apikeys_service.authenticate(session=session, key=form.api_key)
        api_key_id = partner.id
        by = Principal(role=Role.RESIDENT, subject=f"partner:{partner.name}")
        if not partner.unlimited:
            await enforce(
                limiter,
                [(f"key:{partner.id}", Limit.per_second(partner.rate_per_second))],
                "requests for this api_key",
            )
    else:
        checks = [(f"ip:{client}", limits.resident)]
        if form.device_id:
            checks.append((f"device:{form.device_id}", limits.resident))
        await enforce(limiter, checks, "reports from this device or address")
    definitions = await matters_service.attributes(session=session, matter_code=form.service_code)
    given = attribute_answers(items)
    if given and not definitions and not await _known(session, form.service_code):
        raise UnknownMatter(f"unknown service_code {form.service_code!r}")
    answers = check_answers(definitions, given)  # an unknown matter is refused by intake
    lon, lat, approximate = await _position(session, form)
    submission = form.submission(
        lon=lon, lat=lat, approximate=approximate, attributes=answers, api_key_id=api_key_id
    )
    return await clues_service.submit(
        session=session, submission=submission, by=by, zone=zone, code_prefix=code_prefix
    )


async def _position(session: AsyncSession, form: RequestForm) -> tuple[float, float, bool]:
    if form.lon is not None and form.lat is not None:
        return form.lon, form.lat, False
    assert form.address is not None
    found = await jurisdictions_service.locate_address(session=session, address=form.address)
    if found is None:
        raise InvalidInput(
            "address_string names no place we know; send lat and long (or name the district)"
        )
    _, lon, lat = found
    return lon, lat, True


async def _known(session: AsyncSession, service_code: str) -> bool:
    return await matters_service.get(session=session, code=service_code) is not None
