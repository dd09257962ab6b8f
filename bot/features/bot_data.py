"""What handlers reach through `context.bot_data`: the services and each feature, typed.

PTB builds this object (it is the application's `bot_data` type, set through `ContextTypes`);
`build_application` fills it in before the first update. No string keys, no casts.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.core.services import Services
from bot.features.admin_actions import AdminActions
from bot.features.appeals import Appeals
from bot.features.gifts import GiftDesk
from bot.features.membership import Membership
from bot.features.moderation import Moderation
from bot.features.reinvite import Reinvites
from bot.features.reports import ReportDesk
from bot.features.rhythm import Rhythm
from bot.features.settings import GroupSettings
from bot.features.throttle import CommandLimiter
from bot.features.tickets import TicketDesk
from bot.features.welcome import Welcomer


class BotData:
    """The application's shared objects; each feature owns its own state."""

    services: Services
    moderation: Moderation
    reinvites: Reinvites
    appeals: Appeals
    actions: AdminActions
    settings: GroupSettings
    reports: ReportDesk
    welcome: Welcomer
    gifts: GiftDesk
    tickets: TicketDesk
    rhythm: Rhythm
    membership: Membership
    limiter: CommandLimiter


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
App = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]]
