"""Which failures of a background round are the database going away (a warning, no
traceback in the log) and which are bugs (logged with their traceback)."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from command_center.db.session import unavailable


class DriverError(Exception):
    """Stands in for a driver exception class SQLAlchemy does not map to OperationalError."""


def test_a_lost_connection_of_any_driver_class_is_unavailability() -> None:
    invalidated = sa_exc.DBAPIError(
        "SELECT 1", None, DriverError("server closed"), connection_invalidated=True
    )
    assert unavailable(invalidated)
    assert unavailable(sa_exc.OperationalError("SELECT 1", None, DriverError("refused")))
    assert unavailable(sa_exc.PendingRollbackError("connection lost inside the transaction"))


def test_a_bug_is_not_unavailability() -> None:
    assert not unavailable(sa_exc.DBAPIError("SELECT 1", None, DriverError("syntax error")))
    assert not unavailable(sa_exc.ProgrammingError("SELEC 1", None, DriverError("syntax")))
    assert not unavailable(KeyError("squad"))
