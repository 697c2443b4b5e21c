"""SQL of the matter catalogue."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.matters.attributes import AttributeDefinition, Choice
from command_center.matters.model import Matter

UPSERT = text("""
INSERT INTO matters (code, name, domain, department, legal_basis, deadline_hours,
                     penalty_standard, duplicate_radius_m, duplicate_window_hours, keywords,
                     accept_minutes, working_hours, verify_needs_photo, joint_departments)
VALUES (:code, :name, :domain, :department, :legal_basis, :deadline_hours, :penalty_standard,
        :duplicate_radius_m, :duplicate_window_hours, :keywords, :accept_minutes,
        :working_hours, :verify_needs_photo, :joint_departments)
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, domain = EXCLUDED.domain, department = EXCLUDED.department,
    legal_basis = EXCLUDED.legal_basis, deadline_hours = EXCLUDED.deadline_hours,
    penalty_standard = EXCLUDED.penalty_standard,
    duplicate_radius_m = EXCLUDED.duplicate_radius_m,
    duplicate_window_hours = EXCLUDED.duplicate_window_hours,
    keywords = EXCLUDED.keywords, accept_minutes = EXCLUDED.accept_minutes,
    working_hours = EXCLUDED.working_hours, verify_needs_photo = EXCLUDED.verify_needs_photo,
    joint_departments = EXCLUDED.joint_departments, updated_at = now()
RETURNING (xmax = 0) AS inserted
""")

COLUMNS = (
    "code, name, domain, department, legal_basis, deadline_hours, penalty_standard, "
    "duplicate_radius_m, duplicate_window_hours, keywords, accept_minutes, working_hours, "
    "verify_needs_photo, joint_departments"
)


async def upsert(session: AsyncSession, matters: list[Matter]) -> tuple[int, int]:
    """Insert or update matters; returns (inserted, updated)."""
    inserted = 0
    for matter in matters:
        values = asdict(matter) | {"joint_departments": list(matter.joint_departments)}
        result = await session.execute(UPSERT, values)
        inserted += bool(result.scalar_one())
    return inserted, len(matters) - inserted


async def get(session: AsyncSession, code: str) -> Matter | None:
    row = (
        await session.execute(
            text(f"SELECT {COLUMNS} FROM matters WHERE code = :code"),
            {"code": code},
        )
    ).one_or_none()
    return _matter(row) if row else None


async def list_all(session: AsyncSession) -> list[Matter]:
    rows = await session.execute(text(f"SELECT {COLUMNS} FROM matters ORDER BY code"))
    return [_matter(row) for row in rows]


def _matter(row: Any) -> Matter:
    values = dict(row._mapping)
    values["joint_departments"] = tuple(values["joint_departments"] or ())
    return Matter(**values)


async def replace_attributes(session: AsyncSession, definitions: list[AttributeDefinition]) -> int:
    """Replace the attributes of every matter named in `definitions`; returns how many."""
    for matter_code in {d.matter_code for d in definitions}:
        await session.execute(
            text("DELETE FROM matter_attributes WHERE matter_code = :m"), {"m": matter_code}
        )
    for d in definitions:
        await session.execute(
            text(
                "INSERT INTO matter_attributes (matter_code, code, variable, datatype, required, "
                "datatype_description, position, description, choices) VALUES (:matter_code, "
                ":code, :variable, :datatype, :required, :datatype_description, :position, "
                ":description, CAST(:choices AS jsonb))"
            ),
            {
                "matter_code": d.matter_code,
                "code": d.code,
                "variable": d.variable,
                "datatype": d.datatype,
                "required": d.required,
                "datatype_description": d.datatype_description,
                "position": d.order,
                "description": d.description,
                "choices": json.dumps([[c.key, c.name] for c in d.values], ensure_ascii=False),
            },
        )
    return len(definitions)


async def attributes(
    session: AsyncSession, matter_code: str | None = None
) -> list[AttributeDefinition]:
    """Attribute definitions of one matter, or of all when `matter_code` is None."""
    rows = await session.execute(
        text(
            "SELECT matter_code, code, variable, datatype, required, datatype_description, "
            "position, description, choices FROM matter_attributes "
            "WHERE CAST(:m AS text) IS NULL OR matter_code = :m "
            "ORDER BY matter_code, position, code"
        ),
        {"m": matter_code},
    )
    return [
        AttributeDefinition(
            matter_code=row.matter_code,
            code=row.code,
            datatype=row.datatype,
            required=row.required,
            description=row.description,
            datatype_description=row.datatype_description,
            order=row.position,
            variable=row.variable,
            values=tuple(Choice(key, name) for key, name in row.choices),
        )
        for row in rows
    ]
