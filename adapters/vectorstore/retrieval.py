"""How a question becomes ranked chunks, written once for every vector store.

A plan is a generator: it yields the store operations it needs (`Nearest`, `Fetch`) and is
sent their results, so the embedded store can run a whole plan in its engine thread and the
server store can await each step, while ranking, fusion and tie-breaking stay one code path
and a chunk ranks the same in every store.

Hybrid retrieval (docs/benchmarks.md has the measurements behind each choice):
1. the widget's nearest chunks by the dense vector and by BM25, each `depth` deep;
2. fusion by a convex combination, `w · cosine + (1 − w) · bm25 / best bm25`: scores keep
   their size, where reciprocal rank fusion throws it away, and BM25 is scaled by the best
   candidate's score, the only bound it has;
3. pseudo-relevance feedback: the best fused chunks move the dense question towards
   themselves (Rocchio) and lend the BM25 question their strongest terms, then the best
   candidates of step 1 are scored again with both and fused again. It only
   re-ranks candidates, so it costs two small id-restricted searches, not two scans; and it is
   skipped in a widget too small to fill a candidate list.
Every order breaks ties by chunk id, and a candidate list cut inside a tie group is widened
until the group is whole, so the same question always gets the same answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple, TypeAlias, TypeVar

import msgspec
import numpy as np
import numpy.typing as npt

from adapters.vectorstore.common import DENSE, DOCUMENT, SPARSE, Sparse, chunk_of
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
    # candidate's and keeps the cosine as it is; "minmax" maps each list onto 0..1;
    # "zscore" standardises each list (mean 0, standard deviation 1 over its candidates).
    normalisation: str = "max"
    # Weight of the dense cosine in the fused score; BM25 gets the rest.
    dense_weight: float = 0.7
    # A question term weighs as often as the question says it (BM25's query term
    # frequency), or once (the engine's own encoding of a question).
    query_term_frequency: bool = True
    # Candidates taken from each of the dense and the BM25 search (at least `limit`).
    depth: int = 50
    # Each candidate scored by both searches, the one that did not find it searching again
    # among those ids only; otherwise it counts 0 there. Off: it gains on the retrieval
    # collections but puts the right manual page first less often (docs/benchmarks.md).
    complete: bool = False
    # Pseudo-relevance feedback: Rocchio over the best few chunks for the dense question,
    # their strongest terms (at most `feedback_terms`, the strongest weighing
    # `feedback_term_weight` against 1 for an asked term) for the BM25 question.
    feedback: bool = True
    feedback_dense_chunks: int = 5
    feedback_dense_weight: float = 1.0
    feedback_sparse_chunks: int = 10
    feedback_terms: int = 20
    feedback_term_weight: float = 0.3
    # With a share above 0, the added terms weigh together that share of the asked terms'
    # total, each by its strength (RM3's interpolation: a long question gets more added
    # weight, a short one less), instead of the strongest weighing `feedback_term_weight`.
    feedback_term_mass: float = 0.0
    # Candidates the feedback scores again (at least `limit`); the results come from them.
    feedback_rerank: int = 30
    # How much each feedback chunk lends: "uniform" alike, "score" by its fused score
    # against the best one's (as RM3 weighs a document by its query likelihood).
    feedback_weighting: str = "uniform"
    # Rounds of feedback: each takes its chunks from the order the previous one left.
    feedback_rounds: int = 1
    # Share of the first fusion's score kept in the order feedback makes (0: none).
    feedback_keep: float = 0.0
    # Document evidence: a chunk gains this share of the best score of another chunk of its
    # document among the final candidates (0: chunks rank alone).
    document_weight: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rrf_dense_weight <= 1.0:
            raise ValueError(f"rrf_dense_weight must be within 0..1, got {self.rrf_dense_weight}")
        if not 0.0 <= self.dense_weight <= 1.0:
            raise ValueError(f"dense_weight must be within 0..1, got {self.dense_weight}")
        if self.depth < 1:
            raise ValueError(f"depth must be at least 1, got {self.depth}")
        if self.fusion not in ("convex", "rrf"):
            raise ValueError(f"fusion must be 'convex' or 'rrf', got {self.fusion!r}")
        if self.normalisation not in ("max", "minmax", "zscore"):
            raise ValueError(
                f"normalisation must be 'max', 'minmax' or 'zscore', got {self.normalisation!r}"
            )
        if self.feedback_weighting not in ("uniform", "score"):
            raise ValueError(
                f"feedback_weighting must be 'uniform' or 'score', got {self.feedback_weighting!r}"
            )
        if self.feedback_rounds < 1:
            raise ValueError(f"feedback_rounds must be at least 1, got {self.feedback_rounds}")
        if not 0.0 <= self.document_weight <= 1.0:
            raise ValueError(f"document_weight must be within 0..1, got {self.document_weight}")
        if not 0.0 <= self.feedback_keep <= 1.0:
            raise ValueError(f"feedback_keep must be within 0..1, got {self.feedback_keep}")


class Hit(NamedTuple):
    id: PointId
    score: float


class Nearest(NamedTuple):
    """One widget's points nearest to `vector` by the named vector `using`, best first.

    With `among`, only those points; a sparse search returns only points sharing a term.
    """

    using: str
    vector: list[float] | Sparse
    limit: int
    among: frozenset[PointId] | None = None


class Fetch(NamedTuple):
    """The stored points with these ids: payload, or both vectors (`Stored`)."""

    ids: tuple[PointId, ...]
    vectors: bool = False


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
    if query.mode is RetrievalMode.DENSE:
        return _dense(vector, limit)
    if query.mode is RetrievalMode.SPARSE:
        return _sparse(vector, sparse_question(query, tuning.query_term_frequency), limit)
    return _hybrid(vector, sparse_question(query, tuning.query_term_frequency), limit, tuning)


def sparse_question(query: SearchQuery, counted: bool = True) -> Sparse:
    """The question's BM25 terms, with those of its context at the context's weight."""
    question = encode_question(query.text, counted=counted)
    if not query.context or query.context_weight <= 0.0:
        return question
    weights = dict(zip(question.indices, question.values, strict=True))
    context = encode_question(query.context, counted=counted)
    for index, value in zip(context.indices, context.values, strict=True):
        weights[index] = weights.get(index, 0.0) + query.context_weight * value
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


def _dense(vector: list[float], limit: int) -> Plan[list[ScoredChunk]]:
    [found] = yield from _deepest([(DENSE, vector)], limit)
    hits = _ranked(found)[:limit]
    return (yield from _scored(hits, {hit.id: hit.score for hit in hits}))


def _sparse(vector: list[float], question: Sparse, limit: int) -> Plan[list[ScoredChunk]]:
    if not question.indices:  # only stop words: BM25 has nothing to match
        return []
    [found] = yield from _deepest([(SPARSE, question)], limit)
    hits = _ranked(found)[:limit]
    return (yield from _scored(hits, (yield from _cosines(vector, hits, {}))))


def _hybrid(
    vector: list[float], question: Sparse, limit: int, tuning: Tuning
) -> Plan[list[ScoredChunk]]:
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
        for _ in range(tuning.feedback_rounds):
            fused = yield from _feedback(vector, question, fused, cosines, limit, tuning)
    stored: dict[PointId, Stored] = {}
    if tuning.document_weight > 0.0:
        fused = fused[: max(limit, tuning.feedback_rerank)]
        stored = yield Fetch(tuple(hit.id for hit in fused))
        fused = by_document(fused, stored, tuning.document_weight)
    hits = fused[:limit]
    cosines_of_hits = yield from _cosines(vector, hits, cosines)
    return (yield from _scored(hits, cosines_of_hits, stored))


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


def by_document(hits: Sequence[Hit], stored: Mapping[PointId, Stored], weight: float) -> list[Hit]:
    """Each hit's score plus `weight` times the best other hit's of the same document: a
    document whose several chunks match is likelier the one asked about than a document
    with one chunk that matches as well."""
    members: dict[object, list[Hit]] = {}  # document → its hits, best first
    for hit in hits:
        point = stored.get(hit.id)
        if point is not None and point.payload is not None:
            members.setdefault(point.payload.get(DOCUMENT), []).append(hit)
    rescored = dict.fromkeys((hit.id for hit in hits), 0.0)
    for group in members.values():
        if len(group) > 1:
            best, second = group[0], group[1]
            for hit in group:
                rescored[hit.id] = weight * (second.score if hit is best else best.score)
    return _ranked(Hit(hit.id, hit.score + rescored[hit.id]) for hit in hits)


def _feedback(
    vector: list[float],
    question: Sparse,
    fused: list[Hit],
    cosines: dict[PointId, float],
    limit: int,
    tuning: Tuning,
) -> Plan[list[Hit]]:
    """Re-ranks the best candidates; learns their cosines with the question on the way."""
    dense_hits = fused[: tuning.feedback_dense_chunks]
    sparse_hits = fused[: tuning.feedback_sparse_chunks]
    ids = tuple(dict.fromkeys(hit.id for hit in (*dense_hits, *sparse_hits)))
    stored: dict[PointId, Stored] = yield Fetch(ids, True)
    lent = _lending(fused, tuning.feedback_weighting)
    dense = [(v, lent[h.id]) for h in dense_hits if (v := _dense_of(stored, h.id)) is not None]
    sparse = [(s, lent[h.id]) for h in sparse_hits if (s := _sparse_of(stored, h.id)) is not None]
    # Only the best candidates are scored again: what the first fusion put lower seldom
    # climbs into the results, and id-restricted searches cost by the id.
    ranked = [hit.id for hit in fused[: max(limit, tuning.feedback_rerank)]]
    among = frozenset(ranked)
    moved_question = rocchio(
        vector, [v for v, _ in dense], tuning.feedback_dense_weight, [w for _, w in dense]
    )
    searches = [Nearest(DENSE, moved_question, len(among), among)]
    expanded = expand(
        question,
        [v for v, _ in sparse],
        tuning.feedback_terms,
        tuning.feedback_term_weight,
        [w for _, w in sparse],
        tuning.feedback_term_mass,
    )
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
    again = _fuse(ranked, moved, bm25, tuning)
    if tuning.feedback_keep <= 0.0:
        return again
    # The first order keeps a share: feedback drifts when its chunks are off the topic.
    before = {hit.id: hit.score for hit in fused}
    keep = tuning.feedback_keep
    return _ranked(Hit(h.id, (1.0 - keep) * h.score + keep * before[h.id]) for h in again)


def _lending(fused: Sequence[Hit], weighting: str) -> dict[PointId, float]:
    """Each candidate's weight as feedback: alike, or its fused score against the best's."""
    if weighting == "uniform" or not fused or fused[0].score <= 0.0:
        return {hit.id: 1.0 for hit in fused}
    best = fused[0].score
    return {hit.id: max(hit.score, 0.0) / best for hit in fused}


def _dense_of(stored: Mapping[PointId, Stored], id_: PointId) -> Sequence[float] | None:
    point = stored.get(id_)
    return None if point is None else point.dense


def _sparse_of(stored: Mapping[PointId, Stored], id_: PointId) -> Sparse | None:
    point = stored.get(id_)
    return None if point is None else point.sparse


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
    if tuning.normalisation == "zscore":
        return standardised(candidates, cosines, bm25, tuning.dense_weight)
    return fuse(candidates, cosines, bm25, tuning.dense_weight)


def standardised(
    candidates: Sequence[PointId],
    cosines: Mapping[PointId, float],
    bm25: Mapping[PointId, float],
    dense_weight: float,
) -> list[Hit]:
    """Convex combination of each list's z-scores; a candidate missing from a list gets
    that list's lowest, as it ranked below all of it."""
    dense, sparse = _zscores(cosines), _zscores(bm25)
    low_dense, low_sparse = min(dense.values(), default=0.0), min(sparse.values(), default=0.0)
    rest = 1.0 - dense_weight
    return _ranked(
        Hit(i, dense_weight * dense.get(i, low_dense) + rest * sparse.get(i, low_sparse))
        for i in candidates
    )


