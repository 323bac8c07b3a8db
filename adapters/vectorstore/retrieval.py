"""How a question becomes ranked chunks, written once for every vector store.

A plan is a generator: it yields the store operations it needs (`Nearest`, `Fetch`) and is
sent their results, so the embedded store can run a whole plan in its engine thread and the
server store can await each step, while ranking, fusion and tie-breaking stay one code path
and a chunk ranks the same in every store.

Hybrid retrieval (docs/benchmarks.md has the measurements behind each choice):
1. the widget's nearest chunks by the dense vector and by BM25, each `depth` deep;
2. completion: a candidate only one search found is scored by the other among those ids
   (it would count 0 there, below all that search found);
3. fusion by a convex combination, `w · cosine + (1 − w) · bm25 / best bm25`: scores keep
   their size, where reciprocal rank fusion throws it away, and BM25 is scaled by the best
   candidate's score, the only bound it has;
4. pseudo-relevance feedback: the best fused chunks move the dense question towards
   themselves (Rocchio) and lend the BM25 question their strongest terms, then the best
   candidates of step 1 are scored again with both and fused again. It only
   re-ranks candidates, so it costs two small id-restricted searches, not two scans; and it is
   skipped in a widget too small to fill a candidate list.
Every order breaks ties by chunk id, and a candidate list cut inside a tie group is widened
until the group is whole, so the same question always gets the same answer.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple, TypeAlias, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from adapters.vectorstore.common import DENSE, SPARSE, Sparse, chunk_of
from adapters.vectorstore.sparse import encode_question
from application.ports.vectors import RetrievalMode, SearchQuery
from domain.models import ScoredChunk

T = TypeVar("T")
# A point's id as the canonical text of its UUID (engines give a UUID or that text): a
# ranking hashes and orders ids hundreds of times a search, at C speed for a str and in
# Python for a UUID, and the canonical text orders as the UUID does.
PointId: TypeAlias = str


class Tuning(msgspec.Struct, frozen=True, kw_only=True):
    # How the dense and BM25 lists become one: "convex" weighs the scores (dense_weight on
    # the cosine, the rest on BM25 scaled by the best candidate's), "rrf" only the ranks
    # (reciprocal rank fusion, 1 / (rrf_k + rank) summed over the two lists).
    fusion: str = "convex"
    rrf_k: int = 60
    # Weighted RRF: the dense list's share of the two (0.5 is plain RRF).
    rrf_dense_weight: float = 0.5
    # How convex fusion puts the two scores on one scale: "max" divides BM25 by the best
    # candidate's and keeps the cosine as it is; "minmax" maps each list onto 0..1.
    normalisation: str = "max"
    # Weight of the dense cosine in the fused score; BM25 gets the rest.
    dense_weight: float = 0.7
    # A question term weighs as often as the question says it (BM25's query term
    # frequency), or once (the engine's own encoding of a question).
    query_term_frequency: bool = True
    # Candidates taken from each of the dense and the BM25 search (at least `limit`).
    depth: int = 50
    # Each candidate scored by both searches, the one that did not find it searching again
    # among those ids only; otherwise it counts 0 there, below every candidate that search
    # found. Cross-collection validation keeps it for every retrieval collection, and the
    # manuals' right page first holds (docs/benchmarks.md, round 3).
    complete: bool = True
    # Pseudo-relevance feedback: Rocchio over the best few chunks for the dense question,
    # their strongest terms (at most `feedback_terms`, the strongest weighing
    # `feedback_term_weight` against 1 for an asked term) for the BM25 question.
    feedback: bool = True
    feedback_dense_chunks: int = 5
    feedback_dense_weight: float = 1.0
    feedback_sparse_chunks: int = 10
    feedback_terms: int = 20
    feedback_term_weight: float = 0.3
    # Candidates the feedback scores again (at least `limit`); the results come from them.
    feedback_rerank: int = 30

    def __post_init__(self) -> None:
        if not 0.0 <= self.rrf_dense_weight <= 1.0:
            raise ValueError(f"rrf_dense_weight must be within 0..1, got {self.rrf_dense_weight}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within 0..1, got {self.dense_weight}")
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1, got {self.depth}")
        if self.fusion not in ("convex", "rrf"):
            raise ValueError(f"fusion must be 'convex' or 'rrf', got {self.fusion!r}")
        if self.normalisation not in ("max", "minmax"):
            raise ValueError(f"normalisation must be 'max' or 'minmax', got {self.normalisation!r}")


class Hit(NamedTuple):
    id: PointId
    score: float


_ID = attrgetter("id")
_SCORE = attrgetter("score")


class Nearest(NamedTuple):
    """One widget's points nearest to `vector` by the named vector `using`, best first.

    With `among`, only those points; a sparse search returns only points sharing a term.
    """

    using: str
    vector: list[float] | Sparse
    limit: int
    among: frozenset[PointId] | None = None


class Fetch(NamedTuple):
    """The stored points with these ids: payload (with `terms`, its BM25 terms too), or
    both vectors (`Stored`).

    With `dense`, a store may leave out the dense vector of the other ids: turning one of
    1,536 dimensions into Python floats costs more than the engine's read of it."""

    ids: tuple[PointId, ...]
    vectors: bool = False
    dense: frozenset[PointId] | None = None
    terms: bool = False


