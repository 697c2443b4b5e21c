"""The domain error tree, written down once, and its HTTP status table.

Each error carries a message fit for the user who caused it. Messages never contain
personal data (phone numbers, names, e-mail addresses) or internals.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the service reports to a caller on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    code = "invalid_input"


class OutsideArea(InvalidInput):
    code = "outside_area"


class UnknownMatter(InvalidInput):
    code = "unknown_service_code"


class ImportRefused(InvalidInput):
    """A reference-data file was refused; nothing of it was stored."""

    code = "import_refused"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class Unavailable(DomainError):
    code = "unavailable"


class Damaged(DomainError):
    """Stored evidence whose bytes no longer match their SHA-256: reported, never served."""

    code = "evidence_damaged"


class TooLarge(DomainError):
    code = "too_large"


class RateLimited(DomainError):
    """Too many requests; `retry_after` seconds until the window resets."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


HTTP_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    RateLimited: 429,
    Unavailable: 503,
    Damaged: 500,
    DomainError: 400,
}


def http_status(error: DomainError) -> int:
    """The HTTP status for an error: the entry of its nearest class in HTTP_STATUS."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
