"""Misspellings put right against the words the documents at hand use."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from domain.abbreviations import ABBREVIATION, spelled_out

_WORD = re.compile(r"[A-Za-z]+")
# Shorter words are too often another word one letter off ("sell" and "self").
_MIN_LETTERS = 4
_STEMMER = Stemmer.Stemmer("english")
# Two edits apart only from this many letters: "invoice" is two edits from "invite", and a
# real word that far from one of the documents' is common below it.
_TWO_SLIPS_FROM = 8


class EditDistanceSpelling:
    """A word of the text that the known texts never use is put right when one of theirs is
    at most one edit away (two from eight letters on: a letter left out, doubled, swapped or
    wrong), starts with the same letter (typing slips seldom hit the first), and is the
    nearest such word, the one they use most on a tie. Another form of a word they use
    ("descaled" where they say "descale") is no slip: search stems it; nor is a word spelled
    as a name, in mixed case ("pgSQL", "GitLab"): that the documents never name it says
    something. A word in capitals is only loud ("VAUCUM" is VACUUM), unless the known texts
    spell it out: an abbreviation they never use is followed by the words it stands for in
    them ("SSO (single sign-on)"), which both searches then find."""

    def corrected(self, text: str, known: Sequence[str]) -> str:
        counts = Counter(_WORD.findall(" ".join(known).lower()))
        text = _spelled_out(text, known, counts)
        unknown = {
            word.lower()
            for word in _WORD.findall(text)
            if _may_be_a_slip(word) and word.lower() not in counts
        }
        if not unknown:  # most questions: no need to stem what the chunks say
            return text
        vocabulary = list(counts)
        stems = set(_STEMMER.stemWords(vocabulary))
        right = {word: self._nearest(word, vocabulary, counts, stems) for word in unknown}

        def put_right(match: re.Match[str]) -> str:
            word = match.group()
            best = right.get(word.lower()) if _may_be_a_slip(word) else None
            if best is None:
                return word
            if word.isupper():
                return best.upper()
            return best.capitalize() if word[0].isupper() else best

        return _WORD.sub(put_right, text)

    @staticmethod
    def _nearest(
        word: str, vocabulary: list[str], counts: Counter[str], stems: set[str]
    ) -> str | None:
        if _STEMMER.stemWord(word) in stems:
            return None
        limit = 1 if len(word) < _TWO_SLIPS_FROM else 2
        near = [
            (distance, -counts[candidate], candidate)
            for candidate, distance, _ in process.extract(
                word, vocabulary, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=None
            )
            if candidate[0] == word[0]
        ]
        return min(near)[2] if near else None


def _spelled_out(text: str, known: Sequence[str], counts: Counter[str]) -> str:
    def expand(match: re.Match[str]) -> str:
        word = match.group()
        if word.lower() in counts:
            return word
        words = next(filter(None, (spelled_out(word, k) for k in known)), None)
        return f"{word} ({words})" if words else word

    return ABBREVIATION.sub(expand, text)


def _may_be_a_slip(word: str) -> bool:
    """Long enough to tell, and not a name spelled in mixed case."""
    return len(word) >= _MIN_LETTERS and not (
        any(c.isupper() for c in word[1:]) and not word.isupper()
    )
