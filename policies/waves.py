"""Spam waves: the same text posted by several accounts within a window.

Pure bookkeeping: the caller passes the time in, and the tracker keeps only what the window
needs, so memory stays bounded during a raid.

Newcomers greet alike ("hello everyone!!", "大家好，请多关照"), so greetings and pleasantries
are taken out before texts are compared: what is left must still be `min_length` letters long
to count. A wave is several accounts posting the same message, not the same hello.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field

MAX_SIGNATURES_PER_CHAT = 4096
MAX_POSTS_PER_SIGNATURE = 256

_LATIN_GREETINGS = (
    "hello hallo hi hey hiya howdy yo greetings good morning afternoon evening night day "
    "everyone everybody all guys folks friends people there yall nice to meet you glad happy "
    "be here thanks thank thx ty i im am new just joined welcome me and the a hope is it its "
    "doing well how are whats up sup cheers bye see ya lol haha ok okay"
)
_CHINESE_GREETINGS = (
    "大家好 大家早 各位好 你们好 你好 您好 哈喽 哈罗 嗨 早上好 上午好 中午好 下午好 晚上好 "
    "早安 午安 晚安 新人报到 新人报道 报到 报道 我是新来的 新来的 新人 刚进群 刚来 初来乍到 "
    "请多关照 多多关照 请多指教 多多指教 很高兴认识大家 很高兴认识你们 很高兴 认识大家 "
    "谢谢大家 谢谢 感谢 欢迎 大家 各位 朋友们 亲们 家人们 群友们 我来了 来了 冒泡 打卡 "
    "我是 哈哈 啊 呀 呢 吧 哦 喔"
)
GREETING_WORDS = frozenset(_LATIN_GREETINGS.split())
"""Latin words of greetings and pleasantries, taken out of texts before they are compared."""
GREETING_PHRASES = tuple(sorted(_CHINESE_GREETINGS.split(), key=len, reverse=True))
"""Chinese greetings and pleasantries, longest first, taken out the same way."""

_LATIN_WORD = re.compile(r"[a-zß-ɏ]+(?:['’][a-zß-ɏ]+)?")
_PHRASES = re.compile("|".join(map(re.escape, GREETING_PHRASES)))


def signature(text: str) -> str:
    """What a copy of a message keeps whatever spammers vary between copies (case, digits,
    spacing, punctuation, emoji), with greetings and pleasantries taken out."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    without_words = _LATIN_WORD.sub(_drop_greeting_word, folded)
    without_phrases = _PHRASES.sub("", without_words)
    return "".join(char for char in without_phrases if char.isalpha())


def _drop_greeting_word(match: re.Match[str]) -> str:
    word = match.group().replace("'", "").replace("’", "")
    return "" if word in GREETING_WORDS else match.group()


def _key(letters: str) -> str:
    """The whole text, kept short: a digest, so long copies cost little memory."""
    return hashlib.blake2b(letters.encode("utf-8"), digest_size=16).hexdigest()


@dataclass(slots=True)
class WaveTracker:
    """Counts distinct accounts per text fingerprint and chat within `window` seconds."""

    window: float
    min_length: int = 12
    _seen: dict[tuple[int, str], deque[tuple[float, int]]] = field(default_factory=dict)

    def observe(self, chat_id: int, user_id: int, text: str, now: float) -> int:
        """Record a message and return how many distinct accounts posted its text lately."""
        letters = signature(text)
        if len(letters) < self.min_length:
            return 0
        key = (chat_id, _key(letters))
        posts = self._seen.get(key)
        if posts is None:
            self._prune(now)
            posts = self._seen[key] = deque(maxlen=MAX_POSTS_PER_SIGNATURE)
        while posts and now - posts[0][0] > self.window:
            posts.popleft()
        posts.append((now, user_id))
        return len({user for _, user in posts})

    def _prune(self, now: float) -> None:
        if len(self._seen) < MAX_SIGNATURES_PER_CHAT:
            return
        stale = [key for key, posts in self._seen.items() if now - posts[-1][0] > self.window]
        for key in stale:
            del self._seen[key]
        if len(self._seen) >= MAX_SIGNATURES_PER_CHAT:
            for key in list(self._seen)[: MAX_SIGNATURES_PER_CHAT // 4]:
                del self._seen[key]
