"""A stand-in OpenAI server for load: thousands of concurrent streams from one process.

    .venv/bin/python bench/openai_standin.py --port 8100

Speaks what the service calls: `POST /v1/embeddings` (float or base64 vectors, 1,536
dimensions unless the request says otherwise) and `POST /v1/chat/completions`, streamed
(one chunk per token, then the finish chunk, the usage chunk and `[DONE]`) or not. How it
answers is set at run time by `POST /_config` with any of `first_token_ms`, `tokens`,
`tokens_per_second`; `GET /_stats` returns, per request since the last `POST /_reset`,
its kind, the last user text (the question), and on the monotonic clock every process of
this machine shares (`time.perf_counter`) when it was read, when its first token was
written and when it ended: so a client can take the stand-in's own time out of its own.

Built for many slow streams, not for features (testkit/llm_stubs.py has the faults):
`asyncio.Protocol` connections, and one timer for all streams (a heap of when each
stream's next token is due) instead of a sleep per token, so 1,000 streams at 20 tokens/s
cost the stand-in about what the bytes cost. The stdlib threading server dropped
connections at a few hundred streams (issue 19).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import heapq
import itertools
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

_decode = msgspec.json.decode
_encode = msgspec.json.encode
DIMENSION = 1536
TOKEN = " word"


@dataclass
class Pace:
    first_token_ms: float = 0.0
    tokens: int = 20
    tokens_per_second: float = 0.0  # 0: as fast as the socket takes them


@dataclass
class Record:
    kind: str
    question: str
    received: float
    first_token: float | None = None
    ended: float | None = None


@dataclass(order=True)
class _Due:
    at: float
    order: int
    stream: _Stream = field(compare=False)


class _Stream:
    """One streamed answer: its pre-encoded chunks, written one per due time."""

    def __init__(self, connection: _Connection, record: Record, pace: Pace, model: str) -> None:
        self.connection = connection
        self.record = record
        self.pace = pace
        self.sent = 0
        base = b'{"id":"chatcmpl-standin","object":"chat.completion.chunk","created":0,"model":'
        self.prefix = b"data: " + base + _encode(model) + b',"choices":'
        self.token = self._chunk(
            b'[{"index":0,"delta":{"content":%s},"finish_reason":null}]' % _encode(TOKEN)
        )

    def _chunk(self, choices: bytes, tail: bytes = b"") -> bytes:
        event = self.prefix + choices + tail + b"}\n\n"
        return b"%x\r\n%s\r\n" % (len(event), event)

    def head(self) -> bytes:
        role = b'[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]'
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + self._chunk(role)
        )

    def end(self, prompt_tokens: int) -> bytes:
        n = self.pace.tokens
        usage = b',"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}' % (
            prompt_tokens,
            n,
            prompt_tokens + n,
        )
        done = b"data: [DONE]\n\n"
        return (
            self._chunk(b'[{"index":0,"delta":{},"finish_reason":"stop"}]')
            + self._chunk(b"[]", usage)
            + b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done)
        )


class StandIn:
    def __init__(self) -> None:
        self.pace = Pace()
        self.records: list[Record] = []
        self._due: list[_Due] = []
        self._order = itertools.count()
        self._wake: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    # --- pacing: one timer for every stream ---------------------------------------

    def schedule(self, stream: _Stream, at: float) -> None:
        heapq.heappush(self._due, _Due(at, next(self._order), stream))
        if self._wake is None or at < self._wake.when():
            if self._wake is not None:
                self._wake.cancel()
            self._wake = self._loop.call_at(at, self._tick)

    def _tick(self) -> None:
        self._wake = None
        now = self._loop.time()
        while self._due and self._due[0].at <= now:
            stream = heapq.heappop(self._due).stream
            later = self._advance(stream, now)
            if later is not None:
                heapq.heappush(self._due, _Due(later, next(self._order), stream))
        if self._due:
            self._wake = self._loop.call_at(self._due[0].at, self._tick)

    def _advance(self, stream: _Stream, now: float) -> float | None:
        """Writes the stream's next token (or its end); when its next one is due."""
        connection = stream.connection
        if connection.closed:
            stream.record.ended = time.perf_counter()
            return None
        if stream.sent == 0:
            stream.record.first_token = time.perf_counter()
        if stream.sent < stream.pace.tokens:
            connection.write(stream.token)
            stream.sent += 1
        if stream.sent >= stream.pace.tokens:
            connection.write(stream.end(connection.prompt_tokens))
            stream.record.ended = time.perf_counter()
            connection.finished()
            return None
        rate = stream.pace.tokens_per_second
        return now + (1.0 / rate if rate > 0 else 0.0)

    # --- requests ----------------------------------------------------------------

    def handle(self, connection: _Connection, method: str, path: str, body: bytes) -> None:
        if path == "/_config" and method == "POST":
            for name, value in _decode(body).items():
                setattr(self.pace, name, type(getattr(self.pace, name))(value))
            connection.reply(200, _encode(self.pace.__dict__))
        elif path == "/_reset":
            self.records.clear()
            connection.reply(200, b"{}")
        elif path == "/_stats":
            connection.reply(200, _encode([r.__dict__ for r in self.records]))
        elif path.endswith("/embeddings"):
            self._embeddings(connection, _decode(body))
        elif path.endswith("/chat/completions"):
            self._chat(connection, _decode(body))
        elif path in ("/", "/health"):
            connection.reply(200, b'{"status":"ok"}')
        else:
            connection.reply(404, b'{"error":{"message":"not found","type":"not_found"}}')

    def _embeddings(self, connection: _Connection, body: dict[str, Any]) -> None:
        received = time.perf_counter()
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dimension = int(body.get("dimensions") or DIMENSION)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for n, text in enumerate(texts):
            vector = vector_of(str(text), dimension)
            encoded: Any = (
                base64.b64encode(vector.tobytes()).decode() if as_base64 else vector.tolist()
            )
            data.append({"object": "embedding", "index": n, "embedding": encoded})
        tokens = sum(len(str(t).split()) for t in texts)
        payload = {
            "object": "list",
            "data": data,
            "model": body.get("model", "standin"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        connection.reply(200, _encode(payload))
        question = str(texts[0]) if len(texts) == 1 else ""
        self.records.append(Record("embeddings", question, received, None, time.perf_counter()))

    def _chat(self, connection: _Connection, body: dict[str, Any]) -> None:
        messages = body.get("messages") or []
        users = [m.get("content", "") for m in messages if m.get("role") == "user"]
        record = Record("chat", str(users[-1]) if users else "", time.perf_counter())
        self.records.append(record)
        prompt_text = sum(len(str(m.get("content", ""))) for m in messages)
        connection.prompt_tokens = max(1, prompt_text // 4)
        pace = Pace(**self.pace.__dict__)
        if not body.get("stream"):
            record.first_token = record.ended = time.perf_counter()
            text = TOKEN * pace.tokens
            completion = {
                "id": "chatcmpl-standin",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "standin"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": connection.prompt_tokens,
                    "completion_tokens": pace.tokens,
                    "total_tokens": connection.prompt_tokens + pace.tokens,
                },
            }
            connection.reply(200, _encode(completion))
            return
        stream = _Stream(connection, record, pace, str(body.get("model", "standin")))
        connection.streaming = True
        connection.write(stream.head())
        self.schedule(stream, self._loop.time() + pace.first_token_ms / 1000)


def vector_of(text: str, dimension: int) -> np.ndarray:
    """A deterministic unit vector per text (random directions: scores mean nothing)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimension).astype("<f4")
    return vector / np.float32(np.linalg.norm(vector))


class _Connection(asyncio.Protocol):
    def __init__(self, standin: StandIn) -> None:
        self._standin = standin
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self.closed = False
        self.streaming = False
        self.prompt_tokens = 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._next()

    def _next(self) -> None:
        # One request at a time per connection (HTTP/1.1 keep-alive, no pipelining).
        while not self.streaming:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            length = 0
            for line in lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(self._buffer) < end + 4 + length:
                return
            body = bytes(self._buffer[end + 4 : end + 4 + length])
            del self._buffer[: end + 4 + length]
            method, path = request_line.split(" ")[:2]
            self._standin.handle(self, method, path.split("?")[0], body)

    def write(self, data: bytes) -> None:
        if not self.closed and self._transport is not None:
            self._transport.write(data)

    def reply(self, status: int, payload: bytes) -> None:
        self.write(
            b"HTTP/1.1 %d STANDIN\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (status, len(payload), payload)
        )

    def finished(self) -> None:
        self.streaming = False
        self._next()


async def serve(host: str, port: int, ready: asyncio.Event | None = None) -> None:
    standin = StandIn()
    server = await asyncio.get_running_loop().create_server(
        lambda: _Connection(standin), host, port, backlog=8192, reuse_address=True
    )
    print(f"openai stand-in on http://{host}:{port}/v1", flush=True)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    time.perf_counter()  # the shared monotonic clock (CLOCK_MONOTONIC on Linux)
    main()
