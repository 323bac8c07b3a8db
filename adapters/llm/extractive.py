"""An answerer that generates nothing: it quotes the best-matching source sentences.

Offline, deterministic and honest — every sentence it says is in a source, with the
source's number — so the service answers usefully with no API key at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Iterator

from domain.models import Usage
from domain.prompts import Prompt, PromptSource

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "about",
        "tell",
        "please",
    }
)
_MAX_SENTENCES = 3
# A sentence must score at least this share of the best one to be quoted with it.
_KEEP_RATIO = 0.5


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def terms(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS}


def _sentences(source: PromptSource) -> Iterator[str]:
    for piece in _SENTENCE_END.split(source.text):
        sentence = piece.strip().lstrip("-*#> ").strip()
        if len(sentence) > 1:
            yield sentence


def best_sentences(prompt: Prompt) -> list[tuple[str, int]]:
    """(sentence, source number) pairs worth quoting, best first."""
    candidates = [(s, src.index, terms(s)) for src in prompt.sources for s in _sentences(src)]
    wanted = terms(prompt.question)
    if not candidates or not wanted:
        return []
    df = {t: sum(1 for _, _, ts in candidates if t in ts) for t in wanted}
    idf = {t: math.log(1 + len(candidates) / df[t]) for t in wanted if df[t]}
    scored = []
    for order, (sentence, index, sentence_terms) in enumerate(candidates):
        score = sum(idf.get(t, 0.0) for t in wanted & sentence_terms)
        if score > 0:
            # Retrieval rank breaks ties: earlier sources were judged more relevant.
            scored.append((score, -index, -order, sentence, index))
    if not scored:
        return []
    scored.sort(reverse=True)
    floor = scored[0][0] * _KEEP_RATIO
    return [(s, i) for score, _, _, s, i in scored[:_MAX_SENTENCES] if score >= floor]


class ExtractiveChatModel:
    name = "extractive"

    async def stream(self, prompt: Prompt) -> AsyncIterator[str | Usage]:
        picked = best_sentences(prompt)
        text = (
            " ".join(f"{sentence} [{index}]" for sentence, index in picked)
            if picked
            else prompt.no_answer
        )
        words = text.split(" ")
        for n, word in enumerate(words):
            yield word if n == len(words) - 1 else word + " "
        yield Usage()
