"""Retrieval quality on classic test collections, through the project's own code paths.

Each collection's documents go through SubmitDocument and ProcessDocument (plain-text
parser, chunker, the local ONNX embedder, the Qdrant Edge store) into a widget of its own;
its judged queries go through EdgeVectorStore.search in every retrieval mode and setting. A
plain BM25 (bm25s) over the same documents is the baseline of the same run. The settings
are chosen by cross-collection validation: for each collection, the setting best on the
others (mean ratio to their BM25) is scored on it. Then the relevance floor (how similar the
best hit is for questions a widget can answer and for questions it cannot; the generated
manuals of bench/corpus.py are the unrelated corpus), and the search time of one question
in a widget of 1,000 chunks. Where each collection comes from: bench/ir_collections.py.

    .venv/bin/python bench/retrieval_eval.py [--mirrors DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the in-memory repositories of testkit/fakes drive ingestion

import bm25s  # noqa: E402
import corpus  # noqa: E402
import ir_collections  # noqa: E402
import msgspec  # noqa: E402
import numpy as np  # noqa: E402
import Stemmer  # noqa: E402
from chat_latency import write_doc  # noqa: E402
from ir_collections import Collection  # noqa: E402

from adapters.cache.memory import MemoryCache  # noqa: E402
from adapters.embeddings.onnx import OnnxEmbedder  # noqa: E402
from adapters.parsing.plaintext import PlainTextParser  # noqa: E402
from adapters.system.clock import SystemClock  # noqa: E402
from adapters.system.ids import RandomIds  # noqa: E402
from adapters.vectorstore.edge import EdgeVectorStore  # noqa: E402
from adapters.vectorstore.retrieval import Tuning  # noqa: E402
from application.answer_cache import AnswerCache  # noqa: E402
from application.chat.question import ChatPolicy  # noqa: E402
from application.chat.retrieval import a_sentence_near  # noqa: E402
from application.chat.retrieval import covered as holds_every_word  # noqa: E402
from application.ingestion.allowance import (  # noqa: E402
    IngestionAllowance,
    IngestionLimitPolicy,
    IngestionLimits,
)
from application.ingestion.policy import IngestionPolicy  # noqa: E402
from application.ingestion.processing import ProcessDocument  # noqa: E402
from application.ingestion.submission import NewDocument, SubmitDocument  # noqa: E402
from application.ports.vectors import RetrievalMode, SearchQuery  # noqa: E402
from domain.models import DEFAULT_TOP_K, Chunk, Plan, ScoredChunk  # noqa: E402
from testkit.entities import a_widget  # noqa: E402
from testkit.fakes.ingestion import MemoryIngestionUsageRepository  # noqa: E402
from testkit.fakes.repositories import (  # noqa: E402
    FakeTransactions,
    MemoryDocumentRepository,
    MemoryJobQueue,
    MemoryWidgetRepository,
)
from testkit.fakes.telemetry import RecordingTelemetry  # noqa: E402

COMMAND = ".venv/bin/python bench/retrieval_eval.py"
COLLECTIONS = ("Cranfield", "CISI", "CACM")
# Chunks asked for to rank the first 10 documents, with the production candidate depth.
SHALLOW = 30
FLOORS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
LATENCY_CHUNKS = 1000
# Generated manuals of the unrelated corpus (10 chunks each) for the relevance floor.
MANUALS = 40
BM25 = "BM25 baseline (bm25s)"
# Round 2's ratios to BM25 of the default (bm25s), published in docs/benchmarks.md.
ROUND_2 = {"Cranfield": 1.17, "CISI": 1.15, "CACM": 1.17}

# The settings cross-collection validation chooses from: fusion by scores or by ranks, the
# fusion weight, score normalisation, and each stage's parameters moved one at a time.
GRID = [
    *(Tuning(dense_weight=w, feedback=f) for f in (False, True) for w in (0.5, 0.6, 0.7, 0.8)),
    Tuning(complete=False),
    Tuning(fusion="rrf", feedback=False),
    Tuning(fusion="rrf"),
    Tuning(fusion="rrf", rrf_dense_weight=0.6),
    Tuning(fusion="rrf", rrf_k=20),
    *(Tuning(normalisation="minmax", dense_weight=w) for w in (0.5, 0.7)),
    Tuning(depth=100),
    Tuning(feedback_rerank=50),
    Tuning(feedback_dense_chunks=3),
    Tuning(feedback_dense_chunks=10),
    Tuning(feedback_dense_weight=0.5),
    Tuning(feedback_dense_weight=0.7),
    Tuning(feedback_sparse_chunks=5),
    Tuning(feedback_sparse_chunks=15),
    Tuning(feedback_terms=10),
    Tuning(feedback_terms=30),
    Tuning(feedback_term_weight=0.2),
    Tuning(feedback_term_weight=0.5),
    Tuning(query_term_frequency=False),
]

# Each stage the plan has or could have: the grid's row with it, and the row without it.
# Cross-collection validation keeps a stage for a collection when it gains on the others.
# (Stages measured in round 3 and then removed from the plan, having gained nothing that
# validation kept, are in docs/benchmarks.md.)
STAGES = [
    ("pseudo-relevance feedback", Tuning(), Tuning(feedback=False)),
    ("completion: both scores for every candidate", Tuning(), Tuning(complete=False)),
    ("deeper candidate lists (100 each)", Tuning(depth=100), Tuning()),
    ("RRF instead of scores", Tuning(fusion="rrf"), Tuning()),
]  # fmt: skip


# --- metrics -----------------------------------------------------------------------------


def ndcg(ranked: Sequence[int], gains: dict[int, int], k: int = 10) -> float:
    """trec_eval's nDCG (linear gains)."""
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(gains.values(), reverse=True)[:k]
    best = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


