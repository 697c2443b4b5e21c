"""Open311 GeoReport v2 under `/open311/v2/`, in `.json` and `.xml`.

Paths and fields are the specification's; `servicerequestupdates` is the widely used
update extension. Times are ISO-8601 in the city's time zone; `lat`/`long` are WGS84 (a
POST may send `crs=gcj02`). Errors are `[{"code", "description"}]` (`<errors>` in XML).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from command_center.clues import service as clues_service
from command_center.dependencies import AppSettings, Now, ReadSession, Transaction
from command_center.errors import InvalidInput, NotFound
from command_center.evidence import service as evidence_service
from command_center.open311 import intake
from command_center.open311 import service as open311
from command_center.open311.formats import render
from command_center.publicview.model import Audience
from feeds.open311 import parse_request_form

router = APIRouter(prefix="/open311/v2", tags=["open311"])

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_FORM_FIELDS = 200
Fmt = Annotated[str, Path(pattern="^(json|xml)$", description="json or xml")]
JurisdictionId = Annotated[
    str | None, Query(max_length=64, description="City code, where several are loaded")
]
ApiKey = Annotated[
    str | None,
    Query(
        max_length=200,
        description="A partner's key: sees what OPEN311_PARTNER_VIEW grants (without one: "
        "the public view, docs/security-findings.md)",
    ),
]


async def city_of(session: ReadSession, jurisdiction_id: JurisdictionId = None) -> str | None:
    """The city `jurisdiction_id` names (None: all); 404 for one that is not loaded."""
    return await open311.check_jurisdiction(session=session, jurisdiction_id=jurisdiction_id)


async def audience_of(request: Request, session: ReadSession, api_key: ApiKey = None) -> Audience:
    """Who reads: a partner with a valid `api_key` (403 for an invalid one) or anyone."""
    return await open311.audience(
        session=session, api_key=api_key, policy=request.app.state.public_policy
    )


City = Annotated[str | None, Depends(city_of)]
Reader = Annotated[Audience, Depends(audience_of)]

FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["service_code"],
                    "properties": {
                        name: {"type": kind}
                        for name, kind in [
                            ("service_code", "string"),
                            ("lat", "number"),
                            ("long", "number"),
                            ("address_string", "string"),
                            ("crs", "string"),
                            ("description", "string"),
                            ("media_url", "string"),
                            ("email", "string"),
                            ("phone", "string"),
                            ("device_id", "string"),
                            ("first_name", "string"),
                            ("last_name", "string"),
                            ("api_key", "string"),
                            ("jurisdiction_id", "string"),
                        ]
                    },
                }
            }
        },
    }
}


@router.get("/discovery.{fmt}")
async def discovery(fmt: Fmt, settings: AppSettings) -> Response:
    endpoint = {
        "specification": SPECIFICATION,
        "url": f"{settings.public_base_url}/open311/v2",
        "changeset": "2026-11-23T00:00:00Z",
        "type": "production",
        "formats": ["application/json", "text/xml"],
    }
    body = {
        "changeset": endpoint["changeset"],
        "contact": settings.open311_contact,
        "key_service": settings.open311_key_service,
        "endpoints": [endpoint],
    }
    return render(fmt, body, root="discovery")


@router.get("/services.{fmt}")
async def services(fmt: Fmt, session: ReadSession, _city: City) -> Response:
    body = await open311.services(session=session)
    return render(fmt, body, root="services", item="service")


@router.get("/services/{service_code}.{fmt}")
async def service_definition(
    service_code: Annotated[str, Path(max_length=64)],
    fmt: Fmt,
    session: ReadSession,
    _city: City,
) -> Response:
    body = await open311.definition(session=session, service_code=service_code)
    return render(fmt, body, root="service_definition")


@router.post("/requests.{fmt}", openapi_extra=FORM_SCHEMA)
async def post_request(fmt: Fmt, request: Request, session: Transaction) -> Response:
    """Create a service request (form-encoded). The answer carries `service_request_id`,
    a `token` for `tokens/{token}`, `service_notice` and `account_id`, and (our addition)
    `progress_code`, which opens the request's progress page `/track/{progress_code}` for
    the reporter: the public id does not, since it can be counted."""
    items = await form_items(request)
    fields = dict(items)
    parsed = parse_request_form(fields)
    state = request.app.state
    await open311.check_jurisdiction(session=session, jurisdiction_id=fields.get("jurisdiction_id"))
    result = await intake.create_request(
        session=session,
        form=parsed,
        items=items,
        client=request.client.host if request.client else "unknown",
        limiter=state.limiter,
        limits=state.intake_limits,
        zone=state.settings.zone,
        code_prefix=state.settings.public_code_prefix,
    )
    if result.duplicate_of:
        notice = f"已受理；与 {result.duplicate_of} 为同一问题，合并办理"
    elif result.squad_code:
        notice = f"已受理，已派遣至{result.department}"
    else:
        notice = f"已受理，由指挥中心调度至{result.department}"
    body = [
        {
            "service_request_id": result.service_request_id,
            "token": result.intake_token,
            "service_notice": notice,
            "account_id": None,
            "progress_code": result.progress_code,
        }
    ]
    return render(fmt, body, root="service_requests", item="request")


@router.get("/requests.{fmt}")
async def get_requests(
    fmt: Fmt,
    session: ReadSession,
    settings: AppSettings,
    now: Now,
    city: City,
    reader: Reader,
    service_request_id: Annotated[str | None, Query(max_length=20_000)] = None,
    service_code: Annotated[str | None, Query(max_length=2000)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Requests by id (comma list, overrides the rest), service code, time (default the
    last 90 days, at most 90) and status; newest first, at most 1000. Only the public
    channels, with personal data masked and positions rounded, unless an api_key
    grants more."""
    zone = settings.zone
    start, end = open311.window(
        open311.parse_time(start_date, "start_date", zone),
        open311.parse_time(end_date, "end_date", zone),
        now=now,
        default=timedelta(days=90),
    )
    found = await open311.requests(
        session=session,
        ids=open311.split_list(service_request_id),
        service_codes=open311.split_list(service_code),
        start=start,
        end=end,
        statuses=open311.split_list(status),
        city=city,
        audience=reader,
    )
    body = [open311.request_view(r, zone, reader, settings.public_base_url) for r in found]
    return render(fmt, body, root="service_requests", item="request")


