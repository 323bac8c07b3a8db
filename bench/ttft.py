"""Time-to-first-token overhead of the provider path: what we add to an LLM's own wait.

    .venv/bin/python bench/ttft.py [--quick]

Starts a stand-in OpenAI server in this process (tests/support/llm_stubs.py) whose first
token comes after a fixed delay, and `chatconnect serve` on a fresh data directory with
OPENAI_BASE_URL pointing at it and LLM_FREE=openai:gpt-4o-mini: the real OpenAI SDK, our
retries, breaker, timeouts, prompt budget and SSE. Ingests a small corpus, warms up, then
streams questions one at a time over a keep-alive connection and records, per request:

    t0 the request is written    t1 the stub has read it    t2 the stub writes its first
    token (t2 - t1 = its own delay)    t3 the `token` SSE event reaches the client

Overhead = (t3 - t0) - the stub's configured first-token delay; it splits into before the
provider (t1 - t0: auth, history, embedding the question, retrieval, prompt, the SDK's
request), the stub's own oversleep (t2 - t1 - delay) and after it (t3 - t2: the SDK's
parsing, our stream, SSE, HTTP). Prints a table and, on a full run, rewrites its section
of docs/benchmarks.md.
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
from chat_latency import BIN, ROOT, UNLIMITED, Server, running, stop_embedded_postgres, write_doc

sys.path.insert(0, str(ROOT))
from tests.support.llm_stubs import Reply, StubServer

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


def ingest(client: httpx.Client, widget_id: str, count: int) -> int:
    for doc in corpus.documents(count):
        body = {"widget_id": widget_id, "title": doc.title, "text": doc.text}
        client.post("/api/widget/process-document", json=body).raise_for_status()
    deadline = time.monotonic() + INGEST_TIMEOUT_S
    while time.monotonic() < deadline:
        listed = client.get("/api/widget/documents", params={"widget_id": widget_id})
        statuses = listed.raise_for_status().json()["documents"]
        if any(d["status"] == "failed" for d in statuses):
            raise RuntimeError(f"a document failed: {statuses}")
        if len(statuses) == count and all(d["status"] == "ready" for d in statuses):
            return sum(d["chunk_count"] for d in statuses)
        time.sleep(0.3)
    raise RuntimeError("documents were not ready in time")


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
    port: int, keys: tuple[str, str], questions: list[str], stub: StubServer, n: int
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
            # Its own new text: the same one would find its vector already cached.
            other = f"{questions[i % len(questions)]} (#{next(serial)})"
            start, end = await first_token(connection, keys[1], other)
            extractive.append(end - start)
    finally:
        await connection.close()
    return samples, extractive


def run(sizes: Sizes, work: Path) -> tuple[list[Sample], list[float], int]:
    stub = StubServer().start()
    stub.default = Reply(
        deltas=("The warranty ", "lasts two years [1]."), first_token_delay=DELAY_S, usage=(900, 9)
    )
    token = secrets.token_urlsafe(24)
    env = {
        "DATA_DIR": str(work / "data"),
        "ADMIN_TOKEN": token,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": stub.url + "/v1",
        "LLM_FREE": "openai:gpt-4o-mini",
        "LLM_PAID": "extractive",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        **UNLIMITED,
        **{name.replace("FREE", "PAID"): value for name, value in UNLIMITED.items()},
    }
    service = Server("service", [str(BIN / "chatconnect"), "serve"], env, work)
    questions = corpus.questions(sizes.documents, sizes.questions)
    try:
        with running(service, "/health/ready"):
            base = f"http://127.0.0.1:{service.port}"
            owner = {"Authorization": f"Bearer {token}"}
            keys = []
            chunks = 0
            with httpx.Client(base_url=base, headers=owner, timeout=30) as client:
                for plan in ("free", "paid"):
                    body = {"tenant_id": "bench", "plan": plan, "name": f"TTFT {plan}"}
                    widget = client.post("/api/widgets", json=body).raise_for_status().json()
                    chunks = ingest(client, widget["id"], sizes.documents)
                    keys.append(widget["public_key"])
            print(f"  {sizes.documents} documents, {chunks} chunks; warming up", flush=True)
            pair = (keys[0], keys[1])
            asyncio.run(measure(service.port, pair, questions, stub, sizes.warmup))
            print(f"  measuring {sizes.measured} streams of each, in turn", flush=True)
            samples, extractive = asyncio.run(
                measure(service.port, pair, questions, stub, sizes.measured)
            )
    finally:
        stop_embedded_postgres(work / "data")
        stub.stop()
    return samples, extractive, chunks


def _p(values: list[float], q: float) -> str:
    return f"{load.percentile(values, q) * 1000:.2f}"


def render(
    samples: list[Sample], extractive: list[float], chunks: int, sizes: Sizes, seconds: float
) -> str:
    from importlib.metadata import version

    overhead = [s.overhead for s in samples]
    paired = [s.overhead - e for s, e in zip(samples, extractive, strict=True)]
    p50 = load.percentile(overhead, 50) * 1000
    rows = [
        ("**overhead: token event − stub's first-token delay**", overhead),
        (
            "… before the provider: auth, history, embedding, retrieval, prompt, SDK request",
            [s.before for s in samples],
        ),
        ("… the stub oversleeping its delay (asyncio timer)", [s.oversleep for s in samples]),
        (
            "… after the provider's first token: SDK, our stream, SSE, HTTP",
            [s.after for s in samples],
        ),
        ("same question, new text (embedded afresh), extractive: first token", extractive),
        ("provider overhead − extractive first token, paired by question", paired),
    ]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Time to first token: overhead over the provider",
        "",
        f"Measured {now} on {platform.machine()} with 2 cores shared with other work (noisy: "
        f"compare figures within one run). Python {platform.python_version()}, openai "
        f"{version('openai')}, granian {version('granian')}. The run took "
        f"{seconds / 60:.0f} min.",
        "",
        "```",
        COMMAND,
        "```",
        "",
        f"`chatconnect serve` on its embedded stack (ONNX embedder, Qdrant Edge, pgserver) "
        f"with `LLM_FREE=openai:gpt-4o-mini` and `OPENAI_BASE_URL` at a stand-in OpenAI "
        f"server in the benchmark's process, whose first token comes {DELAY_S * 1000:.0f} ms "
        f"after it has read the request. {sizes.documents} generated manuals ({chunks} "
        f"chunks); {len(samples)} streams measured one at a time on one keep-alive "
        f"connection, after {sizes.warmup} warm-up streams. Times are taken on one clock: "
        "the client writing the request, the stub reading it and writing its first token, "
        "the client reading the `token` event.",
        "",
        "| measurement | streams | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        *(
            f"| {what} | {len(values)} | {_p(values, 50)} | {_p(values, 99)} |"
            for what, values in rows
        ),
        "",
        f"Against the goal (≤ {TARGET_P50_MS:.0f} ms p50, warm): p50 {p50:.2f} ms — "
        f"{'met' if p50 <= TARGET_P50_MS else 'not met'}. What comes before the provider "
        "(auth, limits, history, embedding the question, retrieval) is shared with the "
        "extractive answerer, whose first token comes at p50 "
        f"{_p(extractive, 50)} ms in this run; the provider path itself (prompt budget, "
        "SDK request and parsing, retries and breaker bookkeeping, stream) adds p50 "
        f"{_p(paired, 50)} ms over the extractive answerer on the same question, "
        "each embedded afresh.",
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
        samples, extractive, chunks = run(sizes, work)
    except BaseException:
        print(f"failed; server log kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    section = render(samples, extractive, chunks, sizes, time.monotonic() - started)
    print("\n" + section + "\n")
    if args.quick:
        print("--quick: docs/benchmarks.md left as it is")
    else:
        write_doc(section, name="ttft")
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
