"""What an operator needs: log records that say what happened, readiness that sees
failing models, query parameters that are read or refused by name, and titles and exports
as an owner expects them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from litestar import Litestar, get
from litestar.params import FromQuery
from litestar.testing import AsyncTestClient

from adapters.llm.router import PlanModelRouter
from adapters.telemetry.logs import LogTelemetry
from adapters.telemetry.model_health import ModelHealth
from application.chat.answer_question import AnswerQuestion
from application.chat.question import Question
from application.documents import GetDocuments
from application.ingestion.submission import NewDocument, SubmitDocument
from application.ingestion.titles import html_title, title_of
from application.ports.telemetry import ChatRecord, JobRecord
from domain.errors import InvalidInputError, ModelUnavailableError
from domain.models import (
    ExportedMessage,
    Message,
    Plan,
    Role,
    Source,
    Usage,
)
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.export import COLUMNS, csv_rows, jsonl
from entrypoints.http.params import moment
from entrypoints.readiness import Readiness, models_answering
from testkit.fakes.core import FakeApp
from testkit.fakes.models import ScriptedModel
from tests.unit.conftest import HANDBOOK, add_document, make_widget

# Log records


async def test_a_finished_job_names_its_document_chunks_and_duration(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK, title="Handbook")
    await app.get(SubmitDocument)(
        NewDocument(
            widget_id=widget.id, title="Blank", content=b"# Title\n", content_type="text/markdown"
        )
    )
    await app.drain()

    ready, failed = app.telemetry.job_records
    assert (ready.outcome, ready.title, ready.chunk_count, ready.error) == (
        "ready",
        "Handbook",
        2,
        None,
    )
    assert ready.seconds > 0
    assert (failed.outcome, failed.title, failed.error) == (
        "failed",
        "Blank",
        "the document contains no text",
    )


class _Lines:
    """Stands in for the module's structlog logger: what it was told, level by level."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **fields: self.lines.append({"event": event, **fields})


def test_the_job_log_line_carries_what_an_operator_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.telemetry import logs as log_lines

    record = JobRecord(
        outcome="ready", document_id=uuid4(), title="FAQ", chunk_count=12, seconds=1.5
    )
    said = _Lines()
    monkeypatch.setattr(log_lines, "log", said)
    LogTelemetry().job_finished(record)
    LogTelemetry().model_failed(Plan.FREE, "openai:gpt-4o-mini", "failover", "HTTP 401")

    job, model = said.lines
    assert (job["event"], job["title"], job["chunks"], job["ms"]) == (
        "ingestion_job_finished",
        "FAQ",
        12,
        1500.0,
    )
    assert job["document_id"] == str(record.document_id)
    assert (model["event"], model["cause"]) == ("model_failed", "HTTP 401")


async def test_a_models_failure_is_reported_with_its_cause() -> None:
    refused = ScriptedModel(
        "openai:gpt-4o-mini", fail_after=0, error=ModelUnavailableError("openai answered 401")
    )
    app = FakeApp(models={Plan.FREE: [refused, ScriptedModel("extractive")]})
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)

    turn = await app.get(AnswerQuestion).start(Question(widget=widget, message="refund"))
    await turn.collect()

    assert app.telemetry.model_failures == [("openai:gpt-4o-mini", "failover")]
    assert app.telemetry.model_causes == ["openai answered 401"]


# Readiness


def a_chat(model: str, finish_reason: str = "stop", cached: bool = False) -> ChatRecord:
    return ChatRecord(
        widget_id=uuid4(),
        plan=Plan.FREE,
        model=model,
        finish_reason=finish_reason,
        usage=Usage(),
        sources=1,
        retrieval_seconds=None,
        first_token_seconds=None,
        total_seconds=0.1,
        cached=cached,
    )


