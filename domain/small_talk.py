"""A message that is only a greeting, a thank-you or a goodbye: what a visitor says to a
chat, not a question for the documents. Answered as a person would, it is neither searched
nor counted among the questions the documents could not answer."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Protocol

from domain.models import Role


class SmallTalk(enum.Enum):
    GREETING = "greeting"
    THANKS = "thanks"
    GOODBYE = "goodbye"


THANKS_REPLY = "You're welcome! Is there anything else I can help you with?"
GOODBYE_REPLY = "Goodbye, and thanks for stopping by!"

# Whole messages only, after case, punctuation and emoji are set aside: "Hi, how much is
# the Team plan?" is a question.
_SAID = {
    SmallTalk.GREETING: r"(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening)"
    r"|hi there|hello there|hey there)",
    SmallTalk.THANKS: r"((ok|okay|great|perfect|awesome|cool|nice|brilliant)( ?,)? )?"
    r"(thanks|thank you|thx|ty|cheers|many thanks)( (so|very) much| a lot| again)?"
    r"( (for|for the) (help|info|information|answer))?",
    SmallTalk.GOODBYE: r"(bye|goodbye|bye bye|see you|see ya|that's all|that is all)",
}
_PATTERNS = {talk: re.compile(said, re.IGNORECASE) for talk, said in _SAID.items()}
# What a visitor adds around it that says nothing more: punctuation, emoji, spaces.
_NOISE = re.compile(r"[^\w',]+")


def small_talk(message: str) -> SmallTalk | None:
    said = " ".join(_NOISE.sub(" ", message).split()).strip(" ,")
    if len(said) > 60:  # cheap: a question is never matched against the patterns
        return None
    return next((talk for talk, p in _PATTERNS.items() if p.fullmatch(said)), None)


def reply_to(talk: SmallTalk, greeting: str) -> str:
    """The reply, in the widget's own words for a greeting."""
    if talk is SmallTalk.GREETING:
        return greeting
    return THANKS_REPLY if talk is SmallTalk.THANKS else GOODBYE_REPLY


class _Said(Protocol):
    @property
    def role(self) -> Role: ...

    @property
    def content(self) -> str: ...


def last_question(history: Sequence[_Said]) -> str | None:
    """The visitor's last message that is not small talk: what a follow-up may lean on
    ("Thanks!" in between is no question)."""
    at = last_question_at(history)
    return None if at is None else history[at].content


def last_question_at(history: Sequence[_Said]) -> int | None:
    """Where `last_question` stands in the history, if anywhere."""
    return next(
        (
            n
            for n in range(len(history) - 1, -1, -1)
            if history[n].role is Role.USER and small_talk(history[n].content) is None
        ),
        None,
    )
