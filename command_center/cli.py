"""`command-center`: migrate, import reference data, mint tokens, verify the record, serve.

Exit codes: 0 done, 1 refused or failed (the message says why), 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import TOKEN_ROLES, USER_ROLES, Role
from command_center.db.session import Database
from command_center.demo import commands as demo_commands
from command_center.errors import DomainError
from command_center.settings import ConfigurationError, Settings, load_settings

AUDIT_PROGRESS_FROM = 50_000  # events; a shorter chain is checked in a few seconds
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's; see metrics.instruments


class CommandFailed(Exception):
    """A command could not do its work; the message is for the person at the terminal."""


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except (CommandFailed, ConfigurationError, DomainError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="command-center", description="Dispatch command center for city enforcement."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(run=_migrate)
    demo_commands.add_commands(commands)  # demo-mark, demo-unmark, simulate

    imports = commands.add_parser("import", help="import reference data").add_subparsers(
        dest="kind", required=True, metavar="KIND"
    )
    juris = imports.add_parser("jurisdictions", help="boundaries from a GeoJSON FeatureCollection")
    juris.add_argument("file", type=Path)
    juris.add_argument("--crs", choices=["wgs84", "gcj02"], default="wgs84")
    juris.set_defaults(run=_import_jurisdictions)
    matters = imports.add_parser("matters", help="the enforcement-matter catalogue (CSV)")
    matters.add_argument("file", type=Path)
    matters.set_defaults(run=_import_matters)
    squads = imports.add_parser("squads", help="squads, their bases and jurisdictions (CSV)")
    squads.add_argument("file", type=Path)
    squads.set_defaults(run=_import_squads)
    clues = imports.add_parser(
        "clues", help="tickets of the 12345 hotline or a partner platform (CSV or JSON)"
    )
    clues.add_argument("file", type=Path, help="a .csv or .json file")
    clues.add_argument(
        "--source", default="12345", help="the system the tickets come from (default 12345)"
    )
    clues.add_argument(
        "--crs",
        choices=["wgs84", "gcj02"],
        default="wgs84",
        help="of positions whose row has no crs (default wgs84)",
    )
    clues.set_defaults(run=_import_clues)

    members = imports.add_parser("members", help="squad members and their devices (CSV)")
    members.add_argument("file", type=Path)
    members.set_defaults(run=_import_members)
    rosters = imports.add_parser("rosters", help="duty shifts per squad (CSV)")
    rosters.add_argument("file", type=Path)
    rosters.set_defaults(run=_import_rosters)
    holidays = imports.add_parser("holidays", help="the holiday calendar (CSV)")
    holidays.add_argument("file", type=Path)
    holidays.set_defaults(run=_import_holidays)

    attributes = imports.add_parser(
        "attributes", help="per-matter extra questions, the Open311 service attributes (CSV)"
    )
    attributes.add_argument("file", type=Path)
    attributes.set_defaults(run=_import_attributes)
    penalties = imports.add_parser(
        "penalties",
        help="legal bases and discretion standards of the penalty matters (CSV or XLSX)",
    )
    penalties.add_argument("file", type=Path, help="a .csv (UTF-8) or .xlsx file")
    penalties.set_defaults(run=_import_penalties)

    apikey = commands.add_parser("apikey", help="API keys of partner systems").add_subparsers(
        dest="apikey_command", required=True, metavar="ACTION"
    )
    create = apikey.add_parser("create", help="mint a key; it is printed once, as the last line")
    create.add_argument("name", help="the partner system the key is for")
    create.add_argument(
        "--rate",
        type=float,
        default=None,
        help="requests per second (0 = unlimited; default PARTNER_DEFAULT_RATE)",
    )
    create.set_defaults(run=_apikey_create)
    listing = apikey.add_parser("list", help="list keys (never the keys themselves)")
    listing.set_defaults(run=_apikey_list)
    revoke = apikey.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=_apikey_revoke)

    osmand = commands.add_parser(
        "osmand-id",
        help="(re)issue the secret OsmAnd id of a member's phone; printed once, as the last "
        "line, and the old id stops working",
    )
    osmand.add_argument("member", help="the member's code (members.csv `code`)")
    osmand.set_defaults(run=_osmand_id)

    audit = commands.add_parser("audit", help="the event log as evidence").add_subparsers(
        dest="audit_command", required=True, metavar="ACTION"
    )
    verify = audit.add_parser(
        "verify", help="check the whole hash chain; exit 1 naming the first broken link"
    )
    verify.set_defaults(run=_audit_verify)

    webhook = commands.add_parser("webhook", help="signed webhooks").add_subparsers(
        dest="webhook_command", required=True, metavar="ACTION"
    )
    hook_add = webhook.add_parser("add", help="subscribe a URL; prints its secret last")
    hook_add.add_argument("url")
    hook_add.add_argument(
        "--types", nargs="*", default=[], help="event types to send (clue.* prefixes; default all)"
    )
    hook_add.set_defaults(run=_webhook_add)
    hook_list = webhook.add_parser("list", help="subscriptions, their types, state and backlog")
    hook_list.set_defaults(run=_webhook_list)
    hook_log = webhook.add_parser("deliveries", help="the newest delivery attempts of a webhook")
    hook_log.add_argument("id", type=int)
    hook_log.add_argument("--limit", type=int, default=20, help="attempts to show (default 20)")
    hook_log.set_defaults(run=_webhook_deliveries)
    hook_remove = webhook.add_parser("remove", help="stop delivering to a webhook (log kept)")
    hook_remove.add_argument("id", type=int)
    hook_remove.set_defaults(run=_webhook_remove)

    report = commands.add_parser(
        "report", help="the weekly report or monthly bulletin as PDF or HTML"
    ).add_subparsers(dest="report_kind", required=True, metavar="KIND")
    weekly = report.add_parser("weekly", help="the weekly report (周报) of an ISO week")
    weekly.add_argument("--week", required=True, help="e.g. 2026-W47")
    monthly = report.add_parser("monthly", help="the monthly bulletin (月通报) of a month")
    monthly.add_argument("--month", required=True, help="e.g. 2026-11")
    for kind in (weekly, monthly):
        kind.add_argument("--out", required=True, type=Path, help="FILE.pdf or FILE.html")
        kind.add_argument("--jurisdiction", help="only this jurisdiction and below")
        kind.set_defaults(run=_report)

    token = commands.add_parser(
        "token",
        help="mint a recorded bearer token (device or kiosk), or `token revoke ID`",
        usage="command-center token --role ROLE [options] | command-center token revoke ID",
    )
    token.add_argument("action", nargs="?", choices=["revoke"], help=argparse.SUPPRESS)
    token.add_argument("token_id", nargs="?", metavar="ID", help=argparse.SUPPRESS)
    token.add_argument("--role", choices=[r.value for r in TOKEN_ROLES])
    token.add_argument("--name", help="what the token is for (listed with it)")
    token.add_argument(
        "--squad", help="squad code (required for --role squad; optional for --role device)"
    )
    token.add_argument(
        "--device", help="device id, also its stream name /whip/ID (required for --role device)"
    )
    token.add_argument("--jurisdiction", help="limit the scope to this jurisdiction and below")
    token.add_argument("--subject", help="who holds the token (an id, not a personal name)")
    token.add_argument(
        "--days",
        type=int,
        default=None,
        help="validity (default TOKEN_TTL_DAYS; at most TOKEN_MAX_DAYS_DEVICE)",
    )
    token.set_defaults(run=_token)

    user = commands.add_parser("user", help="accounts of people").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    user_create = user.add_parser("create", help="create an account (password from stdin)")
    user_create.add_argument("login")
    user_create.add_argument("--role", required=True, choices=[r.value for r in USER_ROLES])
    user_create.add_argument("--squad", help="the squad of a squad member")
    user_create.add_argument("--jurisdiction", help="the jurisdiction of the account's scope")
    user_create.add_argument("--name", default="", help="full name")
    user_create.add_argument("--officer-number", help="执法证号 (unique)")
    user_create.add_argument("--phone", help="mobile number, for SMS alerts")
    user_create.add_argument("--wecom-userid", help="WeCom (企业微信) userid, for alerts")
    user_create.add_argument("--dingtalk-userid", help="DingTalk (浙政钉) userid, for alerts")
    user_create.add_argument(
        "--preferred-channel",
        choices=["sms", "dingtalk", "wecom"],
        help="where alerts go first (default: DingTalk, WeCom, then SMS)",
    )
    user_create.add_argument(
        "--quiet-hours", help="HH:MM-HH:MM, local time: alerts wait until the end"
    )
    user_create.add_argument(
        "--password-stdin", action="store_true", required=True, help="read the password from stdin"
    )
    user_create.set_defaults(run=_user_create)
    user_disable = user.add_parser("disable", help="disable an account; its sessions end")
    user_disable.add_argument("login")
    user_disable.set_defaults(run=_user_disable)
    user_reset = user.add_parser(
        "reset-password", help="a new password, printed once, to change at next sign-in"
    )
    user_reset.add_argument("login")
    user_reset.set_defaults(run=_user_reset)
    user.add_parser(
        "rekey-totp",
        help="seal every TOTP secret again with the current TOTP_KEY (after a rotation)",
    ).set_defaults(run=_user_rekey_totp)

    serve = commands.add_parser("serve", help="serve the HTTP and websocket API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="event loop (default auto: uvloop where it is installed)",
    )
    serve.set_defaults(run=_serve)

    rtmp = commands.add_parser(
        "rtmp-config", help="print the nginx configuration that takes RTMP pushes from devices"
    )
    rtmp.add_argument("--listen", help="PORT or ADDRESS:PORT (default: RTMP_READ_URL's port)")
    rtmp.add_argument("--prefix", type=Path, required=True, help="nginx's directory (pid, logs/)")
    rtmp.add_argument("--service-url", help="this service as nginx reaches it (RTMP_SERVICE_URL)")
    rtmp.set_defaults(run=_rtmp_config)
    alert = commands.add_parser("alert", help="alert channels (SMS, DingTalk, WeCom)")
    alert_test = alert.add_subparsers(dest="alert_command", required=True).add_parser(
        "test", help="send a test message to an account on each channel it can be reached on"
    )
    alert_test.add_argument("login")
    alert_test.set_defaults(run=_alert_test)
    return parser


def _settings() -> Settings:
    return load_settings()


def _with_session(work: Callable[[AsyncSession], Awaitable[str]]) -> str:
    """Run `work` in one transaction against the configured database."""

    async def run() -> str:
        database = Database.from_settings(_settings())
        try:
            async with database.transaction() as session:
                return await work(session)
        except (OSError, OperationalError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise CommandFailed(f"cannot reach the database: {reason}") from None
        finally:
            await database.dispose()

    return asyncio.run(run())


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandFailed(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise CommandFailed(f"{path}: not UTF-8 text") from None


def _migrate(args: argparse.Namespace) -> None:
    from command_center.db.migrate import upgrade

    applied = upgrade(_settings().database_url)
    for revision, title in applied:
        print(f"applied {revision}: {title}")
    if applied:
        print(f"database is at the latest migration ({applied[-1][0]}): {len(applied)} applied")
    else:
        print("database is at the latest migration: nothing to apply")


ImportWork = Callable[..., Awaitable[object]]


def _file_import(
    label: str, load: Callable[[], ImportWork]
) -> Callable[[argparse.Namespace], None]:
    """A CSV import command: read the file, run the service in one transaction, print."""

    def run(args: argparse.Namespace) -> None:
        text = _read(args.file)
        service_call = load()

        async def work(session: AsyncSession) -> str:
            return str(await service_call(session=session, text=text))

        print(f"{label}: {_with_session(work)}")

    return run


def _matters_import() -> ImportWork:
    from command_center.matters import service

    return service.import_csv


def _attributes_import() -> ImportWork:
    from command_center.matters import service

    return service.import_attributes_csv


def _squads_import() -> ImportWork:
    from command_center.squads import service

    return service.import_csv


def _rosters_import() -> ImportWork:
    from command_center.squads import service

    return service.import_rosters_csv


def _holidays_import() -> ImportWork:
    from command_center.squads import service

    return service.import_holidays_csv


def _members_import() -> ImportWork:
    from command_center.positions import service

    async def run(*, session: AsyncSession, text: str) -> str:
        return await service.import_members_csv(session=session, text_=text)

    return run


_import_members = _file_import("members", _members_import)
_import_matters = _file_import("matters", _matters_import)
_import_attributes = _file_import("attributes", _attributes_import)
_import_squads = _file_import("squads", _squads_import)
_import_rosters = _file_import("rosters", _rosters_import)
_import_holidays = _file_import("holidays", _holidays_import)


def _import_penalties(args: argparse.Namespace) -> None:
    from command_center.cases import service

    suffix = args.file.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise CommandFailed(f"{args.file}: give a .csv or .xlsx file")
    try:
        data = args.file.read_bytes()
    except FileNotFoundError:
        raise CommandFailed(f"{args.file}: no such file") from None

    async def work(session: AsyncSession) -> str:
        summary = await service.import_penalties(session=session, data=data, xlsx=suffix == ".xlsx")
        return str(summary)

    print(f"penalties: {_with_session(work)}")


def _import_jurisdictions(args: argparse.Namespace) -> None:
    from command_center.jurisdictions import service

    data = _read(args.file)

    async def work(session: AsyncSession) -> str:
        return str(await service.import_geojson(session=session, data=data, crs=args.crs))

    print(f"jurisdictions: {_with_session(work)}")


def _import_clues(args: argparse.Namespace) -> None:
    """Exit 0 when every ticket was stored or skipped, 1 when some were refused (the
    others are stored all the same; fix the named lines and run the same file again)."""
    from sqlalchemy.exc import OperationalError
    from tqdm import tqdm

    from command_center.clues import imports
    from feeds import hotline

    if args.file.suffix.lower() not in hotline.SUFFIXES:
        raise CommandFailed(f"{args.file}: expected a .csv or .json file")
    settings = _settings()
    source = hotline.check_source(args.source)
    rows = hotline.parse(
        _read(args.file), suffix=args.file.suffix, crs=args.crs, zone=settings.zone
    )

    async def run() -> imports.ImportSummary:
        database = Database.from_settings(settings)
        quiet = len(rows) < 200 or not sys.stderr.isatty()
        try:
            with tqdm(total=len(rows), unit="ticket", file=sys.stderr, disable=quiet) as bar:
                return await imports.import_tickets(
                    database=database,
                    rows=rows,
                    source=source,
                    zone=settings.zone,
                    code_prefix=settings.public_code_prefix,
                    progress=bar.update,
                )
        except (OSError, OperationalError) as exc:
            raise CommandFailed(
                f"cannot reach the database: {getattr(exc, 'orig', None) or exc}\n"
                "tickets stored before this stay stored; run the same import again to go on"
            ) from None
        finally:
            await database.dispose()

    summary = asyncio.run(run())
    print(f"clues: {summary}")
    for message in summary.refused:
        print(f"  refused {message}")
    if summary.refused:
        raise SystemExit(1)


def _apikey_create(args: argparse.Namespace) -> None:
    from command_center.apikeys import service

    settings = _settings()
    rate = settings.partner_default_rate if args.rate is None else args.rate

    async def work(session: AsyncSession) -> str:
        key, plain = await service.create(session=session, name=args.name, rate=rate)
        limit = "unlimited" if key.unlimited else f"{key.rate_per_second:g} requests/s"
        return f"API key {key.id} for {key.name} ({limit}); it is shown only now:\n{plain}"

    print(_with_session(work))


def _osmand_id(args: argparse.Namespace) -> None:
    from command_center.positions import service

    async def work(session: AsyncSession) -> str:
        device, tracker_id = await service.issue_tracker_id(
            session=session, member_code=args.member
        )
        return (
            f"OsmAnd id of {args.member}'s {device}; set it as the id in the app "
            f"(OsmAnd or Traccar Client), it is shown only now:\n{tracker_id}"
        )

    print(_with_session(work))


def _apikey_list(args: argparse.Namespace) -> None:
    from command_center.apikeys import service

    async def work(session: AsyncSession) -> str:
        lines = [
            f"{key.id}\t{key.name}\t"
            f"{'unlimited' if key.unlimited else f'{key.rate_per_second:g}/s'}\t"
            f"{'revoked' if revoked else 'active'}"
            for key, revoked in await service.list_all(session=session)
        ]
        return "\n".join(lines) or "no API keys"

    print(_with_session(work))


def _apikey_revoke(args: argparse.Namespace) -> None:
    from command_center.apikeys import service

    async def work(session: AsyncSession) -> str:
        await service.revoke(session=session, key_id=args.id)
        return f"API key {args.id} revoked"

    print(_with_session(work))


def _audit_verify(args: argparse.Namespace) -> None:
    """Exit 0 when every event up to the newest holds its link, 1 at the first that does
    not (the message names it)."""
    from tqdm import tqdm

    from command_center.audit import service

    async def run() -> service.Verification:
        database = Database.from_settings(_settings())
        try:
            async with database.sessions() as session:
                total = await service.length(session=session)
                quiet = total < AUDIT_PROGRESS_FROM or not sys.stderr.isatty()
                with tqdm(total=total, unit="event", file=sys.stderr, disable=quiet) as bar:
                    return await service.verify(session=session, upto_id=total, progress=bar.update)
        except (OSError, OperationalError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise CommandFailed(f"cannot reach the database: {reason}") from None
        finally:
            await database.dispose()

    result = asyncio.run(run())
    print(f"audit: {result}")
    if not result.intact:
        raise SystemExit(1)


def _webhook_add(args: argparse.Namespace) -> None:
    from command_center.notifications import webhooks
    from command_center.notifications.model import standard_secret

    async def work(session: AsyncSession) -> str:
        hook_id, secret = await webhooks.add(session=session, url=args.url, event_types=args.types)
        return (
            f"webhook {hook_id} for {args.url}; Standard Webhooks libraries take its secret "
            f"as {standard_secret(secret)}\nits signing secret (shown once):\n{secret}"
        )

    print(_with_session(work))


def _webhook_list(args: argparse.Namespace) -> None:
    from command_center.notifications import webhooks

    async def work(session: AsyncSession) -> str:
        hooks = await webhooks.listing(session=session)
        if not hooks:
            return "no webhooks"
        lines = []
        for hook in hooks:
            state = "active" if hook.active else "removed"
            if hook.active and hook.retry_at is not None:
                state = f"failing ({hook.failures}), next try {_utc(hook.retry_at)}"
            types = ",".join(hook.event_types) or "*"
            lines.append(f"{hook.id}\t{hook.url}\ttypes={types}\t{state}\tbehind={hook.backlog}")
        return "\n".join(lines)

    print(_with_session(work))


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def _webhook_deliveries(args: argparse.Namespace) -> None:
    from command_center.notifications import webhooks

    if not 1 <= args.limit <= 10_000:
        raise CommandFailed("--limit must be between 1 and 10000")

    async def work(session: AsyncSession) -> str:
        rows = await webhooks.deliveries(session=session, webhook_id=args.id, limit=args.limit)
        if not rows:
            return f"webhook {args.id}: no delivery attempts yet"
        return "\n".join(
            f"{_utc(row.at)}\tevent {row.event_id}\tattempt {row.attempt}\t"
            + (str(row.status_code) if row.status_code is not None else f"failed: {row.error}")
            for row in rows
        )

    print(_with_session(work))


def _webhook_remove(args: argparse.Namespace) -> None:
    from command_center.notifications import webhooks

    async def work(session: AsyncSession) -> str:
        await webhooks.remove(session=session, webhook_id=args.id)
        return f"webhook {args.id} removed; its delivery log is kept"

    print(_with_session(work))


def _report(args: argparse.Namespace) -> None:
    from command_center.auth.scope import Scope
    from command_center.reports import service as reports
    from command_center.reports.model import ReportKind
    from command_center.stats.periods import parse_month, parse_week

    suffix = args.out.suffix.lower()
    if suffix not in (".pdf", ".html"):
        raise CommandFailed(f"--out must end in .pdf or .html, not {args.out.name}")
    settings = _settings()
    if args.report_kind == "weekly":
        kind, period = ReportKind.WEEKLY, parse_week(args.week, settings.zone)
    else:
        kind, period = ReportKind.MONTHLY, parse_month(args.month, settings.zone)
    if args.jurisdiction:
        _check_scope_exists(None, args.jurisdiction)

    content: dict[str, bytes] = {}

    async def work(session: AsyncSession) -> str:
        data = await reports.gather(
            session=session,
            kind=kind,
            period=period,
            now=datetime.now(UTC),
            scope=Scope(jurisdiction=args.jurisdiction),
            issuer=settings.report_issuer,
        )
        if suffix == ".html":
            from command_center.reports import render

            content["out"] = render.report_html(data).encode("utf-8")
        else:
            content["out"] = (await reports.render_report(data)).pdf
        total = data.total.counts
        return (
            f"{kind.value} report {period.label}: {total.received} received, "
            f"{total.due} due, {total.closed} closed; written to {args.out}"
        )

    summary = _with_session(work)
    try:
        args.out.write_bytes(content["out"])
    except OSError as exc:
        raise CommandFailed(f"cannot write {args.out}: {exc.strerror}") from None
    print(summary)


def _token(args: argparse.Namespace) -> None:
    """Mint a device or kiosk token and record it (its id is printed to stderr, the token
    alone to stdout), or revoke one by its id."""
    if args.action == "revoke":
        _token_revoke(args)
        return
    if args.token_id is not None:
        raise CommandFailed("usage: command-center token revoke ID")
    if not args.role:
        raise CommandFailed("--role is required to mint a token")
    settings = _settings()
    key = settings.signing_key()
    role = Role(args.role)
    if args.squad or args.jurisdiction:
        _check_scope_exists(args.squad, args.jurisdiction)
    days = (
        args.days
        if args.days is not None
        else min(settings.token_ttl_days, settings.token_max_days_device)
    )
    from command_center.accounts import service

    kind = "device" if role is Role.DEVICE else "kiosk"
    policy = service.AccountPolicy.from_settings(settings)
    service.check_days(days, kind=kind, policy=policy)  # before touching the database

    async def work(session: AsyncSession) -> str:
        minted = await service.mint_recorded(
            session=session,
            key=key,
            kind=kind,
            name=args.name or args.device or args.subject or f"{role.value} {kind}",
            role=role,
            days=days,
            policy=policy,
            created_by="cli",
            squad=args.squad,
            jurisdiction=args.jurisdiction,
            device=args.device,
            subject=args.subject,
        )
        print(
            f"token {minted.record.id} ({kind}, {role.value}) until "
            f"{_utc(minted.record.expires_at)}; revoke with: command-center token revoke "
            f"{minted.record.id}",
            file=sys.stderr,
        )
        return minted.token

    print(_with_session(work))


def _token_revoke(args: argparse.Namespace) -> None:
    from command_center.accounts import service

    if not args.token_id:
        raise CommandFailed("usage: command-center token revoke ID")

    async def work(session: AsyncSession) -> str:
        await service.revoke_token(session=session, token_id=args.token_id, by=None)
        return f"token {args.token_id} revoked"

    print(_with_session(work))
    _announce_revocation()


def _announce_revocation() -> None:
    from command_center.accounts.revocations import announce, revocation_channel

    settings = _settings()
    asyncio.run(announce(settings.redis_url, revocation_channel(settings)))


def _user_create(args: argparse.Namespace) -> None:
    """Prints, for the roles that need a second factor, the otpauth:// URI and the
    recovery codes: once, here."""
    from command_center.accounts import service

    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandFailed(
            "no password on stdin (echo the password | command-center user create …)"
        )
    settings = _settings()
    if args.squad or args.jurisdiction:
        _check_scope_exists(args.squad, args.jurisdiction)

    async def work(session: AsyncSession) -> str:
        created = await service.create_user(
            session=session,
            login=args.login,
            role=Role(args.role),
            password=password,
            policy=service.AccountPolicy.from_settings(settings),
            name=args.name,
            squad=args.squad,
            jurisdiction=args.jurisdiction,
            officer_number=args.officer_number,
            phone=args.phone,
            channels=service.ChannelIdentities(
                wecom_userid=args.wecom_userid,
                dingtalk_userid=args.dingtalk_userid,
                preferred_channel=args.preferred_channel,
                quiet_hours=args.quiet_hours,
            ),
        )
        lines = [
            f"account {args.login.lower()} ({args.role}) created; the password must be "
            "changed at the first sign-in"
        ]
        if created.otpauth_uri:
            lines += [
                "second factor (shown once): add this to an authenticator app",
                created.otpauth_uri,
                "recovery codes (each works once, shown once):",
                *created.recovery_codes,
            ]
        return "\n".join(lines)

    print(_with_session(work))


def _user_disable(args: argparse.Namespace) -> None:
    from command_center.accounts import service

    async def work(session: AsyncSession) -> str:
        user = await service.disable_user(session=session, login=args.login)
        return f"account {user.login} disabled; its sessions ended and its tokens revoked"

    print(_with_session(work))
    _announce_revocation()


def _user_reset(args: argparse.Namespace) -> None:
    from command_center.accounts import service

    async def work(session: AsyncSession) -> str:
        password = await service.reset_password(session=session, login=args.login)
        return (
            f"account {args.login.lower()}: new password (shown once; to be changed at "
            f"the next sign-in):\n{password}"
        )

    print(_with_session(work))
    _announce_revocation()


def _user_rekey_totp(args: argparse.Namespace) -> None:
    from command_center.accounts import service

    policy = service.AccountPolicy.from_settings(_settings())

    async def work(session: AsyncSession) -> str:
        count = await service.reseal_second_factors(session=session, policy=policy)
        return f"{count} second factors sealed again with key {policy.vault().current_id}"

    print(_with_session(work))


def _check_scope_exists(squad: str | None, jurisdiction: str | None) -> None:
    from command_center.jurisdictions import repository as jurisdictions
    from command_center.squads import service as squads

    async def work(session: AsyncSession) -> str:
        if squad and not await squads.exists(session=session, code=squad):
            raise CommandFailed(f"unknown squad {squad}")
        if jurisdiction and not await jurisdictions.existing_codes(session, [jurisdiction]):
            raise CommandFailed(f"unknown jurisdiction {jurisdiction}")
        return ""

    _with_session(work)


def _metrics_across_workers() -> None:
    """Workers keep their Prometheus values in PROMETHEUS_MULTIPROC_DIR, so that /metrics
    adds up all of them (command_center.metrics.instruments). A fresh directory unless
    one is set; a set one is emptied of an earlier run's files."""
    import os
    import tempfile

    folder = os.environ.get(MULTIPROCESS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()
    else:
        os.environ[MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="command-center-metrics-")


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    if args.workers > 1:
        _metrics_across_workers()  # before prometheus-client is first imported
    from command_center.main import create_app

    settings = _settings()
    # Compressing each event once per connection costs more CPU than the bytes it saves on
    # a LAN; with many listeners it dominated the server's time (see bench/README.md).
    options = {
        "ws_per_message_deflate": False,
        # X-Forwarded-For only from the configured proxies; none by default (issue #15)
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or None,
        "log_level": args.log_level,
        "ws_max_size": settings.websocket_max_message_bytes,
        "ws_ping_interval": settings.websocket_ping_seconds,
        "ws_ping_timeout": settings.websocket_ping_seconds,
        # writes the hub's frames built once per event (realtime/wsprotocol.py)
        "ws": "command_center.realtime.wsprotocol:PrebuiltFrameProtocol",
    }
    if args.workers < 1:
        raise CommandFailed("--workers must be at least 1")
    where = {"host": args.host, "port": args.port, "loop": args.loop}
    if args.workers == 1:
        _serve_on_own_socket(uvicorn.Config(create_app(settings), **where, **options))
        return
    settings.signing_key()
    app = "command_center.asgi:app_from_environment"
    workers = {"factory": True, "workers": args.workers}
    _serve_on_own_socket(uvicorn.Config(app, **where, **workers, **options))


def _serve_on_own_socket(config: Any) -> None:
    """uvicorn on a listening socket of our own (TCP_NODELAY, see serving.py): one process,
    or `config.workers` processes sharing it. Exit status 3 when the app did not start."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from command_center.serving import ListenError, listening_socket

    try:
        sock = listening_socket(config.host, config.port)
    except ListenError as exc:
        raise CommandFailed(str(exc)) from None
    if config.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
        return
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        raise SystemExit(3)


def _rtmp_config(args: argparse.Namespace) -> None:
    """Print the configuration; make PREFIX/logs, which nginx does not make itself."""
    from urllib.parse import urlsplit

    from command_center.video.nginx_config import RtmpConfig, render
    from command_center.video.rtmp import application

    settings = _settings()
    read = urlsplit(settings.rtmp_read_url)
    try:
        config = RtmpConfig(
            listen=args.listen or str(read.port or 1935),
            prefix=PurePosixPath(args.prefix.absolute()),
            service_url=(args.service_url or settings.rtmp_service_url).rstrip("/"),
            application=application(settings.rtmp_read_url),
        )
    except ValueError as exc:
        raise CommandFailed(str(exc)) from None
    if config.port != (read.port or 1935):
        print(
            f"warning: nginx listens on port {config.port} but the service reads from "
            f"{settings.rtmp_read_url}; set RTMP_READ_URL to match",
            file=sys.stderr,
        )
    (args.prefix / "logs").mkdir(parents=True, exist_ok=True)
    print(render(config), end="")


def _alert_test(args: argparse.Namespace) -> None:
    """One line per channel: sent (with the provider's id) or why not; exit 1 if any
    channel failed or none could be tried."""
    from command_center.alerts.worker import send_test

    settings = _settings()

    async def work() -> list[tuple[str, str, bool]]:
        database = Database.from_settings(settings)
        try:
            return await send_test(database=database, settings=settings, login=args.login)
        finally:
            await database.dispose()

    try:
        outcomes = asyncio.run(work())
    except (OSError, OperationalError) as exc:
        raise CommandFailed(f"cannot reach the database: {type(exc).__name__}") from None
    for channel, outcome, _ in outcomes:
        print(f"{channel}: {outcome}")
    if not outcomes or not all(ok for *_, ok in outcomes):
        raise CommandFailed(
            "no channel reached the account" if not outcomes else "a channel failed"
        )
