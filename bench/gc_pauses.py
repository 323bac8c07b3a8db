"""Garbage-collector pauses of the served app, with its startup heap frozen and without.

    .venv/bin/python bench/gc_pauses.py

One process: the app as `chatconnect serve` builds it (entrypoints.http.app:
create_served_app) on its embedded stack, driven in-process through Litestar's test
client, so the collector seen is the app's own. Startup ends by freezing the heap
(entrypoints/heap.py). Then, on a widget with a few documents, a run of chats (each a new
question) with every collection timed by generation, and five full collections timed;
then `gc.unfreeze()` puts the startup heap back where the collector walks it, as it was
before, and the same is measured again.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import corpus
from chat_latency import ROOT, UNLIMITED, stop_embedded_postgres, write_doc
from litestar.testing import AsyncTestClient

sys.path.insert(0, str(ROOT))
from entrypoints.http.app import create_served_app
from entrypoints.settings import Settings

COMMAND = ".venv/bin/python bench/gc_pauses.py"
DOCUMENTS = 5
CHATS = 1000
FULL_COLLECTIONS = 5
OWNER = {"Authorization": "Bearer bench"}


@dataclass
class Pauses:
    """Every collection of a run, in ms, by generation."""

    by_generation: dict[int, list[float]] = field(default_factory=lambda: {0: [], 1: [], 2: []})
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            elapsed = (time.perf_counter() - self._started) * 1000
            self.by_generation[info["generation"]].append(elapsed)


@dataclass(frozen=True)
class Measured:
    heap: str
    tracked: int
    pauses: Pauses
    full_ms: float


async def _ingest(client: AsyncTestClient[Any]) -> str:
    body = {"tenant_id": "bench", "plan": "free", "name": "gc"}
    widget = (await client.post("/api/widgets", json=body, headers=OWNER)).json()
    for doc in corpus.documents(DOCUMENTS):
        body = {"widget_id": widget["id"], "title": doc.title, "text": doc.text}
        response = await client.post("/api/widget/process-document", json=body, headers=OWNER)
        response.raise_for_status()
    for _ in range(600):
        listed = await client.get(
            "/api/widget/documents", params={"widget_id": widget["id"]}, headers=OWNER
        )
        documents = listed.json()["documents"]
        if len(documents) == DOCUMENTS and all(d["status"] == "ready" for d in documents):
            return str(widget["public_key"])
        await asyncio.sleep(0.2)
    raise RuntimeError("documents were not ready in time")


async def _measure(client: AsyncTestClient[Any], key: str, heap: str, serial: int) -> Measured:
    questions = corpus.questions(DOCUMENTS, 60)
    pauses = Pauses()
    gc.callbacks.append(pauses)
    try:
        for n in range(CHATS):
            body = {"message": f"{questions[n % len(questions)]} (#{serial + n})"}
            response = await client.post(
                "/api/widget/chat", json=body, headers={"X-Widget-Key": key}
            )
            response.raise_for_status()
    finally:
        gc.callbacks.remove(pauses)
    full = []
    for _ in range(FULL_COLLECTIONS):
        started = time.perf_counter()
        gc.collect()
        full.append((time.perf_counter() - started) * 1000)
    return Measured(heap, len(gc.get_objects()), pauses, statistics.median(full))


async def run(work: Path) -> list[Measured]:
    # One visitor asking a thousand times: the limits it would hit are lifted.
    unlimited = {name.lower(): int(value) for name, value in UNLIMITED.items()}
    settings = Settings(data_dir=work, admin_token="bench", log_level="WARNING", **unlimited)
    async with AsyncTestClient(create_served_app(settings), timeout=60) as client:
        key = await _ingest(client)
        frozen = await _measure(client, key, "frozen after startup (as served)", 0)
        gc.unfreeze()
        walked = await _measure(client, key, "not frozen (before)", CHATS)
    return [frozen, walked]


def render(results: list[Measured], seconds: float) -> str:
    def cells(values: list[float]) -> str:
        if not values:
            return "0 | – | –"
        return f"{len(values)} | {statistics.median(values):.2f} | {max(values):.2f}"

    rows = [
        f"| {m.heap} | {m.tracked:,} | {cells(m.pauses.by_generation[0])} | "
        f"{cells(m.pauses.by_generation[2])} | {m.full_ms:.1f} |"
        for m in results
    ]
    frozen, walked = results
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "## Garbage-collector pauses",
            "",
            f"Measured {now} on 2 cores shared with other work; one run of "
            f"{seconds / 60:.0f} min, Python {sys.version.split()[0]}.",
            "",
            "```",
            COMMAND,
            "```",
            "",
            "The served app in one process (embedded stack, extractive answerer), driven "
            f"through Litestar's in-process test client: {DOCUMENTS} documents, then "
            f"{CHATS} JSON chats, each a new question, with every collection timed; then "
            f"{FULL_COLLECTIONS} full collections (what a generation-2 pause costs; Python "
            "runs one whenever the objects that survived since the last reach a quarter of "
            "the long-lived heap). Then the same again with the startup heap unfrozen, as "
            "the service ran before. Pauses in ms; each stops the event loop.",
            "",
            "| heap | objects the collector walks | gen 0 collections | median | max "
            "| gen 2 collections | median | max | full collection ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"A full collection walks the startup heap unless it is frozen: "
            f"{walked.full_ms:.1f} ms against {frozen.full_ms:.1f} ms. How often Python runs "
            "one depends on how many objects survive (a quarter of the long-lived heap must "
            "have piled up since the last), so in a server that runs for days it is a "
            "question of when, and each one stops every stream for that long. The unfrozen "
            "run's generation-2 collections come sooner than they would have: unfreezing "
            "hands the whole startup heap back as survivors.",
        ]
    )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="chatconnect-gc-"))
    started = time.monotonic()
    try:
        results = asyncio.run(run(work))
    finally:
        stop_embedded_postgres(work)
    section = render(results, time.monotonic() - started)
    print(section)
    write_doc(section, name="gc_pauses")


if __name__ == "__main__":
    main()