class Stored(NamedTuple):
    payload: Mapping[str, Any] | None = None
    dense: Sequence[float] | None = None
    sparse: Sparse | None = None


# A step is a batch of searches, answered in order (one engine call where the engine
# batches), or a fetch.
Step: TypeAlias = tuple[Nearest, ...] | Fetch
Plan: TypeAlias = Generator[Step, Any, T]


def plan(query: SearchQuery, limit: int, tuning: Tuning) -> Plan[list[ScoredChunk]]:
    vector = list(query.vector)
    # The terms coverage counts: the question's own, never its context's.
    own = encode_question(query.text, counted=tuning.query_term_frequency)
    question = _with_context(own, query, tuning.query_term_frequency)
    if query.mode is RetrievalMode.DENSE:
        steps = _dense(vector, limit)
    elif query.mode is RetrievalMode.SPARSE:
        steps = _sparse(vector, question, limit)
    else:
        steps = _hybrid(vector, question, limit, tuning)
    return (yield from _scored((yield from steps), frozenset(own.indices)))


def unused(words: Sequence[str]) -> Plan[list[str]]:
    """The words no chunk searched holds as a BM25 term (stemmed: "licensed" finds
    "license"): one sparse search of one hit for each, in one batch. A stop word has no
    term to look for and is never unused."""
    asked = [(word, encode_question(word, counted=False)) for word in words]
    asked = [(word, terms) for word, terms in asked if terms.indices]
    if not asked:
        return []
    found: list[list[Hit]] = yield tuple(Nearest(SPARSE, terms, 1) for _, terms in asked)
    return [word for (word, _), hits in zip(asked, found, strict=True) if not hits]


def sparse_question(query: SearchQuery, counted: bool = True) -> Sparse:
    """The question's BM25 terms, with those of its context at the context's weight: each
    context term at most that weight, and all of them together at most that share of the
    question's own, so a long earlier question never outweighs "And how do I restore it?"."""
    return _with_context(encode_question(query.text, counted=counted), query, counted)


def _with_context(question: Sparse, query: SearchQuery, counted: bool) -> Sparse:
    if not query.context or query.context_weight <= 0.0:
        return question
    weights = dict(zip(question.indices, question.values, strict=True))
    context = encode_question(query.context, counted=counted)
    own, lent = sum(question.values), sum(context.values)
    # A follow-up of stop words alone ("And then?") has nothing of its own to outweigh.
    scale = query.context_weight * (min(1.0, own / lent) if own and lent else 1.0)
    for index, value in zip(context.indices, context.values, strict=True):
        weights[index] = weights.get(index, 0.0) + scale * value
    ordered = sorted(weights.items())
    return Sparse(tuple(i for i, _ in ordered), tuple(v for _, v in ordered))