Run = dict[int, list[int]]  # query number → ranked document ids


def mean_ndcg(c: Collection, run: Run) -> float:
    return statistics.fmean(ndcg(run[q], c.judgements[q]) for q, _ in c.queries)


# --- ingestion and search through the project's code ------------------------------------


@dataclass
class Indexed:
    store: EdgeVectorStore
    path: Path
    embedder: OnnxEmbedder
    pipeline: tuple[SubmitDocument, ProcessDocument]
    widgets: MemoryWidgetRepository
    documents: MemoryDocumentRepository
    # widget of each collection, and document id → the collection's ids with that content
    widget: dict[str, UUID] = field(default_factory=dict)
    ids: dict[str, dict[UUID, list[int]]] = field(default_factory=dict)
    chunks: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


async def ingest(
    widget_id: UUID,
    documents: Sequence[tuple[str, str, str]],
    pipeline: tuple[SubmitDocument, ProcessDocument],
) -> tuple[dict[UUID, list[str]], int]:
    """Submits (key, title, text) documents and processes the queue; document id → keys."""
    submit, process = pipeline
    keys: dict[UUID, list[str]] = {}
    skipped = 0
    for key, title, text in documents:
        if not text.strip():
            skipped += 1  # SubmitDocument refuses an empty document
            continue
        new = NewDocument(
            widget_id=widget_id, title=title, content=text.encode(), content_type="text/plain"
        )
        submitted = await submit(new)
        keys.setdefault(submitted.document.id, []).append(key)
    while await process.next_job():
        pass
    return keys, skipped


def contents(c: Collection) -> list[tuple[str, str, str]]:
    """(key, title, text): a document's text, or its title when it has none (half of CACM)."""
    return [(str(i), t or "Untitled", w or t) for i, (t, w) in sorted(c.documents.items())]


async def open_index(work: Path) -> Indexed:
    embedder = OnnxEmbedder()
    path = work / "shard"
    store = EdgeVectorStore(path, embedder.dimension)
    widgets, documents, jobs = (
        MemoryWidgetRepository(),
        MemoryDocumentRepository(),
        MemoryJobQueue(),
    )
    parser, clock, ids, policy = PlainTextParser(), SystemClock(), RandomIds(), IngestionPolicy()
    telemetry = RecordingTelemetry()
    allowance = IngestionAllowance(  # no limits: the collections are the measure
        MemoryIngestionUsageRepository(),
        clock,
        IngestionLimitPolicy(by_plan={plan: IngestionLimits() for plan in Plan}),
    )
    submit = SubmitDocument(
        widgets=widgets, documents=documents, jobs=jobs, transactions=FakeTransactions(),
        parser=parser, clock=clock, ids=ids, policy=policy, allowance=allowance,
    )  # fmt: skip
    process = ProcessDocument(
        documents=documents, widgets=widgets, allowance=allowance, jobs=jobs, parser=parser,
        embedder=embedder,
        vectors=store, clock=clock, policy=policy, telemetry=telemetry,
        answers=AnswerCache(MemoryCache(), telemetry),
    )  # fmt: skip
    return Indexed(store, path, embedder, (submit, process), widgets, documents)