async def test_readiness_says_models_are_degraded_when_every_hosted_model_of_a_plan_fails() -> None:
    health = ModelHealth()
    plans = {
        Plan.FREE: ["openai:gpt-4o-mini", "extractive"],
        Plan.PAID: ["anthropic:claude-sonnet-5-5", "openai:gpt-4o-mini", "extractive"],
    }

    async def ok() -> None:
        return None

    readiness = Readiness(
        required={"database": ok}, optional={"models": models_answering(plans, health.failing)}
    )

    assert await readiness() == (True, {"database": "ok", "models": "ok"})
    health.model_failed(Plan.FREE, "openai:gpt-4o-mini", "failover", "HTTP 401")
    # Free has no other hosted model: its visitors get only the offline answerer.
    assert await readiness() == (True, {"database": "ok", "models": "degraded"})
    # A cached answer or a no-answer never called the model: it proves nothing.
    health.chat_completed(a_chat("openai:gpt-4o-mini", cached=True))
    health.chat_completed(a_chat("openai:gpt-4o-mini", finish_reason="no_answer"))
    assert (await readiness())[1]["models"] == "degraded"
    health.chat_completed(a_chat("openai:gpt-4o-mini"))
    assert (await readiness())[1]["models"] == "ok"
    # Paid still has Sonnet when GPT-4o-mini fails; only both failing degrade it.
    health.model_failed(Plan.PAID, "anthropic:claude-sonnet-5-5", "failover", "HTTP 529")
    assert (await readiness())[1]["models"] == "ok"


async def test_a_plan_answered_offline_only_is_never_degraded() -> None:
    check = models_answering({Plan.FREE: ["extractive"]}, lambda model: "down")
    await check()


def test_the_routers_plans_are_the_models_by_name() -> None:
    mini, offline = ScriptedModel("openai:gpt-4o-mini"), ScriptedModel("extractive")
    router = PlanModelRouter({Plan.FREE: [mini, offline]})
    assert router.plans == {Plan.FREE: ["openai:gpt-4o-mini", "extractive"]}


# Many documents' status at once


async def test_many_documents_status_in_one_call(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, HANDBOOK)
    [document] = app.documents.documents.values()

    found = await app.get(GetDocuments)([document.id, uuid4()])

    assert [d.id for d in found] == [document.id]
    for wrong in ([], [uuid4()] * 1001):
        with pytest.raises(InvalidInputError):
            await app.get(GetDocuments)(wrong)


# Query parameters


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("2026-12-05", False, datetime(2026, 12, 5, tzinfo=UTC)),
        ("2026-12-05", True, datetime(2026, 12, 6, tzinfo=UTC)),  # the whole day
        ("2026-12-05T14:30:00Z", False, datetime(2026, 12, 5, 14, 30, tzinfo=UTC)),
        ("2026-12-05T14:30:00", True, datetime(2026, 12, 5, 14, 30, tzinfo=UTC)),
        ("2026-12-05T14:30:00+01:00", False, datetime(2026, 12, 5, 13, 30, tzinfo=UTC)),
        (None, False, None),
        ("", True, None),
        ("2026-12-05t14:30:00z", False, datetime(2026, 12, 5, 14, 30, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", False, datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        # The ends of time: kept within what dates can hold, not an overflow.
        ("9999-12-31", True, datetime.max.replace(tzinfo=UTC)),
        ("9999-12-31T23:00:00-05:00", False, datetime.max.replace(tzinfo=UTC)),
        ("0001-01-01T01:00:00+05:00", False, datetime.min.replace(tzinfo=UTC)),
    ],
)
def test_a_period_takes_dates_and_timestamps(
    value: str | None, end: bool, expected: datetime | None
) -> None:
    assert moment(value, "since", end=end) == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "05/12/2026", "2026-12-05T25:00"])
