"""What billing that cannot be skipped costs a chat turn in PostgreSQL.

    .venv/bin/python bench/billing_round_trips.py            # 2,000 turns; writes the doc
    .venv/bin/python bench/billing_round_trips.py --turns 200   # a quick look; doc left alone

A fresh database on the PostgreSQL at BENCH_DATABASE_URL (else TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres), migrated to head, one tenant and widget.
Each turn is saved two ways, alternately, through the asyncpg adapters on one pool:

- before: the turn's statement as it was (conversation, two messages, a usage row inserted),
  the monthly allowance having been read from the cache (no database round trip);
- after: the reservation at admission (`UsageRepository.reserve`, one statement), then the
  turn's statement that also settles the usage and moves the month's counts.

Timed one turn at a time, then with 10 turns in flight on the same tenant, whose month row
every reservation and settlement updates (the contention a busy tenant sees). The database
is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from chat_latency import ROOT, write_doc

sys.path.insert(0, str(ROOT))
from adapters.postgres.database import Database, create_pool
from adapters.postgres.exchanges import AsyncpgExchangeRepository
from adapters.postgres.migrations import upgrade_to_head
from adapters.postgres.rows import message_row
from adapters.postgres.usage import AsyncpgUsageRepository
from application.ports.storage import Exchange
from domain.models import PENDING_MODEL, Conversation, Message, Plan, Role, Usage, UsageEvent
from testkit.postgres import bench_server_url, scratch_database

COMMAND = ".venv/bin/python bench/billing_round_trips.py"
FULL = 2000
CONCURRENCY = 10
TENANT = "bench"
# The turn's statement before billing was reserved: usage inserted, nothing settled.
BEFORE = """
    WITH new_conversation AS (
        INSERT INTO conversations (id, widget_id, visitor_id, created_at)
        VALUES ($1::uuid, $2::uuid, $3::text, $4::timestamptz)
        ON CONFLICT (id) DO NOTHING
    ),
    new_messages AS (
        INSERT INTO messages (id, conversation_id, role, content, model, sources, input_tokens,
                              output_tokens, cost_usd, finish_reason, created_at)
        VALUES ($5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15),
               ($16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)
    )
    INSERT INTO usage_events (id, tenant_id, widget_id, conversation_id, message_id, plan, model,
                              input_tokens, output_tokens, cost_usd, cached, failed, created_at)
    VALUES ($27, $28, $29, $30, $31, $32, $33, $34, $35, $36, $37, $38, $39)
    ON CONFLICT (id) DO NOTHING
