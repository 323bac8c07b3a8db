"""What tokens cost, per model, in US dollars per million tokens."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from domain.models import Usage


class Price(msgspec.Struct, frozen=True):
    input_per_mtok: float
    output_per_mtok: float = 0.0


# List prices of the models we route to by default and their nearest neighbours, as the
# providers published them: Anthropic's checked on 2026-12-05 (Sonnet 5.5 is the current
# Sonnet; Sonnet 4.5 reached its end of life on 2026-11-30 and stays for old usage rows),
# OpenAI's on 2026-11-25. Operators override or extend them with LLM_PRICES; a model
# missing here costs 0.
PRICES_CHECKED = "2026-12-05"
DEFAULT_PRICES: Mapping[str, Price] = {
    "extractive": Price(0.0, 0.0),
    "openai:gpt-4o-mini": Price(0.15, 0.60),
    "openai:gpt-4o": Price(2.50, 10.00),
    "openai:gpt-4.1-nano": Price(0.10, 0.40),
    "openai:gpt-4.1-mini": Price(0.40, 1.60),
    "openai:gpt-4.1": Price(2.00, 8.00),
    "anthropic:claude-sonnet-5-5": Price(2.00, 10.00),
    "anthropic:claude-sonnet-5": Price(2.00, 10.00),
    "anthropic:claude-sonnet-4-6": Price(3.00, 15.00),
    "anthropic:claude-sonnet-4-5": Price(3.00, 15.00),
    "anthropic:claude-sonnet-4": Price(3.00, 15.00),
    "anthropic:claude-haiku-4-5": Price(1.00, 5.00),
    "anthropic:claude-opus-5-5": Price(4.00, 20.00),
    "anthropic:claude-opus-4-1": Price(15.00, 75.00),
    "openai:text-embedding-3-small": Price(0.02),
    "openai:text-embedding-3-large": Price(0.13),
    "openai:text-embedding-ada-002": Price(0.10),
}


def price_of(model: str, prices: Mapping[str, Price] = DEFAULT_PRICES) -> Price | None:
    """The model's price; a dated snapshot ("…-4-5-20250929") takes its family's."""
    if model in prices:
        return prices[model]
    family = max((k for k in prices if model.startswith(k + "-")), key=len, default=None)
    return prices[family] if family else None


def cost_of(
    model: str, input_tokens: int, output_tokens: int, prices: Mapping[str, Price] = DEFAULT_PRICES
) -> Usage:
    """Usage with its cost; a model missing from the table costs 0 and says so by name."""
    price = price_of(model, prices) or Price(0.0, 0.0)
    cost = (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6
    return Usage(input_tokens, output_tokens, round(cost, 8))


def parse_prices(text: str) -> dict[str, Price]:
    """`model=input/output` pairs, comma-separated, in dollars per million tokens.

    Raises ValueError naming the entry it cannot read.
    """
    prices: dict[str, Price] = {}
    for entry in filter(None, (e.strip() for e in text.split(","))):
        model, sep, figures = entry.rpartition("=")
        parts = figures.split("/")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if not sep or not model.strip() or len(values) not in (1, 2) or min(values) < 0:
            raise ValueError(f"cannot read price {entry!r}; expected model=input/output")
        prices[model.strip()] = Price(*values)
    return prices
