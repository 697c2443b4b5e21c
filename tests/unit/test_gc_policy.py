"""The garbage-collection policy: what start-up built is frozen, so full collections
skip it, and every collection's pause is measured."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from command_center import gcpolicy


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_settling_freezes_what_is_alive_and_full_collections_skip_it(unfrozen: None) -> None:
    survivors = [{"row": i} for i in range(50_000)]
    tracked_before = len(gc.get_objects())
    frozen = gcpolicy.settle()
    assert frozen >= len(survivors)
    assert len(gc.get_objects()) < tracked_before - len(survivors)  # no longer walked
    assert survivors[-1] == {"row": 49_999}  # frozen objects are not touched


def test_each_collection_is_timed_by_generation() -> None:
    meter = gcpolicy.PauseMeter()
    meter.install()
    meter.install()  # idempotent: one callback
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        meter.uninstall()
    pauses = meter.drain()
    assert [generation for generation, _ in pauses] == [0, 2]
    assert all(0 <= seconds < 5 for _, seconds in pauses)
    assert meter.drain() == []
    gc.collect()
    assert meter.drain() == []  # uninstalled
