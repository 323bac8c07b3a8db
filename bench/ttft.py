"""Time-to-first-token overhead of the provider path: what we add to an LLM's own wait.

    .venv/bin/python bench/ttft.py [--quick]

Starts a stand-in OpenAI server in this process (testkit/llm_stubs.py) whose first
token comes after a fixed delay, and `chatconnect serve` on a fresh data directory with
OPENAI_BASE_URL pointing at it and LLM_FREE=openai:gpt-4o-mini: the real OpenAI SDK, our
retries, breaker, timeouts, prompt budget and SSE. Ingests a small corpus, warms up, then
streams questions one at a time over a keep-alive connection and records, per request:

    t0 the request is written    t1 the stub has read it    t2 the stub writes its first
    token (t2 - t1 = its own delay)    t3 the `token` SSE event reaches the client

Overhead = (t3 - t0) - the stub's configured first-token delay; it splits into before the
provider (t1 - t0: auth, history, embedding the question, retrieval, prompt, the SDK's
request), the stub's own oversleep (t2 - t1 - delay) and after it (t3 - t2: the SDK's
parsing, our stream, SSE, HTTP). The same is measured again on the same data with the
embedding model out of the chat path (bench/stub_app.py), and on bench/bare_relay.py, an
app that does nothing but relay the SDK's stream: the floor under any of this. Prints a
table and, on a full run, rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import platform
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import corpus
import httpx
import load
from chat_latency import (
    BIN,
    ROOT,
    UNLIMITED,
    Server,
    cpu_model,
    running,
    stop_embedded_postgres,
    write_doc,
)

sys.path.insert(0, str(ROOT))
from testkit.llm_stubs import Reply, StubServer

COMMAND = ".venv/bin/python bench/ttft.py"
STREAM = "/api/widget/chat/stream"
DELAY_S = 0.050
TARGET_P50_MS = 10.0
INGEST_TIMEOUT_S = 600.0
MARKER = b"event: token"
serial = itertools.count(1)


@dataclass(frozen=True)
class Sizes:
    documents: int
    questions: int
    warmup: int
    measured: int


FULL = Sizes(documents=20, questions=100, warmup=100, measured=500)
QUICK = Sizes(documents=5, questions=30, warmup=20, measured=60)


@dataclass(frozen=True)
class Sample:
    overhead: float
    before: float
    oversleep: float
    after: float


async def first_token(connection: load.Connection, key: str, question: str) -> tuple[float, float]:
    """(t0, t3) of one stream: request written, first `token` event read."""
    headers = {"Content-Type": "application/json", "X-Widget-Key": key}
    raw = load.http_request(STREAM, headers, json.dumps({"message": question}).encode())
    seen = bytearray()
    marked: list[float] = []

    def watch(data: bytes) -> None:
        seen.extend(data)
        if not marked and MARKER in seen:
            marked.append(time.perf_counter())

    t0 = time.perf_counter()
    status, _ = await asyncio.wait_for(connection.request(raw, watch), 30)
    if status != 200 or not marked:
        raise RuntimeError(f"status {status}, token event seen: {bool(marked)}")
    return t0, marked[0]


async def measure(
    port: int,
    keys: tuple[str, str],
    questions: list[str],
    stub: StubServer,
    n: int,
    extractive_too: bool = True,
) -> tuple[list[Sample], list[float]]:
    """Streams to the provider's widget and to the extractive one, in turn."""
    connection = await load.Connection.open(port)
    samples: list[Sample] = []
    extractive: list[float] = []
    try:
        for i in range(n):
            # Never the same text twice: a conversation's first question may be answered from
            # the answer cache, which would not reach the provider at all.
            question = f"{questions[i % len(questions)]} (#{next(serial)})"
            stub.requests.clear()
            t0, t3 = await first_token(connection, keys[0], question)
            if len(stub.requests) != 1 or stub.requests[0].first_token_at is None:
                raise RuntimeError(f"request {i}: {len(stub.requests)} provider calls")
            [call] = stub.requests
            t1, t2 = call.received_at, call.first_token_at
            samples.append(
                Sample(
                    overhead=(t3 - t0) - DELAY_S,
                    before=t1 - t0,
                    oversleep=(t2 - t1) - DELAY_S,
                    after=t3 - t2,
                )
            )
            if not extractive_too:
                continue
            # Its own new text: the same one would find its vector already cached.
            other = f"{questions[i % len(questions)]} (#{next(serial)})"
            start, end = await first_token(connection, keys[1], other)
            extractive.append(end - start)
    finally:
        await connection.close()
    return samples, extractive


