"""`build_application`: the one way to build the bot, for production, tests and the simulator."""

from __future__ import annotations

from typing import Any

from loguru import logger
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

from bot.core.classifier import train_classifier
from bot.core.clock import Clock, SystemClock
from bot.core.config import LoadedConfig
from bot.core.polling import HandledUpdateQueue
from bot.core.ratelimit import SendOnlyRateLimiter
from bot.core.runtime import RUNTIME_KEY, ChatInfoCache, Runtime, runtime_of
from bot.core.signing import Signer, new_secret
from bot.features.moderation import DryRunEnforcer, LiveEnforcer, StaffNotices
from bot.features.stats import flush_stats
from bot.store import Store
from handlers import (
    admin,
    buttons,
    complaints,
    gifts,
    member_commands,
    members,
    moderation,
    private,
    rhythm,
    stats,
    throttle,
    welcome,
)

FLUSH_INTERVAL = 2.0
"""Member activity is written in batches this often, never once per message."""
PURGE_INTERVAL = 3600.0
"""How often texts past the retention are cleared; hourly keeps each purge small."""

HANDLER_MODULES = (
    throttle,
    members,
    moderation,
    admin,
    member_commands,
    complaints,
    buttons,
    private,
    welcome,
    gifts,
    stats,
    rhythm,
)
"""Registered in this order; each module names its own handler group."""


def build_application(
    loaded: LoadedConfig,
    *,
    token: str = "0:simulated",
    request: BaseRequest | None = None,
    base_url: str | None = None,
    clock: Clock | None = None,
) -> Application:  # type: ignore[type-arg]
    """Build the bot. Tests and the simulator pass a fake `request` or a local `base_url`."""
    limiter = SendOnlyRateLimiter(clock=clock.now if clock is not None else None)
    queue = HandledUpdateQueue()
    builder = ApplicationBuilder().token(token).rate_limiter(limiter).update_queue(queue)
    builder = builder.post_init(_open_services).post_shutdown(_close_services)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if base_url is not None:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot"))
    application = builder.build()
    rt_clock = clock or SystemClock()
    application.bot_data[RUNTIME_KEY] = queue.runtime = Runtime(
        loaded=loaded,
        clock=rt_clock,
        classifier=train_classifier(loaded),
        chat_info=ChatInfoCache(rt_clock),
        _documents=dict(loaded.documents),
    )
    for module in HANDLER_MODULES:
        module.register(application)
    application.add_error_handler(log_error)
    return application


async def _open_services(application: Application) -> None:  # type: ignore[type-arg]
    rt = runtime_of(application)
    rt._store = await Store.open(rt.loaded.database_path)
    rt.signer = Signer(await rt.store.meta.get_or_create("signing_secret", new_secret))
    for text, spam in await rt.store.learned.all():
        rt.classifier.learn(text, spam)
    rt.staff_notices = staff = StaffNotices(rt, application)
    rt.live_enforcer = live = LiveEnforcer(rt, application, staff)
    await live.resume_deletes()
    rt.dry_enforcer = DryRunEnforcer(rt, staff)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _flush_members, interval=FLUSH_INTERVAL, name="qunbot.flush"
        )
        application.job_queue.run_repeating(
            purge_old_texts, interval=PURGE_INTERVAL, first=1.0, name="qunbot.purge"
        )
    for hook in rt.on_ready:
        await hook(application)
    logger.info("qunbot ready: database {}", rt.loaded.database_path)


async def _flush_members(context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = runtime_of(context.application)
    await rt.store.members.flush()
    await flush_stats(rt)


async def purge_old_texts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Clear stored message texts older than the configured retention."""
    rt = runtime_of(context.application)
    cutoff = rt.now() - rt.loaded.config.retention
    cleared = await rt.store.retention.purge_texts(cutoff)
    await rt.store.enforced.forget_before(cutoff)
    if cleared:
        logger.info("cleared {} stored text(s) older than the retention", cleared)


async def _close_services(application: Application) -> None:  # type: ignore[type-arg]
    rt = runtime_of(application)
    if isinstance(rt.live_enforcer, LiveEnforcer):
        await rt.live_enforcer.drain()
    if rt._store is not None:
        await flush_stats(rt)
        await rt._store.close()
        rt._store = None


async def log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log any handler error with its chat and user; the bot keeps running."""
    chat = user = None
    if isinstance(update, Update):
        chat = update.effective_chat.id if update.effective_chat else None
        user = update.effective_user.id if update.effective_user else None
    error: Any = context.error
    logger.opt(exception=error).error("error handling update (chat {}, user {})", chat, user)
