"""Token counts when a model's own tokenizer is not at hand: a documented estimate.

Anthropic publishes no offline tokenizer, and a local OpenAI-compatible model may use
any. Both providers give the same rule of thumb for English: a token is about four
characters, or three quarters of a word. We take the larger of the two readings, so that
text of short words (code, numbers, lists) is not counted low. On this repository's
documents it lands within 5% of OpenAI's o200k_base (tests/contract/test_tokenizer.py
keeps it within 15%). Claude's tokenizer is said to count somewhat more for the same
text: a budget built on the estimate can fill a little more of Claude's context than
planned (PROMPT_MAX_TOKENS is set far below any context window for that reason), and a
cancelled Claude answer may be billed a little low.
"""

from __future__ import annotations

import math
from collections.abc import Callable

CHARS_PER_TOKEN = 4.0
TOKENS_PER_WORD = 4 / 3
# Role markers and separators a chat API adds around each message.
MESSAGE_OVERHEAD_TOKENS = 4

TokenCount = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    return math.ceil(max(len(text) / CHARS_PER_TOKEN, len(text.split()) * TOKENS_PER_WORD))
