"""Abbreviations a visitor types that a page spells out: "SSO" where the page says "single
sign-on (SAML)", "GDPR" where it says both."""

from __future__ import annotations

import re

# An abbreviation as typed: three to six capitals ("SSO", "SLA", "GDPR"). Two letters
# ("US", "EU") match the initials of too many word pairs ("use Stripe") to be read so.
ABBREVIATION = re.compile(r"\b[A-Z]{3,6}\b")
# Words an abbreviation's spelling out does not open or close on ("to use Stripe").
_FUNCTION_WORDS = frozenset(
    """a an and are as at be but by can do for from has have if in is it its may of on or
    our that the their them they this to us use was we were will with you your""".split()  # noqa: SIM905
)
# A word, a hyphenated word counting its parts ("sign-on": s, o).
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


def spelled_out(abbreviation: str, text: str) -> str | None:
    """The first run of whole words of `text` whose initials spell `abbreviation`, as the
    text writes them ("single sign-on" for "SSO"); None when there is none."""
    letters = abbreviation.lower()
    words = _WORD.findall(text)
    parts = [(n, part[0].lower()) for n, word in enumerate(words) for part in word.split("-")]
    for start in range(len(parts) - len(letters) + 1):
        run = parts[start : start + len(letters)]
        if "".join(initial for _, initial in run) != letters:
            continue
        first, last = run[0][0], run[-1][0]
        # The run covers whole words: it opens a word and ends one.
        opens = start == 0 or parts[start - 1][0] != first
        ends = start + len(letters) == len(parts) or parts[start + len(letters)][0] != last
        # One word alone is no spelling out ("Sso" is the abbreviation again).
        if not (opens and ends and last > first):
            continue
        spelled = words[first : last + 1]
        if spelled[0].lower() not in _FUNCTION_WORDS and spelled[-1].lower() not in _FUNCTION_WORDS:
            return " ".join(spelled)
    return None
