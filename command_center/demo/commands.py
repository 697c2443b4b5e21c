"""`command-center demo-mark | demo-unmark | simulate`: declare a database a demo, and
run the simulated city against a service that is one."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth import tokens
from command_center.auth.model import Role
from command_center.settings import load_settings


def add_commands(commands: Any) -> None:
    mark = commands.add_parser("demo-mark", help="declare this database a demo (scripts/demo)")
    mark.add_argument("--city", default="丽水市", help="the demo city's name (default 丽水市)")
    mark.set_defaults(run=_mark)
    unmark = commands.add_parser("demo-unmark", help="this database is no demo any more")
    unmark.set_defaults(run=_unmark)

    simulate = commands.add_parser(
        "simulate",
        help="a demo city at work through the public interfaces (only against a demo)",
    )
    simulate.add_argument("--url", default="http://127.0.0.1:8000", help="the service")
    simulate.add_argument("--rate", type=float, default=3.0, help="tips per minute (default 3)")
    simulate.add_argument(
        "--pace", type=float, default=1.0, help="multiplies every delay between steps (default 1)"
    )
    simulate.add_argument("--speed", type=float, default=35.0, help="squads' km/h (default 35)")
    simulate.add_argument(
        "--duration", type=float, default=0.0, help="seconds to run (default 0: until stopped)"
    )
    simulate.add_argument(
        "--leave-squad",
        action="append",
        default=[],
        metavar="CODE",
        help="a squad left to people (its phone is not simulated); repeatable",
    )
    simulate.add_argument("--seed", type=int, default=None, help="for a repeatable run")
    simulate.add_argument(
        "--trackers",
        type=Path,
        default=None,
        metavar="FILE",
        help="the OsmAnd ids issued to the simulated phones, as `import members` prints them "
        "(MEMBER DEVICE ID lines); without it a phone's device id is its OsmAnd id",
    )
    simulate.add_argument("--quiet", action="store_true", help="print only the summary")
    simulate.set_defaults(run=_simulate)


def _mark(args: argparse.Namespace) -> None:
    from command_center.cli import _with_session
    from command_center.demo import service

    async def work(session: AsyncSession) -> str:
        mark = await service.mark(session=session, city=args.city)
        return f"this database is a demo of {mark.city}: command-center simulate may run"

    print(_with_session(work))


def _unmark(args: argparse.Namespace) -> None:
    from command_center.cli import _with_session
    from command_center.demo import service

    async def work(session: AsyncSession) -> str:
        was = await service.unmark(session=session)
        return "this database is no demo any more" if was else "this database was no demo"

    print(_with_session(work))


def _simulate(args: argparse.Namespace) -> None:
    from command_center.cli import CommandFailed
    from command_center.simulation.client import Refused
    from command_center.simulation.model import Pacing
    from command_center.simulation.session import NotADemo, simulate, tracker_ids

    settings = load_settings()
    key = settings.signing_key()

    def mint(role: str, subject: str, squad: str | None) -> str:
        # The token helper of `command-center token`: the simulated actors' subjects say
        # they are simulated (demo-sim:…), in every event they cause.
        return tokens.mint(
            key=key, role=Role(role), subject=subject, squad=squad, ttl=timedelta(days=2)
        )

    trackers = None
    if args.trackers is not None:
        try:
            trackers = tracker_ids(args.trackers.read_text("utf-8"))
        except OSError as error:
            raise CommandFailed(f"{args.trackers}: {error.strerror}") from None
    try:
        pacing = Pacing(tips_per_minute=args.rate, pace=args.pace, speed_kmh=args.speed)
    except ValueError as error:
        raise CommandFailed(str(error)) from None

    async def run() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if args.duration > 0:
            loop.call_later(args.duration, stop.set)
        log = (lambda _line: None) if args.quiet else _say
        return await simulate(
            base_url=args.url,
            mint=mint,
            pacing=pacing,
            stop=stop,
            leave=args.leave_squad,
            seed=args.seed,
            log=log,
            trackers=trackers,
        )

    try:
        tally = asyncio.run(run())
    except (NotADemo, Refused) as refused:
        raise CommandFailed(str(refused)) from None
    except OSError as error:
        raise CommandFailed(f"cannot reach {args.url}: {error}") from None
    summary = ", ".join(f"{k} {v}" for k, v in sorted(tally.items())) or "nothing done"
    print(f"simulate: stopped; {summary}")


def _say(line: str) -> None:
    print(f"simulate: {line}", flush=True)
    sys.stdout.flush()
