"""Admin commands that steer the group's policy: /mode /ladder /policy /set /reload /allow
/block /dryrun /lang /why /status. They are registered from the command table
(`handlers.commands`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from telegram import Message

from bot.core.i18n import N_, Messages, supported
from bot.core.policy_files import PolicyNotFound, PolicyUnreadable
from bot.core.reasons import say_located
from bot.core.services import Services
from bot.features.bot_data import BotData
from bot.features.choices import choice_named, in_every_catalog, steps_in_every_catalog
from bot.features.command_call import CommandCall
from bot.features.explain import explain_entry
from bot.features.settings import shown_value
from bot.telegram.extract import replied_to
from bot.telegram.rights import rights_report
from policies.detect.config import DetectorsConfig
from policies.durations import is_bare_number
from policies.schema import STEP_WORDS, LadderStep, Mode, Policy, is_duration_key, split_steps
from policies.yamlsource import SourceError


async def set_mode(call: CommandCall, app: BotData) -> None:
    """Switch the group's first response to ad posters; without a word, say the current one.
    A mode may be named as either language names it (`/mode 踢出`, `/mode 暴力`)."""
    say = call.messages
    if not call.args:
        policy = (await call.services.policies.policy_for(call.group)).policy
        current = say.step(policy.moderation.mode.value)
        await call.answer(
            say.tp("Mode is {mode}. Usage: {usage}", mode=current, usage=call.usage())
        )
        return
    choice = choice_named(call.args[0], steps_in_every_catalog(MODES, MODE_WORDS))
    if choice is None:
        choices = say.listing(_mode_choice(say, mode.value) for mode in Mode)
        await call.answer(
            say.tp("{word} is not a mode: choose {choices}.", word=call.args[0], choices=choices)
        )
        return
    path = ("moderation", "mode")
    problem = await app.settings.override(call.group, call.chat_title, path, choice, call.actor_id)
    done = call.messages.tp("Mode is now {mode}.", mode=call.messages.step(choice))
    await call.answer(problem or done)


MODES = tuple(mode.value for mode in Mode)
MODE_WORDS = {mode: tuple(w for w, step in STEP_WORDS.items() if step == mode) for mode in MODES}
"""The words shop owners use for the modes, beside the names qunbot's replies give them."""


def _mode_choice(say: Messages, mode: str) -> str:
    """A mode as an admin may type it: its word, and its name in the group's language."""
    named = say.step(mode)
    return mode if named == mode else say.tp("{mode} ({name})", mode=mode, name=named)


async def set_ladder(call: CommandCall, app: BotData) -> None:
    """Show the ladder, or set it: steps separated by commas."""
    say = call.messages
    if call.args:
        wanted = split_steps(" ".join(call.args))
        problem = await app.settings.override(
            call.group, call.chat_title, ("moderation", "ladder"), wanted, call.actor_id
        )
        if problem:
            await call.answer(say.tp("Not changed: {problem}", problem=problem))
            return
    policy = (await call.services.policies.policy_for(call.group)).policy
    await call.answer(ladder_line(policy, say))


def ladder_line(policy: Policy, say: Messages) -> str:
    """The ladder, and where the group's mode starts on it (its first step when the mode's
    kind is not on it)."""
    steps = say.ladder(policy.moderation.ladder)
    mode = say.step(policy.moderation.mode.value)
    if any(step.kind.value == policy.moderation.mode.value for step in policy.moderation.ladder):
        return say.tp("Ladder: {steps} (mode {mode} starts it)", steps=steps, mode=mode)
    return say.tp(
        "Ladder: {steps} (mode {mode} is not on it, so its first step starts)",
        steps=steps,
        mode=mode,
    )


