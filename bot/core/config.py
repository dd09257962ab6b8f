"""The operator's config file, and the check that validates it with every policy it names."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from bot.core.policy_files import PolicyLibrary, PolicyUnreadable
from policies.base import Invalid, Names, Phrases, worded
from policies.durations import Duration
from policies.loader import with_overrides
from policies.schema import Policy, PolicyName, StrictModel
from policies.yamlsource import (
    Located,
    Position,
    Problem,
    SourceError,
    dotted,
    parse_yaml,
    validate,
)

TOKEN_VARIABLE = "QUNBOT_TOKEN"
BASE_URL_VARIABLE = "QUNBOT_BASE_URL"
SIGNING_SECRET_VARIABLE = "QUNBOT_SIGNING_SECRET"
_HEX_SECRET = re.compile(r"(?:[0-9a-fA-F]{2}){32,}")


class LoggingConfig(StrictModel):
    level: Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR"] = "INFO"
    file: str | None = Field(
        None, description="Also write logs to this file (relative to the config), rotated daily"
    )
    json_lines: bool = Field(False, description="Write the log file as JSON lines")


class GroupConfig(StrictModel):
    chat_id: int = Field(description="The group's chat id, for example -1001234567890")
    policy: PolicyName = Field(description="The policy (or preset) this group follows")
    title: str = Field("", description="A note for operators; Telegram's title is used in chats")


class NetworkConfig(StrictModel):
    """Several groups of one shop that share bans."""

    name: str = Field(description="Shown to admins, for example 'Sunny Snacks groups'")
    groups: tuple[int, ...] = Field(min_length=2, description="Chat ids of the member groups")
    share_bans: bool = Field(True, description="A ban in one group applies in all of them")
    policy: PolicyName | None = Field(
        None, description="The policy of the network's groups that `groups:` does not name"
    )


class WebhookConfig(StrictModel):
    """Receive updates by webhook instead of polling."""

    url: str = Field(
        description="The public https URL Telegram posts to, e.g. https://bot.example.com/qunbot",
        pattern=worded(
            r"^https://\S+$",
            Invalid(
                "write an https:// address without spaces, like {example}",
                example="https://bot.example.com/qunbot",
            ),
        ),
    )
    listen: str = Field(
        "127.0.0.1:8443",
        description="HOST:PORT the webhook server binds, behind a TLS-terminating proxy",
        pattern=worded(
            r"^[^\s:]+:\d{1,5}$",
            Invalid("write HOST:PORT, like {example}", example="127.0.0.1:8443"),
        ),
    )
    secret_token_env: str = Field(
        "QUNBOT_WEBHOOK_SECRET",
        description="Environment variable holding the secret Telegram sends with every "
        "request; a random one is made at each start when it is unset",
    )
    max_connections: int = Field(40, ge=1, le=100)

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])

    @property
    def path(self) -> str:
        return "/" + self.url.split("://", 1)[1].partition("/")[2]


class Config(StrictModel):
    """Everything but the token, which comes from the QUNBOT_TOKEN environment variable."""

    database: str = Field("./qunbot.db", description="SQLite file, relative to the config")
    policies_dir: str | None = Field(
        "./policies", description="Operator policies, relative to the config; presets need none"
    )
    default_policy: PolicyName = Field(
        "default",
        description="For groups of a network that neither it nor `groups` gives one, and for "
        "texts with no group behind them; `shop-zh` when `language` is zh",
    )
    groups: tuple[GroupConfig, ...] = ()
    staff_chat: int | None = Field(None, description="Where staff see alerts and the audit log")
    networks: tuple[NetworkConfig, ...] = ()
    unknown_groups: Literal["leave", "idle"] = Field(
        "leave",
        description="A group in neither `groups` nor a network gets nothing from qunbot; the "
        "staff chat is told who added it, then qunbot leaves it or stays there idle",
    )
    start_in_dry_run: bool = Field(
        False,
        description="Groups qunbot has never served start in dry-run: it judges every message "
        "and tells the staff what it would do, and touches nobody until an admin sends "
        "/dryrun off there",
    )
    language: Literal["en", "zh"] = Field("en", description="The language of bot-side texts")
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    proxy: str | None = Field(
        None,
        description="Reach Telegram through this proxy: http://HOST:PORT, https://..., or "
        "socks5://USER:PASSWORD@HOST:PORT",
        pattern=worded(
            r"^(https?|socks5h?)://\S+$",
            Invalid(
                "write an address starting with http://, https://, socks5:// or socks5h://, "
                "without spaces, like {example}",
                example="socks5://127.0.0.1:1080",
            ),
        ),
    )
    webhook: WebhookConfig | None = Field(
        None, description="Receive updates by webhook (`url`, `listen`); polling when absent"
    )
    retention: Duration = Field(
        30 * 86400.0,
        description="How long members' message texts are kept in the audit log and closed "
        "tickets; the records themselves stay",
    )

    @field_validator("proxy")
    @classmethod
    def socks_needs_socksio(cls, proxy: str | None) -> str | None:
        if proxy and proxy.startswith("socks") and importlib.util.find_spec("socksio") is None:
            raise Invalid(
                "a SOCKS proxy needs the socksio package: run `.venv/bin/pip install "
                "'httpx[socks]'`, or use your proxy's HTTP port (http://HOST:PORT)"
            )
        return proxy

    @model_validator(mode="before")
    @classmethod
    def chinese_default_policy(cls, data: object) -> object:
        """A Chinese config without a `default_policy` takes the Chinese shop preset: its
        templates also speak in the staff chat and in private chats with no group behind
        them, which the English `default` would answer in English."""
        if isinstance(data, dict) and data.get("language") == "zh":
            return {"default_policy": "shop-zh", **data}
        return data

    @model_validator(mode="before")
    @classmethod
    def refuse_token(cls, data: object) -> object:
        if isinstance(data, dict) and "token" in data:
            raise Invalid(
                "do not put the bot token in the config file; set {variable} instead",
                variable=TOKEN_VARIABLE,
            )
        return data

    _policy_by_chat: dict[int, str] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: object, /) -> None:
        for network in self.networks:
            policy = network.policy or self.default_policy
            self._policy_by_chat.update(dict.fromkeys(network.groups, policy))
        self._policy_by_chat.update((group.chat_id, group.policy) for group in self.groups)

    def serves(self, chat_id: int) -> bool:
        """A group qunbot works in: listed under `groups` or in a network, or the staff chat."""
        return chat_id in self._policy_by_chat or chat_id == self.staff_chat

    def serves_a_basic_group(self) -> bool:
        """Whether any served chat is a basic group (ids above -10¹²; supergroups' ids are
        -100…): only a basic group can come back as a supergroup with a new id."""
        served = [*self._policy_by_chat, *([self.staff_chat] if self.staff_chat else [])]
        return any(-(10**12) < chat_id < 0 for chat_id in served)

    def adopt(self, old_id: int, new_id: int) -> None:
        """A served group became a supergroup: serve the new id with the same policy."""
        if old_id in self._policy_by_chat:
            self._policy_by_chat[new_id] = self._policy_by_chat[old_id]

    def network_peers(self, chat_id: int) -> tuple[int, ...]:
        """The other groups that share bans with this one."""
        peers: dict[int, None] = {}
        for network in self.networks:
            if network.share_bans and chat_id in network.groups:
                peers.update(dict.fromkeys(g for g in network.groups if g != chat_id))
        return tuple(peers)

    def policy_for(self, chat_id: int) -> str:
        """The policy of a group, by an index: ten thousand groups cost no scan per message."""
        return self._policy_by_chat.get(chat_id, self.default_policy)


def follow_moves(config: Config, moves: Mapping[int, int]) -> Config:
    """The config with every chat id of a group that became a supergroup replaced by the new
    id (followed through repeated moves): groups, networks and the staff chat."""

    def new_id(chat_id: int) -> int:
        seen = {chat_id}
        while chat_id in moves and moves[chat_id] not in seen:
            chat_id = moves[chat_id]
            seen.add(chat_id)
        return chat_id

    data = config.model_dump()
    for group in data["groups"]:
        group["chat_id"] = new_id(group["chat_id"])
    for network in data["networks"]:
        network["groups"] = [new_id(chat_id) for chat_id in network["groups"]]
    if data["staff_chat"] is not None:
        data["staff_chat"] = new_id(data["staff_chat"])
    return Config.model_validate(data)


def stale_ids(config: Config, moves: Mapping[int, int]) -> list[str]:
    """Where config.yaml still names a group by the id it had before it became a supergroup."""
    notes = []
    for index, group in enumerate(config.groups):
        if group.chat_id in moves:
            notes.append(f"groups[{index}].chat_id: {group.chat_id} → {moves[group.chat_id]}")
    for index, network in enumerate(config.networks):
        for position, chat_id in enumerate(network.groups):
            if chat_id in moves:
                notes.append(f"networks[{index}].groups[{position}]: {chat_id} → {moves[chat_id]}")
    if config.staff_chat in moves:
        assert config.staff_chat is not None
        notes.append(f"staff_chat: {config.staff_chat} → {moves[config.staff_chat]}")
    return notes


@dataclass
class LoadedConfig:
    """A validated config, the directory it was read from, and the policies it names."""

    config: Config
    base_dir: Path
    file: str = "(built-in)"
    policies: dict[str, Policy] = field(default_factory=dict)
    documents: dict[str, Located] = field(default_factory=dict)
    """The resolved YAML of each policy, kept so groups' overrides merge without re-reading."""

    @property
    def database_path(self) -> Path:
        return resolve_path(self.base_dir, self.config.database)

    @property
    def log_file(self) -> Path | None:
        file = self.config.logging.file
        return resolve_path(self.base_dir, file) if file else None

    @property
    def library(self) -> PolicyLibrary:
        directory = self.config.policies_dir
        return PolicyLibrary(resolve_path(self.base_dir, directory) if directory else None)


