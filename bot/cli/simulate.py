"""`qunbot simulate`: the real bot, polling a fake Telegram over HTTP, in a scripted group.

The fake Telegram and the script player run in a second thread with their own event loop;
the main thread runs the bot exactly as production does, with `run_polling`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import tempfile
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

from telegram import Update
from telegram.ext import Application, Job

from bot.app import build_application
from bot.cli.script import Script, load_script
from bot.cli.transcript import Transcript
from bot.core.clock import SimulatedClock
from bot.core.config import Config, GroupConfig, LoadedConfig, NetworkConfig, loaded_from
from bot.core.logging import setup_logging
from bot.fake import FakeTelegram, FakeTelegramServer
from bot.telegram.staff import DIGEST_INTERVAL as STAFF_DIGEST_INTERVAL
from policies.durations import parse_duration
from policies.yamlsource import Located

QUIET_SECONDS = 0.03
CLOCK_LINE_AFTER = 60.0
"""A job an `advance:` reaches this much later than the last line gets the time printed."""
QUIET_ROUNDS = 2
STEP_PACE = 0.5
"""Simulated seconds each step of a script takes, members typing at a human pace: windows
such as a welcome wave's close between steps as they would in a real group."""
"""The bot counts as done with an update once it has made no call for this many rounds."""
SETTLE_TIMEOUT = 15.0
GIFT_BUTTON = "gft_"
NOTICE_JOBS = ("qunbot.StaffChannel.", "qunbot.PublicNotices.")
"""Collapsed notices wait for these jobs; an update is handled once they have run."""
T = TypeVar("T")


DEFAULT_SCRIPT = "default"


