"""Open311 GeoReport v2: public intake and status (JSON).

Times are ISO-8601 in the city's time zone; `lat`/`long` are WGS84. Errors are the
specification's list of `{"code", "description"}` (see main.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from command_center.auth.model import PUBLIC
from command_center.clues import service
from command_center.clues.model import ClueRecord, public_status
from command_center.errors import InvalidInput
from feeds.open311 import parse_request_form

router = APIRouter(prefix="/open311/v2", tags=["open311"])

MAX_FORM_FIELDS = 100


@router.post("/requests.json")
async def post_request(request: Request) -> JSONResponse:
    """Create a service request from a form-encoded body, as GeoReport v2 describes."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        raise InvalidInput("send the request form-encoded (application/x-www-form-urlencoded)")
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    submission = parse_request_form(fields)
    state = request.app.state
    async with state.database.transaction() as session:
        result = await service.submit(
            session=session,
            submission=submission,
            by=PUBLIC,
            zone=state.settings.zone,
            code_prefix=state.settings.public_code_prefix,
        )
    notice = (
        f"已受理，已派遣至{result.department}"
        if result.squad_code
        else f"已受理，由指挥中心调度至{result.department}"
    )
    return JSONResponse(
        [
            {
                "service_request_id": result.service_request_id,
                "service_notice": notice,
                "account_id": None,
            }
        ]
    )


@router.get("/requests/{service_request_id}.json")
async def get_request(service_request_id: str, request: Request) -> JSONResponse:
    """One service request's public status."""
    async with request.app.state.database.sessions() as session:
        clue = await service.get_public(session=session, service_request_id=service_request_id)
    return JSONResponse([public_view(clue, request.app.state.settings.zone)])


def public_view(clue: ClueRecord, zone: ZoneInfo) -> dict[str, Any]:
    """The GeoReport v2 fields of a request; nothing about the reporter."""
    return {
        "service_request_id": clue.service_request_id,
        "status": public_status(clue.state),
        "status_notes": clue.status_note,
        "service_name": clue.matter_name,
        "service_code": clue.matter_code,
        "description": clue.description,
        "agency_responsible": clue.department,
        "service_notice": None,
        "requested_datetime": _local(clue.created_at, zone),
        "updated_datetime": _local(clue.updated_at, zone),
        "expected_datetime": _local(clue.deadline, zone),
        "address": None,
        "address_id": None,
        "zipcode": None,
        "lat": clue.lat,
        "long": clue.lon,
        "media_url": clue.media_url,
    }


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")
