"""The asyncpg pool, the transaction open in the current task, and the edge where an
unreachable database becomes `DatabaseUnavailableError`."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg
import msgspec
from asyncpg.transaction import Transaction

from adapters.postgres.urls import asyncpg_dsn
from domain.errors import DatabaseBusyError, DatabaseUnavailableError

PING_TIMEOUT = 2.0
# How long a request waits for a pooled connection when all are busy: a burst of chats
# queues for its turn instead of failing (issue 19: 207 of 1,000 streams were told the
# database was down while it was only busy).
POOL_WAIT_SECONDS = 30.0
# Once a statement or a ping has found the database unreachable, and until one succeeds
# again, waiting for a connection is waiting for an outage: requests wait this long at most
# (its hung connections would otherwise hold them for the whole POOL_WAIT_SECONDS).
OUTAGE_WAIT_SECONDS = 1.0
# ... and a connection it does get (an idle one the outage has not touched yet) runs its
# statements for at most this long, not the pool's command timeout: a paused server
# accepts a statement and never answers it.
OUTAGE_STATEMENT_SECONDS = PING_TIMEOUT

_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# Other InterfaceErrors (e.g. "another operation is in progress") are bugs, not outages.
_CLOSED = ("connection is closed", "pool is closed", "pool is closing")


def _is_unavailable(error: Exception) -> bool:
    if isinstance(error, asyncpg.InterfaceError):
        return str(error) in _CLOSED
    return isinstance(error, _UNAVAILABLE)


@contextmanager
def _database_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        if _is_unavailable(error):
            # Clients see this message; the cause (hosts, ports) stays in the chain, for logs.
            raise DatabaseUnavailableError("the database is unavailable") from error
        raise


def _encode_jsonb(value: Any) -> bytes:
    return b"\x01" + msgspec.json.encode(value)  # binary jsonb: version 1, then the text


def _decode_jsonb(data: bytes) -> Any:
    return msgspec.json.decode(memoryview(data)[1:])


async def _register_codecs(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb",
        schema="pg_catalog",
        encoder=_encode_jsonb,
        decoder=_decode_jsonb,
        format="binary",
    )


async def _keep_session(connection: asyncpg.Connection) -> None:
    """A released connection's session needs no reset: nothing here sets variables,
    listens, holds advisory locks or leaves cursors open. asyncpg still rolls back a
    transaction left open; its default reset would cost one more round trip per release."""


async def create_pool(
    url: str,
    min_size: int = 1,
    max_size: int = 10,
    *,
    connect_timeout: float = 5.0,
    command_timeout: float = 10.0,
) -> asyncpg.Pool:
    """A pool whose calls fail within seconds, not minutes, when the database is gone."""
    with _database_errors():
        return await asyncpg.create_pool(
            asyncpg_dsn(url),
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout,
            command_timeout=command_timeout,
            init=_register_codecs,
            reset=_keep_session,
        )


class Database:
    """The pool plus the connection of the transaction open in the calling task, if any.

    It fulfils the `Transactions` port: repositories built on it join the transaction
    that `begin()` opened in the same task (and in tasks started inside that block,
    which must therefore not run queries concurrently).
    """

    def __init__(self, pool: asyncpg.Pool, *, pool_wait: float = POOL_WAIT_SECONDS) -> None:
        self.pool = pool
        self._pool_wait = pool_wait
        self._down = False  # the last statement or ping found the database unreachable
        # When the database last answered. A timeout is an outage only if nothing was
        # answered since the timed-out call began: a database that is merely busy (a full
        # pool, a starved CPU, a slow connect) goes on answering other calls meanwhile.
        # Counting such a timeout as an outage cut every waiting request to
        # OUTAGE_WAIT_SECONDS, and a burst of streams into 503s.
        self._answered_at = time.monotonic()
        self._transaction: ContextVar[asyncpg.Connection | None] = ContextVar(
            "postgres_transaction", default=None
        )

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The open transaction's connection, else a pooled one, for repository calls."""
        started = time.monotonic()
        bounded = (
            asyncio.timeout(OUTAGE_STATEMENT_SECONDS) if self._down else contextlib.nullcontext()
        )
        try:
            with self._errors(started):
                async with bounded, self._current_or_pooled(started) as connection:
                    yield connection
        except DatabaseUnavailableError:
            self._down = True
            raise
        self._answered()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[None]:
        """A transaction around the block; nested blocks become savepoints.

        Only the database's own failures are translated, never those of the block.
        """
        started = time.monotonic()
        async with self._current_or_pooled(started) as connection:
            transaction = connection.transaction()
            with self._errors(started):
                await transaction.start()
            token = self._transaction.set(connection)
            try:
                yield
            except BaseException:
                await _rollback_quietly(transaction)
                raise
            finally:
                self._transaction.reset(token)
            with self._errors(started):
                await transaction.commit()
        self._answered()

    async def ping(self) -> None:
        """For readiness checks: answers within PING_TIMEOUT seconds or raises."""
        started = time.monotonic()
        answered = False
        try:
            with self._errors(started):
                async with asyncio.timeout(PING_TIMEOUT), self.connection() as connection:
                    await connection.execute("SELECT 1")
            answered = True
        finally:
            # Also when the caller gave up first (a readiness check's own deadline is
            # shorter, and cancels it): a ping with no answer has seen the outage, unless
            # the database answered someone else meanwhile (then the pool was busy).
            if not answered and self._answered_at <= started:
                self._down = True

    def _answered(self) -> None:
        self._down = False
        self._answered_at = time.monotonic()

    @contextmanager
    def _errors(self, started: float) -> Iterator[None]:
        """`_database_errors`, but a timeout while the database answered others is load."""
        try:
            with _database_errors():
                yield
        except DatabaseUnavailableError as error:
            if isinstance(error.__cause__, TimeoutError) and self._answered_at > started:
                raise self._busy() from error.__cause__
            raise

    def _busy(self) -> DatabaseBusyError:
        return DatabaseBusyError(
            "the service is busy; try again shortly",
            retry_after=max(1, round(self._pool_wait / 10)),
        )

    @asynccontextmanager
    async def _current_or_pooled(self, started: float) -> AsyncIterator[asyncpg.Connection]:
        current = self._transaction.get()
        if current is not None:
            yield current
            return
        connection = await self._acquire(started)
        try:
            yield connection
        except BaseException as error:
            if self._down or (isinstance(error, Exception) and _is_unavailable(error)):
                # Its statement was cut short on a server that does not answer: a release
                # would wait for the server to confirm the cancellation (the pool's whole
                # command timeout), so the connection is dropped; the pool makes another.
                # (One the server closed is already back in the pool, and says so.)
                with contextlib.suppress(asyncpg.InterfaceError):
                    connection.terminate()
            raise
        finally:
            await self.pool.release(connection)

    async def _acquire(self, started: float) -> asyncpg.Connection:
        """A pooled connection, waiting up to `pool_wait` for one to be released. A wait
        that runs out with every connection in use, or while the database answered other
        calls, is load (`DatabaseBusyError`, with when to retry); a connection that cannot
        be made is an outage."""
        down = self._down
        with self._errors(started):
            try:
                wait = OUTAGE_WAIT_SECONDS if down else self._pool_wait
                return await self.pool.acquire(timeout=wait)
            except TimeoutError:
                if (
                    not down
                    and self.pool.get_idle_size() == 0
                    and self.pool.get_size() >= (self.pool.get_max_size())
                ):
                    raise self._busy() from None
                raise


async def _rollback_quietly(transaction: Transaction) -> None:
    # The block's own error is the one worth raising; a failed rollback (typically on a
    # connection that just died) adds nothing, and the server rolls back anyway.
    with contextlib.suppress(Exception):
        await transaction.rollback()
