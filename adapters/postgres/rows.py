"""Domain entities as the positional arguments of their INSERT statements."""

from __future__ import annotations

from typing import Any

from domain.models import Message, UsageEvent

# The column lists these rows fill, in this order.
MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, model, sources, input_tokens, output_tokens, "
    "cost_usd, finish_reason, created_at"
)
USAGE_COLUMNS = (
    "id, tenant_id, widget_id, conversation_id, message_id, plan, model, input_tokens, "
    "output_tokens, cost_usd, cached, failed, pending, reason, created_at"
)


def message_row(m: Message) -> tuple[Any, ...]:
    return (
        m.id,
        m.conversation_id,
        m.role.value,
        m.content,
        m.model,
        m.sources,
        m.usage.input_tokens,
        m.usage.output_tokens,
        m.usage.cost_usd,
        m.finish_reason,
        m.created_at,
    )


def usage_row(event: UsageEvent) -> tuple[Any, ...]:
    return (
        event.id,
        event.tenant_id,
        event.widget_id,
        event.conversation_id,
        event.message_id,
        event.plan.value,
        event.model,
        event.usage.input_tokens,
        event.usage.output_tokens,
        event.usage.cost_usd,
        event.cached,
        event.failed,
        event.pending,
        event.reason,
        event.created_at,
    )
