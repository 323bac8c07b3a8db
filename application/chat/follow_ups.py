"""A follow-up read in its conversation: "And how do I rename it?" says nothing of what
"it" is, so retrieval folds the visitor's previous question in, at a lower weight."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import UUID

from domain.models import Message, Role, ScoredChunk
from domain.small_talk import last_question, last_question_at
from domain.stop_words import STOP_WORDS

# A question pointing back leans on the one before it: by a pronoun ("it", "one"), by an
# adverb that presupposes something said before ("again", "too", "later": "How do I get
# the changes back later?" after a question about git stash), or by opening on what it adds
# to ("And the keys?", "What about tags?"). So does a short one with at most one word
# that is not a stop word ("Any limits?"); one with two says what it is about ("What does
# git pull do?" after a question about branches).
SHORT_WORDS = 6
SHORT_CONTENT_WORDS = 1
_REFERS_BACK = re.compile(
    r"\b(it|its|it's|them|they|their|that|this|those|these|one|ones|there|also|instead|"
    r"same|else|other|another|again|too|later|then|afterwards)\b"
    r"|^\W*(and|or|but|what about|how about)\b",
    re.I,
)
_WORD = re.compile(r"\w+")


def previous_question(message: str, history: Sequence[Message]) -> str | None:
    """The visitor's previous question when `message` leans on it, else None."""
    before = last_question(history)
    if not before or before.strip() == message.strip():
        return None
    if _REFERS_BACK.search(message) or _short(_WORD.findall(message)):
        return before
    return None


def _short(words: Sequence[str]) -> bool:
    content = [word for word in words if word.lower() not in STOP_WORDS]
    return len(words) <= SHORT_WORDS and len(content) <= SHORT_CONTENT_WORDS


def page_answered(history: Sequence[Message]) -> UUID | None:
    """The document the answer to the visitor's previous question came from first: the
    page a follow-up about "it" is most likely still about."""
    asked = last_question_at(history)
    if asked is None:
        return None
    answer = next((m for m in history[asked + 1 :] if m.role is Role.ASSISTANT), None)
    return answer.sources[0].document_id if answer is not None and answer.sources else None


def staying(hits: Sequence[ScoredChunk], page: UUID, bonus: float) -> list[ScoredChunk]:
    """The hits reordered as if each chunk of `page` scored `bonus` more (its score as
    reported unchanged); ties keep the search's order."""
    return sorted(hits, key=lambda h: -(h.score + (bonus if h.chunk.document_id == page else 0.0)))
