"""Text as the service can keep it. PostgreSQL's text (and jsonb) takes every Unicode
character but NUL (U+0000); JSON cannot carry the others it refuses (unpaired surrogates
are malformed JSON). So every string a request may bring is one of these types, and a NUL
is refused where it arrives, naming its field, instead of failing when it is stored."""

from __future__ import annotations

from typing import Annotated

import msgspec

NUL = "\x00"
STORABLE_PATTERN = r"^[^\x00]*$"
# Something besides blanks, as str.strip() sees blanks (JSON Schema's \s, which clients
# check against, lacks \x1c-\x1f and \x85: hence their place here), and no NUL. The
# lookahead keeps it linear: a pattern of two starred classes around one would backtrack
# quadratically on a long run of blanks.
NON_BLANK_PATTERN = r"^(?=[\s\S]*?[^\s\x1c-\x1f\x85])[^\x00]*$"

Text = Annotated[str, msgspec.Meta(pattern=STORABLE_PATTERN)]
NonBlank = Annotated[str, msgspec.Meta(pattern=NON_BLANK_PATTERN)]

# What each pattern means, in words for the person whose request it refused.
PATTERN_WORDS = {
    STORABLE_PATTERN: "must not contain the NUL character (\\u0000)",
    NON_BLANK_PATTERN: "must not be blank nor contain the NUL character (\\u0000)",
}


def without_nul(text: str) -> str:
    """Text whose NULs carry nothing a reader would miss (a document's), kept without them."""
    return text.replace(NUL, "")
