"""Logging that keeps secrets out: bearer tokens in URLs are masked in every record."""

from __future__ import annotations

import logging
import re

TOKEN_IN_URL = re.compile(r"((?:\?|&)(?:token|api_key)=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Mask `token=` and `api_key=` query values in messages and their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = TOKEN_IN_URL.sub(r"\1***", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_URL.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def install_redaction() -> None:
    """Attach the filter to uvicorn's loggers and ours (idempotent)."""
    for name in ("uvicorn.access", "uvicorn.error", "command_center"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
