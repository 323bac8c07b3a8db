"""A visitor's question as the chat receives it, and the rules it is answered under."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec

from domain.models import Conversation, Message, Widget
from domain.pricing import DEFAULT_PRICES, Price
from domain.prompts import PromptBudget
from domain.small_talk import SmallTalk


class ChatPolicy(msgspec.Struct, frozen=True, kw_only=True):
    max_message_chars: int = 4000
    history_messages: int = 10
    # Relevance floor: when no retrieved chunk has at least this dense cosine with the
    # question, the widget's no-answer message is the answer; see docs/benchmarks.md.
    min_score: float = 0.3
    # ... unless a retrieved chunk holds at least this share of the question's own words (two
    # at least; `ScoredChunk.coverage`): a fact in a section about several things gets a low
    # cosine from the chunk's other sentences ("Do you ship to Switzerland?" against a
    # section on delivery, 0.27), though every word asked is in it. Above 1, never.
    min_coverage: float = 1.0
    # ... or unless one sentence of the chunks found has at least this cosine with the
    # question: a short question is far from a whole section that one sentence of answers.
    # No unrelated question of the retrieval collections' floor study came within 0.41;
    # above 1, never (docs/benchmarks.md).
    min_sentence_score: float = 0.45
    # Whatever the hits, a question naming something no document of the widget mentions
    # ("Django", "Patroni"; not an abbreviation, which documents spell out) gets the
    # no-answer message. Off unless asked for: a visitor's own names (a shop, a person, a
    # host: "How do I clone a repository from Bitbucket?") would be refused too (docs/benchmarks.md,
    # issue 15 round 11).
    refuse_unheard_of_names: bool = False
    # A follow-up leaning on the previous question is searched with that question folded
    # in at this weight (1 is the follow-up's own; its words together weigh at most this
    # share of the follow-up's); 0 searches the follow-up alone. Chosen on the even-numbered
    # follow-up pairs of bench/answer_eval.py (docs/benchmarks.md, issue 15 round 4).
    follow_up_weight: float = 0.8
    # In a conversation, the chunks of the page the previous answer came from first count
    # this much more in the fused score (a good hit scores about 0.5 to 0.8); 0 leaves
    # the order to the search. Chosen on bench/answer_eval.py (docs/benchmarks.md, issue
    # 15 round 10): 0.02 to 0.04 keep a follow-up on its page, 0.08 keeps "And how do I
    # restore it?" on pg_dump's page after a question about pg_dump.
    conversation_page_bonus: float = 0.03
    # With a generative model, a follow-up is first rewritten by the plan's first model into
    # a standalone question, which is searched instead (billed as that model's usage).
    condense_follow_ups: bool = False
    prices: Mapping[str, Price] = msgspec.field(default_factory=lambda: dict(DEFAULT_PRICES))
    # The history window and the hard cap on what one question sends to a model.
    budget: PromptBudget = msgspec.field(default_factory=PromptBudget)


class Question(msgspec.Struct, frozen=True, kw_only=True):
    widget: Widget
    message: str
    conversation_id: UUID | None = None
    visitor_id: str | None = None
    client_ip: str | None = None

    @property
    def visitor(self) -> str:
        """Who the per-visitor limit counts: the widget's visitor id, else the address."""
        return self.visitor_id or self.client_ip or "anonymous"


@dataclass(frozen=True, kw_only=True)
class AdmittedQuestion:
    """A question past every check that can refuse it, with its place in a conversation."""

    question: Question
    conversation: Conversation
    is_new_conversation: bool
    history: list[Message]
    message_id: UUID
    asked_at: datetime
    # The question's embedding, started at admission and awaited by retrieval.
    vector: asyncio.Future[list[float]]
    # Its usage event, reserved at admission (chat/billing.py) and settled by the recording.
    usage_id: UUID
    # A spending ceiling was reached: it is answered by the models that cost nothing.
    over_budget: bool = False
    # A greeting, a thank-you or a goodbye alone: replied to, never searched.
    small_talk: SmallTalk | None = None

    @property
    def widget(self) -> Widget:
        return self.question.widget
