"""The public progress page a QR code opens: plain HTML, zh-CN, no script, nothing
loaded from another host."""

from __future__ import annotations

from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from command_center.readable_time import chinese_iso

STATUS_TEXT = {"open": "办理中", "closed": "已办结"}


def progress_page(progress: dict[str, Any], zone: ZoneInfo, badge: str | None = None) -> str:
    """The page of `progress` (residents.service.progress); times as read in `zone`
    (`12月3日 18:37`), the ISO time kept in each `<time datetime>`. `badge` ("演示" on a
    demo database) is shown beside the heading."""
    code = escape(progress["service_request_id"])
    qr_code = escape(progress["progress_code"])  # the case number does not open it
    rows = "".join(
        f'<li><time datetime="{escape(str(item["at"]))}">'
        f"{escape(chinese_iso(str(item['at']), zone))}</time> {escape(item['description'])}</li>"
        for item in progress["history"]
    )
    photos = "".join(
        f'<img src="{escape(url)}" alt="现场照片" loading="lazy">' for url in progress["photos"]
    )
    merged = (
        f"<p>与 {escape(progress['duplicate_of'])} 为同一问题，合并办理。</p>"
        if progress.get("duplicate_of")
        else ""
    )
    notes = escape(progress.get("status_notes") or "")
    # the public text of the tip: masked, or as a moderator rewrote it, or none if hidden
    described = progress.get("description")
    description = f'<p class="description">{escape(described)}</p>' if described else ""
    shown_badge = f' <span class="demo-badge">{escape(badge)}</span>' if badge else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>办理进度 {code}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0 auto;max-width:40rem;padding:1rem;color:#222}}
h1{{font-size:1.3rem}} .status{{font-size:1.5rem;font-weight:bold}}
li{{margin:.4rem 0}} time{{color:#666;margin-right:.5rem}}
img{{max-width:48%;margin:.2rem;border-radius:4px}}
.demo-badge{{background:#ff9f1c;color:#fff;border-radius:4px;padding:0 .4rem;font-size:1rem}}
</style></head><body>
<h1>线索 {code}{shown_badge}</h1>
<p class="status">{STATUS_TEXT.get(progress["status"], "办理中")}</p>
<p>{escape(progress["service_name"])} · {escape(progress["agency_responsible"])}</p>
{description}<p>{notes}</p>{merged}
<ol>{rows}</ol>
<div>{photos}</div>
<p><img src="/api/v1/public/clues/{qr_code}/qr.svg" alt="二维码" width="160"></p>
</body></html>"""
