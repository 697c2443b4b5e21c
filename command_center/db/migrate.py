"""Apply the Alembic migrations shipped inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> list[tuple[str, str]]:
    """Bring the schema to `revision`; safe to run again (already applied steps are skipped).
    Returns the steps it applied, oldest first, as (revision id, the first paragraph of
    its docstring); empty when the schema was already there."""
    config = alembic_config(database_url)
    before = current_revisions(database_url)
    command.upgrade(config, revision)
    after = current_revisions(database_url)
    script = ScriptDirectory.from_config(config)
    applied = []
    for head in after:
        for step in script.iterate_revisions(head, tuple(before) or "base"):
            if step.revision not in before:
                title = " ".join((step.doc or "").strip().split("\n\n")[0].split())
                applied.append((step.revision, title))
    return list(reversed(applied))


def current_revisions(database_url: str) -> tuple[str, ...]:
    """The revision ids the database is at (none on a fresh database)."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_heads()
    finally:
        engine.dispose()


def downgrade(database_url: str, revision: str) -> None:
    """Step the schema back to `revision` ("base" removes everything the migrations made)."""
    command.downgrade(alembic_config(database_url), revision)
