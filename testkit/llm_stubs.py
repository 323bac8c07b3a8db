"""Local stand-ins for the OpenAI and Anthropic HTTP APIs, for tests and benchmarks.

One asyncio HTTP/1.1 server in its own thread (so a test's event loop never stalls it)
speaks OpenAI chat completions (streamed or not) and embeddings, and Anthropic messages
(streamed or not, `ping` events included). Each request takes the next scripted `Reply`,
or the default one; faults are replies too: an error status with its headers, a slow
first token, a stream cut mid-way, a chunk that is not JSON, an `error` event. Every
request is recorded with how it ended, so a test can see that the client hung up.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WAIT_S = 10.0  # the longest any test waits on the stub


@dataclass(frozen=True)
class Reply:
    status: int = 200
    deltas: Sequence[str] = ("The kettle has ", "a two-year warranty [1].")
    usage: tuple[int, int] = (42, 7)  # input, output tokens the provider reports
    first_token_delay: float = 0.0
    delay: float = 0.0  # between deltas
    headers: Mapping[str, str] = field(default_factory=dict)
    error_type: str = "api_error"  # of an error body or Anthropic `error` event
    # After this many deltas: "cut" closes the connection, "malformed" sends a chunk
    # that is not JSON, "error_event" sends an error event (Anthropic's overload).
    fail_after: int | None = None
    failure: str = "cut"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    outcome: str = "pending"  # completed, client_closed, cut, error
    ended: threading.Event = field(default_factory=threading.Event)
    received_at: float = 0.0
    first_token_at: float | None = None

    def wait_ended(self, timeout: float = WAIT_S) -> str:
        if not self.ended.wait(timeout):
            raise TimeoutError(f"{self.path}: the request had not ended after {timeout} s")
        return self.outcome


class _ClientClosed(Exception):
    pass


class StubServer:
    def __init__(self, embedding_dimension: int = 1536) -> None:
        self.default = Reply()
        self.requests: list[Seen] = []
        self.embedding_dimension = embedding_dimension
        self._replies: deque[Reply] = deque()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    # --- control, from the test's thread ---------------------------------------------

    def start(self) -> StubServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._open(), self._loop)
        self.port = future.result(WAIT_S)
        return self

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(WAIT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(WAIT_S)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        self._replies.extend(replies)

    def reset(self, default: Reply | None = None) -> None:
        self._replies.clear()
        self.requests.clear()
        self.default = default or Reply()

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]

    def outcomes(self) -> list[str]:
        """How each request ended, once it has: the client may be done before the stub."""
        return [seen.wait_ended() for seen in self.requests]

    # --- the server ----------------------------------------------------------------

    async def _open(self) -> int:
        # A long backlog: the default of 100 drops connections under a burst of streams.
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=2048)
        return int(self._server.sockets[0].getsockname()[1])

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        prefix = b""
        try:
            while True:
                try:
                    head = prefix + await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                seen = Seen(
                    path=request_line.split(" ")[1].split("?")[0],
                    headers=headers,
                    body=json.loads(raw) if raw else {},
                    received_at=time.perf_counter(),
                )
                self.requests.append(seen)
                reply = self._replies.popleft() if self._replies else self.default
                watcher = asyncio.ensure_future(reader.read(1))
                try:
                    keep = await self._answer(seen, reply, writer, watcher)
                except ConnectionError:
                    # A client that closes with our data unread in its buffer resets the
                    # connection (RST) instead of ending it (FIN): a hang-up all the same.
                    seen.outcome = "client_closed"
                    raise
                finally:
                    if not watcher.done():
                        watcher.cancel()  # and wait: a pending read would block the next one
                        with contextlib.suppress(asyncio.CancelledError):
                            await watcher
                    seen.ended.set()
                prefix = watcher.result() if _read_something(watcher) else b""
                if not keep:
                    return
        except (ConnectionError, _ClientClosed):
            return
        except asyncio.CancelledError:
            return  # the stub is stopping: asyncio would log a cancelled handler as an error
        finally:
            writer.close()

    async def _answer(
        self,
        seen: Seen,
        reply: Reply,
        writer: asyncio.StreamWriter,
        watcher: asyncio.Future[bytes],
    ) -> bool:
        """Writes the reply; False when the connection must not be reused."""
        if reply.status != 200:
            _write_json(writer, reply.status, _error_body(seen.path, reply), reply.headers)
            await writer.drain()
            seen.outcome = "error"
            return True
        if seen.path.endswith("/embeddings"):
            _write_json(writer, 200, self._embeddings(seen.body), reply.headers)
            await writer.drain()
            seen.outcome = "completed"
            return True
        anthropic = seen.path.endswith("/messages")
        if not seen.body.get("stream"):
            await _pause(reply.first_token_delay, watcher, seen)
            body = _anthropic_message(seen, reply) if anthropic else _openai_completion(seen, reply)
            _write_json(writer, 200, body, reply.headers)
            await writer.drain()
            seen.outcome = "completed"
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        events = _anthropic_events(seen, reply) if anthropic else _openai_events(seen, reply)
        for pause, event, is_text in events:
            await _pause(pause, watcher, seen)
            if event is None:  # the cut
                seen.outcome = "cut"
                writer.transport.abort()
                return False
            if is_text and seen.first_token_at is None:
                seen.first_token_at = time.perf_counter()
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        seen.outcome = "completed"
        return True

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        dimension = int(body.get("dimensions") or self.embedding_dimension)
        data = []
        for n, text in enumerate(texts):
            vector = embedding_of(str(text), dimension)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{dimension}f", *vector)).decode()
            data.append({"object": "embedding", "index": n, "embedding": encoded})
        tokens = sum(len(str(t).split()) for t in texts)
        return {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def embedding_of(text: str, dimension: int) -> list[float]:
    """A deterministic unit vector per text; equal texts, equal vectors."""
    seed = hashlib.sha256(text.encode()).digest()
    raw = [((seed[i % 32] + i * 37) % 251) / 125.0 - 1.0 for i in range(dimension)]
    norm = sum(x * x for x in raw) ** 0.5 or 1.0
    return [x / norm for x in raw]


async def _pause(seconds: float, watcher: asyncio.Future[bytes], seen: Seen) -> None:
    """Sleeps, unless the client hangs up first (a read that sees the end of the stream)."""
    if watcher.done() or seconds > 0:
        done, _ = await asyncio.wait({watcher}, timeout=max(seconds, 0))
        if done and not _read_something(watcher):  # ended (FIN) or reset (RST)
            seen.outcome = "client_closed"
            raise _ClientClosed


def _read_something(watcher: asyncio.Future[bytes]) -> bool:
    """Whether the client sent more bytes (its next request) rather than hanging up."""
    return (
        watcher.done()
        and not watcher.cancelled()
        and watcher.exception() is None
        and watcher.result() != b""
    )


def _write_json(
    writer: asyncio.StreamWriter, status: int, body: object, headers: Mapping[str, str]
) -> None:
    payload = json.dumps(body).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(
        f"HTTP/1.1 {status} STUB\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n{extra}\r\n".encode()
        + payload
    )


def _error_body(path: str, reply: Reply) -> dict[str, Any]:
    message = f"stub error {reply.status}"
    if path.endswith("/messages"):
        return {"type": "error", "error": {"type": reply.error_type, "message": message}}
    return {"error": {"message": message, "type": reply.error_type, "code": None}}


def _sse(data: object, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return (f"event: {event}\n" if event else "").encode() + f"data: {text}\n\n".encode()


def _failures(reply: Reply, n: int) -> bool:
    return reply.fail_after is not None and n == reply.fail_after


def _openai_events(seen: Seen, reply: Reply) -> Iterator[tuple[float, bytes | None, bool]]:
    model = seen.body.get("model", "stub")
    base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _sse({**base, "choices": [choice]})

    failure = None if reply.failure == "cut" else _sse("{not json")
    yield 0.0, chunk({"role": "assistant", "content": ""}), False
    for n, text in enumerate(reply.deltas):
        if _failures(reply, n):
            yield 0.0, failure, False
            return
        yield (reply.first_token_delay if n == 0 else reply.delay), chunk({"content": text}), True
    if _failures(reply, len(reply.deltas)):
        yield 0.0, failure, False
        return
    yield 0.0, chunk({}, "stop"), False
    if (seen.body.get("stream_options") or {}).get("include_usage"):
        prompt, completion = reply.usage
        usage = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
        yield 0.0, _sse({**base, "choices": [], "usage": usage}), False
    yield 0.0, _sse("[DONE]"), False


def _anthropic_events(seen: Seen, reply: Reply) -> Iterator[tuple[float, bytes | None, bool]]:
    prompt, completion = reply.usage
    message = {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": seen.body.get("model", "stub"),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": 1},
    }
    yield 0.0, _sse({"type": "message_start", "message": message}, "message_start"), False
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    yield 0.0, _sse(block, "content_block_start"), False
    yield 0.0, _sse({"type": "ping"}, "ping"), False
    for n, text in enumerate(reply.deltas):
        if _failures(reply, n):
            yield 0.0, _anthropic_failure(reply), False
            return
        delta = {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }
        pause = reply.first_token_delay if n == 0 else reply.delay
        yield pause, _sse(delta, "content_block_delta"), True
        if n == 0:
            yield 0.0, _sse({"type": "ping"}, "ping"), False
    if _failures(reply, len(reply.deltas)):
        yield 0.0, _anthropic_failure(reply), False
        return
    yield 0.0, _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"), False
    stop = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": completion},
    }
    yield 0.0, _sse(stop, "message_delta"), False
    yield 0.0, _sse({"type": "message_stop"}, "message_stop"), False


def _anthropic_failure(reply: Reply) -> bytes | None:
    if reply.failure == "cut":
        return None
    if reply.failure == "malformed":
        return _sse("{not json", "content_block_delta")
    error = {"type": "error", "error": {"type": reply.error_type, "message": "Overloaded"}}
    return _sse(error, "error")


def _openai_completion(seen: Seen, reply: Reply) -> dict[str, Any]:
    prompt, completion = reply.usage
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": seen.body.get("model", "stub"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(reply.deltas)},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _anthropic_message(seen: Seen, reply: Reply) -> dict[str, Any]:
    prompt, completion = reply.usage
    return {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": seen.body.get("model", "stub"),
        "content": [{"type": "text", "text": "".join(reply.deltas)}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": completion},
    }


@contextlib.contextmanager
def running_stub(embedding_dimension: int = 1536) -> Iterator[StubServer]:
    stub = StubServer(embedding_dimension).start()
    try:
        yield stub
    finally:
        stub.stop()


def stub_catalog(stub: StubServer, resilience: Any = None, **config: Any) -> Any:
    """A ModelCatalog whose OpenAI and Anthropic models talk to this stub."""
    from adapters.llm.catalog import ModelCatalog, ProviderConfig
    from adapters.providers.retries import Resilience
    from adapters.telemetry.fanout import FanOutTelemetry
    from adapters.telemetry.logs import LogTelemetry
    from adapters.telemetry.prometheus import PrometheusTelemetry

    return ModelCatalog(
        ProviderConfig(
            openai_api_key="sk-test",
            openai_base_url=stub.url + "/v1",
            anthropic_api_key="sk-ant-test",
            anthropic_base_url=stub.url,
            resilience=resilience or Resilience(),
            **config,
        ),
        # As the service reports: metrics and log lines.
        FanOutTelemetry([PrometheusTelemetry(), LogTelemetry()]),
    )


@contextlib.asynccontextmanager
async def stub_models(
    stub: StubServer, resilience: Any = None, **config: Any
) -> AsyncIterator[Any]:
    """A fresh stub (no script, no record) and a catalog on it, closed afterwards."""
    stub.reset()
    catalog = stub_catalog(stub, resilience, **config)
    try:
        yield catalog
    finally:
        await catalog.close()
