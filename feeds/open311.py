"""Open311 GeoReport v2 `POST requests`: the form fields → a clue Submission.

Field names are the specification's (`service_code`, `lat`, `long`, `description`,
`media_url`, `email`, `phone`, `device_id`, `first_name`, `last_name`) plus `crs`
(`wgs84` default, or `gcj02`). Positions are converted to WGS84 here, before anything else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from command_center.clues.model import MAX_DESCRIPTION, Channel, Submission
from command_center.errors import InvalidInput
from gis.crs import CoordinateError, parse_crs, to_wgs84

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
PHONE = re.compile(r"^\+?[0-9 ()-]{3,32}$")
MAX_FIELD = 200
MAX_URL = 2048


ATTRIBUTE_KEY = re.compile(r"^attribute\[([A-Za-z0-9._-]{1,64})\](\[\])?$")
MAX_ADDRESS = 500


@dataclass(frozen=True, slots=True)
class RequestForm:
    """A validated Open311 form. `lon`/`lat` are WGS84, or None when only
    `address_string` was given (the service then locates it)."""

    service_code: str
    lon: float | None
    lat: float | None
    crs: str
    address: str | None
    description: str
    media_url: str | None
    email: str | None
    phone: str | None
    name: str | None
    device_id: str | None
    api_key: str | None

    def submission(
        self,
        *,
        lon: float,
        lat: float,
        approximate: bool = False,
        attributes: dict[str, Any] | None = None,
        api_key_id: int | None = None,
    ) -> Submission:
        return Submission(
            channel=Channel.OPEN311,
            matter_code=self.service_code,
            lon=lon,
            lat=lat,
            submitted_crs=self.crs,
            description=self.description,
            media_url=self.media_url,
            reporter_email=self.email,
            reporter_phone=self.phone,
            reporter_name=self.name,
            device_id=self.device_id,
            attributes=attributes or {},
            address=self.address,
            location_approximate=approximate,
            api_key_id=api_key_id,
        )


def parse_request_form(form: Mapping[str, str]) -> RequestForm:
    """Validate an Open311 request form; InvalidInput names the first bad field."""
    service_code = _text(form, "service_code", MAX_FIELD)
    if not service_code:
        raise InvalidInput("service_code is required")
    address = _text(form, "address_string", MAX_ADDRESS) or None
    crs_name = (form.get("crs") or "wgs84").strip()
    try:
        crs = parse_crs(crs_name)
    except CoordinateError as exc:
        raise InvalidInput(str(exc)) from None
    lon: float | None = None
    lat: float | None = None
    position = _location(form, has_address=address is not None)
    if position is not None:
        try:
            lon, lat = to_wgs84(position[0], position[1], crs)
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
    return RequestForm(
        service_code=service_code,
        lon=lon,
        lat=lat,
        crs=crs.value,
        address=address,
        description=_text(form, "description", MAX_DESCRIPTION),
        media_url=media_url(form.get("media_url")),
        email=email,
        phone=phone,
        name=name or None,
        device_id=_text(form, "device_id", MAX_FIELD) or None,
        api_key=_text(form, "api_key", MAX_FIELD) or None,
    )


def attribute_answers(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """`attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2`, by code.

    Other `attribute…` keys are refused by name; non-attribute keys are ignored here.
    """
    answers: dict[str, list[str]] = {}
    for key, value in items:
        if not key.startswith("attribute"):
            continue
        match = ATTRIBUTE_KEY.match(key)
        if match is None:
            raise InvalidInput(f"{key[:80]!r} is not attribute[code] or attribute[code][]")
        answers.setdefault(match.group(1), []).append(value[:MAX_DESCRIPTION])
    return answers


def media_url(raw: str | None) -> str | None:
    """An http(s) URL or None; InvalidInput for anything else."""
    value = (raw or "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if len(value) > MAX_URL or parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput("media_url must be an http or https URL")
    return value


def _location(form: Mapping[str, str], *, has_address: bool) -> tuple[float, float] | None:
    lat_text, lon_text = (form.get("lat") or "").strip(), (form.get("long") or "").strip()
    if not lat_text and not lon_text:
        if has_address:
            return None
        raise InvalidInput("a location is required: lat and long, or address_string")
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
