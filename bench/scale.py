"""Performance at scale with hosted models (issue 19): CPU per chat, TTFT over the
provider's own, and a thousand concurrent streams on one worker.

    .venv/bin/python bench/scale.py [--quick] [--streams 1000] [--write]

Starts bench/openai_standin.py (its own process: an asyncio server that paces thousands of
streams with one timer) and `chatconnect serve` under granian with one worker, on a fresh
data directory, with `EMBEDDINGS=openai:text-embedding-3-small` and
`LLM_FREE=openai:gpt-4o-mini` through `OPENAI_BASE_URL` at the stand-in,
`RETRIEVAL_MIN_SCORE=-1` (the stand-in's vectors are random) and the limits raised. Every
question is a text never asked before. CPU is read from psutil over the service's whole
process tree (granian's supervisor and worker, their children, the embedded PostgreSQL's
processes), never the stand-in's or this client's. Then:

1. idle RSS of every process;
2. chat JSON (`POST /api/widget/chat`, the stand-in answering 20 tokens at once): 1 client,
   then 50, then the bare `GET /health` at 50 in the same run; server CPU per chat;
3. TTFT: streams one at a time, the stand-in's first token after 50 ms; the client's
   time to the first `token` event minus the stand-in's own time for that question (its
   embeddings request, read to written, plus its chat request, read to first token);
4. N concurrent streams (1,000 by default), 200 tokens each at 20 tokens/s: errors,
   per-stream duration and token rate, TTFT, peak RSS, CPU per relayed token.

Prints a table; with `--write` (not with `--quick`) rewrites its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import corpus
import httpx
import load
import psutil
from chat_latency import (
    BIN,
    ROOT,
    UNLIMITED,
    Server,
    cpu_model,
    free_port,
    running,
    stop_embedded_postgres,
    write_doc,
)

COMMAND = ".venv/bin/python bench/scale.py --write"
CHAT = "/api/widget/chat"
STREAM = "/api/widget/chat/stream"
TOKEN_MARK = b"event: token"
DONE_MARK = b"event: done"
ERROR_MARK = b"event: error"
SERIAL = re.compile(r"\(#(\d+)\)")
MB = 1024 * 1024


@dataclass(frozen=True)
class Sizes:
    documents: int
    seconds: int
    ttft_streams: int
    streams: int
    tokens: int = 200
    rate: float = 20.0
    first_token_ms: float = 50.0
    ramp: float = 0.0  # seconds over which the streams start (0: all at once)


FULL = Sizes(documents=100, seconds=20, ttft_streams=300, streams=1000)
QUICK = Sizes(documents=10, seconds=4, ttft_streams=40, streams=100, tokens=40)


# --- the process tree and its CPU ------------------------------------------------------


def tree(root: psutil.Process, data_dir: Path) -> list[psutil.Process]:
    """The service's processes and its embedded PostgreSQL's (not a child of ours)."""
    processes = [root, *root.children(recursive=True)]
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if pid_file.exists():
        with contextlib.suppress(psutil.NoSuchProcess, ValueError):
            postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
            processes += [postmaster, *postmaster.children(recursive=True)]
    return processes


class CpuMeter:
    """CPU seconds the tree spent since `start`, per process so that none counts twice."""

    def __init__(self, root: psutil.Process, data_dir: Path) -> None:
        self._root = root
        self._data_dir = data_dir
        self._start: dict[int, float] = {}
        self._labels: dict[int, str] = {}
        self._threads_start: dict[int, tuple[str, float]] = {}

    def _read(self) -> dict[int, float]:
        seconds = {}
        for process in tree(self._root, self._data_dir):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
                if process.pid not in self._labels:
                    self._labels[process.pid] = _group(process, self._root)
        return seconds

    def by_group(self) -> dict[str, float]:
        """The seconds since `start`, per kind of process (API worker, PostgreSQL...)."""
        now = self._read()
        groups: dict[str, float] = {}
        for pid, value in now.items():
            label = self._labels.get(pid, "other")
            groups[label] = groups.get(label, 0.0) + value - self._start.get(pid, 0.0)
        return groups

    def start(self) -> None:
        self._start = self._read()
        self._threads_start = self._threads()

    def _worker(self) -> psutil.Process | None:
        return next(
            (p for p in self._root.children() if _group(p, self._root) == "API worker"), None
        )

    def _threads(self) -> dict[int, tuple[str, float]]:
        """The API worker's threads: kind and CPU seconds, by thread id."""
        worker = self._worker()
        if worker is None:
            return {}
        found = {}
        with contextlib.suppress(psutil.NoSuchProcess):
            for thread in worker.threads():
                found[thread.id] = (
                    _thread_kind(worker.pid, thread.id),
                    thread.user_time + thread.system_time,
                )
        return found

    def by_thread(self) -> dict[str, float]:
        """The API worker's seconds since `start`, per kind of thread: where in the worker
        a chat's CPU goes (the event loop, the vector store's engine, granian's runtime)."""
        kinds: dict[str, float] = {}
        for tid, (kind, value) in self._threads().items():
            before = self._threads_start.get(tid, (kind, 0.0))[1]
            kinds[kind] = kinds.get(kind, 0.0) + value - before
        return kinds

    def seconds(self) -> float:
        now = self._read()
        return sum(value - self._start.get(pid, 0.0) for pid, value in now.items())