@router.get("/requests/{service_request_id}.{fmt}")
async def get_request(
    service_request_id: Annotated[str, Path(max_length=64)],
    fmt: Fmt,
    session: ReadSession,
    settings: AppSettings,
    _city: City,
    reader: Reader,
) -> Response:
    """One request, as the list shows it; 404 also for one the caller may not see."""
    found = await open311.request_by_id(
        session=session, service_request_id=service_request_id, audience=reader
    )
    if found is None:
        raise NotFound(f"no service request {service_request_id}")
    body = [open311.request_view(found, settings.zone, reader, settings.public_base_url)]
    return render(fmt, body, root="service_requests", item="request")


@router.get("/media/{service_request_id}/{evidence_id}")
async def get_media(
    service_request_id: Annotated[str, Path(max_length=64)],
    evidence_id: int,
    request: Request,
    session: ReadSession,
) -> Response:
    """The public copy (EXIF gone) of the photo a request's `media_url` names; 404 for any
    other photo, and for a request the public view does not show (internal channels,
    hidden by an operator)."""
    found = await open311.request_by_id(
        session=session,
        service_request_id=service_request_id,
        audience=request.app.state.public_policy.anonymous(),
    )
    item = await evidence_service.get(session=session, evidence_id=evidence_id)
    if found is None or found.public_photo_id != evidence_id or item is None or not item.public_key:
        raise NotFound("no such photo")
    return Response(request.app.state.media.get(item.public_key), media_type=item.media_type)


@router.get("/tokens/{token}.{fmt}")
async def get_token(
    token: Annotated[str, Path(max_length=64)],
    fmt: Fmt,
    session: ReadSession,
    _city: City,
) -> Response:
    found = await clues_service.service_request_for_token(session=session, token=token)
    if found is None:
        raise NotFound(f"no request for token {token}")
    body = [{"service_request_id": found, "token": token}]
    return render(fmt, body, root="service_requests", item="request")


@router.get("/servicerequestupdates.{fmt}")
async def get_updates(
    fmt: Fmt,
    session: ReadSession,
    settings: AppSettings,
    now: Now,
    city: City,
    reader: Reader,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Status changes since a time (default the last 24 hours, at most 90 days), of the
    requests the caller may see."""
    zone = settings.zone
    start, end = open311.window(
        open311.parse_time(start_date, "start_date", zone),
        open311.parse_time(end_date, "end_date", zone),
        now=now,
        default=timedelta(hours=24),
    )
    found = await open311.updates(session=session, start=start, end=end, city=city, audience=reader)
    body = [open311.update_view(u, zone, reader) for u in found]
    return render(fmt, body, root="service_request_updates", item="request_update")


async def form_items(request: Request) -> list[tuple[str, str]]:
    """The fields of a form body, in order. URL-encoded bodies are read as UTF-8 whether
    or not the client percent-encoded its non-ASCII text (curl -d does not)."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
    if not content_type.startswith("application/x-www-form-urlencoded"):
        raise InvalidInput("send the request form-encoded (application/x-www-form-urlencoded)")
    try:
        text = (await request.body()).decode("utf-8")
        return parse_qsl(
            text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except UnicodeDecodeError:
        raise InvalidInput("the form is not UTF-8 text") from None
    except ValueError:
        raise InvalidInput(f"the form has more than {MAX_FORM_FIELDS} fields") from None
