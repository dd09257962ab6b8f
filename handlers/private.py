"""The private chat with the bot: /start (and its deep links), and re-invites after a removal."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.core.services import Services
from bot.features.bot_data import BotData, Context
from bot.features.command_call import CommandCall, reply_to
from bot.features.commands import MEANT_A_COMMAND
from policies.texts import render

PRIVATE_GROUP = 20


def register(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    application.add_handler(
        MessageHandler(private & ~filters.COMMAND & ~MEANT_A_COMMAND, private_message),
        group=PRIVATE_GROUP,
    )


async def start_private(call: CommandCall, app: BotData) -> None:
    """Serve a deep link (`/start <kind>_...`), hand out a due re-invite, tell a member qunbot
    removed how to appeal, or greet the user; then deliver the ticket replies held until they
    opened the chat."""
    user = call.message.from_user
    if user is None:
        return
    services = call.services
    payload = call.args[0] if call.args else ""
    kind = payload.split("_", 1)[0]
    handler = services.deep_links.get(kind)
    if handler is not None:
        await handler(call.message, payload)
        await app.tickets.deliver_held(user.id)  # whichever link opened the chat (rules, gift)
        return
    # Whatever /start answers (or keeps quiet about) is this hour's word to the member.
    app.limiter.first_greeting(user.id)
    if not await app.reinvites.offer(user.id):
        prompt = await app.appeals.prompt(user.id)
        await call.answer_html(prompt or await greeting(services, call.bot.first_name, user.id))
    await app.tickets.deliver_held(user.id)


async def greeting(services: Services, bot_name: str, user_id: int) -> str:
    """The greeting in the private chat (HTML), from the policy of the group the member came
    from, so it speaks that group's language; the default policy's for a stranger."""
    home = await services.home_group(user_id)
    if home is not None:
        template = (await services.policies.policy_for(home)).policy.templates.start_private
    else:
        policy = services.loaded.policies.get(services.loaded.config.default_policy)
        template = policy.templates.start_private if policy else "{bot}"
    return render(template, {"bot": bot_name})


async def private_message(update: Update, context: Context) -> None:
    """Any private message counts as the member getting in touch: a due re-invite goes out,
    a ticket's conversation is relayed elsewhere, a member qunbot removed is heard as an
    appeal (`bot.features.appeals`), and otherwise the member hears, once an hour, what the
    bot does and how to get help (after a closed ticket: how to reach the staff again)."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    app = context.bot_data
    await app.tickets.deliver_held(user.id)  # they write to the bot: it can write to them
    if await app.reinvites.offer(user.id):
        app.limiter.first_greeting(user.id)  # the apology with the invite is this hour's word
        return
    if await app.tickets.has_open_ticket(user.id) or await app.appeals.receive(message):
        return
    if app.limiter.first_greeting(user.id):
        hello = await app.tickets.after_close_text(user.id) or await greeting(
            app.services, context.bot.first_name, user.id
        )
        await reply_to(app.services, message, hello)
