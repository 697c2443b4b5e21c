"""GeoReport v2 responses in JSON or XML, the way the specification shapes them.

JSON: lists at the top level (`[{...}]`), objects for single documents. XML: a root element
(`services`, `service_requests`, `service_definition`, …) holding one element per item;
nested lists get their singular element names (attributes/attribute, values/value, …).
All text is UTF-8; XML starts with its declaration.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from fastapi.responses import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
SINGULAR = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def render(
    fmt: str,
    payload: Any,
    *,
    root: str,
    item: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """`payload` (a list of items, or one object) as a JSON or XML response."""
    if fmt == "xml":
        body = to_xml(payload, root=root, item=item)
    else:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(body, status_code=status, media_type=FORMATS[fmt], headers=headers)


def to_xml(payload: Any, *, root: str, item: str | None) -> bytes:
    element = ElementTree.Element(root)
    if isinstance(payload, list):
        for entry in payload:
            _fill(ElementTree.SubElement(element, item or "item"), entry)
    else:
        _fill(element, payload)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + ElementTree.tostring(element, encoding="unicode").encode()
    )


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ElementTree.SubElement(element, key), child)
    elif isinstance(value, list):
        name = SINGULAR.get(element.tag, "item")
        for child in value:
            _fill(ElementTree.SubElement(element, name), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def format_of(path: str) -> str:
    """The response format a path asks for by its suffix; JSON unless it ends in .xml."""
    return "xml" if path.endswith(".xml") else "json"


def open311_errors(path: str, status: int, message: str, headers: dict[str, str]) -> Response:
    """The specification's error list: `[{"code", "description"}]` or `<errors><error>`."""
    return render(
        format_of(path),
        [{"code": status, "description": message}],
        root="errors",
        item="error",
        status=status,
        headers=headers,
    )
