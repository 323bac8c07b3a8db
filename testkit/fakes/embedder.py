"""In-memory Embedder: hashed bag of words, so texts that share words are similar."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

_WORD = re.compile(r"\w+")
# Gives a text without words a vector too, as the real model does.
_NO_WORDS = "\x00empty"


class HashEmbedder:
    def __init__(self, dimension: int = 384) -> None:
        if dimension < 1:
            raise ValueError(f"dimension must be positive, got {dimension}")
        self._dimension = dimension
        self.calls: list[list[str]] = []

    @property
    def model(self) -> str:
        return "hash-test"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimension
        for word in _WORD.findall(text.lower()) or [_NO_WORDS]:
            # blake2b, not hash(): the same on every run, whatever PYTHONHASHSEED is.
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            index = int.from_bytes(digest[:7], "big") % self._dimension
            vector[index] += 1.0 if digest[7] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vector))
        if norm == 0.0:
            # Words whose signs cancel in one slot: fall back to the no-words vector.
            return self._vector("")
        return [x / norm for x in vector]
