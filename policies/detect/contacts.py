"""Contact offers: WeChat and QQ ids, phone numbers and invitations to talk privately.

Spammers move buyers off the group, so an id after a WeChat or QQ keyword is strong evidence.
A phone number counts only next to an offer ("加我", "来电", a price, a job): customers give
theirs to the staff to fix a delivery. The shop's own contacts (the policy's `allow` list) never
count, and neither does an invitation to reach them.
"""

from __future__ import annotations

import re

from policies.detect.base import Check, literal_led_alternation, quote, word_start
from policies.detect.config import ContactsConfig
from policies.detect.homophones import JIA_SOUNDS, KOU_SOUNDS, WEI_SOUNDS, XIN_SOUNDS
from policies.detect.normalize import Normalized
from policies.detect.notices import notice_cue
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = ["make_contacts_check"]

_SEP = r"[\s:=\-_~*#'\"“”‘’()\[\]【】<>《》|/\\,，.。+➕❤♥]"
_LEAD = rf"{_SEP}{{0,3}}(?:号码?|id|账号|帐号)?{_SEP}{{0,3}}(?:是|为|加|看|:)?{_SEP}{{0,3}}"
# An id as written, or split into pieces ("abc 123", "d a i k u a n 8 8").
_ID = (
    r"(?:[a-z][a-z0-9_\-]{5,19}(?![a-z0-9_\-])|[0-9]{5,12}(?![0-9])"
    r"|[a-z0-9]{1,6}(?:[ \-.*·]{1,2}[a-z0-9]{1,6}){1,11}(?![a-z0-9]))"
)
_MIN_ID_LENGTH = 6
_QQ_NUMBER = r"[0-9]{5,11}(?![0-9])"
_ID_AT_END = re.compile(r"[a-z0-9](?:[ \-_.*·]{0,2}[a-z0-9_\-])*$")
_ID_SEPARATORS = re.compile(r"[ .*·]|(?<=[a-z0-9])-(?=[a-z0-9])")
_HAS_DIGIT_OR_MARK = re.compile(r"[0-9_\-]")
_NOT_DIGITS = re.compile(r"[^0-9+]")

_WECHAT_WORDS = ("微信", "威信", "薇信", "徽信", "维信", "維信", "唯信", "微芯", "薇芯", "v信")
_WECHAT_LATIN = ("vx", "wx", "weixin", "wechat")
_WECHAT_SHORT = ("薇", "威", "微", "喂", "维", "唯", "卫")
_QQ_WORDS = ("扣扣", "抠抠", "寇寇", "蔻蔻", "口口", "企鹅", "🐧", "球球", "秋秋", "扣")
_QQ_GROUP_WORDS = ("群号", "裙号", "加群", "进群", "群", "裙")
_OFFER_ZH = (
    "加我",
    "私聊我",
    "私信我",
    "私我",
    # "麻烦客服联系我", "请尽快联系我": a customer asking the staff to call back.
    "联(?<![没不未会让给来服烦快]联)系我",
    "滴滴我",
    "滴我",
    "dd我",
    "密我",
    "戳我",
    "敲我",
    "加好友",
    "有意者?(?:私聊|私信|联系|滴滴)",
    "需要的?(?:老板|朋友|兄弟|姐妹|亲|宝宝|家人)?们?(?:速度|直接)?(?:私聊|私信|私|滴滴|联系|加)",
    "详情(?:私聊|私信|咨询|联系|请加|加)",
    "感兴趣的?(?:私聊|私信|联系|加)",
    "欢迎(?:私聊|咨询|加我)",
    "看(?:我|姐姐|妹妹|哥哥)的?(?:名字|名称|昵称|头像|简介|签名|主页)",
)
_OFFER_EN_VERBS = (
    "dm",
    "pm",
    "inbox",
    "text",
    "message",
    "msg",
    "contact",
    "whatsapp",
    "add",
    "ping",
    "write",
    "hmu",
    "reach",
)

_OFFER_CUES = re.compile(
    r"[0-9](?:元|块|rmb|万|/天|/月)|[¥￥$][0-9]|招聘|招募|诚招|招人|兼职|日结|月入|日赚"
    r"|来电|电联|热线|致电|订购|加盟|代理|(?:联系|咨询|加|打)[^。，,.!！?？\n]{0,4}领"
)
"""What turns a phone number into an offer: a price, a job, a call-us line."""
_NOT_ID_CHARS = re.compile(r"[^0-9a-z_]")
_CHINA_PREFIX = re.compile(r"^(?:0086|86)(?=1[3-9][0-9]{9}$)")
_TRAILING_NUMBER = re.compile(r"[0-9]+$")

