"""A dict with a cap: per-user and per-chat memory that cannot grow without end."""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedDict(OrderedDict[K, V]):
    """Keeps the `cap` most recently written or read keys; the least recent ones are evicted."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        if cap < 1:
            raise ValueError("a bounded dict needs room for at least one key")
        self.cap = cap

    def __setitem__(self, key: K, value: V) -> None:
        if key in self:
            self.move_to_end(key)
        super().__setitem__(key, value)
        while len(self) > self.cap:
            self.popitem(last=False)

    def touch(self, key: K) -> V | None:
        """The value, marking the key as recently used; None when absent."""
        if key not in self:
            return None
        self.move_to_end(key)
        return self[key]
