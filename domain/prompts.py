"""The grounded prompt: what a model is told, and how it is laid out for chat APIs."""

from __future__ import annotations

import msgspec

from domain.models import Role

GROUNDING_RULES = (
    "Answer only from the numbered sources below. Cite every fact with its source "
    "number in square brackets, like [1]. If the sources do not contain the answer, "
    "reply exactly with: {no_answer}"
)


class PromptSource(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    title: str
    text: str


class Turn(msgspec.Struct, frozen=True):
    role: Role
    content: str


class Prompt(msgspec.Struct, frozen=True, kw_only=True):
    system: str
    no_answer: str
    question: str
    sources: tuple[PromptSource, ...] = ()
    history: tuple[Turn, ...] = ()

    def system_text(self) -> str:
        """System prompt, grounding rules and numbered sources, as one block."""
        parts = [self.system.strip(), GROUNDING_RULES.format(no_answer=self.no_answer)]
        parts.append("Sources:")
        parts.extend(f"[{s.index}] {s.title}\n{s.text}" for s in self.sources)
        return "\n\n".join(parts)

    def chat_messages(self) -> list[dict[str, str]]:
        """History then the question, in the role/content shape chat APIs share."""
        turns = [{"role": t.role.value, "content": t.content} for t in self.history]
        turns.append({"role": Role.USER.value, "content": self.question})
        return turns
