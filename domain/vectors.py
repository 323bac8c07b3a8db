"""Embedding vectors as plain sequences of floats: their direction and their cosine."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import mul


def unit(vector: Sequence[float]) -> list[float]:
    """The vector scaled to length 1; a zero vector stays zero."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else list(vector)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    norms = math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    return sum(map(mul, a, b)) / norms if norms else 0.0


def folded(vector: Sequence[float], toward: Sequence[float], weight: float) -> list[float]:
    """The vector's direction moved towards another's by `weight`, as a unit vector: a
    follow-up towards the question before it, a chunk towards what its page is for."""
    a, b = unit(vector), unit(toward)
    return unit([x + weight * y for x, y in zip(a, b, strict=True)])