_SAME_NUMBER = "same"
_ALTERNATIVES: list[tuple[str, str]] = [
    *[(_SAME_NUMBER, f"{word}同号") for word in ("微信", "v信")],
    *[(_SAME_NUMBER, f"{word_start(word)}同号") for word in ("vx", "wx")],
    (_SAME_NUMBER, "同微信"),
    (_SAME_NUMBER, "手机同微"),
    *[("wechat", f"{word[0]}[ ]?{word[1:]}{_LEAD}{_ID}") for word in _WECHAT_WORDS],
    *[("wechat", f"{word_start(word)}{_LEAD}{_ID}") for word in _WECHAT_LATIN],
    *[("wechat", f"{word}{_SEP}{{1,4}}{_ID}") for word in _WECHAT_SHORT],
    ("wechat", f"{word_start('v')}(?:{_SEP}{{1,4}}{_ID}|[0-9]{{6,12}}(?![0-9]))"),
    *[("qq", f"{word}{_LEAD}{_QQ_NUMBER}") for word in _QQ_WORDS],
    ("qq", f"{word_start('qq')}{_LEAD}{_QQ_NUMBER}"),
    *[("qq_group", f"{word}(?:群|裙){_LEAD}{_QQ_NUMBER}") for word in (*_QQ_WORDS, "qq")],
    # A lone "q" needs a longer number: "Q1 2024" reads as "q12024" once digits are joined.
    ("qq", f"{word_start('q')}(?![a-z]){_LEAD}[0-9]{{6,11}}(?![0-9])"),
    *[("qq_group", f"{word}{_SEP}{{0,4}}[0-9]{{6,11}}(?![0-9])") for word in _QQ_GROUP_WORDS],
    # "加1716776965": a bare QQ-length number after "add" (not an amount: no unit follows).
    ("add_number", f"加{_SEP}{{0,2}}[0-9]{{7,11}}(?![0-9.,元块圆万千%])"),
    ("phone", r"1(?<![0-9]1)[3-9][0-9]{9}(?![0-9])"),
    ("phone", r"8(?<![0-9]8)61[3-9][0-9]{9}(?![0-9])"),
    ("phone", r"\+(?<![0-9]\+)[1-9][0-9]{7,14}(?![0-9])"),
    *[("phone", f"{digit}(?<![0-9]{digit})00[0-9]{{7}}(?![0-9])") for digit in "48"],
    *[("offer", pattern) for pattern in _OFFER_ZH],
    *[("offer", f"{word_start(verb)}(?: to| out to)? me(?![a-z])") for verb in _OFFER_EN_VERBS],
    ("offer", f"{word_start('hit')} me up"),
    ("offer", f"{word_start('send')} me an? (?:dm|message|pm)"),
    *[
        ("offer", f"{word_start(verb)} (?:me )?for (?:details|info|price)")
        for verb in ("dm", "pm")
    ],
]
_CONTACTS, _KIND_OF_GROUP = literal_led_alternation(_ALTERNATIVES)
# Homophones start with a character class, which would slow the literal-led regex above, so
# they have a regex of their own: 薇信, 威芯, 微❤信 (WeChat), 佳喂 / 夹薇 ("add WeChat"),
# 寇蔻 (QQ).
_HOMOPHONE_ALTERNATIVES: list[tuple[str, str]] = [
    ("wechat_homophone", f"[{WEI_SOUNDS}]{_SEP}{{0,2}}[{XIN_SOUNDS}]{_LEAD}{_ID}"),
    ("wechat_homophone", f"[{JIA_SOUNDS}][{WEI_SOUNDS}]{_SEP}{{0,4}}{_ID}"),
    ("qq_homophone", f"[{KOU_SOUNDS}]{{2}}{_LEAD}{_QQ_NUMBER}"),
]
_HOMOPHONES, _KIND_OF_HOMOPHONE = literal_led_alternation(_HOMOPHONE_ALTERNATIVES)
_HAS_CJK_SOUND = re.compile(f"[{WEI_SOUNDS}{KOU_SOUNDS}]")
_HAS_ID_CHAR = re.compile("[0-9a-z]")


