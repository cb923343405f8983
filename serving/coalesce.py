"""One engine call at a time, each on everything that came while the last one ran.

Serve's ``@serve.batch`` forms its next batch while the current one computes: with no wait,
requests arriving during a long batch are cut into small batches that then queue for the
engine one after the other; with a wait, a lone request pays it. A :class:`Coalescer` takes
Serve's batches as they come and merges those waiting into one engine call as soon as the
engine is free, so a lone request starts at once and a busy engine never runs a fragment.
"""

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """Runs ``work`` (blocking: on a worker thread) on the items submitted, one call at a time,
    each call taking the batches waiting in order, up to ``limit`` items (a larger batch goes
    alone). ``work`` answers its items in order; its error fails the batches of that call."""

    def __init__(self, work: Callable[[list[Item]], Sequence[Result]], limit: int) -> None:
        self.work = work
        self.limit = limit
        self.waiting: deque[tuple[list[Item], asyncio.Future[list[Result]]]] = deque()
        self.runner: asyncio.Task[None] | None = None

    async def submit(self, items: list[Item]) -> list[Result]:
        """``work``'s results for ``items``, in order."""
        future: asyncio.Future[list[Result]] = asyncio.get_running_loop().create_future()
        self.waiting.append((items, future))
        if self.runner is None or self.runner.done():
            self.runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self.waiting:
            taken = [self.waiting.popleft()]
            count = len(taken[0][0])
            while self.waiting and count + len(self.waiting[0][0]) <= self.limit:
                taken.append(self.waiting.popleft())
                count += len(taken[-1][0])
            taken = [(items, future) for items, future in taken if not future.done()]
            if not taken:
                continue  # their callers went away
            flat = [item for items, _ in taken for item in items]
            try:
                results = await asyncio.to_thread(self.work, flat)
            except Exception as error:
                for _, future in taken:
                    if not future.done():
                        future.set_exception(error)
                continue
            start = 0
            for items, future in taken:
                if not future.done():
                    future.set_result(list(results[start : start + len(items)]))
                start += len(items)