async def show_policy(call: CommandCall, app: BotData) -> None:
    """The effective policy in short, with this group's overrides."""
    policy = (await call.services.policies.policy_for(call.group)).policy
    overrides, dry_run = await call.services.policies.settings(call.group)
    moderation, say = policy.moderation, call.messages
    none = say.tp("none")
    name = call.services.loaded.config.policy_for(call.group)
    lines = [
        say.tp("Policy: {name} ({title})", name=name, title=policy.name),
        say.tp(
            "Language: {language}",
            language=say.tp(LANGUAGE_NAMES.get(say.language, say.language)),
        ),
        say.tp(
            "Mode: {mode}; ladder: {steps}",
            mode=say.step(moderation.mode.value),
            steps=say.ladder(moderation.ladder),
        ),
        say.tp(
            "Window {window}, re-invite after {reinvite}, call-outs every {interval}",
            window=say.duration(moderation.window),
            reinvite=say.duration(moderation.reinvite_after),
            interval=say.duration(moderation.callout_interval),
        ),
        say.tp("Allowed: {allowed}", allowed=_allowed(moderation.detectors, say) or none),
        say.tp("Dry-run: {state}", state=say.tp("on") if dry_run else say.tp("off")),
        say.tp("Overrides: {overrides}", overrides=say.listing(_settings(overrides, say)) or none),
    ]
    await call.answer("\n".join(lines))


def _allowed(detectors: DetectorsConfig, say: Messages) -> str:
    """Every allow list of the group, by kind, as `/allow` names the kinds."""
    lists = {
        "link": detectors.links.allow,
        "contact": detectors.contacts.allow,
        "shop": detectors.marketplace.allow,
    }
    return say.tp("; ").join(
        say.tp(
            "{kind}: {entries}", kind=say.tp(ALLOW_KIND_NAMES[kind]), entries=say.listing(entries)
        )
        for kind, entries in lists.items()
        if entries
    )


def _settings(overrides: Mapping[str, Any], say: Messages, prefix: str = "") -> list[str]:
    """A group's overrides as an admin would type them, in the group's words:
    `moderation.mode = 提醒`, a list as its entries (a keyword by its pattern)."""
    found = []
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            found += _settings(value, say, f"{prefix}{key}.")
        else:
            found.append(f"{prefix}{key} = {_shown_setting(f'{prefix}{key}', value, say)}")
    return found


def _shown_setting(key: str, value: Any, say: Messages) -> str:
    if key == "moderation.mode" and isinstance(value, str):
        return say.step(value)
    if key == "moderation.ladder" and isinstance(value, list):
        return say.ladder(LadderStep.model_validate(step) for step in value)
    return shown_value(value, say)


async def set_key(call: CommandCall, app: BotData) -> None:
    """Override one policy key for this group, checked by the schema."""
    say = call.messages
    if len(call.args) < 2:
        await call.answer(say.tp("Usage: {usage}", usage=call.usage()))
        return
    path = tuple(call.args[0].split("."))
    try:
        value = yaml.safe_load(" ".join(call.args[1:]))
    except yaml.YAMLError:
        await call.answer(say.tp("Cannot read that value. Usage: {usage}", usage=call.usage()))
        return
    if is_bare_number(value) and is_duration_key(path):
        await call.answer(say.tp(DURATION_NEEDS_UNIT, key=".".join(path), value=value))
        return
    problem = await app.settings.override(call.group, call.chat_title, path, value, call.actor_id)
    if problem:
        await call.answer(say.tp("Not changed: {problem}", problem=problem))
        return
    await call.answer(say.tp("{key} = {value}", key=".".join(path), value=value))


DURATION_NEEDS_UNIT = N_(
    "Not changed: {key} is a duration, and {value} alone could be seconds, minutes or days. "
    "Write the unit: {value}s, {value}m, {value}h or {value}d"
)