class _Sampler:
    """Calls `sample` every `every` seconds in a thread, while in its `with` block."""

    def __init__(self, every: float) -> None:
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self._every)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


class RssSampler(_Sampler):
    """Peak RSS of the tree (and of the API worker alone), sampled in a thread; also the
    peak PSS of the tree, where a page several processes share counts once (split among
    them): PostgreSQL's shared buffers are in the RSS of every backend that touched them,
    so summed RSS counts them once per backend."""

    def __init__(self, root: psutil.Process, data_dir: Path, every: float = 0.25) -> None:
        super().__init__(every)
        self._root, self._data_dir = root, data_dir
        self.peak_total = 0
        self.peak_worker = 0
        self.peak_pss = 0

    def sample(self) -> None:
        total = worker = pss = 0
        for process in tree(self._root, self._data_dir):
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                memory = process.memory_full_info()
                total += memory.rss
                pss += memory.pss
                if process.ppid() == self._root.pid:
                    worker = max(worker, memory.rss)
        self.peak_total = max(self.peak_total, total)
        self.peak_worker = max(self.peak_worker, worker)
        self.peak_pss = max(self.peak_pss, pss)


@dataclass(frozen=True)
class Steady:
    seconds: float
    cpu: float
    tokens: int
    threads: dict[str, float]  # the API worker's CPU seconds by kind of thread


class RelaySampler(_Sampler):
    """The tree's CPU seconds and the tokens relayed so far, sampled in a thread: CPU per
    token over the steady window (every stream past its first token, none ended yet), when
    the relay alone runs, without the admissions that the whole phase's figure includes."""

    def __init__(self, cpu: CpuMeter, every: float = 0.5) -> None:
        super().__init__(every)
        self._cpu = cpu
        self.samples: list[tuple[float, float, int, dict[str, float]]] = []

    def sample(self) -> None:
        at, cpu, threads = time.perf_counter(), self._cpu.seconds(), self._cpu.by_thread()
        self.samples.append((at, cpu, _RELAYED[0], threads))

    def window(self, start: float, end: float) -> Steady | None:
        """What was spent between the first and last samples inside [start, end]; None when
        fewer than two samples fall inside."""
        inside = [s for s in self.samples if start <= s[0] <= end]
        if len(inside) < 2:
            return None
        (t0, c0, n0, k0), (t1, c1, n1, k1) = inside[0], inside[-1]
        threads = {kind: k1[kind] - k0.get(kind, 0.0) for kind in k1}
        return Steady(t1 - t0, c1 - c0, n1 - n0, threads)


def _group(process: psutil.Process, root: psutil.Process) -> str:
    cmdline = " ".join(process.cmdline())
    if process.pid == root.pid:
        return "granian supervisor"
    if "postgres" in process.name() or "postgres" in cmdline:
        return "PostgreSQL (all its processes)"
    if "multiprocessing" in cmdline or "spawn_main" in cmdline:
        return "parser child / multiprocessing helper"
    return "API worker"


def _thread_kind(pid: int, tid: int) -> str:
    try:
        name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
    except OSError:
        name = ""
    if tid == pid:
        return "its event loop's thread"
    if name.startswith("edge-search"):
        return "Qdrant Edge's search threads"
    if name.startswith("tokio"):
        return "granian's runtime threads"
    # Python names no thread for the kernel: these are the vector store's engine thread
    # (the hybrid plan's Python and the engine calls made from it) and executors'.
    return "its other Python threads (the vector store's engine thread)"


