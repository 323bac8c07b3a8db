"""A value refused by one of our patterns is said in words, never as the regex."""

from __future__ import annotations

import msgspec
import pytest

from domain.models import WidgetSpec
from entrypoints.http.errors import invalid_body

BASE = {"tenant_id": "acme", "plan": "free", "name": "Help"}


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"system_prompt": "a\u0000"}, "system_prompt", "must not contain the NUL character"),
        ({"name": "  "}, "name", "must not be blank nor contain the NUL character"),
        ({"suggested_questions": ["ok", "\u0000"]}, "suggested_questions[1]", "NUL character"),
        ({"models": ["gpt 4"]}, "models[0]", "must be 'extractive' or 'provider:model'"),
    ],
)
def test_pattern_refusals_name_the_field_in_words(change: dict, key: str, words: str) -> None:
    with pytest.raises(msgspec.ValidationError) as refused:
        msgspec.convert(BASE | change, WidgetSpec)

    error = invalid_body(refused.value)

    assert error.details == [{"message": error.details[0]["message"], "key": key, "source": "body"}]
    assert words in error.message and repr(key) in error.message
    assert "regex" not in error.message