def run(steps: Plan[T], execute: Callable[[Step], Any]) -> T:
    result: Any = None
    try:
        while True:
            result = execute(steps.send(result))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def run_async(steps: Plan[T], execute: Callable[[Step], Awaitable[Any]]) -> T:
    result: Any = None
    try:
        while True:
            result = await execute(steps.send(result))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


# A plan's hits, each with the question's dense cosine.
Ranked: TypeAlias = tuple[list[Hit], Mapping[PointId, float]]


def _dense(vector: list[float], limit: int) -> Plan[Ranked]:
    [found] = yield from _deepest([(DENSE, vector)], limit)
    hits = _ranked(found)[:limit]
    return hits, {hit.id: hit.score for hit in hits}


def _sparse(vector: list[float], question: Sparse, limit: int) -> Plan[Ranked]:
    if not question.indices:  # only stop words: BM25 has nothing to match
        return [], {}
    [found] = yield from _deepest([(SPARSE, question)], limit)
    hits = _ranked(found)[:limit]
    return hits, (yield from _cosines(vector, hits, {}))


def _hybrid(vector: list[float], question: Sparse, limit: int, tuning: Tuning) -> Plan[Ranked]:
    searches: list[tuple[str, list[float] | Sparse]] = [(DENSE, vector)]
    if question.indices:
        searches.append((SPARSE, question))
    found = yield from _deepest(searches, max(limit, tuning.depth))
    cosines = {hit.id: hit.score for hit in found[0]}
    bm25 = {hit.id: hit.score for hit in found[1]} if len(found) > 1 else {}
    candidates = list(cosines.keys() | bm25.keys())  # fuse() orders them
    if tuning.complete and bm25:
        yield from _complete(vector, question, cosines, bm25)
    fused = _fuse(candidates, cosines, bm25, tuning)
    # Feedback takes the best few chunks for relevant; among fewer candidates than a full
    # list (a widget with few chunks) they are most of them, and it would only add noise.
    if tuning.feedback and len(candidates) >= tuning.depth:
        fused = yield from _feedback(vector, question, fused, cosines, limit, tuning)
    hits = fused[:limit]
    return hits, (yield from _cosines(vector, hits, cosines))


def _complete(
    vector: list[float],
    question: Sparse,
    cosines: dict[PointId, float],
    bm25: dict[PointId, float],
) -> Plan[None]:
    """Scores each candidate by the list it was missing from: found by one search only, it
    would count 0 in the other, below every candidate that search found."""
    no_cosine = frozenset(bm25.keys() - cosines.keys())
    no_bm25 = frozenset(cosines.keys() - bm25.keys())
    searches = []
    if no_cosine:
        searches.append(Nearest(DENSE, vector, len(no_cosine), no_cosine))
    if no_bm25:
        searches.append(Nearest(SPARSE, question, len(no_bm25), no_bm25))
    if not searches:
        return
    found: list[list[Hit]] = yield tuple(searches)
    if no_cosine:
        cosines.update((hit.id, hit.score) for hit in found[0])
    if no_bm25:
        bm25.update((hit.id, hit.score) for hit in found[-1])


def _feedback(
    vector: list[float],
    question: Sparse,
    fused: list[Hit],
    cosines: dict[PointId, float],
    limit: int,
    tuning: Tuning,
) -> Plan[list[Hit]]:
    """Re-ranks the best candidates; learns their cosines with the question on the way."""
    dense_ids = [hit.id for hit in fused[: tuning.feedback_dense_chunks]]
    sparse_ids = [hit.id for hit in fused[: tuning.feedback_sparse_chunks]]
    ids = tuple(dict.fromkeys(dense_ids + sparse_ids))
    stored: dict[PointId, Stored] = yield Fetch(ids, True, frozenset(dense_ids))
    dense = [v for v in (stored[i].dense for i in dense_ids if i in stored) if v is not None]
    sparse = [v for v in (stored[i].sparse for i in sparse_ids if i in stored) if v is not None]
    # Only the best candidates are scored again: what the first fusion put lower seldom
    # climbs into the results, and id-restricted searches cost by the id.
    ranked = [hit.id for hit in fused[: max(limit, tuning.feedback_rerank)]]
    among = frozenset(ranked)
    searches = [
        Nearest(DENSE, rocchio(vector, dense, tuning.feedback_dense_weight), len(among), among)
    ]
    expanded = expand(question, sparse, tuning.feedback_terms, tuning.feedback_term_weight)
    if expanded.indices:
        searches.append(Nearest(SPARSE, expanded, len(among), among))
    unknown = among - cosines.keys()
    if unknown:
        searches.append(Nearest(DENSE, vector, len(unknown), frozenset(unknown)))
    found: list[list[Hit]] = yield tuple(searches)
    moved = {hit.id: hit.score for hit in found[0]}
    bm25 = {hit.id: hit.score for hit in found[1]} if expanded.indices else {}
    if unknown:
        cosines.update((hit.id, hit.score) for hit in found[-1])
    return _fuse(ranked, moved, bm25, tuning)