def make_contacts_check(cfg: ContactsConfig) -> Check:
    """Build the contact-offer check for one policy."""
    weights = cfg.weights
    scores = {
        "contact.wechat": weights.wechat,
        "contact.qq": weights.qq,
        "contact.phone": weights.phone,
        "contact.offer": weights.offer,
    }

    allowed = frozenset(contact_key(entry) for entry in cfg.allow) - {""}

    def check_contacts(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        offers = _found(norm)
        if not offers:
            return []
        hits: dict[str, Hit] = {}
        own_contact = False
        # In a pasted notice the phone number is the courier's or the bank's.
        skip = "contact.phone" if notice_cue(norm.text) is not None else ""
        for found in offers:
            rule, reason, evidence, key = found
            if key and key in allowed:
                own_contact = True
            elif rule not in hits and rule != skip:
                hits[rule] = Hit(rule, reason, evidence, scores[rule])
        return _offers_only(hits, norm, own_contact=own_contact)

    return check_contacts


def _found(norm: Normalized) -> list[tuple[str, str, str, str]]:
    """Every contact offer written in the message, homophones included."""
    text = norm.text
    first = _CONTACTS.search(text)
    found = (
        []
        if first is None
        else [
            _describe(_KIND_OF_GROUP[m.lastgroup or ""], m, norm)
            for m in _CONTACTS.finditer(text, first.start())
        ]
    )
    if not (
        text.isascii() or _HAS_ID_CHAR.search(text) is None or not _HAS_CJK_SOUND.search(text)
    ):
        found += [
            _describe(_KIND_OF_HOMOPHONE[m.lastgroup or ""], m, norm)
            for m in _HOMOPHONES.finditer(text)
        ]
    if not found:
        return []
    return [item for item in found if item is not None]


def contact_key(written: str) -> str:
    """A contact as compared with the allow list: lower case, no separators, no +86."""
    return _CHINA_PREFIX.sub("", _NOT_ID_CHARS.sub("", written.lower()))


def _number_key(match: re.Match[str]) -> str:
    number = _TRAILING_NUMBER.search(match.group())
    return contact_key(number.group()) if number else ""


def _offers_only(hits: dict[str, Hit], norm: Normalized, *, own_contact: bool) -> list[Hit]:
    """Drop what is not an offer: a phone number with nothing offered around it, and an
    invitation whose only contact is the shop's own."""
    if "contact.phone" in hits and not (
        "contact.offer" in hits or _OFFER_CUES.search(norm.text) is not None
    ):
        del hits["contact.phone"]
    if own_contact and "contact.offer" in hits and len(hits) == 1:
        del hits["contact.offer"]
    return list(hits.values())


def _describe(
    kind: str, match: re.Match[str], norm: Normalized
) -> tuple[str, str, str, str] | None:
    """The rule, reason, evidence and contact (for the allow list) of one match, or None when
    it is not a real offer."""
    evidence = quote(norm.original_span(*match.span()))
    if kind == "wechat_homophone":
        found = _describe("wechat", match, norm)
        if found is None:
            return None
        return found[0], f"{found[1]}, WeChat written with homophones", found[2], found[3]
    if kind == "qq_homophone":
        reason = f'QQ number offered: "{evidence}", QQ written with homophones'
        return "contact.qq", reason, evidence, _number_key(match)
    if kind == "wechat":
        at_end = _ID_AT_END.search(match.group())
        contact_id = _ID_SEPARATORS.sub("", at_end.group()) if at_end else ""
        if len(contact_id) < _MIN_ID_LENGTH or (
            contact_id[:1].isalpha() and _HAS_DIGIT_OR_MARK.search(contact_id) is None
        ):
            return None
        reason = f'WeChat id offered: "{evidence}"'
        return "contact.wechat", reason, evidence, contact_key(contact_id)
    if kind == _SAME_NUMBER:
        reason = f'WeChat offered on the phone number: "{evidence}"'
        return "contact.wechat", reason, evidence, ""
    if kind == "add_number":
        reason = f'a QQ-length number to add: "{evidence}"'
        return "contact.qq", reason, evidence, _number_key(match)
    if kind in {"qq", "qq_group"}:
        what = "QQ group" if kind == "qq_group" else "QQ number"
        return "contact.qq", f'{what} offered: "{evidence}"', evidence, _number_key(match)
    if kind == "phone":
        number = match.group()
        written = "" if _NOT_DIGITS.sub("", evidence) == number else f' (written "{evidence}")'
        return "contact.phone", f"phone number: {number}{written}", evidence, contact_key(number)
    return "contact.offer", f'invitation to a private chat: "{evidence}"', evidence, ""