def _zscores(scores: Mapping[PointId, float]) -> dict[PointId, float]:
    """Scores less their mean, over their standard deviation (all 0 when they are equal)."""
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    spread = float(values.std())
    centred = (values - values.mean()) / spread if spread > 0.0 else np.zeros_like(values)
    return dict(zip(scores, centred.tolist(), strict=True))


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
    vector: Sequence[float],
    feedback: Sequence[Sequence[float]],
    weight: float,
    weights: Sequence[float] | None = None,
) -> list[float]:
    """The question moved towards the (weighted) mean of the feedback vectors, as unit
    vectors (a cosine store may keep vectors normalised or not: the result is the same)."""
    if not feedback or weight == 0.0:
        return list(vector)
    units = _units(np.array([vector, *feedback], dtype=np.float64))
    share = np.ones(len(feedback)) if weights is None else np.asarray(weights, dtype=np.float64)
    if share.sum() <= 0.0:
        return list(vector)
    centre = (share[:, None] * units[1:]).sum(axis=0) / share.sum()
    moved: list[float] = _units(units[:1] + weight * centre)[0].tolist()
    return moved


def _units(rows: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=rows.copy(), where=norms > 0.0)


def expand(
    question: Sparse,
    feedback: Sequence[Sparse],
    terms: int,
    weight: float,
    weights: Sequence[float] | None = None,
    mass: float = 0.0,
) -> Sparse:
    """The question's terms, plus the feedback chunks' strongest other terms.

    A term's strength is its BM25 term-frequency weight summed over the feedback chunks
    (each chunk's times its `weights`, when given); the strongest gets `weight`, the others
    proportionally less, against 1 for asked terms; or, with a `mass` above 0, they weigh
    together `mass` times the asked terms' total, each in proportion to its strength.
    """
    if not feedback or terms < 1 or weight == 0.0:
        return question
    asked = set(question.indices)
    strength: dict[int, float] = {}
    for vector, lent in zip(feedback, weights or [1.0] * len(feedback), strict=True):
        for index, value in zip(vector.indices, vector.values, strict=True):
            if index not in asked:
                strength[index] = strength.get(index, 0.0) + lent * value
    # Strongest first, ties to the smaller id: two stable sorts with C-level keys.
    chosen = sorted(sorted(strength.items()), key=itemgetter(1), reverse=True)[:terms]
    if not chosen or chosen[0][1] <= 0.0:
        return question
    scale = weight / chosen[0][1]
    if mass > 0.0:
        scale = mass * sum(question.values) / sum(value for _, value in chosen)
    return Sparse(
        question.indices + tuple(index for index, _ in chosen),
        question.values + tuple(scale * value for _, value in chosen),
    )


