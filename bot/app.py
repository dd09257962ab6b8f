"""`build_application`: the one way to build the bot, for production, tests and the simulator.

This is the composition root: it builds the services and every feature, puts them in the typed
`bot_data`, and registers the handler modules in a declared order. Nothing else imports
`handlers`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loguru import logger
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

from bot.core.application import ForgetfulApplication
from bot.core.classifier import train_classifier
from bot.core.clock import Clock, SystemClock
from bot.core.config import LoadedConfig
from bot.core.logging import started
from bot.core.polling import HandledUpdateQueue
from bot.core.ratelimit import SendOnlyRateLimiter
from bot.core.services import ReadyHook, Services
from bot.features.admin_actions import AdminActions
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
) -> App:
    """Build the bot. Tests and the simulator pass a fake `request` or a local `base_url`."""
    limiter = SendOnlyRateLimiter(clock=clock.now if clock is not None else None)
    queue = HandledUpdateQueue()
    context_types = ContextTypes(bot_data=BotData)
    builder = (
        ApplicationBuilder()
        .application_class(ForgetfulApplication)
        .token(token)
        .rate_limiter(limiter)
        .update_queue(queue)
        .context_types(context_types)
        .post_init(_open_services)
        .post_shutdown(_close_services)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if base_url is not None:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot"))
    application: App = builder.build()
    services = Services(
        loaded,
        clock or SystemClock(),
        train_classifier(loaded),
        application.bot,
        application.job_queue,
    )
    queue.services = services
    _install_features(application.bot_data, services, application)
    for module in HANDLER_MODULES:
        module.register(application)
    application.add_error_handler(log_error)
    return application


def _install_features(data: BotData, services: Services, application: App) -> None:
    """Build every feature once, with what it needs, and say what runs when the bot is ready."""
    bot, jobs = application.bot, application.job_queue
    data.services = services
    data.moderation = moderation_feature = Moderation(services)
    enforcer = moderation_feature.enforcer
    data.reinvites = Reinvites(services, bot)
    data.actions = AdminActions(services, enforcer, data.reinvites)
    data.settings = GroupSettings(services)
    data.reports = ReportDesk(services, enforcer)
    data.welcome = Welcomer(services, bot, jobs)
    data.gifts = GiftDesk(services, bot)
    data.tickets = TicketDesk(services, bot, jobs)
    data.rhythm = Rhythm(services, bot, jobs)
    data.membership = Membership(services)
    data.limiter = CommandLimiter(services.clock)
    services.on_ready.extend(
        [
            _when_ready(enforcer.resume_deletes),
            _when_ready(data.welcome.gate.reschedule_pending),
            _when_ready(data.welcome.resume_waiting),
            _when_ready(data.tickets.reschedule_reminders),
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
    await flush_stats(services)


async def purge_old_texts(context: Context) -> None:
    """Clear stored message texts older than the configured retention."""
    services = context.bot_data.services
    cutoff = services.now() - services.loaded.config.retention
    cleared = await services.store.retention.purge_texts(cutoff)
    await services.store.enforced.forget_before(cutoff)
    if cleared:
        logger.info("cleared {} stored text(s) older than the retention", cleared)


async def _close_services(application: App) -> None:
    data = application.bot_data
    await data.moderation.enforcer.notices.drain()
    if data.services.is_open:
        await flush_stats(data.services)
    await data.services.close()


async def log_error(update: object, context: Context) -> None:
    """Log any handler error with its chat and user; the bot keeps running."""
    chat = user = None
    if isinstance(update, Update):
        chat = update.effective_chat.id if update.effective_chat else None
        user = update.effective_user.id if update.effective_user else None
    logger.opt(exception=context.error).error(
        "error handling update (chat {}, user {})", chat, user
    )
