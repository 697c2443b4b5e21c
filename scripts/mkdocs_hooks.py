"""MkDocs hooks (mkdocs.yml `hooks:`): the pages' generated parts, and the offline check.

Generated at build time, so they cannot go stale:

- `<!-- generated: settings -->` — the configuration reference, one row per field of
  `command_center.settings.Settings` (variable, default, allowed values, description);
  a field without a description fails the build.
- `<!-- generated: openapi-operations -->` — every operation of the OpenAPI document of
  `command_center.main.create_app`, and `api/openapi.json` (that document) as a file of
  the site.
- `<!-- generated: demo-city -->` — what the demo city holds, counted from `demo/lishui/`.
- `<!-- generated: test-count -->` — how many tests `pytest --collect-only` finds now;
  the newest row of the measured-runs table below it is compared with that count and the
  page says so when the suite has changed since.

After the build every HTML and CSS file is read: a page that would load a script, style,
font or image from another host (a CDN, a font service), or name one of those hosts at
all, fails the build — the site must read the same with no network.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_PATH = "api/openapi.json"

# Hosts that serve fonts, scripts or styles to web pages: none may appear in the site.
ASSET_HOSTS = (
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "unpkg.com",
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "ajax.googleapis.com",
    "use.fontawesome.com",
    "code.jquery.com",
    "stackpath.bootstrapcdn.com",
    "polyfill.io",
)
# Attributes that make a browser fetch: <script src>, <link href> (styles, icons,
# preloads), <img src>, <iframe src>, <source src>, CSS url() and @import.
LOADING = re.compile(
    r"<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc=[\"']?(https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(https?:)?//"
    r"|url\(\s*[\"']?(https?:)?//"
    r"|@import\s+[\"']?(url\()?[\"']?(https?:)?//",
    re.IGNORECASE,
)


# --- the configuration reference -----------------------------------------------------


def _default(field: Any) -> str:
    from pydantic_core import PydanticUndefined

    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{','.join(map(str, value))}`" if value else "empty"
    if isinstance(value, int) and value >= 1024 and value % 1024 == 0:
        kib = value // 1024
        return f"`{value}` ({kib // 1024} MiB)" if kib % 1024 == 0 else f"`{value}` ({kib} KiB)"
    if hasattr(value, "get_secret_value"):
        return "unset"
    text = str(value)
    return f"`{text}`" if text else "empty"


def _allowed(field: Any) -> str:
    """The values a Literal field takes, or the bounds, length and pattern of the others."""
    from typing import Literal, get_args, get_origin

    if get_origin(field.annotation) is Literal:
        return ", ".join(f"`{choice}`" for choice in get_args(field.annotation))
    bounds = []
    for meta in field.metadata:
        for name, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(meta, name, None) is not None:
                bounds.append(f"{sign} {getattr(meta, name)}")
        if getattr(meta, "max_length", None) is not None:
            bounds.append(f"at most {meta.max_length} characters")
        if getattr(meta, "pattern", None):
            bounds.append(f"`{meta.pattern}`")
    return ", ".join(bounds)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, `|` escaped, `<…>` shown as written
    outside code spans (where Markdown would take it for HTML)."""
    parts = " ".join(text.split()).replace("|", "\\|").split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def settings_table() -> str:
    from command_center.settings import Settings

    rows = ["| variable | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    missing = []
    for name, field in Settings.model_fields.items():
        if not field.description:
            missing.append(name.upper())
            continue
        meaning = _cell(field.description)
        rows.append(f"| `{name.upper()}` | {_default(field)} | {_allowed(field)} | {meaning} |")
    if missing:
        raise PluginError(
            "settings without a description (add Field(description=...) in "
            f"command_center/settings.py): {', '.join(missing)}"
        )
    return "\n".join(rows)


# --- the OpenAPI document ------------------------------------------------------------


@cache
def openapi_document() -> dict[str, Any]:
    """The app's OpenAPI document, built without connecting to anything (connections open
    in the app's lifespan, which is never entered here)."""
    from command_center.main import create_app
    from command_center.settings import Settings

    settings = Settings(
        database_url="postgresql+psycopg://docs@127.0.0.1:1/docs",
        secret_key="d" * 64,
        _env_file=None,
    )
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def _first_sentence(description: str) -> str:
    """The first sentence of an operation's docstring, on one line, safe in a table cell."""
    paragraph = " ".join(description.strip().split("\n\n", 1)[0].split())
    return _cell(re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0])


