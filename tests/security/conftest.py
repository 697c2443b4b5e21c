"""Security tests: one world (tests/security/world.py) per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from command_center.settings import Settings
from tests.security.world import World, start_world
from tests.servers import OwnPostgres


@pytest.fixture(scope="module")
def world(
    own_postgres: OwnPostgres,
    settings: Settings,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    name = Path(str(request.node.path)).stem.removeprefix("test_")
    log = tmp_path_factory.mktemp("security") / "server.log"
    made = start_world(own_postgres, settings, name, log)
    yield made
    made.server.stop()
