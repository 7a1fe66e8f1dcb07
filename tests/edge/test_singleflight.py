"""The single-flight helper: one piece of work per key, shared by every caller meanwhile, never
cancelled by a caller that goes away, its errors reaching every caller as a copy of their own."""

from __future__ import annotations

import asyncio

import pytest

from edge.singleflight import Answer, SingleFlight, Stream, Tasks
from mediaedge.errors import HTTPError

pytestmark = pytest.mark.anyio


class Work:
    """Work that counts its runs and answers when released."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.after_answer = asyncio.Event()

    async def __call__(self, answer: Answer[int]) -> None:
        self.runs += 1
        await self.release.wait()
        answer.settle(self.runs)
        await self.after_answer.wait()  # still busy (e.g. storing) after answering


def ask(flights: SingleFlight[str, Answer[int]], work: Work, key: str = "k") -> Answer[int]:
    answer = flights.get(key)
    if answer is None:
        answer = Answer()
        flights.start(key, answer, work(answer))
    return answer


async def test_concurrent_callers_share_one_run_and_a_cancelled_caller_cancels_nothing() -> None:
    tasks, work = Tasks(), Work()
    flights: SingleFlight[str, Answer[int]] = SingleFlight(tasks)
    quitter = asyncio.ensure_future(ask(flights, work).wait())
    waiters = [asyncio.ensure_future(ask(flights, work).wait()) for _ in range(3)]
    await asyncio.sleep(0)
    quitter.cancel()
    work.release.set()
    assert await asyncio.gather(*waiters) == [1, 1, 1]
    assert work.runs == 1
    # answered: the next caller starts afresh, although the first run is still busy
    work.after_answer.set()
    assert await ask(flights, work).wait() == 2
    await tasks.join()


async def test_every_caller_gets_its_own_copy_of_the_error() -> None:
    tasks = Tasks()
    flights: SingleFlight[str, Answer[int]] = SingleFlight(tasks)

    async def failing(answer: Answer[int]) -> None:
        raise HTTPError(502, "Origin unavailable", "ORIGIN_UNAVAILABLE")

    answer = Answer()
    flights.start("k", answer, failing(answer))
    errors = []
    for _ in range(2):
        with pytest.raises(HTTPError) as caught:
            await answer.wait()
        errors.append(caught.value)
    assert errors[0] is not errors[1]
    assert [(e.status, e.code, e.message) for e in errors] == [(502, "ORIGIN_UNAVAILABLE", "Origin unavailable")] * 2
    await tasks.join()


async def test_forget_detaches_a_key_and_its_callers_keep_their_answer() -> None:
    tasks, work = Tasks(), Work()
    flights: SingleFlight[str, Answer[int]] = SingleFlight(tasks)
    first = ask(flights, work)
    flights.forget(lambda key: key == "k")
    second = ask(flights, work)
    assert second is not first
    work.release.set()
    work.after_answer.set()
    assert sorted([await first.wait(), await second.wait()]) == [1, 2]
    await tasks.join()


async def test_cancelled_work_ends_its_stream_with_the_closed_error() -> None:
    tasks = Tasks()
    flights: SingleFlight[str, Stream] = SingleFlight(tasks, lambda: HTTPError(502, "Edge cache closed"))

    async def trickle(stream: Stream) -> None:
        stream.feed(b"abc")
        await asyncio.Event().wait()

    stream = Stream()
    flights.start("k", stream, trickle(stream))
    assert flights.get("k") is stream
    await asyncio.sleep(0)
    await tasks.cancel()
    received = []
    with pytest.raises(HTTPError, match="Edge cache closed"):
        async for chunk in stream:
            received.append(chunk)
    assert received == [b"abc"]  # a late reader replays what came before the error
    assert flights.get("k") is None


async def test_notes_reach_every_waiter_in_order_before_the_value_and_none_after_it() -> None:
    answer: Answer[int] = Answer()
    early: list[str] = []
    late: list[str] = []
    noted = asyncio.Event()

    async def note_early(item: str) -> None:
        early.append(item)
        noted.set()

    async def note_late(item: str) -> None:
        late.append(item)

    first = asyncio.create_task(answer.wait(note_early))
    answer.note("a")
    await asyncio.wait_for(noted.wait(), 5)
    assert early == ["a"]  # passed on while the value is still awaited
    second = asyncio.create_task(answer.wait(note_late))  # joins after the first note
    answer.note("b")
    answer.settle(7)
    answer.note("c")  # after the value: nobody gets it
    assert await first == await second == 7
    assert early == late == ["a", "b"]
    assert await answer.wait() == 7  # a waiter without on_note just gets the value
