"""The hub's pre-built frames are byte for byte what the websockets library would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from command_center.realtime.frames import text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
def test_a_text_frame_of_any_length_matches_the_library(size: int) -> None:
    payload = "x" * size
    assert text_frame(payload) == Frame(Opcode.TEXT, payload.encode()).serialize(mask=False)


def test_the_length_counts_utf8_bytes_not_characters() -> None:
    payload = '{"matter":"占道经营","at":"2026-12-01T08:00:00+08:00"}' * 3
    frame = text_frame(payload)
    assert frame == Frame(Opcode.TEXT, payload.encode()).serialize(mask=False)
    assert frame[1] == 126 and int.from_bytes(frame[2:4], "big") == len(payload.encode())
