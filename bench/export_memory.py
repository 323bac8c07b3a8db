"""Exporting a widget's conversations: the served process's memory while it streams them.

    .venv/bin/python bench/export_memory.py               # 100,000 messages; writes the doc
    .venv/bin/python bench/export_memory.py --messages 5000   # a quick look; doc left alone

A fresh database on the PostgreSQL at BENCH_DATABASE_URL (else TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres) is filled with one widget's conversations:
10 messages each (5 questions and their answers, answers ~600 characters with three
sources), written with COPY. `chatconnect serve` then runs on it as a process of its own;
after a warm-up export of another widget, the resident set of its worker process is sampled
every 10 ms while the whole export is read through HTTP, as JSON Lines and as CSV. For
contrast, the same rows fetched at once (what an export that is not streamed would hold)
are measured in this process. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from chat_latency import ROOT, free_port, write_doc

sys.path.insert(0, str(ROOT))
from adapters.postgres.conversations import EXPORT_PREFETCH
from adapters.postgres.migrations import upgrade_to_head
from adapters.postgres.urls import asyncpg_dsn
from testkit.postgres import bench_server_url, scratch_database

COMMAND = ".venv/bin/python bench/export_memory.py"
FULL = 100_000
PER_CONVERSATION = 10
TOKEN = "bench-export"
OWNER = {"Authorization": f"Bearer {TOKEN}"}
SAMPLE_SECONDS = 0.01
ANSWER = (
    "You can return any item within 30 days of delivery for a full refund [1]. Refunds are "
    "paid to the original card within five working days [2], and exchanges are free for "
    "orders shipped within the European Union [3]. Items must be unused and in their "
    "original packaging; gift cards, personalised items and opened software cannot be "
    "returned. To start a return, open your order in your account and choose Return, or "
    "write to our support team with your order number and the items concerned. "
)
SOURCES = [
    {"index": n, "document_id": str(uuid.uuid4()), "title": f"Returns policy, part {n}",
     "section": "Returns › Time limit", "snippet": ANSWER[:300], "score": 0.8, "page": None}
    for n in (1, 2, 3)
]  # fmt: skip


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_of(pid: int) -> int:
    """granian serves from a child process: the app, and its memory, live there."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"expected one worker under {pid}, found {children}")
    return int(children[0])


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> Sampler:
        self.peak = rss_mb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


