"""A site owner's widget: what they set on it, and the plan it runs on."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.models.text import NonBlank, Text
from domain.origins import origin_policy


class Plan(enum.StrEnum):
    FREE = "free"
    PAID = "paid"


DEFAULT_NO_ANSWER = "I'm sorry, I couldn't find that in this site's documents."
DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant for this website."
DEFAULT_LIMIT_MESSAGE = "You're sending messages too quickly. Please wait a moment."
DEFAULT_TOP_K = 5
MAX_TOP_K = 20
DEFAULT_GREETING = "Hi! Ask me anything about this site."
DEFAULT_PLACEHOLDER = "Type your question…"
DEFAULT_ACCENT_COLOR = "#2563eb"
MAX_SUGGESTED_QUESTIONS = 4


class WidgetPosition(enum.StrEnum):
    BOTTOM_RIGHT = "bottom-right"
    BOTTOM_LEFT = "bottom-left"


MAX_RETENTION_DAYS = 3650
MAX_MONTHLY_BUDGET_USD = 1e9

MODEL_SPEC_PATTERN = r"^(extractive|[a-z][a-z0-9_-]*:[^\s\x00]+)$"
ModelSpec = Annotated[
    str,
    msgspec.Meta(
        pattern=MODEL_SPEC_PATTERN,
        description="`extractive`, or `provider:model` of a configured provider",
    ),
]
MAX_PER_MINUTE = 1_000_000
PerMinute = Annotated[int, msgspec.Meta(ge=1, le=MAX_PER_MINUTE)]


class WidgetSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What a site owner sets on a widget, declared once: creating a widget takes these
    (with its tenant), changing one takes any of them, and storage keeps each as a column."""

    plan: Plan
    name: NonBlank
    allowed_origins: Annotated[
        tuple[Text, ...],
        msgspec.Meta(
            description="Origins whose pages may use the widget: `scheme://host[:port]` "
            "(stored as browsers send it: lower case, punycode, no default port), "
            "`scheme://*.domain` for its subdomains one label deep, or `*` for any"
        ),
    ] = ()
    system_prompt: Text = DEFAULT_SYSTEM_PROMPT
    no_answer_message: Text = DEFAULT_NO_ANSWER
    top_k: Annotated[int, msgspec.Meta(ge=1, le=MAX_TOP_K)] = DEFAULT_TOP_K
    limit_message: Text = DEFAULT_LIMIT_MESSAGE
    # None: the plan's limit applies.
    visitor_limit_per_minute: PerMinute | None = None
    widget_limit_per_minute: PerMinute | None = None
    # Overrides the plan's model chain ("provider:model", in fallback order) when set.
    models: tuple[ModelSpec, ...] = ()
    # How the widget looks on the page; the script reads these from /api/widget/config.
    title: Text = ""  # empty: the widget's name
    greeting: Text = DEFAULT_GREETING
    placeholder: Text = DEFAULT_PLACEHOLDER
    accent_color: Text = DEFAULT_ACCENT_COLOR  # "#rrggbb" or "#rgb"
    position: WidgetPosition = WidgetPosition.BOTTOM_RIGHT
    suggested_questions: tuple[Text, ...] = ()
    # Conversations idle this many days are purged by the worker; None keeps them.
    retention_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_RETENTION_DAYS)] | None = None
    # A ceiling on what this widget's answers may cost per calendar month (UTC), in USD;
    # reached, its paid models stop and it answers offline. None: only the plan's applies.
    monthly_budget_usd: Annotated[float, msgspec.Meta(ge=0, le=MAX_MONTHLY_BUDGET_USD)] | None = (
        None
    )


class WidgetSpec(WidgetSettings, frozen=True, kw_only=True):
    """A new widget, as its owner asks for it."""

    tenant_id: NonBlank


class Widget(WidgetSpec, frozen=True, kw_only=True):
    id: UUID
    public_key: str
    created_at: datetime
    updated_at: datetime

    def allows_origin(self, origin: str) -> bool:
        """Whether a browser's Origin header is one this widget allows: compared exactly,
        in the one form browsers send (domain/origins.py)."""
        return origin_policy(self.allowed_origins).allows(origin)
