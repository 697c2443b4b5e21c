"""Penalty reference data of case work (issue 16): legal bases, penalty matters and their
discretion standards.

Revision ID: 0016
Revises: 0015

- `legal_bases`: a law and one of its articles (unique together), with its text.
- `penalty_matters`: the matters of the catalogue (`matters.code`) that carry a penalty;
  `summary_limit` is a matter's own summary-procedure limit (Art. 51), unset: the law's.
- `discretion_standards`: per matter and circumstance (轻微, 一般, 较重, 严重 …) one row
  per version: the standard in force on a day is the one with the latest
  `effective_from` on or before it. The fine range, the allowed kinds (Art. 9 values),
  and whether a decision needs legal review (Art. 58), a collective decision (Art. 57),
  or may be waived for a first offence (Art. 33).
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision: str | None = "0015"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE legal_bases (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    law       text NOT NULL CHECK (law <> ''),
    article   text NOT NULL CHECK (article <> ''),
    text      text NOT NULL DEFAULT '',
    UNIQUE (law, article)
);

CREATE TABLE penalty_matters (
    matter_code    text PRIMARY KEY REFERENCES matters (code),
    summary_limit  numeric(14, 2) CHECK (summary_limit >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE discretion_standards (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matter_code           text NOT NULL REFERENCES penalty_matters (matter_code),
    circumstance          text NOT NULL CHECK (circumstance <> ''),
    effective_from        date NOT NULL,
    basis_id              bigint NOT NULL REFERENCES legal_bases (id),
    fine_min              numeric(14, 2) CHECK (fine_min >= 0),
    fine_max              numeric(14, 2) CHECK (fine_max >= 0),
    kinds                 text[] NOT NULL CHECK (cardinality(kinds) > 0),
    review_required       boolean NOT NULL,
    collective            boolean NOT NULL,
    first_offence_exempt  boolean NOT NULL,
    description           text NOT NULL DEFAULT '',
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (matter_code, circumstance, effective_from),
    CHECK (fine_min IS NULL OR fine_max IS NULL OR fine_min <= fine_max)
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS discretion_standards;
DROP TABLE IF EXISTS penalty_matters;
DROP TABLE IF EXISTS legal_bases;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