def builtin_scripts() -> dict[str, Traversable]:
    """The scripts shipped with qunbot, by name (`default`, `shop-zh`)."""
    folder = resources.files("bot.cli") / "scripts"
    return {
        entry.name.removesuffix(".yaml"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


def default_script_text() -> str:
    return builtin_scripts()[DEFAULT_SCRIPT].read_text(encoding="utf-8")


def script_source(name_or_path: str | None) -> tuple[str, str]:
    """A script's text and name: a file path, or the name of a built-in script."""
    shipped = builtin_scripts()
    chosen = name_or_path or DEFAULT_SCRIPT
    path = Path(chosen)
    if path.is_file():
        return path.read_text(encoding="utf-8"), str(path)
    if chosen in shipped:
        return shipped[chosen].read_text(encoding="utf-8"), f"{chosen}.yaml"
    names = ", ".join(sorted(shipped))
    raise ScriptNotFound(
        f"no script file {chosen!r} and no built-in script of that name ({names})"
    )


class ScriptNotFound(LookupError):
    """Neither a file nor a built-in script."""


def run_simulation(script: str | Path | None, out_dir: Path | None = None) -> int:
    """Play a script (a path, or a built-in name; `default` when None) and print the
    transcript; 0 on success. Photos the bot sends (the /stats chart) are saved to `out_dir`."""
    try:
        text, name = script_source(str(script) if script is not None else None)
    except ScriptNotFound as error:
        print(f"qunbot simulate: {error}", file=sys.stderr)
        return 2
    loaded = load_script(text, name)
    os.environ.setdefault("NO_PROXY", "127.0.0.1")
    setup_logging(None, level=os.environ.get("QUNBOT_LOG_LEVEL", "WARNING"))
    out = out_dir or Path(tempfile.gettempdir()) / "qunbot-simulate"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qunbot-simulate-") as workdir:
        return Simulation(loaded, Path(workdir), out).run()


@dataclass
class Simulation:
    script: Script
    workdir: Path
    out_dir: Path | None = None
    clock: SimulatedClock = field(default_factory=SimulatedClock)
    failure: BaseException | None = None

    def run(self) -> int:
        if self.script.start is not None:
            self.clock = SimulatedClock(self.script.start.timestamp())
        fake = FakeTelegram(clock=self.clock.now, bot_username=self.script.bot_username)
        self.script.build_world(fake)
        ready = threading.Event()
        server_box: dict[str, Any] = {}
        player = threading.Thread(
            target=self._play_in_thread, args=(fake, ready, server_box), daemon=True
        )
        player.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Telegram did not start")
        application = build_application(
            self._config(),
            base_url=server_box["base_url"],
            clock=self.clock,
            sleep=self.clock.sleep,
        )
        server_box["application"] = application
        server_box["loop"] = loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server_box["bot_started"].set()
        try:
            application.run_polling(
                allowed_updates=Update.ALL_TYPES,
                stop_signals=None,
                close_loop=False,
                poll_interval=0,
            )
        finally:
            server_box["bot_done"].set()
            loop.close()
        player.join(5)
        if self.failure is not None:
            print(f"simulation failed: {self.failure}")
            return 1
        return 0

    def _config(self) -> LoadedConfig:
        policies = self.workdir / "policies"
        policies.mkdir()
        for name, body in self.script.policies.items():
            (policies / f"{name}.yaml").write_text(body, encoding="utf-8")
        config = Config(
            database=str(self.workdir / "qunbot.db"),
            policies_dir=str(policies),
            default_policy=self.script.group_policy,
            groups=self._groups(),
            staff_chat=self.script.staff_id,
            networks=self._networks(),
            language=self.script.language,
        )
        data = config.model_dump(mode="json")
        return loaded_from(Located(data, {}, {}, "(simulation)"), self.workdir)

    def _groups(self) -> tuple[GroupConfig, ...]:
        """The scripted group with its policy; the sister group keeps the plain preset."""
        main = GroupConfig(chat_id=self.script.group_id, policy=self.script.group_policy)
        sister = self.script.sister
        return (main, *((GroupConfig(chat_id=sister.id, policy="default"),) if sister else ()))

    def _group_ids(self) -> tuple[int, ...]:
        sister = self.script.sister
        return (self.script.group_id, *((sister.id,) if sister else ()))

    def _networks(self) -> tuple[NetworkConfig, ...]:
        if self.script.sister is None:
            return ()
        return (NetworkConfig(name=self.script.title, groups=self._group_ids()),)

    def _play_in_thread(
        self, fake: FakeTelegram, ready: threading.Event, box: dict[str, Any]
    ) -> None:
        box["bot_started"] = threading.Event()
        box["bot_done"] = threading.Event()
        try:
            asyncio.run(self._serve_and_play(fake, ready, box))
        except BaseException as error:
            self.failure = error

    async def _serve_and_play(
        self, fake: FakeTelegram, ready: threading.Event, box: dict[str, Any]
    ) -> None:
        async with FakeTelegramServer(fake) as server:
            box["base_url"] = server.base_url
            ready.set()
            await asyncio.to_thread(box["bot_started"].wait)
            try:
                bot = BotLoop(box["loop"], box["application"], self.clock)
                await self._play(fake, bot)
            finally:
                # The server stays up until the bot has stopped polling it.
                box["loop"].call_soon_threadsafe(box["application"].stop_running)
                await asyncio.to_thread(box["bot_done"].wait, 30)

    async def _play(self, fake: FakeTelegram, bot: BotLoop) -> None:
        transcript = Transcript(fake, self.script, out_dir=self.out_dir)
        player = Player(fake, self.clock, transcript, bot=bot)
        await player.settle()
        for step in self.script.steps:
            await player.play(step)
        await player.settle()
        transcript.flush()
        transcript.print_summary()


@dataclass
class BotLoop:
    """The bot's event loop (main thread), reached from the player's thread. One-off jobs
    (collapsed notices, welcome waves) run when the simulated clock's waited time reaches them,
    never by real time."""

    loop: asyncio.AbstractEventLoop
    application: Application  # type: ignore[type-arg]
    clock: SimulatedClock
    due: dict[Job[Any], float] = field(default_factory=dict)
    """One-off jobs by the `clock.elapsed` at which they fall due."""

    def busy(self) -> bool:
        """Still handling an update (such as drawing a chart), or still carrying out what one
        started beside its handler: deletes, removals, notices going out."""
        processing = self.application.update_processor.current_concurrent_updates
        if processing > 0 or not self.application.update_queue.empty():
            return True
        data = self.application.bot_data
        enforcer = data.moderation.enforcer
        background = (
            enforcer.removals.running,
            enforcer.notices.tasks,
            data.services.staff.tasks,
            data.services.doors.live.deletes.running,
        )
        return any(len(tasks) > 0 for tasks in background)

    async def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine in the bot's loop and wait for its result."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    async def next_notice(self) -> float | None:
        """When the next collapsed notice falls due (waited time), if within the digest
        interval: the bot has not finished with an update until its notices are out."""
        return await self.call(self._next_notice())

    async def _next_notice(self) -> float | None:
        self._note_new_jobs()
        horizon = self.clock.elapsed + STAFF_DIGEST_INTERVAL + 1
        notices = [
            at
            for job, at in self.due.items()
            if job.name is not None and job.name.startswith(NOTICE_JOBS) and at <= horizon
        ]
        return min(notices, default=None)

    async def next_job(self) -> float | None:
        """When the next one-off job falls due (waited time), however far ahead."""
        return await self.call(self._next_job())

    async def _next_job(self) -> float | None:
        self._note_new_jobs()
        queue = self.application.job_queue
        live = queue.jobs() if queue is not None else ()
        return min((at for job, at in self.due.items() if job in live), default=None)

    async def run_due(self) -> None:
        """Run every one-off job due by now (waited time), earliest first."""
        await self.call(self._run_due())

    async def _run_due(self) -> None:
        self._note_new_jobs()
        queue = self.application.job_queue
        for job, _ in sorted(self.due.items(), key=lambda item: item[1]):
            if self.due[job] > self.clock.elapsed:
                break
            del self.due[job]
            if queue is not None and job in queue.jobs():
                job.schedule_removal()
                await job.run(self.application)

    def _note_new_jobs(self) -> None:
        queue = self.application.job_queue
        if queue is None:
            return
        real_now = dt.datetime.now(dt.UTC)
        for job in queue.jobs():
            once = type(job.job.trigger).__name__ == "DateTrigger"
            if once and job not in self.due and job.next_t is not None:
                delay = (job.next_t - real_now).total_seconds()
                self.due[job] = self.clock.elapsed + max(0.0, delay)


@dataclass
class Player:
    """Turns script steps into updates and waits until the bot has dealt with each."""

    fake: FakeTelegram
    clock: SimulatedClock
    transcript: Transcript
    refs: dict[str, tuple[int, int]] = field(default_factory=dict)
    bot: BotLoop | None = None

    async def settle(self) -> None:
        """Wait until the bot has fetched every update, sent the notices it collapsed (their
        interval passing in simulated time) and gone quiet."""
        while True:
            await self._quiet()
            due = await self.bot.next_notice() if self.bot is not None else None
            if due is None or self.bot is None:
                self.transcript.flush()
                return
            self.clock.pass_time(due - self.clock.elapsed)
            await self.bot.run_due()

    async def _quiet(self) -> None:
        deadline = asyncio.get_running_loop().time() + SETTLE_TIMEOUT
        seen, quiet_rounds = len(self.fake.calls), 0
        while asyncio.get_running_loop().time() < deadline:
            busy = self.fake.pending or len(self.fake.calls) != seen
            busy = busy or (self.bot is not None and self.bot.busy())
            quiet_rounds = 0 if busy else quiet_rounds + 1
            if quiet_rounds >= QUIET_ROUNDS:
                return
            seen = len(self.fake.calls)
            await asyncio.sleep(QUIET_SECONDS)
        raise TimeoutError("the bot did not finish handling the last update in time")

    async def play(self, step: dict[str, Any]) -> None:
        (kind, value), *_ = step.items()
        handler = getattr(self, f"_step_{kind}")
        await handler(value)
        await self.settle()
        self.clock.pass_time(STEP_PACE)
        if self.bot is not None:
            await self.bot.run_due()

    async def _step_note(self, value: str) -> None:
        self.transcript.note(value)

    async def _step_join(self, value: str) -> None:
        self.fake.join(self.transcript.script.group_id, self.transcript.script.user_id(value))

    async def _step_say(self, value: dict[str, Any]) -> None:
        script = self.transcript.script
        user_id = script.user_id(value["as"])
        chat_id = script.chat_id(value.get("in", "group"), user_id)
        extras: dict[str, Any] = {
            key: value[key] for key in ("entities", "reply_markup", "quote") if key in value
        }
        if "forward_from_channel" in value:
            extras["forward_origin"] = script.channel_origin(value["forward_from_channel"])
        if "reply_to" in value:
            extras["reply_to"] = self.refs[value["reply_to"]][1]
        if value.get("reply_to_bot"):
            extras["reply_to"] = self.fake.bot_messages(chat_id)[-1].message_id
        if value.get("photo"):
            extras["photo"] = True
        update = self.fake.user_message(chat_id, user_id, value.get("text", ""), **extras)
        if "ref" in value:
            self.refs[value["ref"]] = (chat_id, update["message"]["message_id"])

    async def _step_edit(self, value: dict[str, Any]) -> None:
        chat_id, message_id = self.refs[value["ref"]]
        self.fake.edit_message(chat_id, message_id, value["text"])

    async def _step_press(self, value: dict[str, Any]) -> None:
        """Press the newest bot button in the chat; call-outs may still be on their way.
        Gift buttons are left to the `claim` step."""
        script = self.transcript.script
        user_id = script.user_id(value["as"])
        chat_id = script.chat_id(value.get("in", "group"), user_id)
        deadline = asyncio.get_running_loop().time() + SETTLE_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            found = self._newest_button(chat_id)
            if found is not None:
                self.fake.press_button(chat_id, found[0], user_id, found[1])
                return
            await asyncio.sleep(QUIET_SECONDS)
        raise LookupError(f"no bot message with a button in {value.get('in', 'group')}")

    def _newest_button(self, chat_id: int, *, gift: bool = False) -> tuple[int, str] | None:
        for message in reversed(self.fake.bot_messages(chat_id)):
            rows = (message.data.get("reply_markup") or {}).get("inline_keyboard", [])
            for row in rows:
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and str(data).startswith(GIFT_BUTTON) == gift:
                        return message.message_id, str(data)
        return None

    async def _step_claim(self, value: dict[str, Any]) -> None:
        """Press the newest gift button in the group, then follow the deep link the bot
        answers with into the private chat; a refusal (the welcome's gift is for newcomers)
        ends the claim, and the transcript shows it."""
        script = self.transcript.script
        user_id = script.user_id(value["as"])
        found = self._newest_button(script.group_id, gift=True)
        if found is None:
            raise LookupError("no bot message with a gift button in the group")
        update = self.fake.press_button(script.group_id, found[0], user_id, found[1])
        await self.settle()
        query = self.fake.callback_queries[update["callback_query"]["id"]]
        url = str((query.answer or {}).get("url", ""))
        payload = parse_qs(urlparse(url).query).get("start")
        if not payload and (query.answer or {}).get("show_alert"):
            return
        if not payload:
            raise LookupError(f"the gift button answered without a deep link: {query.answer}")
        self.fake.start_private(user_id, payload=payload[0])

    async def _step_open_ticket(self, value: dict[str, Any]) -> None:
        """The member follows the deep link of the bot's newest link button in the group."""
        script = self.transcript.script
        found = self._newest_deep_link(script.group_id)
        if found is None:
            raise LookupError("no bot message with a deep-link button in the group")
        self.fake.start_private(script.user_id(value["as"]), payload=found)

    def _newest_deep_link(self, chat_id: int) -> str | None:
        for message in reversed(self.fake.bot_messages(chat_id)):
            rows = (message.data.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in (button for row in rows for button in row):
                query = parse_qs(urlparse(str(button.get("url", ""))).query)
                if "start" in query:
                    return query["start"][0]
        return None

    async def _step_reply(self, value: dict[str, Any]) -> None:
        """Reply to the bot's newest message in a chat, such as a relayed ticket message."""
        script = self.transcript.script
        user_id = script.user_id(value["as"])
        chat_id = script.chat_id(value.get("in", "group"), user_id)
        sent = self.fake.bot_messages(chat_id)
        if not sent:
            raise LookupError(f"the bot has sent nothing in {value.get('in', 'group')}")
        self.fake.user_message(chat_id, user_id, value["text"], reply_to=sent[-1].message_id)

    async def _step_start(self, value: str) -> None:
        self.fake.start_private(self.transcript.script.user_id(value), payload=None)
        self.fake.private_message(self.transcript.script.user_id(value), "/start")

    async def _step_rejoin(self, value: str) -> None:
        """The member follows the newest invite link the bot sent them."""
        user_id = self.transcript.script.user_id(value)
        link = self.transcript.last_invite_for(user_id)
        self.fake.join(self.transcript.script.group_id, user_id, via_link=link)

    async def _step_advance(self, value: str) -> None:
        """Simulated hours or days pass as if the bot ran through them: what falls due on the
        way runs in time order, scheduled posts (the planner's) and the job queue's one-off
        jobs alike (ticket reminders, newcomer deadlines, welcome waves, collapsed notices)."""
        target = self.clock.now() + parse_duration(value)
        self.transcript.note(f"⏩ {value} later")
        while self.bot is not None and (due := await self._next_due(self.bot, target)):
            moment, is_post = due
            if is_post or moment - self.clock.now() >= CLOCK_LINE_AFTER:
                self.transcript.clock_line(moment)
            self.clock.pass_time(moment + (1 if is_post else 0) - self.clock.now())
            if is_post:
                await self.bot.call(self.bot.application.bot_data.rhythm.tick())
            else:
                await self.bot.run_due()
            await self.settle()
        self.clock.pass_time(max(0.0, target - self.clock.now()))

    async def _next_due(self, bot: BotLoop, target: float) -> tuple[float, bool] | None:
        """(when, whether it is a scheduled post) of what falls due next by `target`: a post
        first when both fall due at once, as the planner's tick would find it first."""
        post = await bot.call(bot.application.bot_data.rhythm.next_due(self.clock.now(), target))
        job = await bot.next_job()
        job_moment = None if job is None else self.clock.now() + job - self.clock.elapsed
        if job_moment is not None and job_moment <= target and (post is None or job_moment < post):
            return job_moment, False
        return None if post is None else (post, True)

    async def _step_wait(self, value: str) -> None:
        """Time passes as if the bot waited: what falls due meanwhile runs."""
        self.clock.pass_time(parse_duration(value))
        if self.bot is not None:
            await self.bot.run_due()