def _fuse(
    candidates: Sequence[PointId],
    cosines: Mapping[PointId, float],
    bm25: Mapping[PointId, float],
    tuning: Tuning,
) -> list[Hit]:
    if tuning.fusion == "rrf":
        return rrf(candidates, cosines, bm25, tuning.rrf_k, tuning.rrf_dense_weight)
    if tuning.normalisation == "minmax":
        return fuse(candidates, _minmax(cosines), _minmax(bm25), tuning.dense_weight)
    return fuse(candidates, cosines, bm25, tuning.dense_weight)


def _minmax(scores: Mapping[PointId, float]) -> dict[PointId, float]:
    """Scores mapped onto 0..1 (all 1 when they are all equal)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    span = high - low
    return {i: (s - low) / span if span > 0.0 else 1.0 for i, s in scores.items()}


def rrf(
    candidates: Sequence[PointId],
    cosines: Mapping[PointId, float],
    bm25: Mapping[PointId, float],
    k: int,
    dense_weight: float = 0.5,
) -> list[Hit]:
    """Reciprocal rank fusion, each list's share weighed (half each is plain RRF, scaled
    as it); a candidate missing from one list gets nothing from it."""
    score = dict.fromkeys(candidates, 0.0)
    for scores, weight in ((cosines, 2.0 * dense_weight), (bm25, 2.0 * (1.0 - dense_weight))):
        ranked = _ranked(Hit(i, scores[i]) for i in candidates if i in scores)
        for rank, hit in enumerate(ranked, start=1):
            score[hit.id] += weight / (k + rank)
    return _ranked(Hit(i, s) for i, s in score.items())


def fuse(
    candidates: Sequence[PointId],
    cosines: Mapping[PointId, float],
    bm25: Mapping[PointId, float],
    dense_weight: float,
) -> list[Hit]:
    """Convex combination; a candidate missing from one list scores 0 there."""
    best = max(bm25.values(), default=0.0)
    scale = (1.0 - dense_weight) / best if best > 0.0 else 0.0
    return _ranked(
        Hit(i, dense_weight * cosines.get(i, 0.0) + scale * bm25.get(i, 0.0)) for i in candidates
    )


def rocchio(
    vector: Sequence[float], feedback: Sequence[Sequence[float]], weight: float
) -> list[float]:
    """The question moved towards the mean of the feedback vectors, as unit vectors (a
    cosine store may keep vectors normalised or not: the result is the same either way)."""
    if not feedback or weight == 0.0:
        return list(vector)
    units = _units(_rows([vector, *feedback]))
    moved: list[float] = _units(units[:1] + weight * units[1:].mean(axis=0))[0].tolist()
    return moved


def _rows(vectors: Sequence[Sequence[float]]) -> npt.NDArray[np.float64]:
    """Equal-length vectors as the rows of a float64 array: `struct` reads a list of Python
    floats at about twice numpy's pace, and a search converts six of 1,536 dimensions."""
    packed = b"".join(struct.pack(f"{len(vector)}d", *vector) for vector in vectors)
    return np.frombuffer(packed, dtype=np.float64).reshape(len(vectors), -1)


def _units(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=rows.copy(), where=norms > 0.0)


