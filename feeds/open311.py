"""Open311 GeoReport v2 `POST requests`: the form fields → a clue Submission.

Field names are the specification's (`service_code`, `lat`, `long`, `description`,
`media_url`, `email`, `phone`, `device_id`, `first_name`, `last_name`) plus `crs`
(`wgs84` default, or `gcj02`). Positions are converted to WGS84 here, before anything else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from command_center.clues.model import MAX_DESCRIPTION, Channel, Submission
from command_center.errors import InvalidInput
from gis.crs import CoordinateError, parse_crs, to_wgs84

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
PHONE = re.compile(r"^\+?[0-9 ()-]{3,32}$")
MAX_FIELD = 200
MAX_URL = 2048


def parse_request_form(form: Mapping[str, str]) -> Submission:
    """Validate an Open311 request form; InvalidInput names the first bad field."""
    service_code = _text(form, "service_code", MAX_FIELD)
    if not service_code:
        raise InvalidInput("service_code is required")
    lon, lat = _location(form)
    crs_name = (form.get("crs") or "wgs84").strip()
    try:
        crs = parse_crs(crs_name)
        lon, lat = to_wgs84(lon, lat, crs)
    except CoordinateError as exc:
        raise InvalidInput(str(exc)) from None
    email = _text(form, "email", 320) or None
    if email and not EMAIL.match(email):
        raise InvalidInput("email is not an e-mail address")
    phone = _text(form, "phone", 40) or None
    if phone and not PHONE.match(phone):
        raise InvalidInput("phone may hold only digits, spaces, +, -, ( and )")
    name = " ".join(
        part
        for part in (_text(form, "first_name", MAX_FIELD), _text(form, "last_name", MAX_FIELD))
        if part
    )
    return Submission(
        channel=Channel.OPEN311,
        matter_code=service_code,
        lon=lon,
        lat=lat,
        submitted_crs=crs.value,
        description=_text(form, "description", MAX_DESCRIPTION),
        media_url=media_url(form.get("media_url")),
        reporter_email=email,
        reporter_phone=phone,
        reporter_name=name or None,
        device_id=_text(form, "device_id", MAX_FIELD) or None,
    )


def media_url(raw: str | None) -> str | None:
    """An http(s) URL or None; InvalidInput for anything else."""
    value = (raw or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if len(value) > MAX_URL or parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput("media_url must be an http or https URL")
    return value


def _location(form: Mapping[str, str]) -> tuple[float, float]:
    lat_text, lon_text = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    if not lat_text and not lon_text:
        if (form.get("address_string") or "").strip():
            raise InvalidInput("address_string cannot be located here yet; send lat and long")
        raise InvalidInput("a location is required: lat and long")
    if not lat_text or not lon_text:
        raise InvalidInput("lat and long must be given together")
    return _number(lon_text, "long"), _number(lat_text, "lat")


def _number(text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{field} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{field} is not a finite number")
    return value


def _text(form: Mapping[str, str], field: str, limit: int) -> str:
    value = (form.get(field) or "").strip()
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters")
    return value