async def reload_policies(call: CommandCall, app: BotData) -> None:
    """Re-read the policy files; on an error keep the old policy and say where it is."""
    loaded = call.services.loaded
    names = {loaded.config.default_policy, *(group.policy for group in loaded.config.groups)}
    say = call.messages
    try:
        call.services.policies.reload(sorted(names))
    except SourceError as error:
        listed = "\n".join(say_located(say, problem) for problem in error.problems[:5])
        await call.answer(
            say.tp(
                "Kept the old policies; fix these and /reload again:\n{problems}", problems=listed
            )
        )
        return
    except PolicyNotFound as error:
        await call.answer(say.tp(POLICY_GONE, name=error.name))
        return
    except PolicyUnreadable as error:
        template = POLICY_NOT_TEXT if error.not_text else POLICY_UNREADABLE
        await call.answer(say.tp(template, file=error.file))
        return
    await call.answer(
        call.messages.tnp("Reloaded {count} policy.", "Reloaded {count} policies.", len(names))
    )


async def _why_for_staff(call: CommandCall, app: BotData, entry_id: int | None) -> str:
    """In the staff chat, where the notes name actions by id, of any group, evidence included:
    the action named, or the one the replied-to note tells of."""
    say = call.messages
    replied = replied_to(call.message) if entry_id is None else None
    if replied is not None:
        actions = staff_note_actions(call.services, replied)
        if len(actions) > 1:
            ids = say.listing(f"#{action}" for action in actions)
            return say.tp(WHY_WHICH, count=len(actions), ids=ids, first=actions[0])
        entry_id = actions[0] if actions else None
    entry = await app.settings.audit_entry(None, entry_id, None)
    if entry is None:
        return say.tp("Nothing recorded for that. Usage: {usage}", usage=call.usage())
    return explain_entry(entry, say)


WHY_WHICH = N_(
    "This message tells of {count} actions: {ids}. Send /why with one of them, like /why {first}."
)


def staff_note_actions(services: Services, message: Message) -> tuple[int, ...]:
    """The actions a staff message of qunbot's tells of: as the staff channel sent them, or,
    for a message from before a restart, by the signed Undo buttons under it."""
    known = services.staff.actions_in(message.chat_id, message.message_id)
    if known:
        return known
    markup = message.reply_markup
    rows = markup.inline_keyboard if markup is not None else ()
    signed = (
        services.signer.verify(str(button.callback_data), "undo")
        for row in rows
        for button in row
        if button.callback_data is not None
    )
    return tuple(numbers[0] for numbers in signed if numbers and len(numbers) == 1)


POLICY_GONE = N_(
    "Kept the old policies: the policy {name} is neither a file in the policy directory nor a "
    "preset any more. Put {name}.yaml back (or change the config) and /reload again."
)
POLICY_NOT_TEXT = N_(
    "Kept the old policies: {file} is not UTF-8 text. Save it as UTF-8 and /reload again."
)
POLICY_UNREADABLE = N_(
    "Kept the old policies: {file} cannot be opened. Check that qunbot may read it and /reload "
    "again."
)
CHAT_ID = N_("Chat id of {title}: {chat_id}")
ALLOWED = N_("Allowed ({kind}): {value}")
ALLOW_KIND_NAMES = {"link": N_("link"), "contact": N_("contact"), "shop": N_("shop")}
LANGUAGE_NAMES = {"en": N_("English"), "zh": N_("Chinese")}
ALLOW_KINDS = {
    "link": ("moderation", "detectors", "links", "allow"),
    "contact": ("moderation", "detectors", "contacts", "allow"),
    "shop": ("moderation", "detectors", "marketplace", "allow"),
}
"""Where `/allow [KIND] VALUE` writes: links (domains, @names, t.me), contacts (WeChat ids,
QQ and phone numbers) and the shop's own store ids on the marketplaces."""


ALLOW_KIND_WORDS = in_every_catalog(ALLOW_KIND_NAMES)
ALLOW_WHICH_KIND = N_(
    "{value} is neither a link nor a contact (a WeChat id, a QQ or phone number). Say what it "
    "is: /allow {kinds} {value}"
)
_CONTACT_ID = re.compile(r"[A-Za-z0-9_+\-]+")
"""What a WeChat id, a QQ number or a phone number is written with."""


