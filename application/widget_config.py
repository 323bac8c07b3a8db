"""What the embeddable script shows: a widget's display settings, checked when the owner
sets them and handed to the visitor's browser without anything private."""

from __future__ import annotations

import re

import msgspec

from domain.errors import InvalidInputError
from domain.models import MAX_SUGGESTED_QUESTIONS, Widget, WidgetPosition

HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
# Longest text, in characters, each display setting may hold.
MAX_CHARS = {"title": 80, "greeting": 500, "placeholder": 100}
MAX_QUESTION_CHARS = 150


class WidgetConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The public face of a widget: no prompt, origins, limits or keys."""

    name: str
    title: str
    greeting: str
    placeholder: str
    accent_color: str
    position: WidgetPosition
    suggested_questions: tuple[str, ...]

    @classmethod
    def of(cls, widget: Widget) -> WidgetConfig:
        return cls(
            name=widget.name,
            title=widget.title or widget.name,
            greeting=widget.greeting,
            placeholder=widget.placeholder,
            accent_color=widget.accent_color,
            position=widget.position,
            suggested_questions=widget.suggested_questions,
        )


def checked_display(widget: Widget) -> Widget:
    """The widget with its display settings trimmed; refused when one is out of bounds."""
    texts = {field: getattr(widget, field).strip() for field in MAX_CHARS}
    for field, text in texts.items():
        if len(text) > MAX_CHARS[field]:
            raise InvalidInputError(
                f"{field} must be at most {MAX_CHARS[field]} characters", details={"field": field}
            )
    if not HEX_COLOR.match(widget.accent_color):
        raise InvalidInputError(
            "accent_color must be a hex colour, #rrggbb or #rgb",
            details={"field": "accent_color"},
        )
    questions = tuple(q.strip() for q in widget.suggested_questions)
    if len(questions) > MAX_SUGGESTED_QUESTIONS:
        raise InvalidInputError(
            f"at most {MAX_SUGGESTED_QUESTIONS} suggested questions",
            details={"field": "suggested_questions"},
        )
    if any(not 1 <= len(q) <= MAX_QUESTION_CHARS for q in questions):
        raise InvalidInputError(
            f"each suggested question must be 1 to {MAX_QUESTION_CHARS} characters",
            details={"field": "suggested_questions"},
        )
    return msgspec.structs.replace(
        widget, **texts, accent_color=widget.accent_color.lower(), suggested_questions=questions
    )
