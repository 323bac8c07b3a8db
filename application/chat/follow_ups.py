"""A follow-up read in its conversation: "And how do I rename it?" says nothing of what
"it" is, so retrieval folds the visitor's previous question in, at a lower weight."""

from __future__ import annotations

import re
from collections.abc import Sequence

from domain.models import Message
from domain.small_talk import last_question
from domain.vectors import unit

# A question this short, or one pointing back, leans on the one before it: by a pronoun
# ("it", "one"), or by an adverb that presupposes something said before ("again", "too",
# "later": "How do I get the changes back later?" after a question about git stash).
SHORT_WORDS = 6
_REFERS_BACK = re.compile(
    r"\b(it|its|it's|them|they|their|that|this|those|these|one|ones|there|also|instead|"
    r"same|else|other|another|again|too|later|then|afterwards)\b",
    re.I,
)
_WORD = re.compile(r"\w+")


def previous_question(message: str, history: Sequence[Message]) -> str | None:
    """The visitor's previous question when `message` leans on it, else None."""
    before = last_question(history)
    if not before or before.strip() == message.strip():
        return None
    if len(_WORD.findall(message)) <= SHORT_WORDS or _REFERS_BACK.search(message):
        return before
    return None


def folded(vector: Sequence[float], context: Sequence[float], weight: float) -> list[float]:
    """The question's direction moved towards its context's by `weight`, as a unit vector."""
    q, c = unit(vector), unit(context)
    return unit([a + weight * b for a, b in zip(q, c, strict=True)])
