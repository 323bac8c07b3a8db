"""Generating the answer from its sources, failing over between the widget's models."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from application.chat.draft import Draft
from application.chat.question import AdmittedQuestion, ChatPolicy
from application.ports.models import ChatModel, ChatModelRouter
from application.ports.telemetry import Telemetry
from domain.errors import DependencyUnavailableError, ModelUnavailableError
from domain.models import ScoredChunk, Usage, Widget
from domain.pricing import cost_of, price_of
from domain.prompts import PastMessage, Prompt, PromptSource, fit_prompt
from domain.tokens import estimate_tokens


def grounded_prompt(
    admitted: AdmittedQuestion,
    hits: Sequence[ScoredChunk],
    asked_as: str | None = None,
    context: str = "",
    vector: Sequence[float] = (),
) -> Prompt:
    widget = admitted.widget
    return Prompt(
        system=widget.system_prompt,
        no_answer=widget.no_answer_message,
        question=asked_as or admitted.question.message,
        sources=tuple(
            PromptSource(
                index=n,
                title=hit.chunk.title,
                section=hit.chunk.section or "",
                text=hit.chunk.text,
                # What its document is for, when the chunk does not say it: the sentence
                # that answers "what does X do?" opens the page, not its options.
                about=hit.chunk.about(),
            )
            for n, hit in enumerate(hits, start=1)
        ),
        history=tuple(PastMessage(m.role, m.content) for m in admitted.history),
        context=context,
        vector=tuple(vector),
    )


class Generation:
    def __init__(self, models: ChatModelRouter, policy: ChatPolicy, telemetry: Telemetry) -> None:
        self._models = models
        self._policy = policy
        self._telemetry = telemetry

    def models_for(self, widget: Widget, over_budget: bool = False) -> Sequence[ChatModel]:
        models = self._models.models_for(widget)
        if over_budget:  # paid models stop; those that cost nothing answer, else the offline
            models = [m for m in models if self._costs_nothing(m)] or [self._models.offline()]
        if not models:
            raise ModelUnavailableError("no chat model is configured for this plan")
        return models

    def _costs_nothing(self, model: ChatModel) -> bool:
        price = price_of(model.name, self._policy.prices)
        return price is None or price.input_per_mtok == price.output_per_mtok == 0

    async def __call__(
        self,
        admitted: AdmittedQuestion,
        hits: Sequence[ScoredChunk],
        models: Sequence[ChatModel],
        draft: Draft,
    ) -> AsyncIterator[str]:
        """The answer's deltas, also kept in the draft with what it costs. Falls over to the
        next model only while nothing has reached the visitor."""
        prompt = grounded_prompt(admitted, hits, draft.asked_as, draft.context, draft.vector)
        plan = admitted.widget.plan
        failures: list[str] = []
        for model in models:
            draft.model = model.name
            sent = fit_prompt(prompt, self._policy.budget, estimate_tokens)
            draft.pending = sent
            try:
                async for item in model.stream(sent):
                    if isinstance(item, Usage):
                        # Added: a condensed follow-up (condensing.py) was billed already.
                        draft.usage = draft.usage + cost_of(
                            model.name, item.input_tokens, item.output_tokens, self._policy.prices
                        )
                        draft.pending = None
                    else:
                        draft.parts.append(item)
                        yield item
                return
            except DependencyUnavailableError as error:
                if draft.parts:
                    self._telemetry.model_failed(plan, model.name, "interrupted", error.message)
                    raise
                self._telemetry.model_failed(plan, model.name, "failover", error.message)
                draft.pending = None  # a refused or failed request is not billed
                failures.append(f"{model.name}: {error.message}")
        raise ModelUnavailableError("no chat model could answer", details={"failures": failures})