async def seed(url: str, widget_id: uuid.UUID, messages: int) -> None:
    """One widget's conversations, written with COPY: messages/10 conversations."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        conversations, rows = [], []
        for c in range(messages // PER_CONVERSATION):
            conversation_id = uuid.uuid4()
            at = start + timedelta(minutes=c)
            conversations.append((conversation_id, widget_id, f"visitor-{c % 997}", at))
            for m in range(PER_CONVERSATION // 2):
                asked = at + timedelta(seconds=2 * m)
                question = f"Question {m} of conversation {c}: how long do I have to return?"
                rows.append((uuid.uuid4(), conversation_id, "user", question, None, "[]",
                             0, 0, 0, None, asked))  # fmt: skip
                rows.append((uuid.uuid4(), conversation_id, "assistant", ANSWER,
                             "openai:gpt-4o-mini", json.dumps(SOURCES), 812, 64, 0.0001602,
                             "stop", asked + timedelta(seconds=1)))  # fmt: skip
        await connection.copy_records_to_table(
            "conversations",
            records=conversations,
            columns=["id", "widget_id", "visitor_id", "created_at"],
        )
        await connection.execute(
            "CREATE TEMP TABLE staged (id uuid, conversation_id uuid, role text, content text, "
            "model text, sources text, input_tokens int, output_tokens int, cost_usd numeric, "
            "finish_reason text, created_at timestamptz)"
        )
        await connection.copy_records_to_table("staged", records=rows)
        await connection.execute(
            "INSERT INTO messages (id, conversation_id, role, content, model, sources, "
            "input_tokens, output_tokens, cost_usd, finish_reason, created_at) "
            "SELECT id, conversation_id, role, content, model, sources::jsonb, input_tokens, "
            "output_tokens, cost_usd, finish_reason, created_at FROM staged ORDER BY created_at"
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


@dataclass(frozen=True)
class Measured:
    format: str
    rows: int
    megabytes: float
    seconds: float
    before_mb: float
    peak_mb: float

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.before_mb


def export(base: str, widget_id: uuid.UUID, fmt: str, pid: int) -> Measured:
    size = lines = 0
    before = rss_mb(pid)
    began = time.perf_counter()
    with Sampler(pid) as sampler, httpx.Client(base_url=base, timeout=600) as client:
        params = {"widget_id": str(widget_id), "format": fmt}
        with client.stream("GET", "/api/conversations/export", params=params,
                           headers=OWNER) as response:  # fmt: skip
            response.raise_for_status()
            for chunk in response.iter_bytes():
                size += len(chunk)
                lines += chunk.count(b"\n")
    rows = lines - 1 if fmt == "csv" else lines  # the header; CSV cells hold no new lines
    return Measured(fmt, rows, size / 1e6, time.perf_counter() - began, before, sampler.peak)


async def held_at_once(url: str, widget_id: uuid.UUID) -> float:
    """What the rows cost held all at once, as asyncpg records, in this process (MB)."""
    from adapters.postgres.conversations import _EXPORT

    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        before = rss_mb(os.getpid())
        rows = await connection.fetch(_EXPORT, widget_id, None, None)
        grown = rss_mb(os.getpid()) - before
        assert rows
        return grown
    finally:
        await connection.close()


def serve(url: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "QDRANT_URL")},
        "DATABASE_URL": url,
        "DATA_DIR": str(data_dir),
        "PORT": str(port),
        "ADMIN_TOKEN": TOKEN,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
    }
    log = (data_dir / "service.log").open("wb")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "chatconnect"), "serve"], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError((data_dir / "service.log").read_text()[-3000:])


def section(messages: int, results: list[Measured], held: float, seconds: float) -> str:
    rows = "\n".join(
        f"| {r.format} | {r.rows:,} | {r.megabytes:.1f} | {r.seconds:.1f} | "
        f"{r.rows / r.seconds:,.0f} | {r.before_mb:.1f} | {r.peak_mb:.1f} | "
        f"**{r.growth_mb:+.1f}** |"
        for r in results
    )
    worst = max(r.growth_mb for r in results)
    overall = max(r.peak_mb for r in results) - results[0].before_mb
    cores, python = os.cpu_count(), platform.python_version()
    measured = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {cores} cores shared with other work"
    held_text = (
        f"The same rows fetched at once, as asyncpg records, take {held:.0f} MB in a bare "
        "process before any encoding: what an export that is not streamed would hold, and it "
        "grows with the widget's history where the streamed one does not."
    )
    return "\n".join(
        [
            "## Export: memory while streaming",
            "",
            f"Measured {measured}; one run of {seconds:.0f} s, Python {python}.",
            "",
            "```",
            COMMAND,
            "```",
            "",
            f"`chatconnect serve` on PostgreSQL (a fresh database), one widget with "
            f"{messages:,} messages in {messages // PER_CONVERSATION:,} conversations (answers "
            "~600 characters with three sources); after a warm-up export, the whole export read "
            "over HTTP while the resident set of the service's worker process is sampled every "
            "10 ms. The rows come from a server-side cursor in a read-only snapshot, "
            f"{EXPORT_PREFETCH} at a time (`adapters/postgres/conversations.py`), each encoded "
            "and sent before the next is read.",
            "",
            "| format | rows | MB sent | s | rows/s | RSS before MB | RSS peak MB | growth MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            rows,
            "",
            f"The process grew by at most {worst:.1f} MB while sending an export, and ended both "
            f"{overall:+.1f} MB from where it started (the goal: within 50 MB). {held_text}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=FULL)
    args = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="chatconnect-export-"))
    try:
        with scratch_database(bench_server_url()) as url:
            measure(url, work, args.messages, started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(url: str, work: Path, messages: int, started: float) -> None:
    upgrade_to_head(url)
    widget, warm = uuid.uuid4(), uuid.uuid4()
    asyncio.run(_widgets(url, widget, warm))
    print(f"seeding {messages:,} messages ...", flush=True)
    asyncio.run(seed(url, widget, messages))
    asyncio.run(seed(url, warm, 100))
    port = free_port()
    process = serve(url, work, port)
    try:
        base = f"http://127.0.0.1:{port}"
        pid = worker_of(process.pid)
        for fmt in ("jsonl", "csv"):
            export(base, warm, fmt, pid)  # warm-up: code paths, pools, buffers
        results = []
        for fmt in ("jsonl", "csv"):
            measured = export(base, widget, fmt, pid)
            print(measured, flush=True)
            results.append(measured)
        held = asyncio.run(held_at_once(url, widget))
    finally:
        process.send_signal(signal.SIGINT)  # before the database is dropped under it
        process.wait(timeout=30)
    print(f"held at once: {held:.1f} MB")
    text = section(messages, results, held, time.monotonic() - started)
    print(text)
    if messages == FULL:
        write_doc(text, name="export_memory")
        print("wrote docs/benchmarks.md")
    else:
        print("not the full size: docs/benchmarks.md left as it is")


async def _widgets(url: str, *ids: uuid.UUID) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    now = datetime.now(UTC)
    try:
        for widget_id in ids:
            await connection.execute(
                "INSERT INTO widgets (id, tenant_id, plan, name, public_key, system_prompt, "
                "no_answer_message, top_k, created_at, updated_at) "
                "VALUES ($1, 'bench', 'free', 'Bench', $2, 'Help.', 'No idea.', 5, $3, $3)",
                widget_id,
                f"pk_{widget_id.hex}",
                now,
            )
    finally:
        await connection.close()


if __name__ == "__main__":
    main()