def resolve_path(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() or value == ":memory:" else base_dir / path


def load_config(path: Path) -> LoadedConfig:
    """Read and validate a config file and every policy it names, reporting all problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        reason = Invalid("cannot read the config: {error}", error=str(error))
        raise SourceError([_file_problem(str(path), reason)]) from None
    except UnicodeDecodeError:
        reason = Invalid("the config is not UTF-8 text: save it as UTF-8")
        raise SourceError([_file_problem(str(path), reason)]) from None
    located = parse_yaml(text, str(path))
    return loaded_from(located, path.resolve().parent)


def loaded_from(located: Located, base_dir: Path) -> LoadedConfig:
    """Validate a parsed config, then load each named policy; problems from both are listed."""
    problems: list[Problem] = []
    try:
        config = validate(Config, located)
    except SourceError as error:
        problems += error.problems
        config = _salvage(located)
    loaded = LoadedConfig(config, base_dir, located.file)
    problems += _load_policies(loaded, located)
    if problems:
        raise SourceError(
            sorted(problems, key=lambda item: (item.position.file, item.position.line)),
            loaded.documents,
        )
    return loaded


def _salvage(located: Located) -> Config:
    """A config built from the valid parts, so policy names can still be checked."""
    data = located.data if isinstance(located.data, dict) else {}
    groups = []
    for item in data.get("groups") or ():
        if isinstance(item, dict) and isinstance(item.get("policy"), str):
            chat_id = item.get("chat_id")
            chat_id = chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else 0
            groups.append(GroupConfig.model_construct(chat_id=chat_id, policy=item["policy"]))
    default = data.get("default_policy")
    return Config.model_construct(
        groups=tuple(groups),
        default_policy=default if isinstance(default, str) else "default",
        policies_dir=data.get("policies_dir", "./policies")
        if isinstance(data.get("policies_dir", ""), str)
        else None,
    )


def _load_policies(loaded: LoadedConfig, located: Located) -> list[Problem]:
    """Load each named policy once; a broken one is reported once, naming every group (and
    setting) that uses it."""
    config = loaded.config
    named: list[tuple[tuple[str | int, ...], str, Invalid | str]] = [
        (("default_policy",), config.default_policy, "default_policy")
    ]
    named += [
        (("groups", index, "policy"), group.policy, Invalid("group {id}", id=group.chat_id))
        for index, group in enumerate(config.groups)
    ]
    named += [
        (
            ("networks", index, "policy"),
            network.policy,
            Invalid("network {name!r}", name=network.name),
        )
        for index, network in enumerate(config.networks)
        if network.policy is not None
    ]
    users: dict[str, list[tuple[tuple[str | int, ...], Invalid | str]]] = {}
    for path, name, user in named:
        users.setdefault(name, []).append((path, user))
    problems: list[Problem] = []
    for name, uses in users.items():
        problems += _load_policy(loaded, located, name, uses)
    return problems


def _load_policy(
    loaded: LoadedConfig,
    located: Located,
    name: str,
    uses: list[tuple[tuple[str | int, ...], Invalid | str]],
) -> list[Problem]:
    library = loaded.library
    users = Phrases(user for _, user in uses)
    path = uses[0][0]
    where = located.position_of(path)
    try:
        document = library.resolve(name)
        # Kept even if the policy is refused: `qunbot check` still warns about what it reads.
        loaded.documents[name] = document
        loaded.policies[name] = with_overrides(document, None)
    except LookupError:
        known = Names(library.names())
        if library.directory is not None and not library.directory.is_dir():
            reason = Invalid(
                "unknown policy or preset {name!r} (used by {users}); available: {known} "
                "(the policies directory {directory} does not exist)",
                name=name,
                users=users,
                known=known,
                directory=str(library.directory),
            )
        else:
            reason = Invalid(
                "unknown policy or preset {name!r} (used by {users}); available: {known}",
                name=name,
                users=users,
                known=known,
            )
        return [Problem.of(where, dotted(path), reason)]
    except PolicyUnreadable as error:
        note = Invalid("policy {name!r}, used by {users}", name=name, users=users)
        return [replace(Problem.of(where, dotted(path), error.reason), note=note)]
    except SourceError as error:
        note = Invalid("policy {name!r}, used by {users}", name=name, users=users)
        return [replace(problem, note=note) for problem in error.problems]
    return []


def _file_problem(file: str, reason: Invalid) -> Problem:
    return Problem.of(Position(file, 1, 1), "", reason)


class SettingRefused(SystemExit):
    """A setting from the environment that keeps qunbot from starting. `str()` is the
    English line; `reason` lets the command line say it in the config's language."""

    def __init__(self, reason: Invalid) -> None:
        super().__init__(f"qunbot: {reason}")
        self.reason = reason


def token_from_environment() -> str:
    """The bot token, or a clear error saying where to put it."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise SettingRefused(
            Invalid(
                "set {variable} to the token BotFather gave you "
                "(or try `qunbot simulate`, which needs no token)",
                variable=TOKEN_VARIABLE,
            )
        )
    return token


def signing_secret_from_environment() -> str | None:
    """The secret that signs buttons and deep links, if the environment gives one; else the
    bot keeps its own in the database."""
    secret = os.environ.get(SIGNING_SECRET_VARIABLE, "").strip()
    if not secret:
        return None
    if _HEX_SECRET.fullmatch(secret) is None:
        raise SettingRefused(
            Invalid(
                "{variable} must be at least 64 hexadecimal digits (for example from "
                "{command}); unset it to keep the secret in the database",
                variable=SIGNING_SECRET_VARIABLE,
                command="`openssl rand -hex 32`",
            )
        )
    return secret.lower()


def base_url_from_environment() -> str | None:
    """Another Bot API server (a self-hosted one, or the fake Telegram in tests), given as
    `http://HOST:PORT/bot`; None for Telegram's own."""
    return os.environ.get(BASE_URL_VARIABLE, "").strip() or None