def rss_table(root: psutil.Process, data_dir: Path, kind: str = "rss") -> list[tuple[str, float]]:
    """MB by group of processes: summed RSS, or with kind="pss" summed PSS."""
    rows: dict[str, float] = {}
    for process in tree(root, data_dir):
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            label = _group(process, root)
            memory = process.memory_full_info() if kind == "pss" else process.memory_info()
            rows[label] = rows.get(label, 0.0) + getattr(memory, kind) / MB
    return sorted(rows.items(), key=lambda row: -row[1])


# --- the stand-in ----------------------------------------------------------------------


class StandIn:
    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = (work / "standin.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "openai_standin.py"), "--port", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("the stand-in did not start")

    def configure(self, **pace: float) -> None:
        httpx.post(self.url + "/_config", json=pace, timeout=10).raise_for_status()

    def reset(self) -> None:
        httpx.post(self.url + "/_reset", timeout=10).raise_for_status()

    def stats(self) -> list[dict[str, object]]:
        return list(httpx.get(self.url + "/_stats", timeout=60).json())

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.process.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        self._log.close()


# --- streams: a cheap client for many of them --------------------------------------------


@dataclass
class StreamResult:
    written: float = 0.0
    first_token: float | None = None
    ended: float | None = None
    tokens: int = 0
    status: int = 0
    done: bool = False
    error: str | None = None
    question: str = ""


class _StreamProtocol(asyncio.Protocol):
    """One `Connection: close` stream: counts `token` events without parsing them."""

    def __init__(self, request: bytes, result: StreamResult, finished: asyncio.Future[None]):
        self._request = request
        self._result = result
        self._finished = finished
        self._tail = b""
        self._head = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._result.written = time.perf_counter()
        transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        result = self._result
        if self._head:
            self._head = False
            with contextlib.suppress(ValueError, IndexError):
                result.status = int(data.split(b" ", 2)[1])
        window = self._tail + data
        count = window.count(TOKEN_MARK)
        if count:
            if result.first_token is None:
                result.first_token = time.perf_counter()
            result.tokens += count
            _RELAYED[0] += count
        if DONE_MARK in window:
            result.done = True
        if ERROR_MARK in window and result.error is None:
            start = window.find(ERROR_MARK)
            result.error = window[start : start + 160].decode("utf-8", "replace")
        # Keep what could be the start of a mark cut by this read, and never count it twice.
        self._tail = window[-(len(TOKEN_MARK) - 1) :]

    def connection_lost(self, exc: Exception | None) -> None:
        self._result.ended = time.perf_counter()
        if exc is not None and self._result.error is None:
            self._result.error = f"connection lost: {exc}"
        if not self._finished.done():
            self._finished.set_result(None)


# Every `token` event any stream has read so far: the steady window's denominator.
_RELAYED = [0]


def stream_request(key: str, question: str) -> bytes:
    body = json.dumps({"message": question}).encode()
    headers = {"Content-Type": "application/json", "X-Widget-Key": key, "Connection": "close"}
    return load.http_request(STREAM, headers, body)


async def one_stream(port: int, key: str, question: str, limit_s: float) -> StreamResult:
    loop = asyncio.get_running_loop()
    result = StreamResult(question=question)
    finished: asyncio.Future[None] = loop.create_future()
    try:
        transport, _ = await loop.create_connection(
            lambda: _StreamProtocol(stream_request(key, question), result, finished),
            "127.0.0.1",
            port,
        )
    except OSError as error:
        result.error = f"connect: {error}"
        return result
    try:
        await asyncio.wait_for(finished, limit_s)
    except TimeoutError:
        result.error = f"not finished within {limit_s:.0f} s"
        transport.abort()
    if result.ended is None:
        result.ended = time.perf_counter()
    return result


async def many_streams(
    port: int, key: str, questions: Sequence[str], limit_s: float, ramp_s: float = 0.0
) -> list[StreamResult]:
    """All at once, or started evenly over `ramp_s` seconds."""

    async def started_after(delay: float, question: str) -> StreamResult:
        if delay:
            await asyncio.sleep(delay)
        return await one_stream(port, key, question, limit_s)

    step = ramp_s / max(1, len(questions))
    return await asyncio.gather(*(started_after(n * step, q) for n, q in enumerate(questions)))


# --- the run -----------------------------------------------------------------------------


@dataclass
class Results:
    sizes: Sizes
    chunks: int = 0
    idle_rss: list[tuple[str, float]] = field(default_factory=list)
    json_1: load.Stats | None = None
    json_50: load.Stats | None = None
    bare_50: load.Stats | None = None
    cpu_per_chat_ms: float = 0.0
    cpu_chats: int = 0
    cpu_groups: dict[str, float] = field(default_factory=dict)
    cpu_threads: dict[str, float] = field(default_factory=dict)
    ttft_client: list[float] = field(default_factory=list)
    ttft_own: list[float] = field(default_factory=list)
    ttft_over: list[float] = field(default_factory=list)
    streams: list[StreamResult] = field(default_factory=list)
    streams_wall: float = 0.0
    streams_cpu: float = 0.0
    standin_cpu: float = 0.0
    # bench/bare_relay.py sends tokens only: there a stream ends well with all its tokens.
    done_expected: bool = True
    # The steady window: seconds, CPU seconds and tokens (none when streams ended first).
    steady: Steady | None = None
    peak_rss: float = 0.0
    peak_worker_rss: float = 0.0
    peak_pss: float = 0.0
    after_rss: list[tuple[str, float]] = field(default_factory=list)
    after_pss: list[tuple[str, float]] = field(default_factory=list)


_serial = iter(range(1, 10**9))


def fresh(questions: Sequence[str], count: int) -> list[str]:
    return [f"{questions[n % len(questions)]} (#{next(_serial)})" for n in range(count)]


def closed_loop(
    port: int,
    path: str,
    headers: dict[str, str],
    bodies: list[bytes],
    clients: int,
    seconds: float,
    method: str = "POST",
) -> load.Stats:
    if method == "GET":
        raw = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        requests = [raw]
    else:
        requests = [load.http_request(path, headers, body) for body in bodies]
    stats = asyncio.run(load.python_closed_loop(port, requests, clients, seconds))
    print(
        f"  {method} {path} x{clients}: p50 {stats.p50_ms:.2f} ms, p99 {stats.p99_ms:.2f} ms, "
        f"{stats.rps:.0f} req/s, {stats.errors} errors",
        flush=True,
    )
    return stats


def chat_bodies(questions: Sequence[str], count: int) -> list[bytes]:
    return [json.dumps({"message": q}).encode() for q in fresh(questions, count)]


def measure_json(r: Results, port: int, key: str, questions: Sequence[str], cpu: CpuMeter) -> None:
    headers = {"Content-Type": "application/json", "X-Widget-Key": key}
    s = r.sizes.seconds
    closed_loop(port, CHAT, headers, chat_bodies(questions, 2000), 1, 2)  # warm-up
    cpu.start()
    r.json_1 = closed_loop(port, CHAT, headers, chat_bodies(questions, 20_000), 1, s)
    r.cpu_chats = r.json_1.requests
    r.cpu_groups = {k: v / max(1, r.cpu_chats) * 1000 for k, v in cpu.by_group().items()}
    r.cpu_per_chat_ms = sum(r.cpu_groups.values())
    r.cpu_threads = {k: v / max(1, r.cpu_chats) * 1000 for k, v in cpu.by_thread().items()}
    r.json_50 = closed_loop(port, CHAT, headers, chat_bodies(questions, 40_000), 50, s)
    r.bare_50 = closed_loop(port, "/health", {}, [], 50, s, method="GET")


def measure_ttft(r: Results, port: int, key: str, questions: Sequence[str], standin: StandIn):
    async def sequential(texts: Sequence[str]) -> list[StreamResult]:
        return [await one_stream(port, key, q, 30) for q in texts]

    asyncio.run(sequential(fresh(questions, 20)))  # warm-up
    standin.reset()
    results = asyncio.run(sequential(fresh(questions, r.sizes.ttft_streams)))
    own: dict[str, float] = {}
    for record in standin.stats():
        match = SERIAL.search(str(record["question"]))
        if match is None:
            continue
        serial = match.group(1)
        if record["kind"] == "embeddings" and record["ended"] is not None:
            spent = float(record["ended"]) - float(record["received"])  # type: ignore[arg-type]
        elif record["kind"] == "chat" and record["first_token"] is not None:
            spent = float(record["first_token"]) - float(record["received"])  # type: ignore[arg-type]
        else:
            continue
        own[serial] = own.get(serial, 0.0) + spent
    for result in results:
        match = SERIAL.search(result.question)
        if result.first_token is None or match is None or match.group(1) not in own:
            raise RuntimeError(f"stream without a token or a provider record: {result}")
        client = result.first_token - result.written
        r.ttft_client.append(client)
        r.ttft_own.append(own[match.group(1)])
        r.ttft_over.append(client - own[match.group(1)])


def measure_streams(
    r: Results,
    port: int,
    key: str,
    questions: Sequence[str],
    standin: StandIn,
    root: psutil.Process,
    data_dir: Path,
) -> None:
    z = r.sizes
    standin.configure(first_token_ms=z.first_token_ms, tokens=z.tokens, tokens_per_second=z.rate)
    cpu = CpuMeter(root, data_dir)
    texts = fresh(questions, z.streams)
    timeout = 120.0
    standin_before = standin.cpu_seconds()
    with RssSampler(root, data_dir) as rss:
        cpu.start()
        started = time.perf_counter()
        with RelaySampler(cpu) as relay:
            r.streams = asyncio.run(many_streams(port, key, texts, timeout, z.ramp))
        r.streams_wall = time.perf_counter() - started
        r.streams_cpu = cpu.seconds()
    # From the last first token to the first end of a stream that ended well: one refused
    # or broken off (counted as failed) leaves the relay, it does not end the window.
    firsts = [s.first_token for s in r.streams if s.first_token is not None]
    ends = [s.ended for s in _failures(r)[0] if s.ended is not None]
    if firsts and ends:
        r.steady = relay.window(max(firsts), min(ends))
    r.standin_cpu = standin.cpu_seconds() - standin_before
    r.peak_rss = rss.peak_total / MB
    r.peak_worker_rss = rss.peak_worker / MB
    r.peak_pss = rss.peak_pss / MB
    r.after_rss = rss_table(root, data_dir)
    r.after_pss = rss_table(root, data_dir, "pss")


def run(sizes: Sizes, work: Path, profile: Path | None = None) -> Results:
    results = Results(sizes)
    standin = StandIn(work)
    token = secrets.token_urlsafe(24)
    questions = corpus.questions(sizes.documents, 200)
    env = {
        "DATA_DIR": str(work / "data"),
        "ADMIN_TOKEN": token,
        "OPENAI_API_KEY": "sk-bench",
        "OPENAI_BASE_URL": standin.url + "/v1",
        "EMBEDDINGS": "openai:text-embedding-3-small",
        "LLM_FREE": "openai:gpt-4o-mini",
        "LLM_PAID": "extractive",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "RETRIEVAL_MIN_SCORE": "-1",
        **UNLIMITED,
    }
    try:
        standin.configure(first_token_ms=0, tokens=20, tokens_per_second=0)
        command = [str(BIN / "chatconnect"), "serve"]
        if profile is not None:
            # Sampled from its start, as a child: py-spy may not attach to a running process
            # here. Samples only while on CPU (no --idle): where the time goes, not the waits.
            spy = [
                os.environ.get("PY_SPY", "py-spy"),
                "record",
                "--subprocesses",
                "--rate",
                "200",
                "-o",
                str(profile),
            ]
            if profile.suffix == ".txt":  # collapsed stacks, for reading rather than viewing
                spy += ["--format", "raw"]
            command = [*spy, "--", *command]
        service = Server("service", command, env, work)
        with running(service, "/health/ready"):
            assert service._process is not None
            root = psutil.Process(service._process.pid)
            if profile is not None:  # the tree under py-spy
                [root] = [p for p in root.children() if "chatconnect" in " ".join(p.cmdline())]
            data_dir = work / "data"
            time.sleep(2)
            results.idle_rss = rss_table(root, data_dir)
            base = f"http://127.0.0.1:{service.port}"
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client:
                body = {"tenant_id": "bench", "plan": "free", "name": "Scale"}
                widget = client.post("/api/widgets", json=body).raise_for_status().json()
                results.chunks = corpus.ingest(client, widget["id"], sizes.documents)
            key = widget["public_key"]
            print(f"  {sizes.documents} documents, {results.chunks} chunks", flush=True)
            cpu = CpuMeter(root, data_dir)
            measure_json(results, service.port, key, questions, cpu)
            standin.configure(first_token_ms=sizes.first_token_ms, tokens=20, tokens_per_second=0)
            measure_ttft(results, service.port, key, questions, standin)
            print(
                f"  TTFT over the stand-in's: p50 {_ms(results.ttft_over, 50)} ms, "
                f"p99 {_ms(results.ttft_over, 99)} ms",
                flush=True,
            )
            measure_streams(results, service.port, key, questions, standin, root, data_dir)
            if profile is not None:  # stopped first, so that py-spy writes its graph
                root.send_signal(signal.SIGINT)
                root.wait(60)
    finally:
        stop_embedded_postgres(work / "data")
        standin.stop()
    return results


def run_bare(sizes: Sizes, work: Path, workers: int = 1, rag: bool = False) -> Results:
    """The same phases against bench/bare_relay.py: the floor that granian, Litestar and the
    OpenAI SDK set, with none of our code; with `rag`, the floor of the service's whole job
    (the question's embedding and a dense top-5 search in Qdrant Edge before the chat call);
    on several workers, the relay's share of a multi-worker deployment (granian spreads the
    connections)."""
    results = Results(sizes, done_expected=False)
    standin = StandIn(work)
    env = {"OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": standin.url + "/v1"}
    if rag:  # as many chunks as the service's run ingests
        env["BARE_RAG"] = str(sizes.documents * 10)
    granian = [str(BIN / "granian"), "--interface", "asgi", "--workers", str(workers)]
    granian += ["--loop", "uvloop"]
    relay = Server("bare-relay", [*granian, "--working-dir", "bench", "bare_relay:app"], env, work)
    try:
        standin.configure(first_token_ms=0, tokens=20, tokens_per_second=0)
        with running(relay, "/health/ready"):
            assert relay._process is not None
            root = psutil.Process(relay._process.pid)
            time.sleep(2)
            results.idle_rss = rss_table(root, work)
            questions = corpus.questions(sizes.documents, 200)
            if workers == 1:  # the per-chat figures are one worker's
                measure_json(results, relay.port, "", questions, CpuMeter(root, work))
                standin.configure(
                    first_token_ms=sizes.first_token_ms, tokens=20, tokens_per_second=0
                )
                measure_ttft(results, relay.port, "", questions, standin)
            measure_streams(results, relay.port, "", questions, standin, root, work)
    finally:
        standin.stop()
    return results


# --- the report ----------------------------------------------------------------------------


def _ms(values: Sequence[float], q: float) -> str:
    return f"{load.percentile(values, q) * 1000:.1f}" if values else "–"


def _s(values: Sequence[float], q: float) -> str:
    return f"{load.percentile(values, q):.2f}" if values else "–"


def _failures(r: Results) -> tuple[list[StreamResult], dict[str, int]]:
    """The streams that ended well, and why the others did not."""
    ok = [
        s
        for s in r.streams
        if (s.done if r.done_expected else s.tokens == r.sizes.tokens)
        and s.error is None
        and s.status == 200
    ]
    reasons: dict[str, int] = {}
    for s in r.streams:
        if s not in ok:
            why = s.error or f"status {s.status}" if s.status != 200 else s.error or "no done"
            reasons[why[:90]] = reasons.get(why[:90], 0) + 1
    return ok, reasons


def stream_rows(r: Results) -> list[str]:
    """The table's rows for the concurrent streams."""
    z = r.sizes
    ok, _ = _failures(r)
    durations = [s.ended - s.written for s in ok if s.ended]
    ttfts = [s.first_token - s.written for s in r.streams if s.first_token]
    rates = [
        s.tokens / (s.ended - s.first_token)
        for s in ok
        if s.ended and s.first_token and s.ended > s.first_token
    ]
    tokens = sum(s.tokens for s in r.streams)
    floor = z.first_token_ms / 1000 + (z.tokens - 1) / z.rate
    failed = len(r.streams) - len(ok)
    by_thread: list[str] = []
    if r.steady is not None and r.steady.tokens:
        w = r.steady
        steady = f"{w.cpu / w.tokens * 1e6:.1f} µs ({w.tokens:,} tokens in {w.seconds:.1f} s)"
        by_thread = [
            f"| … … API worker, {kind} | {cpu / w.tokens * 1e6:.1f} µs |"
            for kind, cpu in sorted(w.threads.items(), key=lambda kv: -kv[1])
            if cpu / w.tokens >= 0.05e-6
        ]
    else:
        steady = "– (no stream was past its first token before one ended)"
    return [
        f"| **{z.streams:,} streams, {z.tokens} tokens at {z.rate:.0f} tok/s**, "
        + ("all started at once" if not z.ramp else f"started evenly over {z.ramp:.0f} s")
        + f" (floor {floor:.2f} s each) | |",
        f"| … ended with an error or without `done` | {failed} |",
        f"| … duration p50 / p99 / max | {_s(durations, 50)} / {_s(durations, 99)} / "
        f"{max(durations, default=0):.2f} s |",
        f"| … token rate per stream after its first token, p50 / p1 | {_s(rates, 50)} / "
        f"{_s(rates, 1)} tok/s |",
        f"| … TTFT p50 / p99 | {_s(ttfts, 50)} / {_s(ttfts, 99)} s |",
        f"| … all done after | {r.streams_wall:.1f} s |",
        f"| … peak RSS, all processes (API worker alone) | {r.peak_rss:.0f} MB "
        f"({r.peak_worker_rss:.0f} MB) |",
        f"| … peak PSS, all processes (a page shared by several counted once) | "
        f"{r.peak_pss:.0f} MB |",
        f"| … CPU per relayed token ({tokens:,} tokens, {r.streams_cpu:.1f} s CPU) | "
        f"{r.streams_cpu / max(1, tokens) * 1e6:.0f} µs |",
        f"| … the stand-in's own CPU meanwhile (not counted above) | {r.standin_cpu:.1f} s |",
        f"| … CPU per relayed token in the steady window (all streams past their first "
        f"token, none ended: the relay without admissions) | {steady} |",
        *by_thread,
    ]


def render(r: Results, seconds: float, load: float) -> str:
    from importlib.metadata import version

    z = r.sizes
    assert r.json_1 and r.json_50 and r.bare_50
    _, reasons = _failures(r)
    ratio = r.bare_50.rps / r.json_50.rps
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Performance at scale with hosted models (issue 19)",
        "",
        f"Measured {now} on 2 cores ({cpu_model()}, Linux), load average {load:.1f} when the run "
        f"started; the cores may be shared with other work: compare figures within one run. "
        f"Python {platform.python_version()}, granian "
        f"{version('granian')}, openai {version('openai')} on aiohttp {version('aiohttp')}. "
        f"The run took {seconds / 60:.0f} min.",
        "",
        "```",
        COMMAND,
        "```",
        "",
        "One granian worker; `EMBEDDINGS=openai:text-embedding-3-small`, "
        "`LLM_FREE=openai:gpt-4o-mini`, both through `OPENAI_BASE_URL` at "
        "bench/openai_standin.py (its own process: asyncio, one timer for all streams), "
        f"`RETRIEVAL_MIN_SCORE=-1`, limits raised; {z.documents} generated manuals "
        f"({r.chunks} chunks); every question a text never asked before. CPU is the "
        "service's whole process tree (granian supervisor and worker, embedded PostgreSQL) "
        "from psutil. JSON chats: the stand-in answers 20 tokens at once. TTFT: one stream at "
        f"a time, the stand-in's first token {z.first_token_ms:.0f} ms after it reads the "
        "request; its own time (embeddings request read → answered, plus chat request read → "
        "first token written) is taken out per question, on the clock all processes share.",
        "",
        "| measurement | value |",
        "|---|---:|",
        f"| chat JSON, 1 client: req/s, p50 | {r.json_1.rps:.0f}, {r.json_1.p50_ms:.1f} ms |",
        f"| server CPU per chat (1 client, {r.cpu_chats} chats) | {r.cpu_per_chat_ms:.2f} ms |",
        *(
            f"| … of which {group} | {ms:.2f} ms |"
            for group, ms in sorted(r.cpu_groups.items(), key=lambda kv: -kv[1])
        ),
        *(
            f"| … … API worker, {kind} | {ms:.2f} ms |"
            for kind, ms in sorted(r.cpu_threads.items(), key=lambda kv: -kv[1])
            if ms >= 0.01
        ),
        f"| chat JSON, 50 clients: req/s, p50 | {r.json_50.rps:.0f}, {r.json_50.p50_ms:.0f} ms |",
        f"| same run, bare `GET /health` at 50 clients | {r.bare_50.rps:.0f} req/s |",
        f"| chat JSON at 50 clients against the bare endpoint | 1/{ratio:.0f} |",
        f"| TTFT over the stand-in's own, p50 / p99 ({len(r.ttft_over)} streams) | "
        f"{_ms(r.ttft_over, 50)} / {_ms(r.ttft_over, 99)} ms |",
        f"| … the client's TTFT, p50 / p99 | {_ms(r.ttft_client, 50)} / "
        f"{_ms(r.ttft_client, 99)} ms |",
        f"| … the stand-in's own, p50 / p99 | {_ms(r.ttft_own, 50)} / {_ms(r.ttft_own, 99)} ms |",
        *stream_rows(r),
        "",
        "RSS by process, MB: "
        + "; ".join(f"idle {label} {mb:.0f}" for label, mb in r.idle_rss)
        + f" (idle total {sum(mb for _, mb in r.idle_rss):.0f}); after the streams "
        + "; ".join(f"{label} {mb:.0f}" for label, mb in r.after_rss)
        + "; PSS after the streams "
        + "; ".join(f"{label} {mb:.0f}" for label, mb in r.after_pss)
        + ".",
    ]
    if reasons:
        lines += ["", "Failed streams: " + "; ".join(f"{n}× {why}" for why, n in reasons.items())]
    return "\n".join(lines)