def allow_kind(value: str) -> str | None:
    """A domain, URL or @name is a link; an id or number is a contact; anything else (a word
    such as 淘宝) is neither, and the admin is asked which kind they mean."""
    if value.startswith("@") or "." in value or "/" in value:
        return "link"
    return "contact" if _CONTACT_ID.fullmatch(value) else None


async def show_chat_id(call: CommandCall, app: BotData) -> None:
    """The id of this chat, for `groups:` or `staff_chat:` in config.yaml (in private: the
    caller's own, which can be a one-person staff chat)."""
    chat = call.message.chat
    name = chat.title or chat.full_name or chat.id
    await call.answer(call.messages.tp(CHAT_ID, title=name, chat_id=chat.id))


async def allow_link(call: CommandCall, app: BotData) -> None:
    """Never treat this link, contact or store as an ad in this group, whatever the preset
    lists: a blocked entry of the same link is dropped."""
    args, say = call.args, call.messages
    named_kind = choice_named(args[0], ALLOW_KIND_WORDS) if len(args) == 2 else None
    guessed = allow_kind(args[0]) if len(args) == 1 else None
    kind, value = (named_kind, args[1]) if named_kind else (guessed, args[0] if args else "")
    if len(args) == 1 and kind is None:
        kinds = "|".join(say.tp(ALLOW_KIND_NAMES[name]) for name in ALLOW_KINDS)
        await call.answer(say.tp(ALLOW_WHICH_KIND, value=value, kinds=kinds))
        return
    if kind is None:
        await call.answer(say.tp("Usage: {usage}", usage=call.usage()))
        return
    detectors = (await call.services.policies.policy_for(call.group)).policy.moderation.detectors
    current = {
        "link": detectors.links.allow,
        "contact": detectors.contacts.allow,
        "shop": detectors.marketplace.allow,
    }
    allowed = [entry for entry in current[kind] if entry.lower() != value.lower()]
    problem = await app.settings.override(
        call.group, call.chat_title, ALLOW_KINDS[kind], [*allowed, value], call.actor_id
    )
    if problem is None and kind == "link":
        blocked = [entry for entry in detectors.links.block if entry.lower() != value.lower()]
        if blocked != detectors.links.block:
            path = ("moderation", "detectors", "links", "block")
            problem = await app.settings.override(
                call.group, call.chat_title, path, blocked, call.actor_id
            )
    if problem:
        await call.answer(call.messages.tp("Not changed: {problem}", problem=problem))
        return
    kind_name = call.messages.tp(ALLOW_KIND_NAMES[kind])
    await call.answer(call.messages.tp(ALLOWED, kind=kind_name, value=value))


async def block_word(call: CommandCall, app: BotData) -> None:
    """Count a word or phrase as an ad on its own in this group. An entry for the same word
    from the preset is replaced, so the group's weight is the one that counts."""
    if not call.args:
        await call.answer(call.messages.tp("Usage: {usage}", usage=call.usage()))
        return
    word = " ".join(call.args)
    policy = (await call.services.policies.policy_for(call.group)).policy
    entries = [
        entry.model_dump()
        for entry in policy.moderation.detectors.keywords.entries
        if entry.regex or entry.pattern.lower() != word.lower()
    ]
    entries.append({"pattern": word, "weight": 1.0})
    path = ("moderation", "detectors", "keywords", "entries")
    problem = await app.settings.override(
        call.group, call.chat_title, path, entries, call.actor_id
    )
    if problem:
        await call.answer(call.messages.tp("Not changed: {problem}", problem=problem))
        return
    await call.answer(call.messages.tp("Blocked: {word}", word=word))


DRY_RUN_WORDS = in_every_catalog(
    {"on": N_("on"), "off": N_("off")},
    {"on": ("开", "打开", "开启"), "off": ("关", "关掉", "关闭")},
)


