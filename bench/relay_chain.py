"""Our own CPU per relayed token, in one process: the chain from the provider's bytes to the
SSE frames (the OpenAI SDK on aiohttp, adapters/llm/openai_stream.py, the retries and
deadlines, the generation, the turn, entrypoints/http/sse.py), with no HTTP server.

    .venv/bin/python bench/relay_chain.py [--streams 200] [--tokens 400] [--rate 50] [--rounds 5]

bench/openai_standin.py (its own process) streams each answer one delta per write, paced as
a provider would (`--rate` deltas a second); the application is the in-memory one the unit
tests use, with the catalog's OpenAI model on the stand-in. The figure is this thread's CPU
(`time.thread_time`) over the tokens relayed while every one of `--streams` concurrent
answers of `--tokens` deltas is past its first token and none has ended: the relay, without
the admissions, requests and bookkeeping. The median over the rounds is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

import uvloop
from scale import StandIn

# The repository root: testkit/ and tests/ are not installed packages.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.llm.catalog import ModelCatalog, ProviderConfig
from adapters.providers.retries import Resilience
from adapters.telemetry.fanout import FanOutTelemetry
from adapters.telemetry.logs import LogTelemetry
from adapters.telemetry.prometheus import PrometheusTelemetry
from application.chat.answer_question import AnswerQuestion
from application.chat.limits import LimitPolicy, PlanLimits
from application.chat.question import ChatPolicy, Question
from domain.models import Plan, Widget
from entrypoints.http.sse import sse_frames
from testkit.fakes.core import FakeApp
from tests.unit.conftest import HANDBOOK, add_document, make_widget

MODEL = "openai:gpt-4o-mini"
TOKEN_MARK = b"event: token\n"
UNLIMITED = LimitPolicy(
    by_plan={
        plan: PlanLimits(
            visitor_per_minute=10**9,
            address_per_minute=10**9,
            widget_per_minute=10**9,
            messages_per_month=10**9,
        )
        for plan in Plan
    }
)
_asked = iter(range(1, 10**9))  # every question new: no cached answer


class _Progress:
    def __init__(self) -> None:
        self.tokens = self.relaying = self.ended = 0


async def _answers(app: FakeApp, widget: Widget, streams: int, progress: _Progress) -> None:
    async def one() -> None:
        message = f"How are refunds paid? ({next(_asked)})"
        turn = await app.get(AnswerQuestion).start(Question(widget=widget, message=message))
        started = False
        tail = b""
        async for frame in sse_frames(turn.events()):
            count = frame.count(TOKEN_MARK)
            if count and not started:
                started = True
                progress.relaying += 1
            progress.tokens += count
            tail = frame
        assert tail.startswith(b"event: done") or b"event: done" in tail, tail[-300:]
        progress.ended += 1

    await asyncio.gather(*(one() for _ in range(streams)))


async def _steady_cpu(streams: int, progress: _Progress, done: asyncio.Event) -> float | None:
    """This thread's CPU per token while every stream relays and none has ended."""
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    while not done.is_set():
        await asyncio.sleep(0.1)
        if progress.relaying == streams and progress.ended == 0:
            last = (time.thread_time(), progress.tokens)
            first = first or last
    if first is None or last is None or last[1] == first[1]:
        return None
    return (last[0] - first[0]) / (last[1] - first[1])


async def measure(
    standin: StandIn, streams: int, tokens: int, rate: float, rounds: int
) -> list[float]:
    # As the service reports: metrics and log lines.
    telemetry = FanOutTelemetry([PrometheusTelemetry(), LogTelemetry()])
    config = ProviderConfig(
        openai_api_key="sk-bench", openai_base_url=standin.url + "/v1", resilience=Resilience()
    )
    catalog = ModelCatalog(config, telemetry)
    try:
        app = FakeApp(
            models={Plan.FREE: [catalog.model(MODEL)]},
            limit_policy=UNLIMITED,
            chat_policy=ChatPolicy(min_score=-1.0),  # every question answered by the model
        )
        widget = await make_widget(app, plan=Plan.FREE)
        await add_document(app, widget, HANDBOOK)
        standin.configure(first_token_ms=0, tokens=2, tokens_per_second=rate)
        await _answers(app, widget, streams, _Progress())  # warm-up: imports, connections
        standin.configure(first_token_ms=0, tokens=tokens, tokens_per_second=rate)
        per_token = []
        for _ in range(rounds):
            gc.collect()  # the last round's garbage is not this one's
            progress, done = _Progress(), asyncio.Event()
            steady = asyncio.create_task(_steady_cpu(streams, progress, done))
            await _answers(app, widget, streams, progress)
            done.set()
            cpu = await steady
            if cpu is None:
                print("  no steady window (a stream ended before all had started)")
                continue
            per_token.append(cpu)
            print(f"  {cpu * 1e6:.2f} µs a token ({progress.tokens} tokens)", flush=True)
        return per_token
    finally:
        await catalog.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--rate", type=float, default=50.0, help="deltas a second per answer")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chatconnect-relay-") as work:
        standin = StandIn(Path(work))
        try:
            per_token = uvloop.run(
                measure(standin, args.streams, args.tokens, args.rate, args.rounds)
            )
        finally:
            standin.stop()
    print(f"median: {statistics.median(per_token) * 1e6:.2f} µs of CPU a relayed token")


if __name__ == "__main__":
    main()
