"""The Embedder contract, run against every adapter so the fake cannot drift."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator, Sequence
from itertools import cycle, islice
from pathlib import Path

import pytest

from adapters.embeddings.onnx import OnnxEmbedder
from application.ports.models import Embedder
from domain.errors import EmbedderUnavailableError
from testkit.fakes.embedder import HashEmbedder

REFERENCE = Path(__file__).parents[1] / "data" / "minilm_reference.json"

_FILLER = (
    "the widget answers visitors from the documents its owner uploaded and cites each "
    "source it used so that people can check every claim against the original page"
)
_WORDS = _FILLER.split()


def _words(start: int, count: int) -> str:
    return " ".join(islice(cycle(_WORDS), start, start + count))


# 1 to 230 words in scrambled order, over one batch of 32: exercises sort, pad and restore.
MIXED_LENGTHS = [_words(i, (i * 53) % 230 + 1) for i in range(45)]
SAMPLE = [
    "How do I reset my password?",
    "",
    "Café Zürich serves crème brûlée.",
    _words(0, 400),
]


@pytest.fixture(scope="module")
def onnx() -> Iterator[OnnxEmbedder]:
    embedder = OnnxEmbedder()
    yield embedder
    embedder.close()


@pytest.fixture(scope="module", params=["onnx", "hash"])
def case(request: pytest.FixtureRequest) -> tuple[Embedder, float]:
    """An adapter and how far two runs of the same text may differ."""
    if request.param == "onnx":
        return request.getfixturevalue("onnx"), 1e-5
    return HashEmbedder(), 1e-12


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def max_abs_diff(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> float:
    assert len(a) == len(b)
    return max(abs(x - y) for u, v in zip(a, b, strict=True) for x, y in zip(u, v, strict=True))


# --- contract: every adapter -------------------------------------------------------------


async def test_vectors_have_the_declared_dimension(case: tuple[Embedder, float]) -> None:
    embedder, _ = case
    vectors = await embedder.embed(SAMPLE)
    assert isinstance(embedder.model, str)
    assert embedder.model
    assert len(vectors) == len(SAMPLE)
    assert all(len(v) == embedder.dimension for v in vectors)
    assert all(isinstance(x, float) for v in vectors for x in v)


async def test_vectors_are_unit_length(case: tuple[Embedder, float]) -> None:
    embedder, _ = case
    for vector in await embedder.embed(SAMPLE):
        assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-5)


async def test_embedding_is_deterministic(case: tuple[Embedder, float]) -> None:
    embedder, tolerance = case
    first = await embedder.embed(SAMPLE)
    second = await embedder.embed(SAMPLE)
    assert max_abs_diff(first, second) <= tolerance


async def test_a_batch_equals_each_text_alone(case: tuple[Embedder, float]) -> None:
    embedder, tolerance = case
    batch = await embedder.embed(SAMPLE)
    alone = [(await embedder.embed([text]))[0] for text in SAMPLE]
    assert max_abs_diff(batch, alone) <= tolerance


async def test_empty_input_gives_no_vectors(case: tuple[Embedder, float]) -> None:
    embedder, _ = case
    assert await embedder.embed([]) == []


async def test_order_is_preserved_for_mixed_lengths(case: tuple[Embedder, float]) -> None:
    embedder, tolerance = case
    forward = await embedder.embed(MIXED_LENGTHS)
    backward = await embedder.embed(tuple(reversed(MIXED_LENGTHS)))
    assert max_abs_diff(forward, backward[::-1]) <= tolerance
    # Each position holds its own text's vector, not merely a consistent permutation.
    for index in (0, 1, len(MIXED_LENGTHS) // 2, len(MIXED_LENGTHS) - 1):
        (alone,) = await embedder.embed([MIXED_LENGTHS[index]])
        assert max_abs_diff([forward[index]], [alone]) <= tolerance


# --- OnnxEmbedder: the real model --------------------------------------------------------


def test_onnx_reports_its_model(onnx: OnnxEmbedder) -> None:
    assert onnx.model == "all-MiniLM-L6-v2"
    assert onnx.dimension == 384


async def test_onnx_matches_the_fp32_reference(onnx: OnnxEmbedder) -> None:
    items = json.loads(REFERENCE.read_text(encoding="utf-8"))["items"]
    # The reference holds texts over 128 and over 256 tokens: both truncation limits count.
    assert any(128 < item["tokens"] <= 256 for item in items)
    assert any(item["tokens"] > 256 for item in items)
    vectors = await onnx.embed([item["text"] for item in items])
    for item, vector in zip(items, vectors, strict=True):
        assert cosine(vector, item["vector"]) > 0.99, item["text"][:40]


async def test_onnx_scores_a_paraphrase_above_an_unrelated_text(onnx: OnnxEmbedder) -> None:
    question, paraphrase, unrelated = await onnx.embed(
        [
            "How do I reset my password?",
            "I forgot my login credentials, how can I recover my account?",
            "The weather in Lisbon is sunny with a light breeze this afternoon.",
        ]
    )
    assert cosine(question, paraphrase) > cosine(question, unrelated) + 0.2


async def test_onnx_does_not_block_the_event_loop(onnx: OnnxEmbedder) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        await onnx.embed([_words(i, 200) for i in range(16)])
    finally:
        ticker.cancel()
    assert ticks >= 5


def test_onnx_missing_model_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError) as info:
        OnnxEmbedder(model_path=tmp_path / "missing.onnx")
    assert info.value.__cause__ is not None


def test_onnx_missing_tokenizer_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailableError) as info:
        OnnxEmbedder(tokenizer_path=tmp_path / "missing.json")
    assert info.value.__cause__ is not None


async def test_onnx_runtime_failure_is_unavailable() -> None:
    embedder = OnnxEmbedder()
    embedder.close()
    with pytest.raises(EmbedderUnavailableError) as info:
        await embedder.embed(["hello"])
    assert info.value.__cause__ is not None
