"""Resident memory of every process of the embedded default, idle and after documents.

    .venv/bin/python bench/footprint.py [--idle-seconds 15]

Starts `chatconnect serve` on its embedded defaults (local embedding model, embedded
PostgreSQL and Qdrant Edge, in-process cache) in a fresh data directory, waits until it
is ready, and reports each process's RSS and PSS (its share of pages shared with others,
so the PSS column adds up):

1. idle, no document yet;
2. after one .txt is ingested (read in-process: no parser child);
3. after one .docx is ingested (the parser child starts);
4. after the parser's idle time (PARSE_IDLE_SECONDS, shortened here) has passed.

The processes are the service's own tree (granian's supervisor, the API worker, the
parser child and its multiprocessing helper) and the embedded PostgreSQL (its postmaster
under the data directory and that one's children).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
from chat_latency import BIN, ROOT, stop_embedded_postgres

sys.path.insert(0, str(ROOT))
from adapters.parsing.sample_documents import docx_bytes

COMMAND = ".venv/bin/python bench/footprint.py"
ADMIN_TOKEN = "bench-footprint"
OWNER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STARTUP_TIMEOUT_S = 180.0
READY_TIMEOUT_S = 300.0
MB = 1024 * 1024
TEXT = (
    b"Opening hours\n\nThe Porto store opens at nine in the morning on weekdays and at ten on "
    b"Saturdays; it is closed on Sundays and public holidays.\n\nReturns\n\nAny item may be "
    b"returned within 30 days of delivery, with its receipt.\n"
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def service(data_dir: Path, idle_seconds: float) -> Iterator[tuple[str, psutil.Process]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "QDRANT_URL")}
    env.pop("REDIS_URL", None)
    port = _free_port()
    env.update(
        PORT=str(port),
        DATA_DIR=str(data_dir),
        ADMIN_TOKEN=ADMIN_TOKEN,
        LOG_LEVEL="WARNING",
        PARSE_IDLE_SECONDS=str(idle_seconds),
        DO_NOT_TRACK="1",
    )
    url = f"http://127.0.0.1:{port}"
    with (data_dir / "service.log").open("ab") as log:
        process = subprocess.Popen(
            [str(BIN / "chatconnect"), "serve"], env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data_dir / "service.log").read_text()[-3000:])
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                    break
            time.sleep(0.3)
        yield url, psutil.Process(process.pid)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        stop_embedded_postgres(data_dir)


def _label(process: psutil.Process, root: psutil.Process, postmaster: int | None) -> str:
    cmdline = " ".join(process.cmdline())
    if process.pid == root.pid:
        return "granian supervisor (`chatconnect serve`)"
    if process.pid == postmaster:
        return "PostgreSQL postmaster"
    if "postgres" in process.name() or "postgres:" in cmdline:
        return "PostgreSQL " + (cmdline.removeprefix("postgres: ").strip() or process.name())
    if "resource_tracker" in cmdline:
        return "multiprocessing resource tracker"
    if "multiprocessing" in cmdline or "spawn_main" in cmdline:
        return "parser child (unstructured)"
    return "API worker (granian)"


def _postmaster(data_dir: Path) -> int | None:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if pid_file.exists() else None


def snapshot(root: psutil.Process, data_dir: Path) -> list[tuple[str, int, int, int]]:
    """(label, pid, RSS, PSS) of every process of the service and its PostgreSQL."""
    postmaster = _postmaster(data_dir)
    processes = [root, *root.children(recursive=True)]
    if postmaster is not None:
        pg = psutil.Process(postmaster)
        processes += [pg, *pg.children(recursive=True)]
    rows = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            memory = process.memory_full_info()
            rows.append((_label(process, root, postmaster), process.pid, memory.rss, memory.pss))
    return rows


def _wait_ready(client: httpx.Client, document_id: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        status = client.get(f"/api/widget/documents/{document_id}/status", headers=OWNER).json()
        if status["status"] == "ready":
            return
        if status["status"] == "failed":
            raise RuntimeError(f"document failed: {status}")
        time.sleep(0.3)
    raise RuntimeError("document not ready in time")


def _upload(client: httpx.Client, widget: str, name: str, content: bytes) -> None:
    files = {"file": (name, content, "application/octet-stream")}
    response = client.post(
        "/api/widget/process-document", data={"widget_id": widget}, files=files, headers=OWNER
    )
    response.raise_for_status()
    _wait_ready(client, response.json()["document_id"])


def _table(title: str, rows: list[tuple[str, int, int, int]]) -> str:
    lines = [f"**{title}**", "", "| process | RSS MB | PSS MB |", "|---|---:|---:|"]
    grouped: dict[str, list[tuple[int, int]]] = {}
    for label, _, rss, pss in rows:
        grouped.setdefault(label, []).append((rss, pss))
    for label, values in grouped.items():
        count = f" ×{len(values)}" if len(values) > 1 else ""
        rss = sum(v[0] for v in values) / MB
        pss = sum(v[1] for v in values) / MB
        lines.append(f"| {label}{count} | {rss:.0f} | {pss:.0f} |")
    total_rss = sum(r[2] for r in rows) / MB
    total_pss = sum(r[3] for r in rows) / MB
    lines.append(f"| **all processes** | {total_rss:.0f} | **{total_pss:.0f}** |")
    return "\n".join(lines)


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arguments.add_argument("--idle-seconds", type=float, default=15.0)
    idle_seconds = arguments.parse_args().idle_seconds
    tables = []
    with (
        tempfile.TemporaryDirectory(prefix="footprint-") as tmp,
        service(Path(tmp), idle_seconds) as (url, root),
        httpx.Client(base_url=url, timeout=60) as client,
    ):
        data_dir = Path(tmp)
        time.sleep(5)  # let start-up's transient allocations settle
        tables.append(_table("1. idle, ready, no document", snapshot(root, data_dir)))
        body = {"tenant_id": "bench", "plan": "free", "name": "footprint"}
        widget = client.post("/api/widgets", json=body, headers=OWNER).json()["id"]
        _upload(client, widget, "hours.txt", TEXT)
        time.sleep(2)
        tables.append(_table("2. after one .txt", snapshot(root, data_dir)))
        _upload(client, widget, "guide.docx", docx_bytes())
        time.sleep(2)
        tables.append(_table("3. after one .docx", snapshot(root, data_dir)))
        time.sleep(idle_seconds + 5)
        tables.append(
            _table(f"4. {idle_seconds:g} s later (PARSE_IDLE_SECONDS)", snapshot(root, data_dir))
        )
    print(f"`{COMMAND} --idle-seconds {idle_seconds:g}`\n")
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
