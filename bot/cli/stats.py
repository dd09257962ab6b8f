"""`qunbot stats`: a group's daily numbers in the terminal, as /stats shows them."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time

from bot.cli.load import load_or_explain
from bot.core.config import LoadedConfig
from bot.core.i18n import Catalogs
from bot.features.stats import summarize
from bot.store import Store
from policies.rhythm import local_date
from policies.stats import parse_days


def stats_command(arguments: argparse.Namespace) -> int:
    """`qunbot stats --group ID --since 7d [CONFIG]`: the /stats table in the terminal."""
    loaded = load_or_explain(arguments.config)
    if loaded is None:
        return 1
    days = parse_days(arguments.since)
    if days is None:
        print("qunbot stats: --since takes a number of days, like 7d or 30d", file=sys.stderr)
        return 2
    if not loaded.database_path.exists():
        print(f"qunbot stats: no database at {loaded.database_path}", file=sys.stderr)
        return 1
    until = dt.date.fromisoformat(arguments.until) if arguments.until else None
    print(asyncio.run(_terminal_table(loaded, arguments.group, days, until)))
    return 0


async def _terminal_table(
    loaded: LoadedConfig, chat_id: int, days: int, until: dt.date | None
) -> str:
    store = await Store.open(loaded.database_path)
    try:
        row = await store.groups.get(chat_id)
        name = loaded.config.policy_for(chat_id)
        policy = loaded.library.load(name, overrides=row.overrides if row else None)
        last = until or local_date(policy.rhythm.zone, time.time())
        first = last - dt.timedelta(days=days - 1)
        say = Catalogs(loaded.config.language).default
        summary = await summarize(store, chat_id, first, last, say, since=dt.date.min)
    finally:
        await store.close()
    title = row.title if row and row.title else str(chat_id)
    heading = f"{title}: {first} to {last} ({policy.rhythm.timezone})"
    return f"{heading}\n{summary.table}"
