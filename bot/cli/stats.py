"""`qunbot stats`: a group's daily numbers in the terminal, as /stats shows them."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time

from bot.cli.load import load_or_explain, operator_messages
from bot.core.config import LoadedConfig
from bot.core.i18n import Messages
from bot.features.stats import first_day, summarize
from bot.store import Store
from policies.rhythm import local_date
from policies.stats import parse_days


def stats_command(arguments: argparse.Namespace) -> int:
    """`qunbot stats --group ID --since 7d [CONFIG]`: the /stats table in the terminal, in the
    config's language, with dashes for the days before qunbot was in the group."""
    loaded = load_or_explain(arguments.config)
    if loaded is None:
        return 1
    say = operator_messages(loaded)
    days = parse_days(arguments.since)
    if days is None:
        _refuse(say.tp("--since takes a number of days, like 7d or 30d"))
        return 2
    try:
        until = dt.date.fromisoformat(arguments.until) if arguments.until else None
    except ValueError:
        _refuse(say.tp("--until takes a date, like 2026-05-17"))
        return 2
    if not loaded.database_path.exists():
        _refuse(say.tp("no database at {path}", path=loaded.database_path))
        return 1
    print(asyncio.run(_terminal_table(loaded, arguments.group, days, until, say)))
    return 0


def _refuse(line: str) -> None:
    print(f"qunbot stats: {line}", file=sys.stderr)


async def _terminal_table(
    loaded: LoadedConfig, chat_id: int, days: int, until: dt.date | None, say: Messages
) -> str:
    store = await Store.open(loaded.database_path)
    try:
        row = await store.groups.get(chat_id)
        name = loaded.config.policy_for(chat_id)
        policy = loaded.library.load(name, overrides=row.overrides if row else None)
        last = until or local_date(policy.rhythm.zone, time.time())
        first = last - dt.timedelta(days=days - 1)
        since = await first_day(store, chat_id, policy.rhythm.zone)
        summary = await summarize(store, chat_id, first, last, say, since=since)
    finally:
        await store.close()
    heading = say.tp(
        "{group}: {first} to {last} ({zone})",
        group=row.title if row and row.title else str(chat_id),
        first=first.isoformat(),
        last=last.isoformat(),
        zone=policy.rhythm.timezone,
    )
    return f"{heading}\n{summary.table}"
