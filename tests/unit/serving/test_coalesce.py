"""The coalescer: a lone batch runs at once; batches that come while the engine is busy run
together in the next call, each caller getting its own results; an error fails only the call
it happened in."""

import asyncio
import threading

import pytest

from serving.coalesce import Coalescer


class Engine:
    """Doubles numbers; the first call blocks until released, so that others pile up."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, items: list[int]) -> list[int]:
        self.calls.append(items)
        if len(self.calls) == 1:
            self.started.set()
            self.release.wait(5)
        if -1 in items:
            raise ValueError("bad item")
        return [2 * i for i in items]


async def pile_up(engine: Engine, coalescer: Coalescer[int, int], later: list[list[int]]) -> list:
    """Submit [1] (which blocks the engine), then ``later``'s batches while it runs."""
    first = asyncio.ensure_future(coalescer.submit([1]))
    await asyncio.to_thread(engine.started.wait, 5)
    rest = [asyncio.ensure_future(coalescer.submit(batch)) for batch in later]
    await asyncio.sleep(0.01)
    engine.release.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_batches_waiting_for_a_busy_engine_run_as_one_call() -> None:
    engine = Engine()
    results = asyncio.run(pile_up(engine, Coalescer(engine, limit=16), [[2, 3], [4], [5, 6, 7]]))
    assert results == [[2], [4, 6], [8], [10, 12, 14]]
    assert engine.calls == [[1], [2, 3, 4, 5, 6, 7]]


def test_a_call_takes_at_most_the_limit_and_a_larger_batch_goes_alone() -> None:
    engine = Engine()
    results = asyncio.run(pile_up(engine, Coalescer(engine, limit=3), [[2, 3], [4], [5], [6] * 5]))
    assert results == [[2], [4, 6], [8], [10], [12] * 5]
    assert engine.calls == [[1], [2, 3, 4], [5], [6] * 5]


def test_an_error_fails_the_batches_of_its_call_only() -> None:
    engine = Engine()
    coalescer: Coalescer[int, int] = Coalescer(engine, limit=2)
    results = asyncio.run(pile_up(engine, coalescer, [[2], [-1], [3]]))
    assert results[0] == [2]
    assert all(isinstance(r, ValueError) for r in results[1:3])  # [2] and [-1] ran together
    assert results[3] == [6]
    assert engine.calls == [[1], [2, -1], [3]]


def test_a_lone_batch_starts_at_once_on_an_idle_engine() -> None:
    engine = Engine()
    engine.release.set()

    async def alone() -> list[int]:
        coalescer: Coalescer[int, int] = Coalescer(engine, limit=16)
        assert await coalescer.submit([1, 2]) == [2, 4]
        return await coalescer.submit([3])  # the runner ended; a new one starts

    assert asyncio.run(alone()) == [6]
    assert engine.calls == [[1, 2], [3]]


def test_a_caller_that_went_away_is_skipped() -> None:
    engine = Engine()

    async def scenario() -> list[int]:
        coalescer: Coalescer[int, int] = Coalescer(engine, limit=16)
        first = asyncio.ensure_future(coalescer.submit([1]))
        await asyncio.to_thread(engine.started.wait, 5)
        gone = asyncio.ensure_future(coalescer.submit([2]))
        kept = asyncio.ensure_future(coalescer.submit([3]))
        await asyncio.sleep(0.01)
        gone.cancel()
        engine.release.set()
        await first
        with pytest.raises(asyncio.CancelledError):
            await gone
        return await kept

    assert asyncio.run(scenario()) == [6]
    assert engine.calls == [[1], [3]]
