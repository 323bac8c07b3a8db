"""An optional step before retrieval: the plan's model rewrites a follow-up into a question
that stands alone ("And how do I rename it?" → "How do I rename a git branch?").

Off by default (`CONDENSE_FOLLOW_UPS`): it costs a model call before the first token. The
call is billed with the turn. A model that cannot rewrite (the extractive one says its
empty no-answer message) or that fails leaves the follow-up to be folded with the question
before it, as retrieval does without this step.
"""

from __future__ import annotations

from application.chat.draft import Draft
from application.chat.follow_ups import previous_question
from application.chat.question import AdmittedQuestion, ChatPolicy
from application.ports.models import ChatModelRouter
from domain.errors import DependencyUnavailableError
from domain.models import Usage
from domain.pricing import cost_of
from domain.prompts import PastMessage, Prompt

REWRITE = (
    "Rewrite the visitor's last message as one question that can be understood without the "
    "conversation: name what its words like 'it' or 'that' refer to. Reply with the "
    "question only."
)
# The turns shown to the model: the follow-up needs the last exchange or two, not more.
RECENT_MESSAGES = 4
MAX_CHARS = 500


class Condensing:
    def __init__(self, models: ChatModelRouter, policy: ChatPolicy) -> None:
        self._models = models
        self._policy = policy

    async def __call__(self, admitted: AdmittedQuestion, draft: Draft) -> str | None:
        """The follow-up rewritten to stand alone, or None (off, not a follow-up, no model)."""
        message = admitted.question.message
        if not self._policy.condense_follow_ups:
            return None
        if previous_question(message, admitted.history) is None:
            return None
        models = self._models.models_for(admitted.widget)
        if not models:
            return None
        model = models[0]
        prompt = Prompt(
            system=REWRITE,
            no_answer="",
            question=message,
            history=tuple(
                PastMessage(m.role, m.content) for m in admitted.history[-RECENT_MESSAGES:]
            ),
            grounded=False,
        )
        parts: list[str] = []
        used = Usage()
        try:
            async for item in model.stream(prompt):
                if isinstance(item, Usage):
                    used = item
                else:
                    parts.append(item)
        except DependencyUnavailableError:
            return None
        draft.usage = draft.usage + cost_of(
            model.name, used.input_tokens, used.output_tokens, self._policy.prices
        )
        rewritten = "".join(parts).strip()
        return rewritten[:MAX_CHARS] if rewritten else None