def render_bare(r: Results, workers: int = 1, rag: bool = False) -> str:
    _, reasons = _failures(r)
    what = (
        "the question's embedding and a dense top-5 search in Qdrant Edge over "
        f"{r.sizes.documents * 10:,} chunks, then "
        if rag
        else ""
    )
    lines = [
        f"bench/bare_relay.py ({what}granian, Litestar, the OpenAI SDK on aiohttp), "
        f"{workers} worker{'s' if workers > 1 else ''}:",
        "",
        "| measurement | value |",
        "|---|---:|",
    ]
    if r.json_1 and r.json_50 and r.bare_50:
        lines += [
            f"| chat JSON, 1 client: req/s, p50 | {r.json_1.rps:.0f}, {r.json_1.p50_ms:.1f} ms |",
            f"| server CPU per chat (1 client, {r.cpu_chats} chats) | {r.cpu_per_chat_ms:.2f} ms |",
            f"| chat JSON, 50 clients: req/s | {r.json_50.rps:.0f} |",
            f"| same run, bare `GET /health` at 50 clients | {r.bare_50.rps:.0f} req/s |",
            f"| chat JSON at 50 clients against the bare endpoint | "
            f"1/{r.bare_50.rps / r.json_50.rps:.0f} |",
            f"| TTFT over the stand-in's own, p50 / p99 ({len(r.ttft_over)} streams) | "
            f"{_ms(r.ttft_over, 50)} / {_ms(r.ttft_over, 99)} ms |",
        ]
    lines += stream_rows(r)
    if reasons:
        lines += ["", "Failed streams: " + "; ".join(f"{n}× {why}" for why, n in reasons.items())]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about 2 min)")
    parser.add_argument("--streams", type=int, help="concurrent streams (default 1000)")
    parser.add_argument("--ramp", type=float, default=0.0, help="start the streams over S s")
    parser.add_argument("--write", action="store_true", help="rewrite docs/benchmarks.md")
    parser.add_argument("--tokens", type=int, help="tokens per concurrent stream")
    parser.add_argument("--rate", type=float, help="the provider's tokens/s per stream (20)")
    parser.add_argument(
        "--workers", type=int, default=1, help="granian workers of the bare relay (--bare)"
    )
    parser.add_argument(
        "--bare", action="store_true", help="the same phases against bench/bare_relay.py"
    )
    parser.add_argument(
        "--rag",
        action="store_true",
        help="with --bare: each question embedded and searched (dense top 5) first",
    )
    parser.add_argument(
        "--profile", type=Path, help="a flame graph (SVG) of the service, by py-spy"
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.streams:
        sizes = Sizes(**{**sizes.__dict__, "streams": args.streams})
    if args.tokens:
        sizes = Sizes(**{**sizes.__dict__, "tokens": args.tokens})
    if args.rate:
        sizes = Sizes(**{**sizes.__dict__, "rate": args.rate})
    sizes = Sizes(**{**sizes.__dict__, "ramp": args.ramp})
    work = Path(tempfile.mkdtemp(prefix="chatconnect-scale-"))
    started, load = time.monotonic(), os.getloadavg()[0]
    if args.bare:
        bare = run_bare(sizes, work, args.workers, args.rag)
        print("\n" + render_bare(bare, args.workers, args.rag) + "\n")
        shutil.rmtree(work, ignore_errors=True)
        return
    try:
        results = run(sizes, work, args.profile.resolve() if args.profile else None)
    except BaseException:
        print(f"failed; logs kept in {work}", file=sys.stderr)
        raise
    section = render(results, time.monotonic() - started, load)
    print("\n" + section + "\n")
    shutil.rmtree(work, ignore_errors=True)
    if args.write and not args.quick:
        write_doc(section, name="scale")
        print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    main()