def operations_table() -> str:
    document = openapi_document()
    rows = ["| method | path | what | tag |", "| --- | --- | --- | --- |"]
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete", "options"}:
                continue
            summary = operation.get("summary") or operation.get("operationId", "")
            first = _first_sentence(operation.get("description", ""))
            if first:
                summary = f"**{summary}**: {first}"
            tags = ", ".join(operation.get("tags", []))
            rows.append(f"| `{method.upper()}` | `{path}` | {summary} | {tags} |")
    count = len(rows) - 2
    version = document.get("info", {}).get("version", "")
    return f"{count} operations (OpenAPI {document.get('openapi')}, API version {version}):\n\n" + (
        "\n".join(rows)
    )


# --- the demo city -------------------------------------------------------------------


def demo_city() -> str:
    import csv

    demo = ROOT / "demo" / "lishui"
    places = json.loads((demo / "jurisdictions.geojson").read_text("utf-8"))["features"]
    districts = sum(1 for f in places if f["properties"]["level"] == "district")
    with (demo / "matters.csv").open(encoding="utf-8") as f:
        matters = list(csv.DictReader(f))
    with (demo / "squads.csv").open(encoding="utf-8") as f:
        squads = list(csv.DictReader(f))
    off_duty = sum(1 for squad in squads if squad["on_duty"].strip().lower() != "true")
    departments = len({m["department"] for m in matters})
    return (
        f"{districts} districts and counties, {len(matters)} matters across {departments} "
        f"departments, {len(squads)} squads ({off_duty} off duty)"
    )


# --- the test suite ------------------------------------------------------------------


@cache
def collected_tests() -> int:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = re.search(r"^(\d+) tests? collected", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not found:
        raise PluginError(f"pytest --collect-only failed:\n{result.stdout[-2000:]}")
    return int(found.group(1))


# The first data row of the measured-runs table: | date | where | tests | time |
MEASURED_ROW = re.compile(
    r"^\|\s*([^|]*\d{4}-\d{2}-\d{2}[^|]*?)\s*\|[^|]*\|\s*(\d+)\s*\|", re.MULTILINE
)


def test_count(markdown: str) -> str:
    count = collected_tests()
    today = datetime.now(UTC).date().isoformat()
    text = (
        f"**{count} tests** today: what `pytest --collect-only` counted when this site was "
        f"built ({today})."
    )
    newest = MEASURED_ROW.search(markdown)
    if newest and int(newest.group(2)) != count:
        text += (
            f'\n\n!!! note "The suite changed since the last measured run"\n'
            f"    The newest measured run ({newest.group(1)}) had {newest.group(2)} tests; "
            f"the suite has {count} now. Its time below is of that run."
        )
    return text


# --- hooks ---------------------------------------------------------------------------


def on_files(files: Files, config: MkDocsConfig) -> Files:
    content = json.dumps(openapi_document(), ensure_ascii=False, indent=2)
    files.append(File.generated(config, OPENAPI_PATH, content=content))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if "<!-- generated: settings -->" in markdown:
        markdown = markdown.replace("<!-- generated: settings -->", settings_table())
    if "<!-- generated: openapi-operations -->" in markdown:
        markdown = markdown.replace("<!-- generated: openapi-operations -->", operations_table())
    if "<!-- generated: demo-city -->" in markdown:
        markdown = markdown.replace("<!-- generated: demo-city -->", demo_city())
    if "<!-- generated: test-count -->" in markdown:
        markdown = markdown.replace("<!-- generated: test-count -->", test_count(markdown))
    return markdown


def on_post_build(config: MkDocsConfig) -> None:
    site = Path(config.site_dir)
    problems = []
    for path in sorted([*site.rglob("*.html"), *site.rglob("*.css")]):
        text = path.read_text("utf-8", errors="replace")
        for match in LOADING.finditer(text):
            problems.append(f"{path.relative_to(site)}: loads {text[match.start() :][:80]!r}")
        for host in ASSET_HOSTS:
            if host in text:
                problems.append(f"{path.relative_to(site)}: names {host}")
    if problems:
        raise PluginError("the site would need the network:\n  " + "\n  ".join(problems))
