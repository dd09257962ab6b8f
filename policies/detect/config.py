"""The `moderation.detectors` section of a policy: what counts as an ad, and how strongly.

Every weight is a score added to the message's total when its rule fires; a total at or above
`spam_threshold` (1.0 by default) makes the message spam. A weight of 1.0 or more therefore
means "spam by itself", and smaller weights need company.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policies.base import Invalid
from policies.detect.safe_regex import safe_pattern_problem

__all__ = [
    "DEFAULT_SHORTENERS",
    "SHIPPED_MODEL",
    "SHIPPED_SAMPLES",
    "ClassifierConfig",
    "ContactWeights",
    "ContactsConfig",
    "DetectorsConfig",
    "KeywordEntry",
    "KeywordsConfig",
    "LinkWeights",
    "LinksConfig",
    "MarketplaceConfig",
    "MessageKindsConfig",
    "sample_is_spam",
]

DEFAULT_SHORTENERS: tuple[str, ...] = (
    "bit.ly",
    "bitly.com",
    "t.cn",
    "dwz.cn",
    "url.cn",
    "suo.im",
    "suo.yt",
    "sohu.gg",
    "mrw.so",
    "tinyurl.com",
    "goo.gl",
    "is.gd",
    "v.gd",
    "ow.ly",
    "buff.ly",
    "rebrand.ly",
    "cutt.ly",
    "shorturl.at",
    "rb.gy",
    "t.ly",
    "tiny.cc",
    "s.id",
    "u.nu",
    "lnkd.in",
    "adf.ly",
    "shorte.st",
    "bl.ink",
    "clck.ru",
    "qps.ru",
    "surl.li",
    "tinyurl.ph",
    "linktr.ee",
)

SHIPPED_SAMPLES: dict[str, tuple[str, ...]] = {
    "spam": ("samples/zh_spam.txt", "samples/en_spam.txt"),
    "ham": ("samples/zh_ham.txt", "samples/en_ham.txt"),
}
"""Sample files shipped in the `policies` package, relative to it, by label."""

_SAMPLE_SUFFIXES = ("spam.txt", "ham.txt")


def _section() -> ConfigDict:
    return ConfigDict(extra="forbid")


class LinkWeights(BaseModel):
    """Score of each kind of link."""

    model_config = _section()

    unknown: float = Field(0.5, ge=0, description="A link to a domain on neither list.")
    blocked: float = Field(1.5, ge=0, description="A link to a blocked domain or channel.")
    shortener: float = Field(0.8, ge=0, description="A link through a URL shortener.")
    invite: float = Field(1.0, ge=0, description="A t.me / telegram.me link or invite.")
    mention: float = Field(
        0.3,
        ge=0,
        description="An @name that is not on the allow list (it may be a member, so weak).",
    )


class LinksConfig(BaseModel):
    """Links in the text, in entities and in buttons, and @mentions."""

    model_config = _section()

    enabled: bool = Field(True, description="Check links and mentions at all.")
    allow: list[str] = Field(
        default_factory=list,
        description="The shop's own domains (subdomains included), URLs, @names and t.me "
        "links. They never count, even when disguised.",
    )
    block: list[str] = Field(
        default_factory=list, description="Domains, @names and t.me links that always count."
    )
    shorteners: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SHORTENERS),
        description="URL shortener domains: they hide where a link goes.",
    )
    weights: LinkWeights = Field(default_factory=LinkWeights, description="Score per link kind.")


class ContactWeights(BaseModel):
    """Score of each kind of contact offer."""

    model_config = _section()

    wechat: float = Field(1.0, ge=0, description="A WeChat id (微信/VX/V信/wx ...) offered.")
    qq: float = Field(1.0, ge=0, description="A QQ number or QQ group (QQ/扣扣/企鹅/群) offered.")
    phone: float = Field(
        0.5, ge=0, description="A phone number. Customers give theirs for orders, so weak."
    )
    offer: float = Field(
        0.5, ge=0, description="'加我', '私聊我', 'dm me': invitations to talk privately."
    )


class ContactsConfig(BaseModel):
    """Invitations to move to WeChat, QQ, a phone or a private chat."""

    model_config = _section()

    enabled: bool = Field(True, description="Look for contact offers at all.")
    allow: list[str] = Field(
        default_factory=list,
        description="The shop's own contacts: WeChat ids, QQ numbers and phone numbers. They "
        "never count, and neither does an invitation to reach them.",
    )
    weights: ContactWeights = Field(
        default_factory=ContactWeights, description="Score per contact kind."
    )


class MarketplaceConfig(BaseModel):
    """Share codes and links of Taobao, Pinduoduo, JD and Meituan."""

    model_config = _section()

    enabled: bool = Field(True, description="Look for marketplace share codes at all.")
    allow: list[str] = Field(
        default_factory=list,
        description="The shop's own store ids or names as they appear in its share texts and "
        "links (e.g. the id in shop12345678.taobao.com): a share naming one is the shop's own.",
    )
    weight: float = Field(
        1.0, ge=0, description="Score of a share code (淘口令, 砍一刀, 京口令 ...)."
    )
    link_weight: float = Field(
        0.7,
        ge=0,
        description="Score of a plain link to a marketplace page: enough for a newcomer on "
        "probation, not for an established member mentioning where they shop.",
    )


class KeywordEntry(BaseModel):
    """One keyword or pattern, matched on the normalized (folded, lower-case) text."""

    model_config = _section()

    pattern: str = Field(min_length=1, description="The word, or a regex if `regex` is true.")
    weight: float = Field(0.5, ge=0, description="Score when the pattern is found.")
    regex: bool = Field(
        False,
        description="Treat `pattern` as a regular expression (RE2 syntax: no backreferences "
        "or lookarounds).",
    )

    @model_validator(mode="after")
    def _safe_regex(self) -> KeywordEntry:
        problem = safe_pattern_problem(self.pattern) if self.regex else None
        if problem is not None:
            raise problem
        return self


def _default_keywords() -> list[KeywordEntry]:
    words = {
        "日赚": 0.5,
        "日入": 0.5,
        "躺赚": 0.6,
        "稳赚": 0.5,
        "刷单": 0.6,
        "兼职日结": 0.6,
        "跑分": 0.6,
        "博彩": 0.6,
        "菠菜": 0.4,
        "代开发票": 0.8,
        "办证": 0.5,
        "网贷": 0.5,
        "套现": 0.6,
        "引流": 0.5,
        "涨粉": 0.5,
        "飞机号": 0.5,
        "协议号": 0.5,
        "上粉": 0.5,
        "赚零花钱": 0.5,
        "百家乐": 0.6,
        "真人荷官": 0.8,
        "注册就送": 0.5,
        "usdt": 0.4,
        "guaranteed profit": 0.8,
        "passive income": 0.5,
        "crypto signals": 0.6,
        "airdrop": 0.4,
    }
    return [KeywordEntry(pattern=word, weight=weight) for word, weight in words.items()]


class KeywordsConfig(BaseModel):
    """Words and patterns the shop counts as ads, in any language."""

    model_config = _section()

    enabled: bool = Field(True, description="Look for the keywords at all.")
    entries: list[KeywordEntry] = Field(
        default_factory=_default_keywords,
        description="Keywords and patterns; all are compiled into one matcher per policy.",
    )


class MessageKindsConfig(BaseModel):
    """Kinds of message that are often ads whatever they say."""

    model_config = _section()

    enabled: bool = Field(True, description="Score message kinds at all.")
    forward_channel: float = Field(0.5, ge=0, description="A forward from a channel.")
    forward_chat: float = Field(0.3, ge=0, description="A forward from another group.")
    via_bot: float = Field(0.5, ge=0, description="An inline result sent via a bot.")
    contact_card: float = Field(0.8, ge=0, description="A shared contact card.")
    sender_chat: float = Field(
        0.8, ge=0, description="A message sent on behalf of a channel (not the group itself)."
    )
    benign_inline_bots: list[str] = Field(
        default_factory=lambda: ["gif", "pic", "vid", "bing", "wiki", "sticker", "youtube"],
        description="Inline bots whose results are ordinary chat (GIFs, pictures, stickers).",
    )


SHIPPED_MODEL = "shipped"


class ClassifierConfig(BaseModel):
    """The statistical scorer: the shipped linear model (or one made by `qunbot train`), which
    admins' /spam and /notspam marks adjust; or, with `model: naive-bayes`, Naive Bayes over
    character n-grams trained on the `samples` files alone."""

    model_config = _section()

    enabled: bool = Field(True, description="Use the statistical scorer.")
    model: str = Field(
        SHIPPED_MODEL,
        min_length=1,
        description="'shipped' (the ad model in the package), a model file made by "
        "`qunbot train` (relative to the config), or 'naive-bayes'.",
    )
    threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Spam probability at or above which the scorer fires; empty: the "
        "model's own threshold (chosen at training). Higher is stricter.",
    )
    weight: float = Field(1.0, ge=0, description="Score when the scorer fires.")
    smoothing: float = Field(
        0.2, gt=0, le=1, description="naive-bayes: additive smoothing (1.0 is Laplace's rule)."
    )
    ngram_sizes: list[int] = Field(
        default_factory=lambda: [2],
        min_length=1,
        description="naive-bayes: lengths of the character n-grams taken from Chinese text.",
    )
    samples: list[str] = Field(
        default_factory=lambda: [*SHIPPED_SAMPLES["spam"], *SHIPPED_SAMPLES["ham"]],
        description="Labelled files, one message per line; names end in 'spam.txt' or "
        "'ham.txt'. Relative names are looked up in the policies package. naive-bayes trains "
        "on them; a linear model learns them as admin marks (the shipped ones are already in "
        "the shipped model).",
    )

    @field_validator("ngram_sizes")
    @classmethod
    def _small_ngrams(cls, sizes: list[int]) -> list[int]:
        if any(size < 1 or size > 5 for size in sizes):
            raise Invalid("n-gram sizes must be between 1 and 5")
        return sorted(set(sizes))

    @field_validator("samples")
    @classmethod
    def _labelled_samples(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name.endswith(_SAMPLE_SUFFIXES):
                raise _not_a_sample_name(name)
        return names


class DetectorsConfig(BaseModel):
    """All detectors of a policy (`moderation.detectors`)."""

    model_config = _section()

    links: LinksConfig = Field(default_factory=LinksConfig, description="Links and mentions.")
    contacts: ContactsConfig = Field(
        default_factory=ContactsConfig, description="WeChat, QQ, phone and DM offers."
    )
    marketplace: MarketplaceConfig = Field(
        default_factory=MarketplaceConfig, description="Taobao, Pinduoduo, JD, Meituan codes."
    )
    keywords: KeywordsConfig = Field(
        default_factory=KeywordsConfig, description="The shop's own keywords and patterns."
    )
    kinds: MessageKindsConfig = Field(
        default_factory=MessageKindsConfig, description="Forwards, inline bots, contact cards."
    )
    classifier: ClassifierConfig = Field(
        default_factory=ClassifierConfig, description="The statistical scorer."
    )
    spam_threshold: float = Field(
        1.0, gt=0, description="Total score at or above which a message is spam."
    )


def sample_is_spam(name: str) -> bool:
    """The label of a sample file, from its name (`...spam.txt` or `...ham.txt`)."""
    if name.endswith("spam.txt"):
        return True
    if name.endswith("ham.txt"):
        return False
    raise _not_a_sample_name(name)


def _not_a_sample_name(name: str) -> Invalid:
    return Invalid("{name!r}: a sample file name must end in spam.txt or ham.txt", name=name)
