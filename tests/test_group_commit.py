"""Group commit: delivery results are written in groups, all of them, and failures surface."""

from __future__ import annotations

import asyncio
import threading

import pytest

from notifications.group_commit import GroupCommitter


class Store:
    """A write function that records each group, optionally blocking until released."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.release = threading.Event()
        self.release.set()

    def write(self, group: list[int]) -> None:
        assert self.release.wait(5)
        self.groups.append(group)


def test_flush_writes_every_item_once_in_order() -> None:
    store = Store()

    async def scenario() -> None:
        committer = GroupCommitter(store.write, linger=60, max_group=1000)
        for item in range(10):
            committer.add(item)
        await committer.flush()

    asyncio.run(scenario())
    assert [item for group in store.groups for item in group] == list(range(10))


def test_a_full_group_is_written_without_waiting_for_the_linger() -> None:
    store = Store()

    async def scenario() -> list[list[int]]:
        committer = GroupCommitter(store.write, linger=60, max_group=3)
        for item in range(3):
            committer.add(item)
        for _ in range(100):  # the write runs in a worker thread; give it turns, not time
            if store.groups:
                break
            await asyncio.sleep(0)
            await asyncio.to_thread(lambda: None)
        written = list(store.groups)
        await committer.flush()
        return written

    assert asyncio.run(scenario()) == [[0, 1, 2]]


def test_items_that_arrive_during_a_write_go_together_in_the_next_group() -> None:
    store = Store()

    async def scenario() -> None:
        committer = GroupCommitter(store.write, linger=0, max_group=1000)
        store.release.clear()
        committer.add(0)  # linger 0: written at once, and the write blocks
        for item in range(1, 6):
            committer.add(item)
        store.release.set()
        await committer.flush()

    asyncio.run(scenario())
    assert store.groups == [[0], [1, 2, 3, 4, 5]]


def test_a_failed_write_is_raised_by_flush_and_by_the_next_add() -> None:
    def write(group: list[int]) -> None:
        raise OSError("disk full")

    async def scenario() -> None:
        committer = GroupCommitter(write, linger=0, max_group=1)
        committer.add(0)
        with pytest.raises(OSError, match="disk full"):
            await committer.flush()
        with pytest.raises(OSError, match="disk full"):
            committer.add(1)

    asyncio.run(scenario())