def expand(question: Sparse, feedback: Sequence[Sparse], terms: int, weight: float) -> Sparse:
    """The question's terms, plus the feedback chunks' strongest other terms.

    A term's strength is its BM25 term-frequency weight summed over the feedback chunks;
    the strongest gets `weight`, the others proportionally less, against 1 for asked terms.
    """
    if not feedback or terms < 1 or weight == 0.0:
        return question
    indices = np.fromiter(chain.from_iterable(v.indices for v in feedback), np.int64)
    values = np.fromiter(chain.from_iterable(v.values for v in feedback), np.float64)
    other = ~np.isin(indices, question.indices)
    # Each term's values summed in the chunks' order, as a running sum would add them.
    terms_found, term_of = np.unique(indices[other], return_inverse=True)
    strength = np.bincount(term_of, weights=values[other], minlength=len(terms_found))
    # Strongest first, ties to the smaller id.
    chosen = np.lexsort((terms_found, -strength))[:terms]
    if not len(chosen):
        return question
    sums = strength[chosen]
    return Sparse(
        question.indices + tuple(terms_found[chosen].tolist()),
        question.values + tuple((weight * sums / sums[0]).tolist()),
    )


def _ranked(hits: Any) -> list[Hit]:
    """Best score first, ties by id: two stable sorts with C-level keys."""
    return sorted(sorted(hits, key=_ID), key=_SCORE, reverse=True)


def _deepest(
    searches: Sequence[tuple[str, list[float] | Sparse]], depth: int
) -> Plan[list[list[Hit]]]:
    """The best `depth` hits of each search, and every hit tied with the last of them.

    Engines cut a tie group at the limit arbitrarily: ask for more, and while the last hit
    ties with the last kept, widen until the group is whole. BM25 scores tie often (chunks
    that say the asked terms as often at the same length), cosines practically never: a
    BM25 list is asked one widening ahead, which spares most questions on repetitive
    documents a second search (docs/benchmarks.md, issue 19's round 4).
    """
    fetches = [_first_fetch(vector, depth) for _, vector in searches]
    found: list[list[Hit]] = list(
        (
            yield tuple(
                Nearest(using, vector, fetch)
                for (using, vector), fetch in zip(searches, fetches, strict=True)
            )
        )
    )
    for n, (using, vector) in enumerate(searches):
        fetch = fetches[n]
        while len(found[n]) == fetch and found[n][-1].score == found[n][depth - 1].score:
            fetch *= 2
            [found[n]] = yield (Nearest(using, vector, fetch),)
        if len(found[n]) > depth:
            cut = found[n][depth - 1].score
            found[n] = [hit for hit in found[n] if hit.score >= cut]
    return found


def _first_fetch(vector: list[float] | Sparse, depth: int) -> int:
    return 2 * (depth + 1) if isinstance(vector, Sparse) else depth + 1


def _cosines(
    vector: list[float], hits: Sequence[Hit], known: Mapping[PointId, float]
) -> Plan[dict[PointId, float]]:
    """The question's dense cosine with each hit, searching only for those not yet known."""
    cosines = {hit.id: known[hit.id] for hit in hits if hit.id in known}
    missing = frozenset(hit.id for hit in hits) - cosines.keys()
    if missing:
        [found] = yield (Nearest(DENSE, vector, len(missing), missing),)
        cosines.update((hit.id, hit.score) for hit in found)
    return cosines


def _scored(ranked: Ranked, own: frozenset[int]) -> Plan[list[ScoredChunk]]:
    hits, cosines = ranked
    if not hits:
        return []
    counted = len(own) >= 2
    stored: dict[PointId, Stored] = yield Fetch(tuple(hit.id for hit in hits), terms=counted)
    return [
        ScoredChunk(
            chunk_of(hit.id, point.payload),
            hit.score,
            cosines.get(hit.id),
            _coverage(own, point.sparse) if counted else None,
        )
        for hit in hits
        if (point := stored.get(hit.id)) is not None and point.payload is not None
    ]


def _coverage(own: frozenset[int], terms: Sparse | None) -> float | None:
    if terms is None:
        return None
    return len(own.intersection(terms.indices)) / len(own)
