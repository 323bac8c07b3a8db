"""The fusions the retrieval plans choose from: scores on one scale, or ranks only."""

from __future__ import annotations

import pytest

from adapters.vectorstore.common import Sparse
from adapters.vectorstore.retrieval import Tuning, _fuse, rrf, sparse_question
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
    alone = encode_question("how do I rename this git branch")
    query = SearchQuery(
        "how do I rename this git branch", [1.0], context="delete branch", context_weight=0.5
    )

    folded = sparse_question(query)

    weights = dict(zip(folded.indices, folded.values, strict=True))
    context = encode_question("delete branch")
    own = dict(zip(alone.indices, alone.values, strict=True))
    assert all(
        weights[i] == pytest.approx(own.get(i, 0.0) + 0.5 * v)
        for i, v in zip(context.indices, context.values, strict=True)
    )
    assert all(weights[i] >= v for i, v in own.items())
    assert isinstance(folded, Sparse) and list(folded.indices) == sorted(folded.indices)


def test_a_long_earlier_question_never_outweighs_the_follow_ups_own_words() -> None:
    # "restore" is all the follow-up says of its own; the question before it says five
    # things, which at 0.8 each would outweigh it four times over and find pg_dump's page.
    query = SearchQuery(
        "And how do I restore it?",
        [1.0],
        context="How do I back up a whole database cluster with pg_dump?",
        context_weight=0.8,
    )
    own = encode_question("And how do I restore it?")
    lent = encode_question(query.context)

    folded = dict(zip(*sparse_question(query), strict=True))

    context_mass = sum(folded[i] for i in lent.indices)
    assert len(lent.indices) >= 4 and list(own.values) == [1.0]
    assert context_mass == pytest.approx(0.8 * sum(own.values))
    assert all(folded[i] == v for i, v in zip(own.indices, own.values, strict=True))


def test_a_follow_up_of_stop_words_takes_its_context_at_the_context_weight() -> None:
    query = SearchQuery("And then?", [1.0], context="drop a table", context_weight=0.8)
    lent = encode_question("drop a table")

    folded = sparse_question(query)

    assert list(folded.values) == pytest.approx([0.8 * v for v in lent.values])


def test_unknown_fusions_are_refused() -> None:
    with pytest.raises(ValueError):
        Tuning(fusion="sum")
    with pytest.raises(ValueError):
        Tuning(normalisation="z")