async def chunk_count(indexed: Indexed, widget: UUID) -> int:
    return sum(d.chunk_count for d in await indexed.documents.list_for_widget(widget))


async def add_widget(indexed: Indexed, name: str) -> UUID:
    widget = a_widget(name=name)
    await indexed.widgets.add(widget)
    indexed.widget[name] = widget.id
    return widget.id


def _kept(indexed: Indexed) -> Path:
    return indexed.path.parent / "index.json"


def save(indexed: Indexed) -> None:
    """What a later run with --keep-index needs to search this shard again."""
    _kept(indexed).write_bytes(
        msgspec.json.encode(
            {
                "widget": {n: str(w) for n, w in indexed.widget.items()},
                "ids": {n: {str(d): k for d, k in m.items()} for n, m in indexed.ids.items()},
                "chunks": indexed.chunks,
                "skipped": indexed.skipped,
                "seconds": indexed.seconds,
            }
        )
    )


def restore(indexed: Indexed) -> None:
    if not _kept(indexed).exists():
        return
    kept = msgspec.json.decode(_kept(indexed).read_bytes())
    indexed.widget = {n: UUID(w) for n, w in kept["widget"].items()}
    indexed.ids = {n: {UUID(d): k for d, k in m.items()} for n, m in kept["ids"].items()}
    indexed.chunks, indexed.skipped, indexed.seconds = (
        kept["chunks"],
        kept["skipped"],
        kept["seconds"],
    )


async def index_collection(indexed: Indexed, c: Collection) -> None:
    if c.name in indexed.ids:
        print(f"{c.name}: {indexed.chunks[c.name]} chunks, kept from an earlier run")
        return
    widget = await add_widget(indexed, c.name)
    started = time.perf_counter()
    keys, indexed.skipped[c.name] = await ingest(widget, contents(c), indexed.pipeline)
    indexed.seconds[c.name] = time.perf_counter() - started
    indexed.ids[c.name] = {doc: [int(k) for k in ks] for doc, ks in keys.items()}
    indexed.chunks[c.name] = await chunk_count(indexed, widget)
    save(indexed)
    print(f"{c.name}: {indexed.chunks[c.name]} chunks in {indexed.seconds[c.name]:.0f} s")


def ranked_documents(ids: dict[UUID, list[int]], hits: Sequence[ScoredChunk]) -> list[int]:
    seen: dict[int, None] = {}
    for hit in hits:
        for doc in ids.get(hit.chunk.document_id, []):
            seen.setdefault(doc, None)
    return list(seen)


async def search_all(
    indexed: Indexed, c: Collection, qv: list[list[float]], mode: RetrievalMode
) -> Run:
    run: Run = {}
    widget, ids = indexed.widget[c.name], indexed.ids[c.name]
    for (number, text), vector in zip(c.queries, qv, strict=True):
        query = SearchQuery(text=text, vector=vector, mode=mode)
        run[number] = ranked_documents(ids, await indexed.store.search(widget, query, SHALLOW))
    return run


async def reopen(indexed: Indexed, tuning: Tuning) -> None:
    await indexed.store.close()
    indexed.store = EdgeVectorStore(indexed.path, indexed.embedder.dimension, tuning)


def bm25_baseline(c: Collection) -> Run:
    ids = sorted(c.documents)
    stemmer = Stemmer.Stemmer("english")
    texts = [" ".join(c.documents[i]) for i in ids]
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    tokens = bm25s.tokenize(
        [t for _, t in c.queries], stopwords="en", stemmer=stemmer, show_progress=False
    )
    found, _ = retriever.retrieve(tokens, k=100, show_progress=False)
    return {number: [ids[i] for i in found[n]] for n, (number, _) in enumerate(c.queries)}