@dataclass(frozen=True)
class Setup:
    """One server measured: its samples and the extractive answerer's first tokens."""

    name: str
    samples: list[Sample]
    extractive: list[float]


def run(sizes: Sizes, work: Path) -> tuple[list[Setup], int]:
    stub = StubServer().start()
    stub.default = Reply(
        deltas=("The warranty ", "lasts two years [1]."), first_token_delay=DELAY_S, usage=(900, 9)
    )
    token = secrets.token_urlsafe(24)
    questions = corpus.questions(sizes.documents, sizes.questions)
    questions_file = work / "questions.json"
    questions_file.write_text(json.dumps(questions))
    env = {
        "DATA_DIR": str(work / "data"),
        "ADMIN_TOKEN": token,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": stub.url + "/v1",
        "LLM_FREE": "openai:gpt-4o-mini",
        "LLM_PAID": "extractive",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "BENCH_QUESTIONS": str(questions_file),
        **UNLIMITED,
        **{name.replace("FREE", "PAID"): value for name, value in UNLIMITED.items()},
    }
    setups: list[Setup] = []
    try:
        service = Server("service", [str(BIN / "chatconnect"), "serve"], env, work)
        with running(service, "/health/ready"):
            base = f"http://127.0.0.1:{service.port}"
            owner = {"Authorization": f"Bearer {token}"}
            keys = []
            chunks = 0
            with httpx.Client(base_url=base, headers=owner, timeout=30) as client:
                for plan in ("free", "paid"):
                    body = {"tenant_id": "bench", "plan": plan, "name": f"TTFT {plan}"}
                    widget = client.post("/api/widgets", json=body).raise_for_status().json()
                    chunks = corpus.ingest(client, widget["id"], sizes.documents, INGEST_TIMEOUT_S)
                    keys.append(widget["public_key"])
            print(f"  {sizes.documents} documents, {chunks} chunks", flush=True)
            pair = (keys[0], keys[1])
            setups.append(_measured("service", service.port, pair, questions, stub, sizes))
        # The same data, the embedding model out of the chat path: our own code alone.
        granian = [str(BIN / "granian"), "--interface", "asgi", "--workers", "1"]
        command = [*granian, "--factory", "--working-dir", "bench", "stub_app:create"]
        without_model = Server("stub-embedder", command, env, work)
        with running(without_model, "/health/ready"):
            setups.append(
                _measured("stub-embedder", without_model.port, pair, questions, stub, sizes)
            )
        # The floor: the SDK, the HTTP server and the network, with none of our code.
        command = [*granian, "--working-dir", "bench", "bare_relay:app"]
        relay = Server("bare-relay", command, env, work)
        with running(relay, "/health/ready"):
            setups.append(_measured("bare-relay", relay.port, pair, questions, stub, sizes, False))
    finally:
        stop_embedded_postgres(work / "data")
        stub.stop()
    return setups, chunks


def _measured(
    name: str,
    port: int,
    keys: tuple[str, str],
    questions: list[str],
    stub: StubServer,
    sizes: Sizes,
    extractive_too: bool = True,
) -> Setup:
    print(f"  {name}: warming up, then {sizes.measured} streams", flush=True)
    asyncio.run(measure(port, keys, questions, stub, sizes.warmup, extractive_too))
    samples, extractive = asyncio.run(
        measure(port, keys, questions, stub, sizes.measured, extractive_too)
    )
    return Setup(name, samples, extractive)


def _p(values: list[float], q: float) -> str:
    return f"{load.percentile(values, q) * 1000:.2f}"


