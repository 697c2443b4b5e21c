"""`command-center simulate` against a real `command-center serve` on a demo database of
its own: refused until the database is marked as a demo, then, run for a bounded time
at a fast pace, simulated tips go round the whole loop — dispatched, accepted, driven to
(OsmAnd positions), handled with a photo, verified, closed, rated — every simulated
actor recorded as such; and it stops cleanly by itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from command_center.settings import Settings
from tests.conftest import DEMO_TEMPLATE
from tests.security.world import security_env
from tests.servers import OwnPostgres, Serve

ROOT = Path(__file__).resolve().parents[2]
RUN_SECONDS = 55  # at 300 km/h the first loops close after about 30 s


def command(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "command_center", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_the_simulated_city_closes_the_loop_and_only_on_a_demo(
    own_postgres: OwnPostgres, settings: Settings, tmp_path: Path
) -> None:
    database = "simulation_loop"
    own_postgres.copy_of(DEMO_TEMPLATE, database)
    # the run drives at 300 km/h to close loops within RUN_SECONDS: the server is told
    # that such a speed is plausible (else the positions are suspect, issue 15)
    env = security_env(settings, own_postgres.url(database), POSITION_MAX_SPEED_KMH="400")
    server = Serve(env, workers=1, log=tmp_path / "server.log")
    server.start()
    try:
        refused = command(env, "simulate", "--url", server.url, "--duration", "5")
        assert refused.returncode == 1
        assert "not a demo" in refused.stderr
        sneaked = httpx.post(
            f"{server.url}/open311/v2/requests.json",
            data={"service_code": "CG-001", "long": "119.92", "lat": "28.47"},
            headers={"X-Demo-Simulation": "1"},
        )
        assert sneaked.status_code == 403  # the header alone is refused on a real database
        with own_postgres.connect(database) as conn:
            assert conn.execute("SELECT count(*) FROM clues").fetchone() == (0,)

        loaded = command(env, "import", "members", "demo/lishui/simulation-members.csv")
        assert loaded.returncode == 0, loaded.stderr
        # the secret OsmAnd ids issued to the simulated phones, as the import printed them
        trackers = tmp_path / "trackers.txt"
        trackers.write_text(loaded.stdout, "utf-8")
        marked = command(env, "demo-mark")
        assert marked.returncode == 0 and "demo of 丽水市" in marked.stdout
        assert httpx.get(f"{server.url}/api/v1/demo").json()["badge"] == "演示"

        run = command(
            env,
            "simulate",
            "--url",
            server.url,
            "--duration",
            str(RUN_SECONDS),
            "--pace",
            "0.02",
            "--speed",
            "300",
            "--rate",
            "20",
            "--seed",
            "22",
            "--trackers",
            str(trackers),
            timeout=RUN_SECONDS + 60,
        )
        assert run.returncode == 0, run.stderr
        (ROOT / "var" / "artifacts").mkdir(parents=True, exist_ok=True)
        (ROOT / "var" / "artifacts" / "simulation.log").write_text(run.stdout, "utf-8")
        assert run.stdout.strip().splitlines()[-1].startswith("simulate: stopped;")

        with own_postgres.connect(database) as conn:
            states = dict(
                conn.execute(
                    "SELECT state, count(*) FROM clues WHERE simulated GROUP BY state"
                ).fetchall()
            )
            rated = conn.execute(
                "SELECT count(*) FROM clues WHERE simulated AND rating IS NOT NULL"
            ).fetchone()
            steps = dict(
                conn.execute(
                    "SELECT type, count(*) FROM events "
                    "WHERE data->'by'->>'subject' LIKE 'demo-sim:%' GROUP BY type"
                ).fetchall()
            )
            moved = conn.execute(
                "SELECT count(DISTINCT device_id) FROM telemetry WHERE device_id LIKE 'sim-%'"
            ).fetchone()
            real = conn.execute("SELECT count(*) FROM clues WHERE NOT simulated").fetchone()
        assert states.get("closed", 0) >= 1, (states, run.stdout[-3000:])
        assert rated and rated[0] >= 1
        for step in (
            "clue.accepted",
            "clue.on_scene",
            "clue.handled",
            "clue.verified",
            "clue.closed",
        ):
            assert steps.get(step, 0) >= 1, (step, steps)
        assert moved and moved[0] >= 1  # squads drove there, reported through OsmAnd
        assert "position refused" not in run.stdout, run.stdout[-3000:]
        for line in trackers.read_text("utf-8").splitlines()[2:]:
            assert line.split()[2] not in run.stdout  # a secret OsmAnd id is never printed
        assert real == (0,)  # every clue it sent is marked simulated
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text("utf-8", errors="replace")
    assert "Traceback" not in log
