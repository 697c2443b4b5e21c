"""HTML from the templates (Jinja2) and PDF from that HTML (WeasyPrint): one template
gives both. Fonts are the system's Noto CJK (Debian fonts-noto-cjk), embedded in the PDF.
Nothing is fetched: the only external resource a template may name is a data: URI.

Rendering a PDF is CPU work of a second or so; callers in the event loop run it in a
thread (`asyncio.to_thread`).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from command_center.readable_time import chinese
from command_center.reports.model import ReportData, change, duration, percent
from command_center.stats.model import WEIGHTS, Step

STEP_LABELS = [
    (Step.DISPATCH, "派遣（受理→派遣）"),
    (Step.ACCEPTANCE, "签收（派遣→签收）"),
    (Step.ARRIVAL, "到场（签收→到场）"),
    (Step.HANDLING, "处置（到场→处置完毕）"),
    (Step.CLOSURE, "结案（处置完毕→结案）"),
]


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("command_center.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    env.filters["pct"] = percent
    env.filters["took"] = duration
    env.filters["score"] = lambda v: "—" if v is None else f"{v:.2f}"
    env.filters["day"] = lambda m: f"{m:%Y年%-m月%-d日}"
    env.globals["change"] = change
    return env


@cache
def _css() -> str:
    return files("command_center.reports").joinpath("templates/style.css").read_text("utf-8")


def _when(zone: Any) -> Any:
    def show(moment: datetime | None) -> str:
        return "—" if moment is None else chinese(moment, zone, year=True)

    return show


def report_html(data: ReportData) -> str:
    env = _environment().overlay()
    env.filters["when"] = _when(data.period.zone)
    env.filters["day"] = lambda m: f"{m.astimezone(data.period.zone):%Y年%-m月%-d日}"
    return env.get_template("report.html").render(
        r=data,
        t=data.total,
        prev=data.previous,
        steps=STEP_LABELS,
        w=WEIGHTS,
        css=_css(),
    )


def document_html(document: Any, zone: Any) -> str:
    env = _environment().overlay()
    env.filters["when"] = _when(zone)
    env.filters["day"] = lambda m: f"{m.astimezone(zone):%Y年%-m月%-d日}"
    return env.get_template("document.html").render(d=document, css=_css())


def pdf(html: str) -> bytes:
    """The PDF of an HTML page made by this module (A4, fonts embedded). Only data: URIs
    are resolved: rendering never goes to the network or the file system."""
    from weasyprint import HTML  # imported on first use: it loads pango
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    result: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return result