def rrf_runs(dense: Run, sparse: Run, k: int = 60) -> Run:
    fused: Run = {}
    for q in dense:
        score: dict[int, float] = {}
        for run in (dense[q][:100], sparse[q][:100]):
            for rank, doc in enumerate(run):
                score[doc] = score.get(doc, 0.0) + 1.0 / (k + rank + 1)
        fused[q] = sorted(score, key=lambda d: (-score[d], d))
    return fused


# --- the relevance floor -----------------------------------------------------------------


async def best_similarities(
    indexed: Indexed, widget: UUID, texts: Sequence[str], qv: Sequence[list[float]]
) -> tuple[list[float], list[bool]]:
    """What the chat's floor sees: the best dense cosine among a widget's top-k hybrid hits,
    and whether one of them holds enough of the question's words (`ChatPolicy.min_coverage`)."""
    best, covered, looked = [], [], []
    policy = ChatPolicy()
    for text, vector in zip(texts, qv, strict=True):
        hits = await indexed.store.search(
            widget, SearchQuery(text=text, vector=vector), DEFAULT_TOP_K
        )
        best.append(max((h.similarity or 0.0 for h in hits), default=0.0))
        covered.append(holds_every_word(hits, policy.min_coverage))
        # Where the default floor says no, the chat's closer look at the hits' sentences.
        if best[-1] < policy.min_score and not covered[-1]:
            looked.append(
                await a_sentence_near(indexed.embedder, vector, hits, policy.min_sentence_score)
            )
    return best, covered, looked


async def hit_similarities(
    indexed: Indexed, c: Collection, qv: list[list[float]]
) -> tuple[list[float], list[float]]:
    """Similarity of each top-k hybrid hit of a collection's queries: judged relevant, or not."""
    relevant, other = [], []
    widget, ids = indexed.widget[c.name], indexed.ids[c.name]
    for (number, text), vector in zip(c.queries, qv, strict=True):
        query = SearchQuery(text=text, vector=vector)
        for hit in await indexed.store.search(widget, query, DEFAULT_TOP_K):
            docs = ids.get(hit.chunk.document_id, [])
            judged = any(d in c.judgements[number] for d in docs)
            (relevant if judged else other).append(hit.similarity or 0.0)
    return relevant, other


# --- the run -----------------------------------------------------------------------------


@dataclass
class Results:
    indexed: Indexed
    collections: list[Collection]
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # row → collection → nDCG
    chosen: dict[str, str] = field(default_factory=dict)  # collection → setting chosen without it
    default: str = ""
    floor: dict[str, list[float]] = field(default_factory=dict)
    # for the floor's sets: whether a top-k hit held every word of each question
    covered: dict[str, list[bool]] = field(default_factory=dict)
    # for the floor's sets: of the questions the default floor refuses, whether the closer
    # look at the hits' sentences lets each through
    looked: dict[str, list[bool]] = field(default_factory=dict)
    # ms per search in a 1,000-chunk widget, by setting (the default, round 2's, each stage's)
    latency: dict[str, list[float]] = field(default_factory=dict)


def ratio(r: Results, row: str, name: str) -> float:
    return r.scores[row][name] / r.scores[BM25][name]


async def run(collections: list[Collection], work: Path) -> Results:
    indexed = await open_index(work)
    restore(indexed)
    r = Results(indexed, collections)
    vectors = {}
    for c in collections:
        await index_collection(indexed, c)
        vectors[c.name] = await indexed.embedder.embed([t for _, t in c.queries])
    await index_manuals(indexed)

    def record(row: str, c: Collection, run_: Run) -> None:
        r.scores.setdefault(row, {})[c.name] = mean_ndcg(c, run_)

    for c in collections:
        qv = vectors[c.name]
        record(BM25, c, bm25_baseline(c))
        dense = await search_all(indexed, c, qv, RetrievalMode.DENSE)
        sparse = await search_all(indexed, c, qv, RetrievalMode.SPARSE)
        record("dense only", c, dense)
        record("sparse only (Edge BM25)", c, sparse)
        record("RRF k=60 of the dense and sparse rankings", c, rrf_runs(dense, sparse))
    names_of_grid = [_name(t) for t in GRID]
    assert len(set(names_of_grid)) == len(GRID), "two settings of the grid share a name"
    for tuning in GRID:
        await reopen(indexed, tuning)
        for c in collections:
            record(
                _name(tuning),
                c,
                await search_all(indexed, c, vectors[c.name], RetrievalMode.HYBRID),
            )
    names = [c.name for c in collections]
    grid = [_name(t) for t in GRID]
    for name in names:
        others = [n for n in names if n != name]
        r.chosen[name] = max(
            grid, key=lambda row: statistics.fmean(ratio(r, row, n) for n in others)
        )
    r.default = _name(Tuning())
    await reopen(indexed, Tuning())
    await floor_study(r, vectors)
    await latency_study(r)
    await indexed.store.close()
    indexed.embedder.close()
    return r


