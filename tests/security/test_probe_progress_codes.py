"""Issue 15, finding 3 (progress codes could be counted), performed as the probe did:
codes were the date plus a 6-digit counter, and 20 guesses found all 11 tips of the day,
each with state, history and the resident's photos.

Now the code that opens a tip's progress is random with a check character
(residents/model.py), the case number (still date and counter, for staff documents)
opens nothing, and lookups of unknown codes are limited per address (429, Retry-After).
Tips made before migration 0013 keep their old code (the slips residents hold), and get
a new one beside it; internal clues of that time lose theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from command_center.db.migrate import downgrade, upgrade
from command_center.residents.model import is_well_formed
from command_center.settings import Settings
from tests.conftest import DEMO_TEMPLATE
from tests.security.world import security_env
from tests.servers import OwnPostgres, Serve

DATABASE = "security_probe_progress_codes"
PROGRESS = "/api/v1/public/clues/{}"
# Written before migration 0013: a resident's Open311 tip and a grid worker's report.
OLD_TIP, OLD_GRID_REPORT = "20261101000001", "20261101000002"
OLD_CLUES = """
INSERT INTO clues (id, service_request_id, channel, matter_code, description, location,
    submitted_crs, jurisdiction_code, jurisdiction_path, department, state)
SELECT nextval('clues_id_seq'), code, channel, 'CG-001', '路边摆摊',
    ST_SetSRID(ST_MakePoint(119.92, 28.466), 4326), 'wgs84', '331102',
    ARRAY['331100', '331102'], '综合行政执法局', 'received'
FROM (VALUES (%s, 'open311'), (%s, 'grid')) AS old (code, channel)
"""


@dataclass
class City:
    server: Serve
    cluster: OwnPostgres

    def progress_codes(self) -> dict[str, tuple[str, str | None]]:
        """case number → (progress code, legacy code)."""
        with self.cluster.connect(DATABASE) as conn:
            rows = conn.execute(
                "SELECT service_request_id, progress_code, legacy_progress_code FROM clues"
            ).fetchall()
        return {case: (code, legacy) for case, code, legacy in rows}


@pytest.fixture(scope="module")
def city(
    own_postgres: OwnPostgres, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[City]:
    """The demo city as it was before migration 0013, with two clues, then upgraded and
    served with the default limit of unknown codes (10 a minute per address)."""
    url = own_postgres.copy_of(DEMO_TEMPLATE, DATABASE)
    downgrade(url, "0011")
    with own_postgres.connect(DATABASE) as conn:
        conn.execute(OLD_CLUES, (OLD_TIP, OLD_GRID_REPORT))
    upgrade(url)
    log = tmp_path_factory.mktemp("progress_codes") / "server.log"
    server = Serve(security_env(settings, url), workers=1, log=log)
    server.start()
    yield City(server, own_postgres)
    server.stop()


def eleven_tips(url: str) -> list[dict[str, str]]:
    with httpx.Client(base_url=url, timeout=10) as client:
        answers = [
            client.post(
                "/api/v1/public/tips",
                data={"service_code": "CG-001", "lon": str(119.91 + n / 2000), "lat": "28.466"}
                | {"crs": "wgs84", "description": f"第{n}处摆摊"},
            )
            for n in range(11)
        ]
    assert {a.status_code for a in answers} == {201}
    return [a.json() for a in answers]


def test_counting_codes_finds_nothing_and_is_slowed_down(city: City) -> None:
    tips = eleven_tips(city.server.url)
    today = tips[0]["service_request_id"][:8]  # the case numbers: the date and a counter
    assert all(t["service_request_id"].startswith(today) for t in tips)
    with httpx.Client(base_url=city.server.url, timeout=10) as prober:
        guesses = [f"{today}{n:06d}" for n in range(3, 23)]  # the probe's 20 guesses
        answers = [prober.get(PROGRESS.format(guess)) for guess in guesses]
        found = [a for a in answers if a.status_code == 200]
        assert found == [], "a case number opened a tip's progress"
        assert [a.status_code for a in answers[:10]] == [404] * 10
        limited = answers[10:]
        assert {a.status_code for a in limited} == {429}
        assert int(limited[0].headers["Retry-After"]) >= 1
        assert "unknown codes" in limited[0].json()["detail"]
        # the resident's own code still opens, from that same address
        mine = prober.get(PROGRESS.format(tips[0]["progress_code"]))
        assert mine.status_code == 200
        assert mine.json()["service_request_id"] == tips[0]["service_request_id"]
        page = prober.get(f"/track/{tips[0]['progress_code']}")
        assert page.status_code == 200
    for tip in tips:
        code = tip["progress_code"]
        assert len(code) >= 10 and is_well_formed(code)
        assert tip["progress_url"].endswith(f"/track/{code}")


def test_a_mistyped_code_is_caught_by_its_check_character(city: City) -> None:
    [tip] = eleven_tips(city.server.url)[:1]
    code = tip["progress_code"]
    typo = code[:-2] + code[-1] + code[-2] if code[-1] != code[-2] else code[:-1] + "2"
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.2")  # not the limited address
    with httpx.Client(base_url=city.server.url, timeout=10, transport=elsewhere) as client:
        assert client.get(PROGRESS.format(typo)).status_code == 404
        grouped = f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()
        assert client.get(PROGRESS.format(grouped)).status_code == 200


def test_tips_made_before_the_migration_keep_their_code_and_internal_clues_lose_it(
    city: City,
) -> None:
    codes = city.progress_codes()
    tip_code, tip_legacy = codes[OLD_TIP]
    grid_code, grid_legacy = codes[OLD_GRID_REPORT]
    assert (tip_legacy, grid_legacy) == (OLD_TIP, None)
    assert is_well_formed(tip_code) and is_well_formed(grid_code)  # the database's rule
    assert len({code for code, _ in codes.values()}) == len(codes)
    elsewhere = httpx.HTTPTransport(local_address="127.0.0.3")
    with httpx.Client(base_url=city.server.url, timeout=10, transport=elsewhere) as client:
        assert client.get(PROGRESS.format(OLD_TIP)).status_code == 200
        assert client.get(PROGRESS.format(tip_code)).status_code == 200
        assert client.get(PROGRESS.format(OLD_GRID_REPORT)).status_code == 404
        assert client.get(PROGRESS.format(grid_code)).status_code == 200
