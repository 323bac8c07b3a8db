"""Which models answer for which plan, in fallback order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from application.ports import ChatModel
from domain.models import Plan, Widget


class PlanModelRouter:
    def __init__(self, by_plan: Mapping[Plan, Sequence[ChatModel]]) -> None:
        self._by_plan = {plan: tuple(models) for plan, models in by_plan.items()}

    def models_for(self, widget: Widget) -> Sequence[ChatModel]:
        return self._by_plan.get(widget.plan, ())