def _rows(setup: Setup) -> list[tuple[str, list[float]]]:
    samples = setup.samples
    paired = (
        [s.overhead - e for s, e in zip(samples, setup.extractive, strict=True)]
        if setup.extractive
        else []
    )
    return [
        ("**overhead: token event − stub's first-token delay**", [s.overhead for s in samples]),
        (
            "… before the provider: auth, history, embedding, retrieval, prompt, SDK request",
            [s.before for s in samples],
        ),
        ("… the stub oversleeping its delay (asyncio timer)", [s.oversleep for s in samples]),
        (
            "… after the provider's first token: SDK, our stream, SSE, HTTP",
            [s.after for s in samples],
        ),
        ("same question, new text, extractive answerer: first token", setup.extractive),
        ("provider overhead − extractive first token, paired by question", paired),
    ]


def _cells(values: list[float]) -> str:
    return f"{_p(values, 50)} | {_p(values, 99)}" if values else "– | –"


def _verdict(p50: float) -> str:
    return "met" if p50 <= TARGET_P50_MS else "**not met**"


def render(setups: list[Setup], chunks: int, sizes: Sizes, seconds: float) -> str:
    from importlib.metadata import version

    service, own, relay = setups
    p50 = {s.name: load.percentile([x.overhead for x in s.samples], 50) * 1000 for s in setups}
    model_ms = p50[service.name] - p50[own.name]
    ours_ms = p50[own.name] - p50[relay.name]
    table = [
        f"| {what} | {_cells(a)} | {_cells(b)} | {_cells(c)} |"
        for (what, a), (_, b), (_, c) in zip(_rows(service), _rows(own), _rows(relay), strict=True)
    ]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Time to first token: overhead over the provider",
        "",
        f"Measured {now} on {platform.machine()} ({cpu_model()}) with 2 cores shared with other "
        f"work (noisy: compare figures within one run). Python {platform.python_version()}, "
        f"openai {version('openai')}, granian {version('granian')}. The run took "
        f"{seconds / 60:.0f} min.",
        "",
        "```",
        COMMAND,
        "```",
        "",
        "Three servers, one after the other, each under granian with one worker: "
        "`chatconnect serve` on its embedded stack (ONNX embedder, Qdrant Edge, pgserver); "
        "the same service on the same data with the embedding model out of the chat path "
        "(bench/stub_app.py: each question's vector computed by the real model at startup, "
        "then served from a dict), which leaves our own code, the targets' definition of "
        "overhead; and bench/bare_relay.py, an app that only passes a same-sized prompt "
        "through the OpenAI SDK and relays the deltas as SSE: the floor that the SDK, the "
        "HTTP server and the network set on this machine. The services run with "
        "`LLM_FREE=openai:gpt-4o-mini` and all three with `OPENAI_BASE_URL` at a stand-in "
        "OpenAI server in the benchmark's process, whose first token comes "
        f"{DELAY_S * 1000:.0f} ms after it has read the request. {sizes.documents} generated "
        f"manuals ({chunks} chunks); {sizes.measured} streams per server, one at a time on "
        f"one keep-alive connection, after {sizes.warmup} warm-up streams, each question a "
        "text never asked before. Times are taken on one clock: the client writing the "
        "request, the stub reading it and writing its first token, the client reading the "
        f"`token` event. {len(service.samples)} streams per column.",
        "",
        "| measurement | service p50 ms | p99 ms | model out p50 ms | p99 ms | "
        "bare relay p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *table,
        "",
        f"Against the goal (≤ {TARGET_P50_MS:.0f} ms p50, warm): our own code adds p50 "
        f"{p50[own.name]:.2f} ms to the provider's first token — {_verdict(p50[own.name])}; "
        f"with the local embedding model in the path, p50 {p50[service.name]:.2f} ms — "
        f"{_verdict(p50[service.name])}. Embedding the question accounts for "
        f"{model_ms:.2f} ms of it in this run (a hosted embedder would put a network round "
        f"trip there instead). The bare relay's floor is p50 {p50[relay.name]:.2f} ms: "
        f"beyond it, auth, limits, the answer cache, retrieval, the prompt, retries and "
        f"bookkeeping add {ours_ms:.2f} ms.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run; leaves the doc alone")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="chatconnect-ttft-"))
    started = time.monotonic()
    try:
        setups, chunks = run(sizes, work)
    except BaseException:
        print(f"failed; server log kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    section = render(setups, chunks, sizes, time.monotonic() - started)
    print("\n" + section + "\n")
    if args.quick:
        print("--quick: docs/benchmarks.md left as it is")
    else:
        write_doc(section, name="ttft")
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
