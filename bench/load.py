"""Load generators: wrk when installed, else a small asyncio raw-socket HTTP/1.1 client.

Both are closed loops (each connection sends its next request when the previous answer
has arrived) over keep-alive connections, run for a fixed number of seconds.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Stats:
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    rps: float
    tool: str


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks, like numpy's default."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(q) - 1]


def stats_of(latencies_s: Sequence[float], wall_s: float, errors: int, tool: str) -> Stats:
    return Stats(
        requests=len(latencies_s),
        errors=errors,
        p50_ms=percentile(latencies_s, 50) * 1000,
        p99_ms=percentile(latencies_s, 99) * 1000,
        rps=len(latencies_s) / wall_s,
        tool=tool,
    )


def http_request(path: str, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    """One keep-alive HTTP/1.1 connection; reads Content-Length and chunked bodies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(
        self, raw: bytes, on_data: Callable[[bytes], None] | None = None
    ) -> tuple[int, bytes]:
        self._writer.write(raw)
        head = (await self._reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = int(head.split(" ", 2)[1])
        fields = {}
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip().lower()
        if fields.get("transfer-encoding") == "chunked":
            body = bytearray()
            while size := int((await self._reader.readuntil(b"\r\n")).strip(), 16):
                data = (await self._reader.readexactly(size + 2))[:-2]
                body += data
                if on_data:
                    on_data(data)
            await self._reader.readuntil(b"\r\n")
            return status, bytes(body)
        data = await self._reader.readexactly(int(fields.get("content-length", "0")))
        if on_data:
            on_data(data)
        return status, data

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


async def python_closed_loop(
    port: int, requests: Sequence[bytes], concurrency: int, seconds: float
) -> Stats:
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors, sent
        connection = await Connection.open(port)
        try:
            while time.perf_counter() < deadline:
                raw = requests[sent % len(requests)]
                sent += 1
                start = time.perf_counter()
                status, _ = await asyncio.wait_for(connection.request(raw), REQUEST_TIMEOUT_S)
                latencies.append(time.perf_counter() - start)
                errors += status != 200
        finally:
            await connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return stats_of(latencies, time.perf_counter() - start, errors, "python")


async def stream_timings(
    port: int, requests: Sequence[bytes], count: int, marker: bytes
) -> tuple[list[float], list[float], int]:
    """Per request: seconds until `marker` first appears in the body, and until its end."""
    first: list[float] = []
    total: list[float] = []
    errors = 0
    connection = await Connection.open(port)
    try:
        for n in range(count):
            seen = bytearray()
            start = time.perf_counter()
            marked: list[float] = []

            def watch(data: bytes, seen: bytearray = seen, marked: list[float] = marked) -> None:
                seen.extend(data)
                if not marked and marker in seen:
                    marked.append(time.perf_counter())

            raw = requests[n % len(requests)]
            status, _ = await asyncio.wait_for(connection.request(raw, watch), REQUEST_TIMEOUT_S)
            total.append(time.perf_counter() - start)
            if status != 200 or not marked:
                errors += 1
            else:
                first.append(marked[0] - start)
    finally:
        await connection.close()
    return first, total, errors


def wrk_path() -> str | None:
    return shutil.which("wrk")


_WRK_SCRIPT = """
local bodies = {%(bodies)s}
local headers = {%(headers)s}
local sent = 0

request = function()
  sent = sent + 1
  return wrk.format("POST", "%(path)s", headers, bodies[(sent - 1) %% #bodies + 1])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p99_us\\": %%d, \\"errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def run_wrk(
    port: int,
    path: str,
    headers: Mapping[str, str],
    bodies: Sequence[bytes],
    concurrency: int,
    seconds: int,
) -> Stats:
    """One wrk thread: on 2 cores, a second one would only take CPU from the server."""
    script = _WRK_SCRIPT % {
        "bodies": ", ".join(_lua_string(body.decode()) for body in bodies),
        "headers": ", ".join(
            f"[ {_lua_string(name)} ] = {_lua_string(value)}" for name, value in headers.items()
        ),
        "path": path,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(script)
        file.flush()
        command = [
            wrk_path() or "wrk",
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            f"{REQUEST_TIMEOUT_S:.0f}s",
            "-s",
            file.name,
            f"http://127.0.0.1:{port}{path}",
        ]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=True
        )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("WRK_RESULT ")]
    if not lines:
        raise RuntimeError(f"wrk gave no result: {done.stderr.strip() or done.stdout}")
    result = json.loads(lines[0].removeprefix("WRK_RESULT "))
    return Stats(
        requests=result["requests"],
        errors=result["errors"],
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        rps=result["requests"] / (result["duration_us"] / 1e6),
        tool="wrk",
    )
