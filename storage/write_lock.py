"""The process's SQLite write lock, with a way to the front of its queue.

Writers of one process take turns at SQLite's single write lock (`Database.write_lock`).
In arrival order, a Slack acknowledgement, which waits for its delivery's INSERT, queued
behind every customer turn already waiting with its transaction; at a busy moment its
p99 approached Slack's budget. A writer that someone is waiting on asks to be `urgent`
and is served before the others, in arrival order among the urgent ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class WriteLock:
    """One holder at a time; urgent waiters first, then the rest, each in arrival order."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._waiting: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._held

    def try_acquire(self) -> bool:
        """Take the lock if it is free and nobody waits for it; never waits."""
        if self._held or self._urgent or self._waiting:
            return False
        self._held = True
        return True

    async def acquire(self, *, urgent: bool = False) -> None:
        if self.try_acquire():
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._waiting
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():  # handed over just as it was cancelled
                self.release()
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it
                    queue.remove(turn)
            raise

    def release(self) -> None:
        """Hand the lock to the next waiter (it stays held), or free it."""
        if not self._held:
            raise RuntimeError("release of a write lock that is not held")
        for queue in (self._urgent, self._waiting):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False
