"""Logging that keeps secrets and personal data out of every log line.

Every record of the process — ours, uvicorn's access and error logs, SQLAlchemy's,
any library's — is scrubbed when it is created (a log-record factory, so that no logger
or handler can be missed): bearer tokens (anything JWT-shaped, wherever it stands), API
keys and residents' contact fields in URLs are masked, mainland mobile numbers keep only
their first three and last four digits, and the parts of error texts that echo stored or
submitted values (PostgreSQL's "Failing row contains (…)", pydantic's `input_value=…`) are
withheld, tracebacks included.
"""

from __future__ import annotations

import logging
import re
from typing import Any

SECRET_IN_URL = re.compile(
    r"((?:\?|&)(?:token|api_key|phone|email|first_name|last_name|name"
    r"|access_token|appsecret|corpsecret)=)[^&\s\"']+"  # the last three: alerts/chat.py
)
# A JWT anywhere (a path, a misspelt query name such as `tok%65n`, a header echoed in an
# error): three base64url parts, the first of which encodes `{"` as every JWT header does.
JWT_SHAPED = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
FAILING_ROW = re.compile(r"(Failing row contains )\(.*\)")
INPUT_VALUE = re.compile(r"(input_value=).*?(, input_type=)")


def scrub(text: str) -> str:
    """`text` without tokens, contact fields, mobile numbers or echoed row values."""
    text = JWT_SHAPED.sub("***jwt***", text)
    text = SECRET_IN_URL.sub(r"\1***", text)
    text = MOBILE.sub(r"\1****\2", text)
    text = FAILING_ROW.sub(r"\1(withheld)", text)
    return INPUT_VALUE.sub(r"\1(withheld)\2", text)


def _scrub_arg(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, int | float):
        return value
    # An object printed by %s (httpx logs its URL objects): scrubbed as printed, and
    # left as it is when that hides nothing.
    printed = str(value)
    cleaned = scrub(printed)
    return value if cleaned == printed else cleaned


def redact(record: logging.LogRecord) -> None:
    """Scrub a record in place: its message, its arguments and its traceback text."""
    if isinstance(record.msg, str):
        record.msg = scrub(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_scrub_arg(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _scrub_arg(value) for key, value in record.args.items()}
    if record.exc_info and not record.exc_text:
        # Formatters print exc_text when it is set, instead of formatting exc_info again.
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


class _RedactingFactory:
    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.previous(*args, **kwargs)
        redact(record)
        return record


def install_redaction() -> None:
    """Scrub every log record the process creates from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(current))
