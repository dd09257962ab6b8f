"""`build_application`: the one way to build the bot, for production, tests and the simulator.

This is the composition root: it builds the services and every feature, puts them in the typed
`bot_data`, and registers the handler modules in a declared order. Nothing else imports
`handlers`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from loguru import logger
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest

from bot.core.application import ForgetfulApplication
from bot.core.classifier import train_classifier
from bot.core.clock import Clock, SystemClock
from bot.core.config import LoadedConfig
from bot.core.health import Heartbeat, heartbeat_path
from bot.core.logging import started
from bot.core.ratelimit import SendOnlyRateLimiter
from bot.core.sendqueue import SendQueue, Sleep
from bot.core.services import ReadyHook, Services
from bot.core.updates import ChatLanes, LedgerBot, UpdateFlow, note_storage_error
from bot.features.admin_actions import AdminActions
from bot.features.appeals import Appeals
from bot.features.bot_data import App, BotData, Context
from bot.features.gifts import GiftDesk
from bot.features.membership import Membership
from bot.features.moderation import Moderation
from bot.features.reinvite import Reinvites
from bot.features.reports import ReportDesk
from bot.features.rhythm import Rhythm
from bot.features.settings import GroupSettings
from bot.features.stats import flush_stats
from bot.features.throttle import CommandLimiter
from bot.features.tickets import TicketDesk
from bot.features.welcome import Welcomer
from handlers import (
    buttons,
    commands,
    complaints,
    gifts,
    membership,
    moderation,
    private,
    stats,
    throttle,
    welcome,
)

TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
FLUSH_INTERVAL = 2.0
"""Member activity is written in batches this often, never once per message."""
PURGE_INTERVAL = 3600.0
"""How often texts past the retention are cleared; hourly keeps each purge small."""

HANDLER_MODULES = (
    throttle,
    membership,
    moderation,
    commands,
    complaints,
    buttons,
    private,
    welcome,
    gifts,
    stats,
)
"""Registered in this order; each module names its own handler group."""


def build_application(
    loaded: LoadedConfig,
    *,
    token: str = "0:simulated",
    request: BaseRequest | None = None,
    base_url: str | None = None,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> App:
    """Build the bot. Tests and the simulator pass a fake `request` or a local `base_url`; the
    simulator also passes a `sleep` that moves its clock instead of waiting."""
    heartbeat = _heartbeat(loaded)
    flow = UpdateFlow(heartbeat=heartbeat)
    sends = SendQueue(clock=clock.now if clock is not None else None, sleep=sleep or asyncio.sleep)
    bot = _bot(loaded, token, request, base_url, SendOnlyRateLimiter(sends))
    bot.follow(flow)
    processor = ChatLanes(flow)
    context_types = ContextTypes(bot_data=BotData)
    builder = (
        ApplicationBuilder()
        .application_class(ForgetfulApplication)
        .bot(bot)
        .concurrent_updates(processor)
        .context_types(context_types)
        .post_init(_open_services)
        .post_stop(_on_stop)
        .post_shutdown(_closer(heartbeat))
    )
    # The bot is a LedgerBot, an ExtBot: the typed alias names the base class.
    application = cast(App, builder.build())
    processor.application = application
    services = Services(
        loaded,
        clock or SystemClock(),
        train_classifier(loaded),
        application.bot,
        application.job_queue,
    )
    _install_features(application.bot_data, services, application)
    for module in HANDLER_MODULES:
        module.register(application)
    application.add_error_handler(log_error)
    return application


def _bot(
    loaded: LoadedConfig,
    token: str,
    request: BaseRequest | None,
    base_url: str | None,
    limiter: SendOnlyRateLimiter,
) -> LedgerBot:
    """The bot with its HTTP clients: through the configured proxy, if any."""
    proxy = loaded.config.proxy
    base_url = base_url or TELEGRAM_BASE_URL
    return LedgerBot(
        token,
        base_url=base_url,
        base_file_url=base_url.replace("/bot", "/file/bot"),
        request=request or HTTPXRequest(connection_pool_size=256, proxy=proxy),
        get_updates_request=request or HTTPXRequest(connection_pool_size=1, proxy=proxy),
        rate_limiter=limiter,
    )


def _heartbeat(loaded: LoadedConfig) -> Heartbeat | None:
    if loaded.config.database == ":memory:":
        return None
    return Heartbeat(heartbeat_path(loaded.database_path))


async def _on_stop(application: App) -> None:
    """At a graceful stop, while the bot can still send: the group notices and staff notes
    waiting for their interval go out, and Telegram is told which updates were handled since
    the last poll."""
    data = application.bot_data
    try:
        await data.moderation.enforcer.notices.flush_waiting()
        if data.services.is_open:
            await data.services.staff.flush_waiting()
    except (TelegramError, OSError) as error:
        logger.warning("could not send what waited at the stop: {}", error)
    finally:
        if isinstance(application.bot, LedgerBot):
            await application.bot.confirm_handled()


def _install_features(data: BotData, services: Services, application: App) -> None:
    """Build every feature once, with what it needs, and say what runs when the bot is ready."""
    bot, jobs = application.bot, application.job_queue
    data.services = services
    data.moderation = moderation_feature = Moderation(services)
    enforcer = moderation_feature.enforcer
    data.reinvites = Reinvites(services, bot)
    data.limiter = CommandLimiter(services.clock)
    data.appeals = Appeals(services, enforcer, data.limiter)
    data.actions = AdminActions(services, enforcer, data.reinvites)
    data.settings = GroupSettings(services)
    data.reports = ReportDesk(services, enforcer)
    data.welcome = Welcomer(services, bot, jobs)
    enforcer.removal_listeners.append(data.welcome.member_removed)
    data.gifts = GiftDesk(services, bot)
    data.tickets = TicketDesk(services, bot, jobs)
    data.rhythm = Rhythm(services, bot, jobs)
    data.membership = Membership(services, jobs)
    services.on_ready.extend(
        [
            _when_ready(enforcer.resume_deletes),
            _when_ready(enforcer.resume_staff_notes),
            _when_ready(data.welcome.gate.reschedule_pending),
            _when_ready(data.welcome.resume_waiting),
            _when_ready(data.tickets.reschedule_reminders),
            _when_ready(data.tickets.resume_interrupted_holds),
            _when_ready(data.rhythm.start),
        ]
    )


def _when_ready(step: Callable[[], Awaitable[object]]) -> ReadyHook:
    async def run(application: App) -> None:
        await step()

    return run


async def _open_services(application: App) -> None:
    services = application.bot_data.services
    await services.open()
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _flush_members, interval=FLUSH_INTERVAL, name="qunbot.flush"
        )
        application.job_queue.run_repeating(
            purge_old_texts, interval=PURGE_INTERVAL, first=1.0, name="qunbot.purge"
        )
    for hook in services.on_ready:
        await hook(application)
    logger.info("qunbot ready: database {}", services.loaded.database_path)
    started()


async def _flush_members(context: Context) -> None:
    services = context.bot_data.services
    await services.store.members.flush()
    await services.store.usernames.flush()
    await flush_stats(services)


async def purge_old_texts(context: Context) -> None:
    """Clear stored message texts older than the configured retention."""
    services = context.bot_data.services
    cutoff = services.now() - services.loaded.config.retention
    cleared = await services.store.retention.purge_texts(cutoff)
    await services.store.enforced.forget_before(cutoff)
    if cleared:
        logger.info("cleared {} stored text(s) older than the retention", cleared)


def _closer(heartbeat: Heartbeat | None) -> Callable[[App], Coroutine[Any, Any, None]]:
    """Close the services at shutdown, then mark the heartbeat stopped: `qunbot status` must
    not take a bot that stopped cleanly for a running one."""

    async def close(application: App) -> None:
        try:
            await _close_services(application)
        finally:
            if heartbeat is not None:
                heartbeat.stopped()

    return close


async def _close_services(application: App) -> None:
    data = application.bot_data
    data.services.doors.live.deletes.cancel_retries()
    await data.moderation.enforcer.notices.drain()
    if data.services.is_open:
        await flush_stats(data.services)
    await data.services.close()


async def log_error(update: object, context: Context) -> None:
    """Log any handler error with its chat and user; the bot keeps running. A database error
    is not logged as handled: the update is handled again (`bot.core.updates.ChatLanes`)."""
    chat = user = None
    if isinstance(update, Update):
        chat = update.effective_chat.id if update.effective_chat else None
        user = update.effective_user.id if update.effective_user else None
    error = context.error
    if isinstance(error, BaseException) and note_storage_error(error):
        logger.warning("database error (chat {}, user {}): {}", chat, user, error)
        return
    logger.opt(exception=context.error).error(
        "error handling update (chat {}, user {})", chat, user
    )
