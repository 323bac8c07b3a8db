"""Misspellings put right against the words the documents at hand use."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from domain.abbreviations import ABBREVIATION, spelled_out
from domain.stop_words import STOP_WORDS

_WORD = re.compile(r"[A-Za-z]+")
_LETTERS = frozenset(string.ascii_letters)
# Shorter words are too often another word one letter off ("sell" and "self").
_MIN_LETTERS = 4
_STEMMER = Stemmer.Stemmer("english")
# Two edits apart only from this many letters: "invoice" is two edits from "invite", and a
# real word that far from one of the documents' is common below it.
_TWO_SLIPS_FROM = 8
_SLIP_IN_ANOTHER_FORM_FROM = 7


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
        said = " ".join(known).lower()
        text = _spelled_out(text, known, said)
        unknown = {
            word.lower()
            for word in _WORD.findall(text)
            if _may_be_a_slip(word) and not _says(said, word.lower())
        }
        if not unknown:  # most questions: no need to count and stem what the chunks say
            return text
        # Only words opening on a letter an unknown word opens on: slips seldom hit the
        # first letter, and Snowball changes only a word's ending.
        openings = {word[0] for word in unknown}
        counts = Counter(w for w in _WORD.findall(said) if w[0] in openings)
        vocabulary = list(counts)
        # Each stem the known texts use, as their most used word of it.
        forms: dict[str, str] = {}
        for form, stem in zip(vocabulary, _STEMMER.stemWords(vocabulary), strict=True):
            if stem not in forms or counts[form] > counts[forms[stem]]:
                forms[stem] = form
        right = {word: self._nearest(word, vocabulary, counts, forms) for word in unknown}

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
        word: str, vocabulary: list[str], counts: Counter[str], forms: dict[str, str]
    ) -> str | None:
        stem = _STEMMER.stemWord(word)
        if stem in forms:
            return None
        limit = 1 if len(word) < _TWO_SLIPS_FROM else 2
        near = _within(word, vocabulary, limit, counts)
        if near is None and len(word) >= _SLIP_IN_ANOTHER_FORM_FROM:
            # One slip in a form the texts do not use ("relfogs" where they say "reflog"):
            # one edit from a stem of theirs. Not in short words: "made" is one edit from
            # the stem of "makes".
            found = _within(stem, list(forms), 1, Counter({s: counts[f] for s, f in forms.items()}))
            near = forms[found] if found is not None else None
        return near


def _within(word: str, candidates: list[str], limit: int, counts: Counter[str]) -> str | None:
    """The nearest candidate at most `limit` edits away that starts with the same letter,
    the most used on a tie."""
    near = [
        (distance, -counts[candidate], candidate)
        for candidate, distance, _ in process.extract(
            word, candidates, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=None
        )
        if candidate[0] == word[0]
    ]
    return min(near)[2] if near else None


def _says(said: str, word: str) -> bool:
    """`said` (lower case) has `word` as a whole word, as `_WORD` reads it: counting every
    word of the chunks cost more than the rest of a correction, for a question that is
    almost always spelled right."""
    start = said.find(word)
    while start != -1:
        end = start + len(word)
        if (start == 0 or said[start - 1] not in _LETTERS) and (
            end == len(said) or said[end] not in _LETTERS
        ):
            return True
        start = said.find(word, start + 1)
    return False


def _spelled_out(text: str, known: Sequence[str], said: str) -> str:
    def expand(match: re.Match[str]) -> str:
        word = match.group()
        if _says(said, word.lower()):
            return word
        words = next(filter(None, (spelled_out(word, k) for k in known)), None)
        return f"{word} ({words})" if words else word

    return ABBREVIATION.sub(expand, text)


def _may_be_a_slip(word: str) -> bool:
    """Long enough to tell, no question word ("does" is one edit from "dose"), and not a
    name spelled in mixed case."""
    return (
        len(word) >= _MIN_LETTERS
        and word.lower() not in STOP_WORDS
        and not (any(c.isupper() for c in word[1:]) and not word.isupper())
    )
