"""The export asks the database for the next partition before it converts this one, so
the two overlap: the request is out by the time a partition is handed on, without the
writer having to give the event loop a turn first."""

from __future__ import annotations

import asyncio
import contextlib

from workflow.executors import export_zip


async def test_the_next_fetch_has_started_when_a_partition_is_handed_on() -> None:
    started: list[int] = []
    batches = [[1, 2], [3, 4], [5], []]

    async def fetch(size: int) -> list[int]:
        started.append(len(started))  # runs at the task's first step: the request is sent
        return batches[len(started) - 1]

    seen: list[tuple[list[int], int]] = []
    async with contextlib.aclosing(export_zip._fetched_ahead(fetch)) as partitions:
        async for partition in partitions:
            seen.append((partition, len(started)))  # no await between hand-over and here
    assert seen == [([1, 2], 2), ([3, 4], 3), ([5], 4)]


async def test_closing_early_waits_for_the_fetch_under_way() -> None:
    answered: list[int] = []

    async def fetch(size: int) -> list[int]:
        for _ in range(5):  # a request that takes a few turns of the loop to answer
            await asyncio.sleep(0)
        answered.append(size)
        return [1]

    async with contextlib.aclosing(export_zip._fetched_ahead(fetch)) as partitions:
        async for _ in partitions:
            break
    # the one asked for ahead had answered before the close returned (the connection is
    # free for the rollback)
    assert answered == [export_zip.PARTITION, export_zip.PARTITION]
