"""Model specs as configured: "provider:model", or "extractive"."""

from __future__ import annotations

PROVIDERS = ("openai", "anthropic", "extractive")


def parse_spec(spec: str) -> tuple[str, str]:
    """(provider, model); ValueError says what is wrong."""
    provider, _, model = spec.partition(":")
    if provider == "extractive" and not model:
        return provider, ""
    if provider not in PROVIDERS[:2] or not model.strip():
        raise ValueError(
            f"{spec!r} is not extractive or provider:model, provider one of {PROVIDERS}"
        )
    return provider, model.strip()
