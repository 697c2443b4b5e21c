"""Moderation: an operator decides what the public sees of a clue (issue 15, finding 2)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.clues import service as clues_service
from command_center.clues.events import about
from command_center.clues.model import ClueRecord
from command_center.errors import Forbidden, InvalidInput
from command_center.publicview import repository
from command_center.realtime import outbox

MODERATORS = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


async def moderate(
    *,
    session: AsyncSession,
    clue_id: int,
    by: Principal,
    hidden: bool,
    public_description: str | None,
    reason: str,
) -> ClueRecord:
    """Hide the clue from the public, or set the text the public sees (None: the
    description, masked). Operators, supervisors and admins in scope (Forbidden
    otherwise); recorded as `clue.moderated` with the reason and the public text, never
    the resident's own. The clue as it is now."""
    if by.role not in MODERATORS:
        raise Forbidden("only operators, supervisors and admins moderate what the public sees")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why (`reason`)")
    text = None if public_description is None else public_description.strip()
    clue = await clues_service.get_scoped(session=session, clue_id=clue_id, by=by)
    await repository.moderate(session, clue.id, hidden=hidden, public_description=text)
    await outbox.record(
        session,
        [
            about(
                clue,
                "clue.moderated",
                {
                    "by": by.as_actor(),
                    "hidden": hidden,
                    "public_description": text,
                    "reason": reason,
                },
                seen_by=(),
            )
        ],
    )
    return await clues_service.get_scoped(session=session, clue_id=clue.id, by=by)