async def index_manuals(indexed: Indexed) -> None:
    """The unrelated corpus of the relevance floor; before any reopen, which would leave
    the pipeline holding a closed store."""
    if indexed.chunks.get("manuals"):
        return
    manuals = await add_widget(indexed, "manuals")
    documents = [(d.title, d.title, d.text) for d in corpus.documents(MANUALS)]
    await ingest(manuals, documents, indexed.pipeline)
    indexed.chunks["manuals"] = await chunk_count(indexed, manuals)
    save(indexed)


async def floor_study(r: Results, vectors: dict[str, list[list[float]]]) -> None:
    indexed = r.indexed
    manuals = indexed.widget["manuals"]
    questions = corpus.questions(MANUALS, 200)
    mv = await indexed.embedder.embed(questions)

    async def study(name: str, widget: UUID, texts: Sequence[str], qv: list[list[float]]) -> None:
        r.floor[name], r.covered[name], r.looked[name] = await best_similarities(
            indexed, widget, texts, qv
        )

    for c in r.collections:
        texts, qv = [t for _, t in c.queries], vectors[c.name]
        await study(f"{c.name} queries → {c.name} (answerable)", indexed.widget[c.name], texts, qv)
        await study(f"{c.name} queries → manuals (unanswerable)", manuals, texts, qv)
        await study(
            f"manual questions → {c.name} (unanswerable)", indexed.widget[c.name], questions, mv
        )
    await study("manual questions → manuals (answerable)", manuals, questions, mv)
    relevant, other = [], []
    for c in r.collections:
        rel, oth = await hit_similarities(indexed, c, vectors[c.name])
        relevant += rel
        other += oth
    r.floor["top-5 hits judged relevant"] = relevant
    r.floor["top-5 hits not judged relevant"] = other