"""


class Turn:
    def __init__(self, widget_id: uuid.UUID) -> None:
        now = datetime.now(UTC)
        self.conversation = Conversation(
            id=uuid.uuid4(), widget_id=widget_id, visitor_id="v", created_at=now
        )
        self.messages = tuple(
            Message(
                id=uuid.uuid4(),
                conversation_id=self.conversation.id,
                role=role,
                content=text,
                created_at=now,
                model="openai:gpt-4o-mini" if role is Role.ASSISTANT else None,
                usage=Usage(900, 40, 0.000159) if role is Role.ASSISTANT else Usage(),
            )
            for role, text in ((Role.USER, "How long?"), (Role.ASSISTANT, "Thirty days [1]."))
        )
        self.usage = UsageEvent(
            id=uuid.uuid4(),
            tenant_id=TENANT,
            widget_id=widget_id,
            conversation_id=self.conversation.id,
            message_id=self.messages[1].id,
            plan=Plan.FREE,
            model="openai:gpt-4o-mini",
            usage=Usage(900, 40, 0.000159),
            created_at=now,
        )


async def before(database: Database, turn: Turn) -> None:
    c, u = turn.conversation, turn.usage
    arguments = [c.id, c.widget_id, c.visitor_id, c.created_at]
    for message in turn.messages:
        arguments += message_row(message)
    arguments += (u.id, u.tenant_id, u.widget_id, u.conversation_id, u.message_id, u.plan.value,
                  u.model, u.usage.input_tokens, u.usage.output_tokens, u.usage.cost_usd,
                  u.cached, u.failed, u.created_at)  # fmt: skip
    async with database.connection() as connection:
        await connection.execute(BEFORE, *arguments)


def after(
    usage: AsyncpgUsageRepository, exchanges: AsyncpgExchangeRepository
) -> Callable[[Turn], Awaitable[None]]:
    async def run(turn: Turn) -> None:
        reserved = UsageEvent(
            id=turn.usage.id,
            tenant_id=TENANT,
            widget_id=turn.usage.widget_id,
            conversation_id=turn.conversation.id,
            message_id=turn.usage.message_id,
            plan=Plan.FREE,
            model=PENDING_MODEL,
            usage=Usage(),
            pending=True,
            created_at=turn.usage.created_at,
        )
        assert await usage.reserve(reserved, messages_per_month=10**9) is not None
        await exchanges.save(
            Exchange(new_conversation=turn.conversation, messages=turn.messages, usage=turn.usage)
        )

    return run


async def timed(
    way: Callable[[Turn], Awaitable[None]], widget_id: uuid.UUID, turns: int, in_flight: int
) -> list[float]:
    spent: list[float] = []
    queue = iter(range(turns))

    async def client() -> None:
        for _ in queue:
            turn = Turn(widget_id)
            start = time.perf_counter()
            await way(turn)
            spent.append((time.perf_counter() - start) * 1000)

    await asyncio.gather(*(client() for _ in range(in_flight)))
    return spent


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def measure(url: str, turns: int) -> dict[tuple[str, int], list[float]]:
    pool = await create_pool(url, min_size=CONCURRENCY, max_size=CONCURRENCY)
    database = Database(pool)
    widget_id = uuid.uuid4()
    async with database.connection() as connection:
        await connection.execute(
            "INSERT INTO widgets (id, tenant_id, plan, name, public_key, system_prompt, "
            "no_answer_message, top_k, created_at, updated_at) "
            "VALUES ($1, $2, 'free', 'Bench', $3, 'Help.', 'No idea.', 5, now(), now())",
            widget_id,
            TENANT,
            f"pk_{widget_id.hex}",
        )
    ways = {
        "before": lambda turn: before(database, turn),
        "after": after(AsyncpgUsageRepository(database), AsyncpgExchangeRepository(database)),
    }
    results: dict[tuple[str, int], list[float]] = {}
    try:
        for in_flight in (1, CONCURRENCY):
            for way in ways.values():  # warm-up: statements prepared, pool filled
                await timed(way, widget_id, 100, in_flight)
            # Alternate in slices so that both ways see the same moments of a noisy machine.
            for _ in range(10):
                for name, way in ways.items():
                    spent = await timed(way, widget_id, turns // 10, in_flight)
                    results.setdefault((name, in_flight), []).extend(spent)
    finally:
        await pool.close()
    return results


def section(results: dict[tuple[str, int], list[float]], turns: int, seconds: float) -> str:
    rows = []
    for in_flight in (1, CONCURRENCY):
        b, a = results[("before", in_flight)], results[("after", in_flight)]
        rows.append(
            f"| {in_flight} | {len(b)} | {p(b, 50):.2f} | {p(b, 99):.2f} | {p(a, 50):.2f} | "
            f"{p(a, 99):.2f} | {p(a, 50) - p(b, 50):+.2f} |"
        )
    one_b, one_a = results[("before", 1)], results[("after", 1)]
    many_b, many_a = results[("before", CONCURRENCY)], results[("after", CONCURRENCY)]
    return "\n".join(
        [
            "## Billing round trips (reserve at admission, settle at the end)",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
            f"({platform.machine()}, {platform.system()}), shared with other work and noisy: "
            f"compare figures within one run. Python {platform.python_version()}. The run "
            f"took {seconds:.0f} s.",
            "",
            "```",
            COMMAND,
            "```",
            "",
            "Each turn saved two ways, alternately, on one asyncpg pool and a local "
            "PostgreSQL: *before*, the turn's one statement as it was (the allowance read "
            "from the cache); *after*, the reservation at admission (one statement) and the "
            "turn's statement that also settles the usage and moves the month's counts. "
            f"{turns} turns per way and concurrency, one tenant (whose month row every turn "
            "updates).",
            "",
            "| turns in flight | turns | before p50 ms | p99 ms | after p50 ms | p99 ms | "
            "added p50 ms |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"One turn at a time, billing adds p50 {p(one_a, 50) - p(one_b, 50):+.2f} ms to "
            "the database's share of a turn: one round trip, the reservation, which commits "
            "without waiting for the disk (a committed write that waits costs this machine "
            "about as much as the whole turn's statement), in place of a cache read; the "
            "settlement rides in the statement that was already there. With "
            f"{CONCURRENCY} turns of one tenant in flight it adds p50 "
            f"{p(many_a, 50) - p(many_b, 50):+.2f} ms: one more statement for 2 busy cores, "
            "and the reservations of one tenant taking turns on its month row.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=FULL)
    args = parser.parse_args()
    started = time.monotonic()
    with scratch_database(bench_server_url()) as url:
        upgrade_to_head(url)
        results = asyncio.run(measure(url, args.turns))
    text = section(results, args.turns, time.monotonic() - started)
    print(text)
    if args.turns == FULL:
        write_doc(text, name="billing_round_trips")
        print("wrote docs/benchmarks.md")
    else:
        print("not the full size: docs/benchmarks.md left as it is")


if __name__ == "__main__":
    main()
