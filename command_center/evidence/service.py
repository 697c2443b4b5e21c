"""Use cases of evidence: attach bytes to a clue, with their hash in the event log."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.clues.model import ClueRecord
from command_center.evidence import repository
from command_center.evidence.model import Evidence, NewEvidence, sha256_hex
from command_center.evidence.storage import MediaStore
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent, iso_utc


async def attach(
    *, session: AsyncSession, store: MediaStore, clue: ClueRecord, item: NewEvidence
) -> Evidence:
    """Store the bytes (and the public copy, if any), record the row and a
    `clue.evidence_added` event carrying the SHA-256, in the caller's transaction."""
    digest = sha256_hex(item.content)
    storage_key = store.put(item.content, item.media_type, area="originals")
    public_key = (
        store.put(item.public_content, item.media_type, area="public")
        if item.public_content is not None
        else None
    )
    evidence = await repository.insert(
        session, item, sha256=digest, storage_key=storage_key, public_key=public_key
    )
    location = (
        None
        if evidence.lon is None or evidence.lat is None
        else {"lon": evidence.lon, "lat": evidence.lat, "crs": "wgs84"}
    )
    await outbox.record(
        session,
        [
            PendingEvent(
                type="clue.evidence_added",
                clue_id=clue.id,
                jurisdiction_path=clue.jurisdiction_path,
                squad_codes=(clue.squad_code,) if clue.squad_code else (),
                data={
                    "clue_id": clue.id,
                    "service_request_id": clue.service_request_id,
                    "jurisdiction_code": clue.jurisdiction_code,
                    "matter_code": clue.matter_code,
                    "evidence_id": evidence.id,
                    "kind": evidence.kind.value,
                    "media_type": evidence.media_type,
                    "sha256": evidence.sha256,
                    "size_bytes": evidence.size_bytes,
                    "taken_at": iso_utc(evidence.taken_at) if evidence.taken_at else None,
                    "device_id": evidence.device_id,
                    "location": location,
                    "by": item.added_by,
                    "note": evidence.note,
                },
            )
        ],
    )
    return evidence


async def for_clue(*, session: AsyncSession, clue_id: int) -> list[Evidence]:
    return await repository.for_clue(session, clue_id)


async def get(*, session: AsyncSession, evidence_id: int) -> Evidence | None:
    return await repository.get(session, evidence_id)
