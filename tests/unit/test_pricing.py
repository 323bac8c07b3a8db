from __future__ import annotations

import pytest

from domain.pricing import DEFAULT_PRICES, Price, cost_of, parse_prices, price_of


def test_a_dated_snapshot_takes_its_familys_price() -> None:
    assert price_of("anthropic:claude-sonnet-4-5-20250929") == Price(3.0, 15.0)
    assert price_of("openai:gpt-4o-mini-2024-07-18") == DEFAULT_PRICES["openai:gpt-4o-mini"]
    assert price_of("openai:gpt-4o-2024-08-06") == DEFAULT_PRICES["openai:gpt-4o"]
    assert price_of("openai:llama3.2") is None


def test_an_unknown_model_costs_nothing() -> None:
    assert cost_of("openai:llama3.2", 1000, 1000).cost_usd == 0.0


def test_price_overrides_are_read_per_million_tokens() -> None:
    prices = {**DEFAULT_PRICES, **parse_prices("openai:gpt-4o-mini=1/2, openai:llama3.2=0.5")}
    assert cost_of("openai:gpt-4o-mini", 1_000_000, 500_000, prices).cost_usd == 2.0
    assert prices["openai:llama3.2"] == Price(0.5, 0.0)
    assert parse_prices("") == {}


@pytest.mark.parametrize("text", ["gpt-4o", "x=a/b", "=1/2", "m=1/2/3", "m=-1/2"])
def test_a_malformed_price_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="cannot read price"):
        parse_prices(text)
