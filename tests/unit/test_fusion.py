"""The fusions the retrieval plans choose from: scores on one scale, or ranks only."""

from __future__ import annotations

import pytest

from adapters.vectorstore.common import Sparse
from adapters.vectorstore.retrieval import (
    Hit,
    Stored,
    Tuning,
    _fuse,
    by_document,
    expand,
    rocchio,
    rrf,
    sparse_question,
    standardised,
)
from adapters.vectorstore.sparse import encode_question
from application.ports.vectors import SearchQuery


def test_rrf_adds_reciprocal_ranks_and_ignores_the_sizes_of_scores() -> None:
    cosines = {"a": 0.9, "b": 0.8, "c": 0.1}
    bm25 = {"c": 100.0, "b": 99.0}

    fused = rrf(["a", "b", "c"], cosines, bm25, k=1)

    # b: 1/(1+2) + 1/(1+2); c: 1/(1+3) + 1/(1+1); a: 1/(1+1)
    assert [h.id for h in fused] == ["c", "b", "a"]
    assert fused[0].score == pytest.approx(1 / 4 + 1 / 2)


def test_weighted_rrf_leans_towards_the_heavier_list() -> None:
    cosines = {"a": 0.9, "b": 0.8}
    bm25 = {"b": 5.0, "a": 4.0}

    assert [h.id for h in rrf(["a", "b"], cosines, bm25, k=1, dense_weight=0.7)] == ["a", "b"]
    assert [h.id for h in rrf(["a", "b"], cosines, bm25, k=1, dense_weight=0.3)] == ["b", "a"]
    plain = rrf(["a", "b"], cosines, bm25, k=1)
    assert plain[0].score == pytest.approx(plain[1].score)  # half each: a tie, as RRF


def test_a_question_term_weighs_as_often_as_it_is_asked() -> None:
    # BM25 scores a query term per occurrence: CISI's long questions name their topic
    # several times, and counting each term once cost BM25 a sixth of its nDCG there.
    text = "retrieval of information: information systems for information retrieval"
    counted = dict(zip(*encode_question(text), strict=True))
    once = dict(zip(*encode_question(text, counted=False), strict=True))

    assert counted.keys() == once.keys() and set(once.values()) == {1.0}
    assert sorted(counted.values()) == [1.0, 2.0, 3.0]  # system, retrieval, information


def test_min_max_scaling_lets_a_narrow_cosine_spread_count() -> None:
    cosines = {"a": 0.52, "b": 0.50}  # the dense model barely tells them apart
    bm25 = {"a": 1.0, "b": 2.0}
    tuning = Tuning(dense_weight=0.7)

    by_max = _fuse(["a", "b"], cosines, bm25, tuning)
    by_minmax = _fuse(["a", "b"], cosines, bm25, Tuning(dense_weight=0.7, normalisation="minmax"))

    assert [h.id for h in by_max] == ["b", "a"]
    assert [h.id for h in by_minmax] == ["a", "b"]


def test_a_follow_ups_context_adds_its_words_at_a_lower_weight() -> None:
    alone = encode_question("how do I rename it")
    query = SearchQuery(
        "how do I rename it", [1.0], context="delete a git branch", context_weight=0.5
    )

    folded = sparse_question(query)

    weights = dict(zip(folded.indices, folded.values, strict=True))
    context = encode_question("delete a git branch")
    assert all(weights[i] == v for i, v in zip(alone.indices, alone.values, strict=True))
    assert all(
        weights[i] == pytest.approx(0.5 * v)
        for i, v in zip(context.indices, context.values, strict=True)
    )
    assert isinstance(folded, Sparse) and list(folded.indices) == sorted(folded.indices)


def test_z_scores_weigh_each_list_by_its_own_spread() -> None:
    cosines = {"a": 0.52, "b": 0.50, "c": 0.51}  # narrow spread, but a is clearly first
    bm25 = {"a": 1.0, "b": 3.0}  # c has no asked term

    fused = standardised(["a", "b", "c"], cosines, bm25, dense_weight=0.7)

    # a: 0.7·1.22 + 0.3·(-1); b: 0.7·(-1.22) + 0.3·1; c: 0 + 0.3·(-1), BM25's lowest
    assert [h.id for h in fused] == ["a", "c", "b"]
    assert fused[0].score == pytest.approx(0.7 * 1.5**0.5 - 0.3)
    assert [
        h.id for h in _fuse(["a", "b", "c"], cosines, bm25, Tuning(normalisation="zscore"))
    ] == [h.id for h in fused]
    equal = standardised(["a", "b"], {"a": 0.5, "b": 0.5}, {}, 0.7)
    assert [h.score for h in equal] == [0.0, 0.0]


def test_feedback_weighed_by_score_leans_towards_the_better_chunk() -> None:
    question = [1.0, 0.0, 0.0]
    chunks = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]

    alike = rocchio(question, chunks, 1.0)
    leaning = rocchio(question, chunks, 1.0, [1.0, 0.25])

    assert alike[1] == pytest.approx(alike[2])
    assert leaning[1] == pytest.approx(4 * leaning[2])
    assert rocchio(question, chunks, 1.0, [0.0, 0.0]) == question


def test_expansion_terms_weighed_by_their_chunks_score() -> None:
    asked = Sparse((1,), (1.0,))
    feedback = [Sparse((5,), (1.0,)), Sparse((6,), (2.0,))]

    assert expand(asked, feedback, terms=1, weight=0.5).indices == (1, 6)
    assert expand(asked, feedback, terms=1, weight=0.5, weights=[1.0, 0.25]).indices == (1, 5)
    assert expand(asked, feedback, terms=2, weight=0.5, weights=[0.0, 0.0]) == asked


def test_a_chunk_gains_from_another_chunk_of_its_document() -> None:
    hits = [Hit("a", 1.0), Hit("b", 0.9), Hit("c", 0.8), Hit("d", 0.1)]
    stored = {
        "a": Stored(payload={"document_id": "lone"}),
        "b": Stored(payload={"document_id": "pair"}),
        "c": Stored(payload={"document_id": "other"}),
        "d": Stored(payload={"document_id": "pair"}),
    }

    rescored = by_document(hits, stored, weight=0.5)

    # b gains half of d's 0.1, d half of b's 0.9; the lone chunks keep their scores.
    assert [(h.id, h.score) for h in rescored] == [
        ("a", 1.0),
        ("b", pytest.approx(0.95)),
        ("c", 0.8),
        ("d", pytest.approx(0.55)),
    ]
    assert by_document(hits, stored, weight=0.0) == hits


def test_unknown_fusions_are_refused() -> None:
    with pytest.raises(ValueError):
        Tuning(fusion="sum")
    with pytest.raises(ValueError):
        Tuning(normalisation="z")
    with pytest.raises(ValueError):
        Tuning(feedback_weighting="rank")
    with pytest.raises(ValueError):
        Tuning(feedback_rounds=0)
    with pytest.raises(ValueError):
        Tuning(document_weight=1.5)
