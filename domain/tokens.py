"""Token counts for budgets and for answers no provider reported: a documented estimate.

Providers report what they bill; an answer cut short (the visitor left, the provider
broke) gets no report, and neither a prompt nor a history window is counted by anyone
before it is sent. Anthropic publishes no offline tokenizer, a local OpenAI-compatible
model may use any, and OpenAI's o200k costs an API worker ~80 MB and ~1 s to build, for
those few counts: every model is counted with this estimate. Both providers give the same
rule of thumb for English: a token is about four characters, or three quarters of a word.
We take the larger of the two readings, so that text of short words (code, numbers,
lists) is not counted low. On this repository's README it lands within 5% of o200k
(tests/contract/test_tokenizer.py keeps it within 15%); tables of numbers come out lower
(0.83 on docs/benchmarks.md). Claude's tokenizer is said to count somewhat more for the
same text. PROMPT_MAX_TOKENS is set far below any context window for those reasons, and a
cancelled answer may be billed a little off.
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
