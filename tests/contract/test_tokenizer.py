"""The token estimate (domain/tokens.py) against OpenAI's own tokenizer.

Every model is budgeted, and billed for an answer cut short, with the estimate: counting
exactly would keep OpenAI's o200k tokenizer in every API worker (~80 MB, ~1 s to build at
the first chat) for the few answers no provider reports. bpe-openai, a test dependency,
ships that tokenizer offline, so the estimate's error is checked here, not assumed."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

from domain.tokens import estimate_tokens

ROOT = Path(__file__).parents[2]


@functools.cache
def o200k() -> Any:
    """bpe-openai's tokenizer, which reads its data with a deprecated API."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai.get_encoding("o200k_base")


def test_the_estimate_stays_within_15_percent_of_o200k_on_english() -> None:
    # Prose with some code, as the documents widgets answer from. Tables of numbers come
    # out lower (docs/benchmarks.md: 0.83 of o200k), which PROMPT_MAX_TOKENS's distance
    # from any model's context window absorbs.
    text = (ROOT / "README.md").read_text()
    exact = len(o200k().encode(text))
    assert 0.85 * exact <= estimate_tokens(text) <= 1.15 * exact
