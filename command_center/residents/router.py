"""The resident mini-program's JSON API (`/api/v1/public/…`) and the public progress page.

Positions default to GCJ-02 (what the mini-program's location call returns). No token:
tips are limited per device and per client address (429 with Retry-After).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from command_center.clues.model import MAX_DESCRIPTION, Channel, Submission
from command_center.demo.model import BADGE
from command_center.errors import InvalidInput, NotFound
from command_center.evidence import service as evidence_service
from command_center.ratelimit import enforce
from command_center.residents import service
from command_center.residents.page import progress_page
from command_center.residents.qr import qr_png, qr_svg
from feeds.open311 import PHONE
from feeds.photos import CheckedPhoto, check_photo
from gis.crs import CoordinateError, to_wgs84

router = APIRouter(tags=["residents"])

Code = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
TIP_FIELDS = {"service_code", "lat", "lon", "crs", "description", "phone", "device_id", "photos"}


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str = Field(min_length=8, max_length=64)
    rating: int = Field(ge=1, le=5, description="1 (very unsatisfied) … 5 (very satisfied)")
    comment: str | None = Field(default=None, max_length=1000)


@router.post(
    "/api/v1/public/tips",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["service_code", "lat", "lon"],
                        "properties": {
                            "service_code": {"type": "string"},
                            "lat": {"type": "number"},
                            "lon": {"type": "number"},
                            "crs": {
                                "type": "string",
                                "enum": ["gcj02", "wgs84"],
                                "default": "gcj02",
                            },
                            "description": {"type": "string"},
                            "phone": {"type": "string"},
                            "device_id": {"type": "string"},
                            "photos": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            },
                        },
                    }
                }
            }
        }
    },
)
async def submit_tip(request: Request) -> JSONResponse:
    """A resident's tip (multipart): answers with the case number, the progress code that
    opens its progress (random; the case number does not), the secret that lets the
    reporter rate the result, and links to the progress page and its QR codes."""
    state = request.app.state
    settings = state.settings
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise InvalidInput("send the tip as multipart/form-data")
    form = await request.form(max_files=settings.photo_max_count, max_fields=len(TIP_FIELDS) + 4)
    unknown = sorted(set(form.keys()) - TIP_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    client = request.client.host if request.client else "unknown"
    device = (fields.get("device_id") or "").strip()[:128] or None
    checks = [(f"ip:{client}", state.intake_limits.resident)]
    if device:
        checks.append((f"device:{device}", state.intake_limits.resident))
    await enforce(state.limiter, checks, "tips from this device or address")
    submission = _submission(fields, device)
    photos = await _photos(form.getlist("photos"), settings.photo_max_bytes)
    async with state.database.transaction() as session:
        result = await service.submit_tip(
            session=session,
            store=state.media,
            submission=submission,
            photos=photos,
            zone=settings.zone,
            code_prefix=settings.public_code_prefix,
        )
    code = result.progress_code
    base = settings.public_base_url
    return JSONResponse(
        {
            "service_request_id": result.intake.service_request_id,
            "progress_code": code,
            "secret": result.secret,
            "state": result.intake.state.value,
            "duplicate_of": result.intake.duplicate_of,
            "progress_url": f"{base}/track/{code}",
            "qr_png": f"{base}/api/v1/public/clues/{code}/qr.png",
            "qr_svg": f"{base}/api/v1/public/clues/{code}/qr.svg",
        },
        status_code=201,
    )


@router.get("/api/v1/public/clues/{code}")
async def progress(
    code: Code,
    request: Request,
    x_tracking_secret: Annotated[str | None, Header(max_length=64)] = None,
) -> dict[str, Any]:
    """Public progress by progress code; with the `X-Tracking-Secret` header also the
    rating state. 404 for an unknown code; past PROGRESS_UNKNOWN_CODES_PER_MINUTE of those
    from one address, 429 with Retry-After."""
    state = request.app.state
    case = await _case_number(request, code)
    async with state.database.sessions() as session:
        return await service.progress(
            session=session,
            code=code,
            case=case,
            secret=x_tracking_secret,
            zone=state.settings.zone,
            audience=state.public_policy.anonymous(),
        )


@router.post("/api/v1/public/clues/{code}/rating")
async def rate(code: Code, body: RatingIn, request: Request) -> dict[str, Any]:
    """Rate a closed clue once (1–5); 1–2 within 7 days of closing reopens it."""
    case = await _case_number(request, code)
    async with request.app.state.database.transaction() as session:
        return await service.rate(
            session=session,
            code=case,
            secret=body.secret,
            rating=body.rating,
            comment=(body.comment or "").strip() or None,
            now=datetime.now(UTC),
        )


@router.get("/api/v1/public/clues/{code}/qr.png")
async def qr_code_png(code: Code, request: Request) -> Response:
    await _exists(request, code)
    url = f"{request.app.state.settings.public_base_url}/track/{code}"
    return Response(qr_png(url), media_type="image/png")


@router.get("/api/v1/public/clues/{code}/qr.svg")
async def qr_code_svg(code: Code, request: Request) -> Response:
    await _exists(request, code)
    url = f"{request.app.state.settings.public_base_url}/track/{code}"
    return Response(qr_svg(url), media_type="image/svg+xml")


@router.get("/api/v1/public/clues/{code}/photos/{evidence_id}")
async def public_photo(code: Code, evidence_id: int, request: Request) -> Response:
    """The public copy of a photo (no EXIF); the original stays evidence."""
    state = request.app.state
    async with state.database.sessions() as session:
        clue_id = await _exists(request, code)
        item = await evidence_service.get(session=session, evidence_id=evidence_id)
    if item is None or item.clue_id != clue_id or item.public_key is None:
        raise NotFound("no such photo")
    return Response(state.media.get(item.public_key), media_type=item.media_type)


@router.get("/track/{code}", response_class=HTMLResponse)
async def track_page(code: Code, request: Request) -> HTMLResponse:
    """The page a clue's QR code opens: public progress, in Chinese, with no script."""
    state = request.app.state
    case = await _case_number(request, code)
    async with state.database.sessions() as session:
        body = await service.progress(
            session=session,
            code=code,
            case=case,
            secret=None,
            zone=state.settings.zone,
            audience=state.public_policy.anonymous(),
        )
    badge = BADGE if await state.demo_status.current() else None
    return HTMLResponse(progress_page(body, state.settings.zone, badge))