async def latency_study(r: Results) -> None:
    """One question's search in a widget of 1,000 chunks: Cranfield's texts, stored through
    the store's stage and publish with random unit vectors (search time does not depend on
    what the vectors mean, and the model need not embed them again), searched with
    Cranfield's queries and their real vectors."""
    indexed = r.indexed
    c = next(c for c in r.collections if c.name == "Cranfield")
    widget, document = uuid.uuid4(), uuid.uuid4()
    texts = [w or t for t, w in c.documents.values()]
    chunks = [
        Chunk(
            id=uuid.uuid4(),
            widget_id=widget,
            document_id=document,
            index=n,
            text=texts[n % len(texts)],
            title="Cranfield",
        )
        for n in range(LATENCY_CHUNKS)
    ]
    rng = np.random.default_rng(20240601)
    vectors = rng.standard_normal((len(chunks), indexed.embedder.dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    await indexed.store.stage(chunks, vectors.tolist())
    await indexed.store.publish(widget, document, len(chunks))
    qv = await indexed.embedder.embed([t for _, t in c.queries])
    # The settings take turns, so all see the same load; the first pass of each warms up.
    timed = list(dict.fromkeys([Tuning(), *(t for _, on, off in STAGES for t in (on, off))]))
    for turn in range(3):
        for tuning in timed:
            times = r.latency.setdefault(_name(tuning), [])
            await reopen(indexed, tuning)
            for (_, text), vector in zip(c.queries, qv, strict=True):
                query = SearchQuery(text=text, vector=vector)
                began = time.perf_counter()
                await indexed.store.search(widget, query, DEFAULT_TOP_K)
                if turn:
                    times.append((time.perf_counter() - began) * 1000)
    await reopen(indexed, Tuning())
    await indexed.store.delete_widget(widget)


def _name(t: Tuning) -> str:
    if t == Tuning():
        return f"hybrid, {_fusion(t)}, with feedback (default)"
    base = Tuning(
        fusion=t.fusion,
        rrf_k=t.rrf_k,
        rrf_dense_weight=t.rrf_dense_weight,
        normalisation=t.normalisation,
        dense_weight=t.dense_weight,
        feedback=t.feedback,
    )
    if t == base:
        return f"hybrid, {_fusion(t)}, {'with' if t.feedback else 'no'} feedback"
    changed = {k: v for k, v in msgspec.structs.asdict(t).items() if v != getattr(Tuning(), k)}
    return "hybrid, default but " + ", ".join(f"{k}={v}" for k, v in changed.items())


def _fusion(t: Tuning) -> str:
    if t.fusion == "rrf":
        weighted = f", dense weight {t.rrf_dense_weight}" if t.rrf_dense_weight != 0.5 else ""
        return f"RRF k={t.rrf_k}{weighted}"
    scale = ", min-max scaled" if t.normalisation == "minmax" else ""
    return f"dense weight {t.dense_weight}{scale}"


# --- the report --------------------------------------------------------------------------


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _rule(columns: int, text: int = 1) -> str:
    """Markdown alignment: the first `text` columns left, the numbers right."""
    return _row(*(["---"] * text + ["---:"] * (columns - text)))


def _f(x: float) -> str:
    return f"{x:.3f}"


def _quantiles(xs: Sequence[float]) -> str:
    s = sorted(xs)
    pick = [
        s[0],
        s[int(0.05 * (len(s) - 1))],
        statistics.median(s),
        s[int(0.95 * (len(s) - 1))],
        s[-1],
    ]
    return " | ".join(_f(x) for x in pick)


def render(r: Results, seconds: float) -> str:
    names = [c.name for c in r.collections]
    table = [
        _row("retrieval", *(f"{n} nDCG@10 (×BM25)" for n in names), "mean ×BM25"),
        _rule(len(names) + 2),
    ]
    for row, by in r.scores.items():
        cells = [f"{_f(by[n])} ({ratio(r, row, n):.2f})" for n in names]
        mean = statistics.fmean(ratio(r, row, n) for n in names)
        label = f"**{row}**" if row == r.default else row
        table.append(_row(label, *cells, f"{mean:.2f}"))
    chosen = [
        _row("scored on", "chosen on the others", "nDCG@10", "×BM25", "default ×BM25"),
        _rule(5, 2),
    ]
    for n in names:
        row = r.chosen[n]
        chosen.append(
            _row(
                n,
                row,
                _f(r.scores[row][n]),
                f"{ratio(r, row, n):.2f}",
                f"{ratio(r, r.default, n):.2f}",
            )
        )
    i = r.indexed
    described = "; ".join(
        f"**{c.name}** ({c.source}): {len(c.documents)} documents, {len(c.queries)} judged "
        f"queries, {i.chunks[c.name]} chunks ingested in {i.seconds[c.name]:.0f} s"
        + (f", {i.skipped[c.name]} empty documents refused" if i.skipped[c.name] else "")
        for c in r.collections
    )
    floor = [_row("best hit's similarity", "n", "min", "p5", "median", "p95", "max"), _rule(7)]
    for name, xs in r.floor.items():
        floor.append(f"| {name} | {len(xs)} | {_quantiles(xs)} |")
    answerable = [k for k in r.floor if "(answerable)" in k]
    unanswerable = [k for k in r.floor if "unanswerable" in k]
    rel = r.floor["top-5 hits judged relevant"]
    oth = r.floor["top-5 hits not judged relevant"]
    cut = [
        _row("floor", "answerable answered (min over sets)", "unanswerable refused (min over sets)",
             "… each with a hit holding every word", "relevant hits below", "other hits below"),
        _rule(6, text=0),
    ]  # fmt: skip
    for f in FLOORS:
        kept = min(sum(x >= f for x in r.floor[k]) / len(r.floor[k]) for k in answerable)
        refused = min(sum(x < f for x in r.floor[k]) / len(r.floor[k]) for k in unanswerable)
        passes = {k: [x >= f or c for x, c in zip(r.floor[k], r.covered[k], strict=True)]
                  for k in r.covered}  # fmt: skip
        kept_c = min(sum(passes[k]) / len(passes[k]) for k in answerable)
        refused_c = min(1 - sum(passes[k]) / len(passes[k]) for k in unanswerable)
        below = [f"{sum(x < f for x in xs) / len(xs):.0%}" for xs in (rel, oth)]
        cut.append(
            _row(f"{f:.2f}", f"{kept:.0%}", f"{refused:.0%}", f"{kept_c:.0%} / {refused_c:.0%}",
                 *below)
        )  # fmt: skip
    default = r.default
    lat = sorted(r.latency[default])
    p50, p99 = statistics.median(lat), lat[int(0.99 * (len(lat) - 1))]
    worst = min(ratio(r, default, n) for n in names)
    agreeing = [n for n in names if r.chosen[n] == default]
    lines = [
        *heading("Retrieval quality (Cranfield, CISI, CACM)", COMMAND, seconds),
        f"Collections: {described}. None of PyPI, npm or Debian ships these collections "
        "(bench/ir_collections.py says what was searched), so they are read from copies of "
        "public repositories pinned to a commit, into the bench's cache; nothing of them is "
        "committed. Each collection is one widget; its documents (title, and text or, when a "
        "document has none, its title) go through SubmitDocument and ProcessDocument (plain-"
        "text parser, chunker, the local ONNX all-MiniLM-L6-v2, the Qdrant Edge store), its "
        "judged queries through `EdgeVectorStore.search`; a document ranks where its first "
        f"chunk does, in a search for {SHALLOW} chunks. nDCG@10 with linear gains, as "
        "trec_eval computes it (Cranfield's codes 1..4 → gains 4..1; CISI and CACM judge "
        "relevant or not). The BM25 baseline is bm25s (Lucene BM25, English stemming and "
        "stop words) over title + text of whole documents; RRF in the fourth row is computed "
        "here from the store's dense and sparse rankings (top 100 documents each), the RRF "
        "rows of the grid inside the store's plan.",
        "",
        *table,
        "",
        "Cross-collection validation: for each collection, the grid's setting with the best "
        "mean ratio to BM25 on the other collections, scored on it.",
        "",
        *chosen,
        "",
        "Each stage against the same plan without it (nDCG@10 change per collection; kept by "
        "cross-collection validation for a collection when its mean gain in ratio to BM25 on "
        "the other two is above 0), and the search p50 of both plans at "
        f"{LATENCY_CHUNKS:,} chunks (below).",
        "",
        *stage_table(r, names),
        "",
        f"Default hybrid (`Tuning()`): at least **{worst:.2f}× BM25** on every collection "
        "(target ≥ 1.20×"
        + ("" if worst >= 1.2 else ": not met")
        + "); cross-collection validation chose it for "
        + (", ".join(agreeing) if agreeing else "no collection")
        + " in this run. Round 2 published "
        + ", ".join(f"{n} {x:.2f}×" for n, x in ROUND_2.items())
        + f". Search time of one question in a widget of {LATENCY_CHUNKS:,} chunks (Cranfield's "
        "texts, random vectors), in-process around `store.search`, the settings of the stage "
        f"table taking turns: default p50 {p50:.2f} ms, p99 {p99:.2f} ms over {len(lat)} searches "
        "(target p50 ≤ 5 ms).",
        "",
        "### Relevance floor",
        "",
        "The floor (`RETRIEVAL_MIN_SCORE`) is on the question's dense cosine with the chunks, the "
        "one score that means the same for every question and widget; fused scores are only "
        "comparable within one search. When the best of the top-k hybrid hits is below it, the "
        "widget's no-answer message is the answer, unless one of them holds every word the "
        "question asks (`RETRIEVAL_MIN_COVERAGE`, two words at least; the fourth column of the "
        "second table counts it in). Answerable: each query set against its own "
        "corpus; unanswerable: against another (the generated manuals of bench/corpus.py).",
        "",
        *floor,
        "",
        *cut,
        "",
        *floor_verdict(r),
        "",
        closer_look_line(r),
    ]
    return "\n".join(lines)


def closer_look_line(r: Results) -> str:
    """What the closer look at the hits' sentences does behind the default floor."""
    policy = ChatPolicy()
    counts = "; ".join(
        f"{name}: {sum(xs)} of {len(xs)}" for name, xs in r.looked.items() if "→" in name
    )
    return (
        f"Behind the default floor ({policy.min_score:.2f}, every word held), the chat looks "
        "closer before refusing: one sentence of the top-k hits with a cosine of at least "
        f"{policy.min_sentence_score:.2f} with the question lets the answer through "
        "(`RETRIEVAL_MIN_SENTENCE_SCORE`). Of the questions the floor refuses, it lets "
        f"through: {counts}."
    )


def stage_table(r: Results, names: list[str]) -> list[str]:
    rows = [
        _row("stage", *(f"{n} ΔnDCG@10" for n in names), "kept by CV for",
             "p50 with / without (ms)"),
        _rule(len(names) + 3),
    ]  # fmt: skip
    for stage, on, off in STAGES:
        with_, without = _name(on), _name(off)
        gains = [r.scores[with_][n] - r.scores[without][n] for n in names]
        kept = [
            n
            for n in names
            if statistics.fmean(ratio(r, with_, o) - ratio(r, without, o) for o in names if o != n)
            > 0.0
        ]
        p50s = " / ".join(f"{statistics.median(r.latency[x]):.2f}" for x in (with_, without))
        rows.append(_row(stage, *(f"{g:+.3f}" for g in gains), ", ".join(kept) or "none", p50s))
    return rows


def heading(title: str, command: str, seconds: float) -> list[str]:
    """A benchmark section's title, when and where it ran, and the command that ran it."""
    return [
        f"## {title}",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({platform.system()}, Python {platform.python_version()}), shared with other work "
        f"and noisy: compare figures within one run, which took {seconds / 60:.0f} min.",
        "",
        "```",
        command,
        "```",
        "",
    ]


def publish(section: str, name: str, doc: bool) -> None:
    print("\n" + section)
    if doc:
        write_doc(section, name)
        print("wrote docs/benchmarks.md")


def floor_verdict(r: Results) -> list[str]:
    """The highest floor of the grid that keeps every answerable question, against the
    configured default."""
    answerable = [xs for k, xs in r.floor.items() if "(answerable)" in k]
    unanswerable = [xs for k, xs in r.floor.items() if "unanswerable" in k]
    keeping = [f for f in FLOORS if all(min(xs) >= f for xs in answerable)]
    default = ChatPolicy().min_score
    lines = []
    if keeping:
        best = max(keeping)
        refused = " and ".join(f"{sum(x < best for x in xs) / len(xs):.0%}" for xs in unanswerable)
        lines.append(
            f"The highest floor of the grid that keeps every answerable question is {best:.2f}: "
            f"it refuses {refused} of the unanswerable ones."
        )
    lowest = min(min(xs) for xs in answerable)
    lines.append(
        f"The default is {default:.2f} (`ChatPolicy.min_score`, `RETRIEVAL_MIN_SCORE`); the "
        f"lowest best-hit similarity of an answerable question here is {lowest:.3f}. Within "
        "an answerable widget, hits judged relevant and hits not judged relevant have about "
        "the same similarities, so a per-hit cut would drop good sources without sorting "
        "them: the floor gates the answer, and the fused order picks the sources."
    )
    return [" ".join(lines), ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mirrors", type=Path, help="folder of repository copies, for collections not cached"
    )
    parser.add_argument("--cache", type=Path, default=ir_collections.CACHE)
    parser.add_argument("--only", nargs="*", default=list(COLLECTIONS), help="collections")
    parser.add_argument("--no-doc", action="store_true", help="print only; leave the doc alone")
    parser.add_argument(
        "--keep-index",
        type=Path,
        help="keep the ingested collections in this folder and reuse them next time",
    )
    args = parser.parse_args()
    collections = [ir_collections.load(n, args.cache, args.mirrors) for n in args.only]
    started = time.monotonic()
    if args.keep_index:
        args.keep_index.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(run(collections, args.keep_index))
    else:
        with tempfile.TemporaryDirectory(prefix="chatconnect-retrieval-") as work:
            results = asyncio.run(run(collections, Path(work)))
    publish(render(results, time.monotonic() - started), "retrieval_eval", not args.no_doc)


if __name__ == "__main__":
    main()
