"""A repeated question served from the answer cache, against a first-time question, in
one run of the real service (embedded stack; Redis too when --redis URL is given).

A miss is the whole path: embed the question, search, answer, store. A hit skips all three
and streams the stored answer. Both still check limits, save the messages and record usage.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import chat_latency as bench
import corpus
import httpx
import load

SECONDS, QUICK_SECONDS = 10, 2


def run(work: Path, redis_url: str | None, seconds: int) -> dict[str, load.Stats]:
    token = secrets.token_urlsafe(24)
    env = {"DATA_DIR": str(work / "data"), "ADMIN_TOKEN": token, **bench.UNLIMITED}
    if redis_url:
        env["REDIS_URL"] = redis_url
    sizes = bench.Sizes(
        documents=30, questions=60, warm_seconds=0, single_seconds=0, many_seconds=0, streams=0
    )
    service = bench.Server("service", [str(bench.BIN / "chatconnect"), "serve"], env, work)
    # Distinct questions (a serial number makes each text new) never repeat within a run.
    base = corpus.questions(30, 60)
    misses = [f"{base[n % len(base)]} (#{n})" for n in range(20_000)]
    try:
        with bench.running(service, "/health/ready"):
            owner = {"Authorization": f"Bearer {token}"}
            url = f"http://127.0.0.1:{service.port}"
            with httpx.Client(base_url=url, headers=owner, timeout=30) as client:
                body = {"tenant_id": "bench", "plan": "free", "name": "bench"}
                widget = client.post("/api/widgets", json=body).raise_for_status().json()
                bench.ingest(client, widget["id"], sizes, bench.Results(sizes=sizes, tool=""))
            headers = {"Content-Type": "application/json", "X-Widget-Key": widget["public_key"]}

            def endpoint(questions: list[str]) -> bench.Endpoint:
                bodies = [json.dumps({"message": q}).encode() for q in questions]
                return bench.Endpoint(service.port, bench.CHAT, headers, bodies)

            hit = endpoint([base[0]])
            bench.drive(hit, 1, 2)  # warm, and stores the answer
            return {
                "miss": bench.measure(endpoint(misses), 1, seconds),
                "hit": bench.measure(hit, 1, seconds),
            }
    finally:
        bench.stop_embedded_postgres(Path(env["DATA_DIR"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run; leaves the doc alone")
    parser.add_argument("--redis", metavar="URL", help="also measure with Redis as the cache")
    args = parser.parse_args()
    seconds = QUICK_SECONDS if args.quick else SECONDS
    caches = {"in-process": None} | ({"Redis": args.redis} if args.redis else {})
    rows = []
    for name, url in caches.items():
        work = Path(tempfile.mkdtemp(prefix="chatconnect-cache-"))
        print(f"{name} cache", flush=True)
        try:
            result = run(work, url, seconds)
        except BaseException:
            print(f"failed; server logs kept in {work}", file=sys.stderr)
            raise
        shutil.rmtree(work, ignore_errors=True)
        miss, hit = result["miss"], result["hit"]
        rows.append(
            f"| {name} | {miss.p50_ms:.2f} / {miss.p99_ms:.2f} | {hit.p50_ms:.2f} / "
            f"{hit.p99_ms:.2f} | {miss.p50_ms / hit.p50_ms:.1f}× | {miss.rps:.0f} / {hit.rps:.0f} |"
        )
    command = "bench/cache_hit.py" + (" --redis URL" if args.redis else "")
    section = "\n".join(
        [
            "## Answer cache: hit against miss",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on 2 cores, noisy; one client, "
            f"{seconds} s per row, 300 chunks indexed, embedded stack with the ONNX embedder "
            "and the extractive answerer. A miss is a question never asked before (embed, "
            "search, answer, store); a hit repeats one (no embedding, no search, no model).",
            "",
            f"```\n.venv/bin/python {command}\n```",
            "",
            "| cache | miss p50 / p99 ms | hit p50 / p99 ms | miss / hit p50 | req/s miss / hit |",
            "|---|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print("\n" + section)
    if not args.quick:
        bench.write_doc(section, name="cache_hit")


if __name__ == "__main__":
    main()
