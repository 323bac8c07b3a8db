"""What tokens cost, per model, in US dollars per million tokens."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from domain.models import Usage


class Price(msgspec.Struct, frozen=True):
    input_per_mtok: float
    output_per_mtok: float = 0.0


DEFAULT_PRICES: Mapping[str, Price] = {
    "extractive": Price(0.0, 0.0),
    "openai:gpt-4o-mini": Price(0.15, 0.60),
    "openai:gpt-4o": Price(2.50, 10.00),
    "anthropic:claude-sonnet-4-5": Price(3.00, 15.00),
    "anthropic:claude-haiku-4-5": Price(1.00, 5.00),
    "openai:text-embedding-3-small": Price(0.02),
    "openai:text-embedding-3-large": Price(0.13),
}


def cost_of(
    model: str, input_tokens: int, output_tokens: int, prices: Mapping[str, Price] = DEFAULT_PRICES
) -> Usage:
    """Usage with its cost; a model missing from the table costs 0 and says so by name."""
    price = prices.get(model, Price(0.0, 0.0))
    cost = (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6
    return Usage(input_tokens, output_tokens, round(cost, 8))
