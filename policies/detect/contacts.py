"""Contact offers: WeChat and QQ ids, phone numbers and invitations to talk privately.

Spammers move buyers off the group, so an id after a WeChat or QQ keyword is strong evidence.
A bare phone number is weak on its own: customers give theirs to fix a delivery.
"""

from __future__ import annotations

import re

from policies.detect.base import Check, quote
from policies.detect.config import ContactsConfig
from policies.detect.normalize import Normalized
from policies.facts import MessageFacts
from policies.verdict import Hit

__all__ = ["make_contacts_check"]

_SEP = r"[\s:=\-_~*#'\"“”‘’()\[\]【】<>《》|/\\,，.。+➕]"
_LEAD = rf"(?:号码?|id|账号|帐号)?{_SEP}{{0,4}}(?:是|为|加|:)?{_SEP}{{0,3}}"
_ID = r"(?:[a-z][a-z0-9_\-]{5,19}(?![a-z0-9_\-])|[0-9]{5,12}(?![0-9]))"
_WECHAT = (
    rf"(?:微信|威信|薇信|徽信|维信|維信|唯信|微芯|薇芯|v信|(?<![a-z])(?:vx|wx|weixin|wechat))"
    rf"{_LEAD}(?P<wechat_id>{_ID})"
    rf"|(?:薇|威|微|(?<![a-z])v)(?:{_SEP}{{1,4}}(?P<short_id>{_ID})|[0-9]{{6,12}}(?![0-9]))"
)
# A lone "q" needs a longer number: "Q1 2024" reads as "q12024" once the digits are joined.
_QQ = (
    rf"(?:(?<![a-z])qq|扣扣|抠抠|寇寇|蔻蔻|企鹅|🐧|球球|秋秋|扣)"
    rf"(?P<qq_group_word>群|裙)?{_LEAD}[0-9]{{5,11}}(?![0-9])"
    rf"|(?<![a-z])q(?![a-z]){_LEAD}[0-9]{{6,11}}(?![0-9])"
)
_QQ_GROUP = rf"(?:群号|裙号|加群|进群|群|裙){_SEP}{{0,4}}[0-9]{{6,11}}(?![0-9])"
_PHONE = (
    r"(?<![0-9])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])"
    r"|(?<![0-9])\+[1-9][0-9]{7,14}(?![0-9])"
    r"|(?<![0-9])[48]00[0-9]{7}(?![0-9])"
)
_SAME_NUMBER = r"(?:微信|vx|v信|wx)同号|同微信|手机同微"
_OFFER_ZH = (
    r"加我|私聊我|私信我|私我|(?<![没不未会让给来])联系我|滴滴我|滴我|dd我|密我|戳我|敲我|加好友"
    r"|有意者?(?:私聊|私信|联系|滴滴)"
    r"|需要的?(?:老板|朋友|兄弟|姐妹|亲|宝宝|家人)?们?(?:速度|直接)?(?:私聊|私信|私|滴滴|联系|加)"
    r"|详情(?:私聊|私信|咨询|联系|请加|加)|感兴趣的?(?:私聊|私信|联系|加)|欢迎(?:私聊|咨询|加我)"
    r"|看(?:我|姐姐|妹妹|哥哥)的?(?:名字|名称|昵称|头像|简介|签名|主页)"
)
_OFFER_EN = (
    r"(?<![a-z])(?:dm|pm|inbox|text|message|msg|contact|whatsapp|add|ping|write|hmu|reach)"
    r"(?: to| out to)? me(?![a-z])"
    r"|hit me up|send me a (?:dm|message|pm)|(?:dm|pm) (?:me )?for (?:details|more|info|price)"
)
_CONTACTS = re.compile(
    rf"(?P<wechat>{_WECHAT})|(?P<qq>{_QQ})|(?P<qq_group>{_QQ_GROUP})|(?P<phone>{_PHONE})"
    rf"|(?P<same>{_SAME_NUMBER})|(?P<offer>{_OFFER_ZH}|{_OFFER_EN})"
)
_HAS_DIGIT_OR_MARK = re.compile(r"[0-9_\-]")
_NOT_DIGITS = re.compile(r"[^0-9+]")


def make_contacts_check(cfg: ContactsConfig) -> Check:
    """Build the contact-offer check for one policy."""
    weights = cfg.weights
    scores = {
        "contact.wechat": weights.wechat,
        "contact.qq": weights.qq,
        "contact.phone": weights.phone,
        "contact.offer": weights.offer,
    }

    def check_contacts(facts: MessageFacts, norm: Normalized) -> list[Hit]:
        hits: dict[str, Hit] = {}
        for match in _CONTACTS.finditer(norm.text):
            found = _describe(match, norm)
            if found is not None and found[0] not in hits:
                rule, reason, evidence = found
                hits[rule] = Hit(rule, reason, evidence, scores[rule])
        return list(hits.values())

    return check_contacts


def _describe(match: re.Match[str], norm: Normalized) -> tuple[str, str, str] | None:
    """The rule, reason and evidence of one match, or None when it is not a real offer."""
    kind = match.lastgroup
    evidence = quote(norm.original_span(*match.span()))
    if kind == "wechat":
        letter_id = match.group("wechat_id") or match.group("short_id") or ""
        if letter_id[:1].isalpha() and _HAS_DIGIT_OR_MARK.search(letter_id) is None:
            return None
        return "contact.wechat", f'WeChat id offered: "{evidence}"', evidence
    if kind == "qq":
        what = "QQ group" if match.group("qq_group_word") else "QQ number"
        return "contact.qq", f'{what} offered: "{evidence}"', evidence
    if kind == "qq_group":
        return "contact.qq", f'QQ group offered: "{evidence}"', evidence
    if kind == "phone":
        number = match.group()
        written = "" if _NOT_DIGITS.sub("", evidence) == number else f' (written "{evidence}")'
        return "contact.phone", f"phone number: {number}{written}", evidence
    if kind == "same":
        return "contact.wechat", f'WeChat offered on the phone number: "{evidence}"', evidence
    return "contact.offer", f'invitation to a private chat: "{evidence}"', evidence
