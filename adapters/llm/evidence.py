"""How well a sentence answers a question: the words they share, stemmed by Snowball's
English stemmer (as the BM25 side of retrieval stems them) and weighed by how rare they are
among the candidates, together with the embedding model's cosine of the two."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

import Stemmer

from domain.stop_words import STOP_WORDS

_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_JOINED_WORDS = 24


def stems(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]
    return _STEMMER.stemWords(words)  # type: ignore[no-any-return]


def joined(question: str) -> dict[str, list[str]]:
    """The words a manual may write as one of two the question asks ("xrange" for "range of
    the x axis", "linespoints" for "lines and points"), each with the stems of its parts."""
    words = [w for w in _WORD.findall(question.lower()) if w not in STOP_WORDS]
    # Pairs grow as the square of the words: a question's first few dozen are plenty, and a
    # visitor's pasted page would otherwise cost more than the answer.
    words = list(dict.fromkeys(words))[:_JOINED_WORDS]
    stemmed = dict(zip(words, _STEMMER.stemWords(words), strict=True))
    return {
        first + second: [stemmed[first], stemmed[second]]
        for first in words
        for second in words
        if first != second
    }


def joined_in(text: str, parts: Mapping[str, list[str]]) -> list[str]:
    """For each word the text writes as two of the question's (`joined`), those two."""
    if not parts:
        return []
    return [stem for word in _WORD.findall(text.lower()) for stem in parts.get(word, ())]


def rarity(documents: Sequence[frozenset[str]], terms: Iterable[str]) -> dict[str, float]:
    """Each term's inverse document frequency among the candidates (BM25's, kept positive);
    a term no candidate has weighs as one only a single candidate has."""
    n = len(documents)
    weights = {}
    for term in set(terms):
        df = max(1, sum(term in d for d in documents))
        weights[term] = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    return weights


def overlap(
    asked: Mapping[str, float], weights: Mapping[str, float], terms: frozenset[str]
) -> float:
    """The share of the question's weight the sentence covers, 0..1; `asked` gives each
    question term its own weight (1 for the question, less for context)."""
    total = sum(weights[t] * w for t, w in asked.items())
    if total <= 0.0:
        return 0.0
    return sum(weights[t] * w for t, w in asked.items() if t in terms) / total


def overlap_in_context(
    asked: Mapping[str, float],
    weights: Mapping[str, float],
    terms: frozenset[str],
    context: Sequence[tuple[frozenset[str], float]],
) -> float:
    """Like `overlap`, a question term found only in the sentence's context (the term it
    defines, its paragraph's first sentence) counting at that context's weight."""
    total = sum(weights[t] * w for t, w in asked.items())
    if total <= 0.0:
        return 0.0
    found = 0.0
    for term, w in asked.items():
        if term in terms:
            found += weights[term] * w
        else:
            share = max((c for ts, c in context if term in ts), default=0.0)
            found += weights[term] * w * share
    return found / total


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
