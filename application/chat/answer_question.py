"""The use case: a visitor's question, admitted, then answered as a turn of events."""

from __future__ import annotations

from application.chat.admission import Admission
from application.chat.question import Question
from application.chat.turn import AnswerSteps, ChatTurn


class AnswerQuestion:
    def __init__(self, admission: Admission, steps: AnswerSteps) -> None:
        self._admission = admission
        self._steps = steps

    async def start(self, question: Question) -> ChatTurn:
        """Checks everything that can be refused before a stream opens."""
        return ChatTurn(await self._admission(question), self._steps)
