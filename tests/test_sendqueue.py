"""The send queue on its own: priorities within a chat, chats independent, Telegram's limits."""

from __future__ import annotations

import asyncio

from bot.core.sendqueue import Priority, SendQueue

GROUP, OTHER_GROUP, PRIVATE = -100123, -100456, 42


class Clock:
    """Time that moves only when the queue waits (its `sleep`)."""

    def __init__(self) -> None:
        self.value = 1_000_000.0

    def now(self) -> float:
        return self.value

    async def sleep(self, seconds: float) -> None:
        self.value += seconds
        await asyncio.sleep(0)


async def test_the_most_urgent_waiting_send_goes_first() -> None:
    clock = Clock()
    sends = SendQueue(clock=clock.now, sleep=clock.sleep, group_per_minute=2)
    assert await sends.admit(GROUP, Priority.REPLY) == 0
    assert await sends.admit(GROUP, Priority.REPLY) == 0, "within the budget: at once"
    order: list[str] = []

    async def send(name: str, priority: Priority) -> None:
        await sends.admit(GROUP, priority)
        order.append(name)

    waiting = [
        asyncio.create_task(send("scheduled post", Priority.SCHEDULED)),
        asyncio.create_task(send("answer", Priority.REPLY)),
        asyncio.create_task(send("call-out", Priority.ENFORCEMENT)),
    ]
    await asyncio.sleep(0)
    assert sends.queued(GROUP) == 3
    started = clock.now()
    assert await sends.admit(OTHER_GROUP, Priority.SCHEDULED) == 0, "another group is free"
    await asyncio.gather(*waiting)
    assert order == ["call-out", "answer", "scheduled post"]
    assert clock.now() - started >= 60, "20 a minute per group, here 2: the third waits a minute"


async def test_a_private_chat_gets_one_message_a_second() -> None:
    clock = Clock()
    sends = SendQueue(clock=clock.now, sleep=clock.sleep)
    started = clock.now()
    for _ in range(3):
        await sends.admit(PRIVATE, Priority.REPLY)
    assert 2 <= clock.now() - started < 3


async def test_thirty_messages_a_second_in_all() -> None:
    clock = Clock()
    sends = SendQueue(clock=clock.now, sleep=clock.sleep)
    started = clock.now()
    for chat in range(1, 32):
        await sends.admit(chat, Priority.REPLY)
    assert clock.now() - started >= 1, "the 31st message of the second waited"
