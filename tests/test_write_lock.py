"""The process's SQLite write lock (`storage.write_lock`): one holder, urgent waiters
first, and a waiter that gives up never leaves the lock held or skipped."""

from __future__ import annotations

import asyncio

import pytest

from storage.write_lock import WriteLock


async def _settle() -> None:
    for _ in range(5):  # let every woken task run up to its next wait
        await asyncio.sleep(0)


async def test_urgent_waiters_are_served_first_each_kind_in_arrival_order() -> None:
    lock = WriteLock()
    await lock.acquire()
    served: list[str] = []

    async def writer(name: str, urgent: bool) -> None:
        await lock.acquire(urgent=urgent)
        served.append(name)
        lock.release()

    tasks = [
        asyncio.create_task(writer("turn 1", False)),
        asyncio.create_task(writer("turn 2", False)),
        asyncio.create_task(writer("ack 1", True)),
        asyncio.create_task(writer("turn 3", False)),
        asyncio.create_task(writer("ack 2", True)),
    ]
    await _settle()
    assert served == [], "all wait while the lock is held"
    lock.release()
    await asyncio.gather(*tasks)
    assert served == ["ack 1", "ack 2", "turn 1", "turn 2", "turn 3"]
    assert not lock.locked()


async def test_a_free_lock_is_taken_at_once_and_a_waiter_gets_it_on_release() -> None:
    lock = WriteLock()
    await lock.acquire()
    waiter = asyncio.create_task(lock.acquire())
    await _settle()
    assert not waiter.done()
    lock.release()
    await waiter
    assert lock.locked(), "handed over, never free in between"
    lock.release()
    assert not lock.locked()


async def test_a_waiter_that_gives_up_is_skipped() -> None:
    lock = WriteLock()
    await lock.acquire()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0):
            await lock.acquire(urgent=True)
    after = asyncio.create_task(lock.acquire())
    await _settle()
    lock.release()
    await after
    assert lock.locked()
    lock.release()
    assert not lock.locked()


async def test_a_waiter_cancelled_as_the_lock_reached_it_passes_it_on() -> None:
    lock = WriteLock()
    await lock.acquire()
    first = asyncio.create_task(lock.acquire())
    second = asyncio.create_task(lock.acquire())
    await _settle()
    lock.release()  # handed to `first` ...
    first.cancel()  # ... which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await second
    assert lock.locked()
    lock.release()
    assert not lock.locked()


async def test_releasing_a_free_lock_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        WriteLock().release()


async def test_try_acquire_takes_only_a_free_lock_nobody_waits_for() -> None:
    lock = WriteLock()
    assert lock.try_acquire() and lock.locked()
    assert not lock.try_acquire(), "held: not taken twice"
    waiter = asyncio.create_task(lock.acquire())
    await _settle()
    lock.release()  # handed to the waiter, which now holds it
    await waiter
    assert not lock.try_acquire()
    lock.release()
    assert lock.try_acquire()