def test_a_bad_moment_is_refused_naming_its_parameter(value: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        moment(value, "until", end=True)
    assert refused.value.details == {"parameter": "until"}
    assert "'until'" in refused.value.message


async def test_the_frameworks_own_refusals_name_the_parameter() -> None:
    @get("/things")
    async def things(widget_id: FromQuery[UUID], limit: FromQuery[int] = 1) -> str:
        return "ok"

    app = Litestar([things], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    async with AsyncTestClient(app) as client:
        missing = await client.get("/things")
        wrong = await client.get("/things", params={"widget_id": "nope"})

    assert missing.status_code == wrong.status_code == 422
    assert missing.json()["error"]["message"] == "query parameter 'widget_id' is required"
    assert wrong.json()["error"]["message"] == "query parameter 'widget_id': Invalid UUID"
    assert wrong.json()["error"]["details"][0]["key"] == "widget_id"


# Titles


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"<html><head><title>Returns &amp; refunds\n  | Shop</title></head></html>",
            "Returns & refunds | Shop",
        ),
        (b"<TITLE lang=en>Caf\xc3\xa9</TITLE>", "Café"),
        (b'<meta charset="windows-1252"><title>Caf\xe9</title>', "Café"),
        (b"<html><body>no title</body></html>", None),
        (b"<title>   </title>", None),
    ],
)
def test_an_html_pages_title_is_its_title_element(content: bytes, expected: str | None) -> None:
    assert html_title(content) == expected


def test_a_title_given_wins_then_the_pages_own_then_the_file_name() -> None:
    page = b"<title>Delivery times</title>"
    assert title_of("Shipping", page, "text/html", "delivery.html") == "Shipping"
    assert title_of("", page, "text/html", "delivery.html") == "Delivery times"
    assert title_of(" ", b"<p>none</p>", "text/html", "delivery.html") == "delivery.html"
    assert title_of("", page, "text/markdown", "notes.md") == "notes.md"  # not HTML: not read
    assert title_of("", b"x", "text/plain", None) == "Untitled"


# Exports


def an_exported(content: str, visitor_id: str | None = "v-1") -> ExportedMessage:
    return ExportedMessage(
        visitor_id=visitor_id,
        message=Message(
            id=uuid4(),
            conversation_id=uuid4(),
            role=Role.ASSISTANT,
            content=content,
            created_at=datetime(2026, 12, 5, 9, 30, tzinfo=UTC),
            model="extractive",
            sources=(Source(index=1, document_id=uuid4(), title="FAQ", snippet="s", score=0.5),),
            usage=Usage(10, 2, 0.001),
            finish_reason="stop",
        ),
    )


async def rows(*messages: ExportedMessage) -> Any:
    for message in messages:
        yield message


async def test_an_export_as_json_lines_is_one_object_per_message() -> None:
    lines = [line async for line in jsonl(rows(an_exported("Hi\nthere"), an_exported("Bye")))]

    first = json.loads(lines[0])
    assert len(lines) == 2 and all(line.endswith(b"\n") for line in lines)
    assert list(first) == list(COLUMNS)
    assert (first["content"], first["visitor_id"], first["input_tokens"]) == (
        "Hi\nthere",
        "v-1",
        10,
    )
    assert first["sources"][0]["title"] == "FAQ"


async def test_an_export_as_csv_has_a_header_and_keeps_formulas_inert() -> None:
    import csv

    lines = [
        line.decode()
        async for line in csv_rows(
            rows(an_exported('=HYPERLINK("x")', visitor_id="@v"), an_exported("a,b"))
        )
    ]
    parsed = list(csv.reader("".join(lines).splitlines()))

    assert parsed[0] == list(COLUMNS)
    record = dict(zip(COLUMNS, parsed[1], strict=True))
    assert record["content"] == '\'=HYPERLINK("x")'
    assert record["visitor_id"] == "'@v"
    assert json.loads(record["sources"])[0]["title"] == "FAQ"
    assert dict(zip(COLUMNS, parsed[2], strict=True))["content"] == "a,b"
