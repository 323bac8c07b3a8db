"""Which models answer for a widget, in fallback order: its own chain, else its plan's."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import structlog

from adapters.llm.extractive import ExtractiveChatModel
from application.ports.models import ChatModel
from domain.models import Plan, Widget

log = structlog.get_logger()

# A model spec, as a widget names it, to the model; None when it cannot be used here.
Resolve = Callable[[str], ChatModel | None]
# Why a spec cannot be used here, or None when it can.
Explain = Callable[[str], str | None]


class PlanModelRouter:
    def __init__(
        self,
        by_plan: Mapping[Plan, Sequence[ChatModel]],
        resolve: Resolve | None = None,
        explain: Explain | None = None,
        offline: ChatModel | None = None,
    ) -> None:
        self._by_plan = {plan: tuple(models) for plan, models in by_plan.items()}
        named = {m.name: m for chain in self._by_plan.values() for m in chain}
        self._offline = offline or named.get("extractive") or ExtractiveChatModel()
        self._resolve = resolve
        self._explain = explain
        self._chains: dict[tuple[str, ...], tuple[ChatModel, ...]] = {}

    @property
    def plans(self) -> Mapping[Plan, Sequence[str]]:
        """Each plan's models by name, in fallback order."""
        return {plan: [m.name for m in chain] for plan, chain in self._by_plan.items()}

    def unusable(self, spec: str) -> str | None:
        if self._explain is not None:
            return self._explain(spec)
        # Without a catalog: the models the plans were given, and the offline answerer.
        named = {m.name for chain in self._by_plan.values() for m in chain}
        if spec == "extractive" or spec in named:
            return None
        return f"it is none of the configured models ({', '.join(sorted(named))})"

    def offline(self) -> ChatModel:
        return self._offline

    def models_for(self, widget: Widget) -> Sequence[ChatModel]:
        plan_chain = self._by_plan.get(widget.plan, ())
        if not widget.models or self._resolve is None:
            return plan_chain
        if widget.models not in self._chains:
            self._chains[widget.models] = self._chain(widget.models)
        # A widget whose own models are all unusable here still answers, with its plan's.
        return self._chains[widget.models] or plan_chain

    def _chain(self, specs: tuple[str, ...]) -> tuple[ChatModel, ...]:
        assert self._resolve is not None
        chain = []
        for spec in specs:
            model = self._resolve(spec)
            if model is None:
                log.warning("widget_model_skipped", model=spec)
            else:
                chain.append(model)
        return tuple(chain)
