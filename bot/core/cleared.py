"""Texts an admin said are no ad, per group (`/notspam`).

The ad model learns such a mark, but a rule (a share code, a contact, a link) would catch the
same text again: the detectors therefore do not read that text again in that group. Only the
text is cleared, never its sender (the member's next ad is judged like anyone's), and only
when nothing but the text carries anything (see `only_the_text_speaks`); a flood or a wave of
it still counts. `/spam` on the same text takes the mark back. The marks live in SQLite
(`learned_samples`) and are replayed at start-up like the model's, so they last as long as
`retention` keeps them.
"""

from __future__ import annotations

from policies.detect.normalize import normalize


class ClearedTexts:
    def __init__(self) -> None:
        self._by_chat: dict[int, set[str]] = {}

    def mark(self, chat_id: int, text: str, *, spam: bool) -> None:
        key = _key(text)
        if not key:
            return
        cleared = self._by_chat.setdefault(chat_id, set())
        if spam:
            cleared.discard(key)
        else:
            cleared.add(key)

    def cleared(self, chat_id: int, text: str) -> bool:
        cleared = self._by_chat.get(chat_id)
        return cleared is not None and _key(text) in cleared

    def move(self, old_id: int, new_id: int) -> None:
        """The group became a supergroup: its marks follow it."""
        moved = self._by_chat.pop(old_id, set())
        self._by_chat.setdefault(new_id, set()).update(moved)


def _key(text: str) -> str:
    """The text as the detectors read it: full-width letters, invisible characters and case do
    not matter."""
    return normalize(text).text.strip()
