"""The weekly report and monthly bulletin rendered to PDF and HTML, read back as text:
from the command line, on demand through the API, and on the schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.reports.scheduler import due_periods, generate_due
from command_center.settings import Settings
from tests.conftest import LiveServer
from tests.history import SHANGHAI, SimClue
from tests.integration.test_cli import run
from tests.stats.pdfs import flat, pages, text_of

ROOT = Path(__file__).resolve().parents[2]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_weekly_report_pdf_carries_the_week_figures(
    settings: Settings, history: dict[str, SimClue], tmp_path: Path
) -> None:
    out = tmp_path / "w47.pdf"
    done = run(settings, "report", "weekly", "--week", "2025-W47", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "9 due, 6 closed" in done.stdout
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF") and pages(pdf) >= 2
    text = text_of(pdf)
    summary = flat(text)
    assert "执法指挥周报" in summary and "2025年第47周（11月17日—11月23日）" in summary
    assert "本期共受理线索13件，派遣12件；应结案9件，已结案6件，结案率66.7%" in summary
    assert "按期结案5件，按期结案率55.6%" in summary and "满意率66.7%" in summary
    # the department table: 综合行政执法局 ranked, 71.4% closed, 57.1% on time, index 65.71
    enforcement = next(line for line in text.splitlines() if "综合行政执法局" in line)
    assert all(v in enforcement for v in ("71.4%", "57.1%", "65.71"))
    # the worst overdue item of the week is B2 (since 20 November 09:00)
    assert history["B2"].code in text and "2025年11月20日 09:00" in text  # as people read it
    assert "红黑榜" not in text  # monthly only


def test_the_monthly_bulletin_as_html_and_pdf_has_the_red_black_list(
    settings: Settings, history: dict[str, SimClue], tmp_path: Path
) -> None:
    html_file, pdf_file = tmp_path / "m.html", tmp_path / "m.pdf"
    for out in (html_file, pdf_file):
        done = run(settings, "report", "monthly", "--month", "2025-11", "--out", str(out))
        assert done.returncode == 0, done.stderr
    html = html_file.read_text("utf-8")
    assert (
        html.startswith("<!DOCTYPE html>")
        and "<svg" in html
        and "http" not in html.split("<svg", 1)[0].replace("http://www.w3.org", "")
    )
    text = text_of(pdf_file.read_bytes())
    assert "执法指挥月通报" in text and "2025年11月" in text and "七、红黑榜" in text
    assert "不设红榜" in text  # only one department has five due clues in November


def test_bad_report_requests_are_refused_by_name(settings: Settings, tmp_path: Path) -> None:
    wrong = run(settings, "report", "weekly", "--week", "2025-47", "--out", "x.pdf")
    assert wrong.returncode == 1 and "2026-W47" in wrong.stderr
    suffix = run(settings, "report", "monthly", "--month", "2025-11", "--out", "x.docx")
    assert suffix.returncode == 1 and ".pdf or .html" in suffix.stderr


async def test_reports_on_demand_are_stored_listed_and_scoped(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    liandu = {
        "Authorization": f"Bearer {live_server.token(Role.SUPERVISOR, jurisdiction='331102')}"
    }
    made = await client.post(
        "/api/v1/reports", json={"kind": "weekly", "period": "2025-W47"}, headers=liandu
    )
    assert made.status_code == 201, made.text
    report = made.json()
    assert (report["label"], report["jurisdiction"]) == ("2025-W47", "331102")
    pdf = await client.get(report["pdf"], headers=liandu)
    assert pdf.headers["content-type"] == "application/pdf"
    text = text_of(pdf.content)
    assert "莲都区" in text and "应结案8件" in flat(text)  # A10 is in 青田
    html = await client.get(report["html"], headers=liandu)
    assert "执法指挥周报" in html.text
    listed = await client.get("/api/v1/reports", headers=liandu)
    assert report["id"] in [r["id"] for r in listed.json()]

    qingtian = {
        "Authorization": f"Bearer {live_server.token(Role.OPERATOR, jurisdiction='331121')}"
    }
    assert (await client.get(report["pdf"], headers=qingtian)).status_code == 404
    squad = bearer(live_server.token(Role.SQUAD, squad="LD-01"))
    assert (await client.get("/api/v1/reports", headers=squad)).status_code == 403
    bad = await client.post(
        "/api/v1/reports", json={"kind": "monthly", "period": "2025-W47"}, headers=liandu
    )
    assert bad.status_code == 400 and "2026-11" in bad.json()["detail"]


def test_the_schedule_picks_the_last_ended_week_and_month() -> None:
    after = timedelta(hours=8)
    monday_7h = datetime(2025, 12, 1, 7, 0, tzinfo=SHANGHAI)
    assert due_periods(monday_7h, SHANGHAI, after)[0][1].label == "2025-W47"
    monday_9h = datetime(2025, 12, 1, 9, 0, tzinfo=SHANGHAI)
    assert [p.label for _, p in due_periods(monday_9h, SHANGHAI, after)] == [
        "2025-W48",
        "2025-11",
    ]


async def test_scheduled_reports_are_generated_once(
    database: Database, history: dict[str, SimClue]
) -> None:
    now = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    args = {
        "now": now,
        "zone": SHANGHAI,
        "after": timedelta(hours=8),
        "issuer": "丽水市综合行政执法指挥中心",
    }
    first = await generate_due(database, **args)  # type: ignore[arg-type]
    assert first == ["weekly 2025-W48", "monthly 2025-11"]
    assert await generate_due(database, **args) == []  # type: ignore[arg-type]