async def _exists(request: Request, code: str) -> int:
    from command_center.clues import service as clues_service

    case = await _case_number(request, code)
    async with request.app.state.database.sessions() as session:
        clue = await clues_service.get_public(session=session, service_request_id=case)
    return clue.id


async def _case_number(request: Request, code: str) -> str:
    """The case number a progress code opens. NotFound for an unknown code, counted per
    client address: past the budget RateLimited (429, Retry-After), so that codes cannot
    be tried by the thousand."""
    state = request.app.state
    async with state.database.sessions() as session:
        case = await service.case_number(session=session, code=code)
    if case is not None:
        return case
    client = request.client.host if request.client else "unknown"
    checks = [(f"unknown-code:{client}", state.unknown_code_limit)]
    await enforce(state.limiter, checks, "lookups of unknown codes from this address")
    raise NotFound("no tip has this code; check it against the slip or the SMS")


def _submission(fields: dict[str, str], device: str | None) -> Submission:
    service_code = (fields.get("service_code") or "").strip()
    if not service_code or len(service_code) > 64:
        raise InvalidInput("service_code is required")
    lon, lat = _number(fields, "lon"), _number(fields, "lat")
    crs = (fields.get("crs") or "gcj02").strip()
    try:
        lon, lat = to_wgs84(lon, lat, crs)
    except CoordinateError as exc:
        raise InvalidInput(str(exc)) from None
    description = (fields.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"description is longer than {MAX_DESCRIPTION} characters")
    phone = (fields.get("phone") or "").strip() or None
    if phone and (len(phone) > 40 or not PHONE.match(phone)):
        raise InvalidInput("phone may hold only digits, spaces, +, -, ( and )")
    return Submission(
        channel=Channel.MINIPROGRAM,
        matter_code=service_code,
        lon=lon,
        lat=lat,
        submitted_crs=crs.lower(),
        description=description,
        reporter_phone=phone,
        device_id=device,
    )


def _number(fields: dict[str, str], name: str) -> float:
    raw = (fields.get(name) or "").strip()
    if not raw:
        raise InvalidInput(f"{name} is required")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{name} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{name} is not a finite number")
    return value


async def _photos(uploads: list[Any], max_bytes: int) -> list[CheckedPhoto]:
    photos = []
    for number, upload in enumerate(uploads, start=1):
        if not isinstance(upload, UploadFile):
            raise InvalidInput(f"photo {number} must be a file")
        content = await upload.read(max_bytes + 1)
        photos.append(check_photo(content, label=f"photo {number}", max_bytes=max_bytes))
    return photos
