"""Spam waves: the same or a near-same text posted by several accounts within a window.

Pure bookkeeping: the caller passes the time in, and the tracker keeps only what the window
needs, so memory stays bounded during a raid.
"""

from __future__ import annotations

import unicodedata
from collections import deque
from dataclasses import dataclass, field

SIGNATURE_LENGTH = 80
MAX_SIGNATURES_PER_CHAT = 4096
MAX_POSTS_PER_SIGNATURE = 256


def signature(text: str) -> str:
    """A fingerprint that ignores what spammers vary between copies: case, digits,
    spacing, punctuation and emoji."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = [ch for ch in folded if ch.isalpha()]
    return "".join(kept)[:SIGNATURE_LENGTH]


@dataclass(slots=True)
class WaveTracker:
    """Counts distinct accounts per text fingerprint and chat within `window` seconds."""

    window: float
    min_length: int = 12
    _seen: dict[tuple[int, str], deque[tuple[float, int]]] = field(default_factory=dict)

    def observe(self, chat_id: int, user_id: int, text: str, now: float) -> int:
        """Record a message and return how many distinct accounts posted its text lately."""
        key_text = signature(text)
        if len(key_text) < self.min_length:
            return 0
        key = (chat_id, key_text)
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
