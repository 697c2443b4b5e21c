"""The world the security tests run in: `command-center serve` on a fresh copy of the
demo city (in the run's own PostgreSQL cluster, so that fuzzing leaves the shared test
database alone), its log in a file, seeded through the API with a resident's tip in 莲都
(clue A, the squad LD-01's), one in 青田 (clue B, QT-01's), and a device of each squad
that has reported where it is; and the callers who knock on its doors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.settings import Settings
from tests.conftest import DEMO_TEMPLATE
from tests.servers import OwnPostgres, Serve

# Who calls: a name, and the token's role and scope (None: no token at all).
PRINCIPALS: dict[str, dict[str, Any] | None] = {
    "anonymous": None,
    "device": {"role": Role.DEVICE, "device": "CAM-LD-01", "squad": "LD-01"},
    "squad": {"role": Role.SQUAD, "squad": "LD-01"},
    "other_squad": {"role": Role.SQUAD, "squad": "QT-01"},
    "grid_worker": {"role": Role.GRID_WORKER, "jurisdiction": "331102"},
    "operator": {"role": Role.OPERATOR},
    "other_operator": {"role": Role.OPERATOR, "jurisdiction": "331121"},
    "supervisor": {"role": Role.SUPERVISOR, "jurisdiction": "331102"},
    "admin": {"role": Role.ADMIN},
}

# The residents of the seeded tips: what must never leak.
RESIDENT_A = {"phone": "13905710001", "first_name": "晓梅", "last_name": "欧阳"} | {
    "email": "ouyang.xm@example.cn"
}
RESIDENT_B = {"phone": "13905710002", "first_name": "建国", "last_name": "司马"} | {
    "email": "sima.jg@example.cn"
}
LIANDU_NEAR_LD01 = (119.9185, 28.4705)
QINGTIAN_NEAR_QT01 = (120.2845, 28.1425)


@dataclass
class World:
    server: Serve
    cluster: OwnPostgres
    database: str
    signing_key: str
    clue_a: int
    clue_b: int
    code_a: str  # case numbers (service_request_id)
    code_b: str
    progress_a: str  # the random codes that open their progress
    progress_b: str

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, principal: str) -> str | None:
        claims = PRINCIPALS[principal]
        if claims is None:
            return None
        return tokens.mint(key=self.signing_key, subject=f"test-{principal}", **claims)

    def headers(self, principal: str) -> dict[str, str]:
        token = self.token(principal)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return self.cluster.connect(self.database)


def security_env(settings: Settings, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": settings.signing_key(),
        "EVENT_CHANNEL": f"{settings.event_channel}:security:{time.monotonic_ns()}",
        "OUTBOX_POLL_SECONDS": "0.5",
        "MEDIA_DIR": str(settings.media_dir),
        "ENVIRONMENT": "test",
        "ICE_HOST_ADDRESSES": "127.0.0.1",
        "RESIDENT_REPORTS_PER_MINUTE": "1000000",
        "ADDRESS_REQUESTS_PER_SECOND": "0",
        # every listener and device of the load comes from 127.0.0.1 (issue 15 caps)
        "WEBSOCKET_CONNECTIONS_PER_ADDRESS": "100000",
        "WEBSOCKET_CONNECTIONS_PER_TOKEN": "100000",
        "DEVICE_REQUESTS_PER_SECOND": "0",
        **extra,
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


def run_cli(world: World, settings: Settings, *args: str) -> str:
    """`command-center ARGS` against the world's database, as an admin runs it; what it
    printed (the command must succeed)."""
    env = security_env(settings, world.cluster.url(world.database))
    done = subprocess.run(
        [sys.executable, "-m", "command_center", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _tip(client: httpx.Client, at: tuple[float, float], resident: dict[str, str]) -> str:
    form = {"service_code": "CG-001", "long": str(at[0]), "lat": str(at[1])}
    form["description"] = "路边摆摊"
    answer = client.post("/open311/v2/requests.json", data=form | resident)
    assert answer.status_code == 200, answer.text
    return str(answer.json()[0]["service_request_id"])


def _seed(server: Serve, key: str) -> tuple[str, str]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        code_a = _tip(client, LIANDU_NEAR_LD01, RESIDENT_A)
        code_b = _tip(client, QINGTIAN_NEAR_QT01, RESIDENT_B)
        for device, squad, (lon, lat) in (
            ("CAM-LD-01", "LD-01", LIANDU_NEAR_LD01),
            ("CAM-QT-01", "QT-01", QINGTIAN_NEAR_QT01),
        ):
            token = tokens.mint(key=key, role=Role.DEVICE, device=device, squad=squad)
            answer = client.post(
                "/api/v1/telemetry",
                json={"lon": lon, "lat": lat},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
    return code_a, code_b


def start_world(
    cluster: OwnPostgres, settings: Settings, name: str, log: Path, **env: str
) -> World:
    database = "security_" + re.sub(r"[^a-z0-9_]", "_", name.lower())[:40]
    cluster.copy_of(DEMO_TEMPLATE, database)
    server = Serve(security_env(settings, cluster.url(database), **env), workers=1, log=log)
    server.start()
    code_a, code_b = _seed(server, settings.signing_key())
    with cluster.connect(database) as conn:
        ids = dict(
            conn.execute(
                "SELECT service_request_id, id FROM clues WHERE service_request_id = ANY(%s)",
                ([code_a, code_b],),
            ).fetchall()
        )
        squads = dict(conn.execute("SELECT id, squad_code FROM clues").fetchall())
        progress = dict(conn.execute("SELECT id, progress_code FROM clues").fetchall())
    assert squads[ids[code_a]] == "LD-01" and squads[ids[code_b]] == "QT-01", squads
    return World(
        server,
        cluster,
        database,
        settings.signing_key(),
        ids[code_a],
        ids[code_b],
        code_a,
        code_b,
        progress[ids[code_a]],
        progress[ids[code_b]],
    )