async def set_dry_run(call: CommandCall, app: BotData) -> None:
    """Decide and report, but touch nothing, until switched off again; without a word, say
    whether it is on."""
    say = call.messages
    if not call.args:
        _, dry_run = await call.services.policies.settings(call.group)
        state = say.tp("on") if dry_run else say.tp("off")
        await call.answer(
            say.tp("Dry-run is {state}. Usage: {usage}", state=state, usage=call.usage())
        )
        return
    choice = choice_named(call.args[0], DRY_RUN_WORDS) if len(call.args) == 1 else None
    if choice is None:
        await call.answer(say.tp("Usage: {usage}", usage=call.usage()))
        return
    await app.settings.set_dry_run(call.group, call.chat_title, choice == "on", call.actor_id)
    state = call.messages.tp("on") if choice == "on" else call.messages.tp("off")
    await call.answer(call.messages.tp("Dry-run is {state}.", state=state))


async def set_language(call: CommandCall, app: BotData) -> None:
    """The language qunbot speaks in this group (its replies, notices' placeholders, menus'
    answers); the policy's templates stay as written."""
    choice = None
    if len(call.args) == 1:
        choice = supported(call.args[0]) or choice_named(call.args[0], LANGUAGE_WORDS)
    if choice is None:
        answer = SPEAKING_AND_USAGE if not call.args else N_("Usage: {usage}")
        await call.answer(call.messages.tp(answer, usage=call.usage()))
        return
    path = ("language",)
    problem = await app.settings.override(call.group, call.chat_title, path, choice, call.actor_id)
    if problem:
        await call.answer(call.messages.tp("Not changed: {problem}", problem=problem))
        return
    now_speaking = call.services.catalogs.get(choice)
    await call.answer(now_speaking.tp("I speak English in this group now."))


SPEAKING_AND_USAGE = N_("I speak English in this group. Usage: {usage}")
"""`/lang` alone: the language the group hears now (each catalog names its own)."""
LANGUAGE_WORDS = in_every_catalog(LANGUAGE_NAMES, {"zh": ("汉语",), "en": ("英语",)})


WHY_EXPLAINED = 8
"""Members of one notice /why explains in full; a raid's notice names dozens, and one message
holds about ten explanations."""


async def explain_action(call: CommandCall, app: BotData) -> None:
    """Which rules fired and what was done, for an action id or a replied-to message (each
    member a notice of qunbot's names, by the ids the staff chat gave their removals)."""
    number = call.args[0].lstrip("#") if call.args else ""
    entry_id = int(number) if number.isascii() and number.isdigit() else None
    say = call.messages
    if call.args and entry_id is None:
        await call.answer(say.tp("Usage: {usage}", usage=call.usage()))
        return
    if call.chat_id is None:
        await call.answer(await _why_for_staff(call, app, entry_id))
        return
    replied = replied_to(call.message)
    replied_id = replied.message_id if replied is not None else None
    entries = await app.settings.entries_asked(call.group, entry_id, replied_id)
    if not entries:
        await call.answer(say.tp("Nothing recorded for that. Usage: {usage}", usage=call.usage()))
        return
    in_group = call.message.chat.type != "private"
    lines = [
        await app.settings.explained(entry, say, call.chat_title, in_group=in_group)
        for entry in entries[:WHY_EXPLAINED]
    ]
    rest = entries[WHY_EXPLAINED:]
    if rest:
        ids = say.listing(f"#{entry.id}" for entry in rest)
        lines.append(
            say.tp("{count} more: {ids} (/why ID explains one)", count=len(rest), ids=ids)
        )
    await call.answer("\n".join(lines))


async def show_status(call: CommandCall, app: BotData) -> None:
    """Which rights qunbot has here, which it lacks, and whether it sees every message."""
    await call.answer(await rights_report(call.bot, call.group, call.messages))
