"""What Prometheus metrics cost a chat: the same service with METRICS_ENABLED on and off.

One data directory is ingested once; then the stub-embedder service (bench/stub_app.py,
so the embedding model's noise stays out) is started with metrics on and off in
alternating rounds, each measured at one client. The medians of the rounds' p50s and
their ratio go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import chat_latency as bench
import corpus
import httpx
import load

ROUNDS, SECONDS, QUICK_SECONDS = 4, 10, 2


def prepare(work: Path, env: dict[str, str], token: str) -> str:
    """Ingests the corpus once; returns the widget key."""
    sizes = bench.Sizes(
        documents=30, questions=60, warm_seconds=2, single_seconds=0, many_seconds=0, streams=0
    )
    service = bench.Server("service", [str(bench.BIN / "chatconnect"), "serve"], env, work)
    try:
        with bench.running(service, "/health/ready"):
            base = f"http://127.0.0.1:{service.port}"
            owner = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=base, headers=owner, timeout=30) as client:
                body = {"tenant_id": "bench", "plan": "free", "name": "bench"}
                widget = client.post("/api/widgets", json=body).raise_for_status().json()
                bench.ingest(client, widget["id"], sizes, bench.Results(sizes=sizes, tool=""))
    finally:
        bench.stop_embedded_postgres(Path(env["DATA_DIR"]))
    return str(widget["public_key"])


def one_round(
    work: Path,
    env: dict[str, str],
    key: str,
    questions: list[str],
    metrics: bool,
    seconds: int,
) -> load.Stats:
    granian = [
        str(bench.BIN / "granian"),
        "--interface",
        "asgi",
        "--workers",
        "1",
        "--factory",
        "--working-dir",
        "bench",
        "stub_app:create",
    ]
    stub = bench.Server("stub", granian, {**env, "METRICS_ENABLED": str(metrics).lower()}, work)
    headers = {"Content-Type": "application/json", "X-Widget-Key": key}
    try:
        with bench.running(stub, "/health/ready"):
            endpoint = bench.Endpoint(
                stub.port, bench.CHAT, headers, (), lambda: bench.unique_bodies(questions)
            )
            bench.drive(endpoint, 1, 2)
            return bench.measure(endpoint, 1, seconds)
    finally:
        bench.stop_embedded_postgres(Path(env["DATA_DIR"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run; leaves the doc alone")
    args = parser.parse_args()
    seconds = QUICK_SECONDS if args.quick else SECONDS
    work = Path(tempfile.mkdtemp(prefix="chatconnect-metrics-"))
    token = secrets.token_urlsafe(24)
    questions = corpus.questions(30, 60)
    questions_file = work / "questions.json"
    questions_file.write_text(json.dumps(questions))
    env = {
        "DATA_DIR": str(work / "data"),
        "ADMIN_TOKEN": token,
        **bench.UNLIMITED,
        "BENCH_QUESTIONS": str(questions_file),
    }
    try:
        key = prepare(work, env, token)
        runs: dict[bool, list[load.Stats]] = {True: [], False: []}
        for n in range(ROUNDS):
            for metrics in (True, False) if n % 2 == 0 else (False, True):
                stats = one_round(work, env, key, questions, metrics, seconds)
                runs[metrics].append(stats)
                print(
                    f"  round {n + 1} metrics {'on ' if metrics else 'off'}: "
                    f"p50 {stats.p50_ms:.2f} ms, p99 {stats.p99_ms:.2f} ms",
                    flush=True,
                )
    except BaseException:
        print(f"failed; server logs kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    on = statistics.median(s.p50_ms for s in runs[True])
    off = statistics.median(s.p50_ms for s in runs[False])
    on99 = statistics.median(s.p99_ms for s in runs[True])
    off99 = statistics.median(s.p99_ms for s in runs[False])
    section = "\n".join(
        [
            "## Metrics overhead",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on 2 cores, noisy. "
            f"{ROUNDS} alternating rounds per setting, {seconds} s each at one client, "
            "stub embedder (bench/stub_app.py), 300 chunks indexed.",
            "",
            "```\n.venv/bin/python bench/metrics_overhead.py\n```",
            "",
            "| METRICS_ENABLED | median p50 ms | median p99 ms |",
            "|---|---:|---:|",
            f"| true | {on:.2f} | {on99:.2f} |",
            f"| false | {off:.2f} | {off99:.2f} |",
            "",
            f"Metrics on / off, p50: {on / off:.3f} ({(on / off - 1) * 100:+.1f} %); "
            "goal: at most +5 %.",
        ]
    )
    print("\n" + section)
    if not args.quick:
        bench.write_doc(section, name="metrics_overhead")


if __name__ == "__main__":
    main()
