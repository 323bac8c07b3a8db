"""Chat latency and throughput on the embedded stack, against a bare Litestar app.

    .venv/bin/python bench/chat_latency.py [--quick]

Starts `chatconnect serve` on a fresh data directory, ingests a generated corpus of
~1,000 chunks, and measures POST /api/widget/chat at 1 and 50 concurrent clients and the
SSE stream at 1. Then, on the same data, the service with its embedder replaced by
pre-computed vectors (stub_app.py), which leaves our own code plus HTTP; then a bare
Litestar app (bare_app.py) under the same server; then the embedding model alone.
Prints a table and, on a full run, rewrites its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import corpus
import httpx
import load
from load import Stats

from adapters.embeddings.onnx import OnnxEmbedder
from entrypoints.settings import ENV_NAMES

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "benchmarks.md"
COMMAND = ".venv/bin/python bench/chat_latency.py"
TARGET_P50_MS, TARGET_P99_MS = 5.0, 20.0
STARTUP_TIMEOUT_S = 180.0
INGEST_TIMEOUT_S = 1800.0
STOP_TIMEOUT_S = 30.0
CHAT = "/api/widget/chat"
# A load test is one visitor asking thousands of times: lift the limits it would hit.
UNLIMITED = {
    "RATE_LIMIT_FREE_VISITOR_PER_MINUTE": "100000000",
    "RATE_LIMIT_FREE_ADDRESS_PER_MINUTE": "100000000",
    "RATE_LIMIT_FREE_WIDGET_PER_MINUTE": "100000000",
    "QUOTA_FREE_MESSAGES_PER_MONTH": "100000000",
}
STREAM = "/api/widget/chat/stream"


@dataclass(frozen=True)
class Sizes:
    documents: int
    questions: int
    warm_seconds: int
    single_seconds: int
    many_seconds: int
    streams: int
    many_clients: int = 50


FULL = Sizes(
    documents=100, questions=200, warm_seconds=5, single_seconds=20, many_seconds=20, streams=200
)
QUICK = Sizes(
    documents=20, questions=60, warm_seconds=1, single_seconds=3, many_seconds=5, streams=20
)


@dataclass
class Results:
    sizes: Sizes
    tool: str
    chunks: int = 0
    ingest_seconds: float = 0.0
    answered: int = 0
    on_topic: int = 0
    chat: dict[int, Stats] | None = None
    stream_first: Stats | None = None
    stream_total: Stats | None = None
    stub: dict[int, Stats] | None = None
    stub_in_app: Stats | None = None
    stub_answerer: Stats | None = None
    stub_own: Stats | None = None
    stub_misses: str = "?"
    bare: dict[int, Stats] | None = None
    embed: Stats | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A server subprocess with its own log file, stopped (and its group killed) on exit."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], logs: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = logs / f"{name}.log"
        self._command = command
        # The embedded defaults only: no DATABASE_URL, QDRANT_URL, LLM_* ... from our caller.
        inherited = {
            name: value
            for name, value in os.environ.items()
            if name not in ENV_NAMES.values() and not name.startswith("GRANIAN_")
        }
        address = {"HOST": "127.0.0.1", "PORT": str(self.port)}
        granian = {"GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(self.port)}
        self._env = {**inherited, **env, **address, **granian}
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str, ready_status: int) -> None:
        print(f"  starting {self.name} on port {self.port} (log: {self.log_path})", flush=True)
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._command,
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        url = f"http://127.0.0.1:{self.port}{ready_path}"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at startup:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == ready_status:
                    return
            time.sleep(0.25)
        raise RuntimeError(
            f"{self.name} not ready in {STARTUP_TIMEOUT_S:.0f} s:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def stop_embedded_postgres(data_dir: Path) -> None:
    """`chatconnect serve` leaves pgserver's PostgreSQL running (its atexit hook never
    runs in a granian worker), so stop the one under our data directory ourselves."""
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().split()[0])
    try:
        if str(data_dir) not in Path(f"/proc/{pid}/cmdline").read_text():
            return
        os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
    except (FileNotFoundError, ProcessLookupError):
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@contextlib.contextmanager
def running(server: Server, ready_path: str, ready_status: int = 200) -> Iterator[Server]:
    try:
        server.start(ready_path, ready_status)
        yield server
    finally:
        server.stop()


def ingest(client: httpx.Client, widget_id: str, sizes: Sizes, results: Results) -> None:
    started = time.monotonic()
    results.chunks = corpus.ingest(client, widget_id, sizes.documents, INGEST_TIMEOUT_S)
    results.ingest_seconds = time.monotonic() - started
    expected = sizes.documents * len(corpus.ASPECTS)
    print(
        f"  {sizes.documents} documents, {results.chunks} chunks in {results.ingest_seconds:.0f} s"
    )
    if abs(results.chunks - expected) > expected * 0.05:
        raise RuntimeError(f"expected ~{expected} chunks, the service made {results.chunks}")


def check_answers(port: int, key: str, questions: Sequence[str], results: Results) -> None:
    """Every question once (the warm-up): all must answer 200; count useful answers."""
    names = corpus.product_names()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for question in questions:
            reply = client.post(CHAT, json={"message": question}, headers={"X-Widget-Key": key})
            reply.raise_for_status()
            sources = reply.json()["sources"]
            results.answered += bool(sources)
            name = next(n for n in names if n in question)
            results.on_topic += bool(sources) and sources[0]["title"].startswith(name)
    print(
        f"  {results.answered}/{len(questions)} questions answered from sources, "
        f"{results.on_topic} with the asked product's manual first"
    )


_SERIAL = itertools.count()


def unique_bodies(questions: Sequence[str], count: int = 20_000) -> list[bytes]:
    """Chat bodies whose texts were never sent before in this run (each call draws new
    serial numbers): the same text again would be answered from the answer cache, which
    is its own benchmark (bench/cache_hit.py)."""
    return [
        json.dumps({"message": f"{questions[n % len(questions)]} (#{next(_SERIAL)})"}).encode()
        for n in range(count)
    ]


@dataclass(frozen=True)
class Endpoint:
    port: int
    path: str
    headers: Mapping[str, str]
    bodies: Sequence[bytes]
    # When set, each load run takes new bodies from it instead of reusing `bodies`.
    fresh: Callable[[], Sequence[bytes]] | None = None


def drive(endpoint: Endpoint, clients: int, seconds: int) -> Stats:
    """Closed-loop load for a fixed time; wrk if installed, else the Python client."""
    port, path, headers = endpoint.port, endpoint.path, endpoint.headers
    bodies = endpoint.fresh() if endpoint.fresh else endpoint.bodies
    if load.wrk_path():
        stats = load.run_wrk(port, path, headers, bodies, clients, seconds)
    else:
        requests = [load.http_request(path, headers, body) for body in bodies]
        stats = asyncio.run(load.python_closed_loop(port, requests, clients, seconds))
    if stats.errors:
        raise RuntimeError(f"{stats.errors} failed requests on {path} at {clients} clients")
    return stats


def measure(endpoint: Endpoint, clients: int, seconds: int) -> Stats:
    stats = drive(endpoint, clients, seconds)
    print(
        f"  {endpoint.path} x{clients}: p50 {stats.p50_ms:.2f} ms, p99 {stats.p99_ms:.2f} ms, "
        f"{stats.rps:.0f} req/s ({stats.requests} requests, {stats.tool})",
        flush=True,
    )
    return stats


def measure_both(endpoint: Endpoint, sizes: Sizes) -> dict[int, Stats]:
    drive(endpoint, 1, sizes.warm_seconds)
    return {
        1: measure(endpoint, 1, sizes.single_seconds),
        sizes.many_clients: measure(endpoint, sizes.many_clients, sizes.many_seconds),
    }


def measure_stream(port: int, key: str, bodies: Sequence[bytes], results: Results) -> None:
    headers = {"Content-Type": "application/json", "X-Widget-Key": key}
    requests = [load.http_request(STREAM, headers, body) for body in bodies]
    count = results.sizes.streams
    started = time.perf_counter()
    first, total, errors = asyncio.run(load.stream_timings(port, requests, count, b"event: token"))
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{errors} streams failed or carried no token event")
    results.stream_first = load.stats_of(first, wall, 0, "python")
    results.stream_total = load.stats_of(total, wall, 0, "python")
    print(
        f"  {STREAM} x1: first token p50 {results.stream_first.p50_ms:.2f} ms, "
        f"complete p50 {results.stream_total.p50_ms:.2f} ms"
    )


def in_app_timings(samples: Sequence[tuple[int, int]], results: Results) -> None:
    """Splits each chat's time inside the app into the answerer's and the rest."""
    total = [app_ns / 1e9 for app_ns, _ in samples]
    answerer = [model_ns / 1e9 for _, model_ns in samples]
    own = [(app_ns - model_ns) / 1e9 for app_ns, model_ns in samples]
    results.stub_in_app = load.stats_of(total, sum(total), 0, "in-app timer")
    results.stub_answerer = load.stats_of(answerer, sum(total), 0, "in-app timer")
    results.stub_own = load.stats_of(own, sum(total), 0, "in-app timer")
    for name, stats in (
        ("in the app", results.stub_in_app),
        ("answerer", results.stub_answerer),
        ("own code", results.stub_own),
    ):
        print(f"  {name}: p50 {stats.p50_ms:.2f} ms, p99 {stats.p99_ms:.2f} ms")


def measure_embedder(questions: Sequence[str], results: Results) -> None:
    """The model alone, in this process, while no server runs: one question per call,
    three rounds over the questions."""

    async def timings() -> list[float]:
        embedder = OnnxEmbedder()
        try:
            await embedder.embed(list(questions[:10]))
            spent = []
            for question in [*questions, *questions, *questions]:
                start = time.perf_counter()
                await embedder.embed([question])
                spent.append(time.perf_counter() - start)
            return spent
        finally:
            embedder.close()

    started = time.perf_counter()
    spent = asyncio.run(timings())
    results.embed = load.stats_of(spent, time.perf_counter() - started, 0, "in-process")
    print(f"  embedder alone: p50 {results.embed.p50_ms:.2f} ms, p99 {results.embed.p99_ms:.2f} ms")


def run(sizes: Sizes, work: Path) -> Results:
    results = Results(sizes=sizes, tool="wrk" if load.wrk_path() else "python")
    data_dir = work / "data"
    token = secrets.token_urlsafe(24)
    questions = corpus.questions(sizes.documents, sizes.questions)
    bodies = [json.dumps({"message": q}).encode() for q in questions]

    def fresh() -> list[bytes]:
        return unique_bodies(questions)

    questions_file = work / "questions.json"
    questions_file.write_text(json.dumps(questions))
    env = {
        "DATA_DIR": str(data_dir),
        "ADMIN_TOKEN": token,
        "BENCH_QUESTIONS": str(questions_file),
        **UNLIMITED,
    }
    granian = [str(BIN / "granian"), "--interface", "asgi", "--workers", "1"]

    print("1/4 the service (chatconnect serve): ingest, then chat", flush=True)
    service = Server("service", [str(BIN / "chatconnect"), "serve"], env, work)
    try:
        with running(service, "/health/ready"):
            owner = {"Authorization": f"Bearer {token}"}
            base = f"http://127.0.0.1:{service.port}"
            with httpx.Client(base_url=base, headers=owner, timeout=30) as client:
                widget = (
                    client.post(
                        "/api/widgets",
                        json={
                            "tenant_id": "bench",
                            "plan": "free",
                            "name": "bench",
                            "allowed_origins": [],
                        },
                    )
                    .raise_for_status()
                    .json()
                )
                ingest(client, widget["id"], sizes, results)
            key = widget["public_key"]
            headers = {"Content-Type": "application/json", "X-Widget-Key": key}
            check_answers(service.port, key, questions, results)
            chat = Endpoint(service.port, CHAT, headers, bodies, fresh)
            results.chat = measure_both(chat, sizes)
            measure_stream(service.port, key, fresh(), results)
    finally:
        stop_embedded_postgres(data_dir)

    print("2/4 the service with pre-computed question vectors (stub_app.py)", flush=True)
    command = [*granian, "--factory", "--working-dir", "bench", "stub_app:create"]
    stub = Server("stub", command, env, work)
    try:
        with running(stub, "/health/ready"):
            check_answers(stub.port, key, questions, Results(sizes=sizes, tool=""))
            chat = Endpoint(stub.port, CHAT, headers, bodies, fresh)
            drive(chat, 1, sizes.warm_seconds)
            timings = f"http://127.0.0.1:{stub.port}/bench/timings"
            httpx.get(timings).raise_for_status()  # drops the warm-up's samples
            single = measure(chat, 1, sizes.single_seconds)
            in_app_timings(httpx.get(timings).raise_for_status().json(), results)
            many = measure(chat, sizes.many_clients, sizes.many_seconds)
            results.stub = {1: single, sizes.many_clients: many}
    finally:
        stop_embedded_postgres(data_dir)
    misses = [ln for ln in stub.log_path.read_text().splitlines() if "stub_embedder" in ln]
    results.stub_misses = misses[-1].split("misses=")[-1] if misses else "?"
    print(f"  embedder cache misses during the run: {results.stub_misses}")

    print("3/4 bare Litestar (bare_app.py)", flush=True)
    bare = Server("bare", [*granian, "--working-dir", "bench", "bare_app:app"], {}, work)
    with running(bare, "/echo", ready_status=405):
        json_headers = {"Content-Type": "application/json"}
        results.bare = measure_both(Endpoint(bare.port, "/echo", json_headers, bodies), sizes)

    print("4/4 the embedding model alone", flush=True)
    measure_embedder(questions, results)
    return results


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _row(what: str, clients: str, stats: Stats, rps: bool = True) -> str:
    throughput = f"{stats.rps:.0f}" if rps else "–"
    return (
        f"| {what} | {clients} | {stats.requests} | {_ms(stats.p50_ms)} | "
        f"{_ms(stats.p99_ms)} | {throughput} |"
    )


def _versions() -> str:
    from importlib.metadata import version

    wrk = "not installed"
    if path := load.wrk_path():
        head = subprocess.run([path, "-v"], capture_output=True, text=True).stdout
        wrk = head.split()[1] if head else "?"
    return (
        f"Python {platform.python_version()}, granian {version('granian')}, "
        f"litestar {version('litestar')}, dishka {version('dishka')}, wrk {wrk}"
    )


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def render(r: Results, seconds: float) -> str:
    assert r.chat and r.stub and r.bare and r.embed and r.stream_first and r.stream_total
    assert r.stub_in_app and r.stub_answerer and r.stub_own
    many = r.sizes.many_clients
    chat1, chat_many = r.chat[1], r.chat[many]
    stub1, stub_many = r.stub[1], r.stub[many]
    bare1, bare_many = r.bare[1], r.bare[many]
    own, in_app = r.stub_own, r.stub_in_app
    rows = [
        "| measurement | clients | requests | p50 ms | p99 ms | req/s |",
        "|---|---:|---:|---:|---:|---:|",
        _row("chat, embedded stack (ONNX embedder, extractive answerer)", "1", chat1),
        _row("chat, embedded stack", str(many), chat_many),
        _row("chat stream: first `token` event", "1", r.stream_first, rps=False),
        _row("chat stream: whole answer", "1", r.stream_total),
        _row("chat, stub embedder (our code + HTTP)", "1", stub1),
        _row("chat, stub embedder", str(many), stub_many),
        _row("… of which inside the ASGI app", "1", in_app, rps=False),
        _row("… of which the extractive answerer", "1", r.stub_answerer, rps=False),
        _row("… our own code: in the app minus the answerer", "1", own, rps=False),
        _row("bare Litestar POST JSON echo", "1", bare1),
        _row("bare Litestar POST JSON echo", str(many), bare_many),
        _row("embedding model alone, one question (in-process)", "1", r.embed, rps=False),
    ]

    def verdict(stats: Stats) -> str:
        met = stats.p50_ms <= TARGET_P50_MS and stats.p99_ms <= TARGET_P99_MS
        return "met" if met else "**not met**"

    model_share = (chat1.p50_ms - stub1.p50_ms) / chat1.p50_ms
    bottleneck = (
        "the embedding model is the throughput bottleneck"
        if stub_many.rps > 1.5 * chat_many.rps
        else "our own code, not the model, limits throughput"
    )
    lines = [
        "## Chat latency (foundation)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({cpu_model()}, {platform.system()}), shared with other work and noisy: compare figures "
        f"within one run. {_versions()}. The run took {seconds / 60:.0f} min.",
        "",
        "```",
        COMMAND,
        "```",
        "",
        f"Corpus: {r.sizes.documents} generated product manuals, {r.chunks} chunks, ingested "
        f"in {r.ingest_seconds:.0f} s ({r.chunks / r.ingest_seconds:.0f} chunks/s) by the "
        f"in-process worker. {r.sizes.questions} distinct questions asked in turn, each "
        "with a serial number appended so that no text repeats and no cache answers it (the "
        "answer cache is measured by bench/cache_hit.py): "
        f"{r.answered} were answered from sources, {r.on_topic} with the asked product's "
        f"manual as the first source. Load: {r.tool}, closed loop over keep-alive "
        f"connections, after every question was asked once and {r.sizes.warm_seconds} s of "
        f"warm-up: {r.sizes.single_seconds} s at 1 client, then {r.sizes.many_seconds} s at "
        f"{many}. The stream: one client, a raw-socket Python client. One server runs at a "
        "time, each under granian with one worker. The stub embedder (bench/stub_app.py) "
        "serves the questions' vectors from a dict filled at startup by the real model; its "
        "in-app timer runs from the ASGI call to the last byte handed to granian.",
        "",
        *rows,
        "",
        f"Ratio to bare Litestar: chat p50 at 1 client {chat1.p50_ms / bare1.p50_ms:.1f}× "
        f"(stub embedder {stub1.p50_ms / bare1.p50_ms:.1f}×); throughput at {many} clients "
        f"{bare_many.rps / chat_many.rps:.1f}× lower (stub embedder "
        f"{bare_many.rps / stub_many.rps:.1f}× lower).",
        "",
        "Against the targets (our own code ≤ "
        f"{TARGET_P50_MS:.0f} ms p50, ≤ {TARGET_P99_MS:.0f} ms p99):",
        "",
        f"- Our own code, without the embedding model and the answerer, takes p50 "
        f"{_ms(own.p50_ms)} ms, p99 {_ms(own.p99_ms)} ms: {verdict(own)}. With the extractive "
        f"answerer counted too it is p50 {_ms(in_app.p50_ms)} / p99 {_ms(in_app.p99_ms)} ms "
        f"({verdict(in_app)}); over HTTP, p50 {_ms(stub1.p50_ms)} ms, "
        f"{stub1.p50_ms - bare1.p50_ms:.2f} ms more than a bare Litestar request.",
        f"- Embedding the question costs p50 {_ms(r.embed.p50_ms)} ms alone; the real chat is "
        f"{chat1.p50_ms - stub1.p50_ms:.2f} ms slower than the stub at p50, so the model "
        f"accounts for {model_share:.0%} of a single visitor's wait.",
        f"- At {many} clients the service serves {chat_many.rps:.0f} chats/s "
        f"(p99 {_ms(chat_many.p99_ms)} ms) and {stub_many.rps:.0f}/s without the model: "
        f"{bottleneck} on 2 cores.",
        f"- The stream's first token comes after p50 {_ms(r.stream_first.p50_ms)} ms, "
        f"against {_ms(chat1.p50_ms)} ms for the whole JSON answer.",
    ]
    return "\n".join(lines)


def write_doc(section: str, name: str = "chat_latency") -> None:
    """Rewrites only this benchmark's block; other sections of the file stay as they are."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run; leaves the doc alone")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if not load.wrk_path():
        print(
            "wrk is not installed (apt-get install -y wrk): using the Python client, which "
            "shares the 2 cores with the server and lowers the figures at 50 clients.",
            file=sys.stderr,
        )
    work = Path(tempfile.mkdtemp(prefix="chatconnect-bench-"))
    started = time.monotonic()
    try:
        results = run(sizes, work)
    except BaseException:
        print(f"failed; server logs kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    section = render(results, time.monotonic() - started)
    print("\n" + section + "\n")
    if args.quick:
        print("--quick: docs/benchmarks.md left as it is")
    else:
        write_doc(section)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