def _ranked(hits: Any) -> list[Hit]:
    return sorted(hits, key=lambda hit: (-hit.score, hit.id))


def _deepest(
    searches: Sequence[tuple[str, list[float] | Sparse]], depth: int
) -> Plan[list[list[Hit]]]:
    """The best `depth` hits of each search, and every hit tied with the last of them.

    Engines cut a tie group at the limit arbitrarily: ask for one more, and while it ties
    with the last kept, widen until the group is whole.
    """
    found: list[list[Hit]] = list(
        (yield tuple(Nearest(using, vector, depth + 1) for using, vector in searches))
    )
    for n, (using, vector) in enumerate(searches):
        fetch = depth + 1
        while len(found[n]) == fetch and found[n][-1].score == found[n][depth - 1].score:
            fetch *= 2
            [found[n]] = yield (Nearest(using, vector, fetch),)
        if len(found[n]) > depth:
            cut = found[n][depth - 1].score
            found[n] = [hit for hit in found[n] if hit.score >= cut]
    return found


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


def _scored(
    hits: Sequence[Hit],
    cosines: Mapping[PointId, float],
    known: Mapping[PointId, Stored] | None = None,
) -> Plan[list[ScoredChunk]]:
    stored: Mapping[PointId, Stored]
    if known and all(hit.id in known for hit in hits):
        stored = known
    else:
        stored = yield Fetch(tuple(hit.id for hit in hits))
    return [
        ScoredChunk(chunk_of(hit.id, point.payload), hit.score, cosines.get(hit.id))
        for hit in hits
        if (point := stored.get(hit.id)) is not None and point.payload is not None
    ]
