"""Grouping texts by meaning, from their embeddings: the questions a widget could not
answer, so that "how do I reset my password" and "forgot my password" count as one gap."""

from __future__ import annotations

from collections.abc import Sequence
from operator import mul

from domain.vectors import unit


def group_by_similarity(
    vectors: Sequence[Sequence[float]], weights: Sequence[int], threshold: float
) -> list[list[int]]:
    """Groups of indices into `vectors`. Items are taken heaviest first (ties in the given
    order); each joins the group whose first item (its leader, the heaviest) it is most
    similar to, by cosine, when that is at least `threshold`, else leads a group of its own.
    Groups come heaviest first by total weight, their items heaviest first.

    Leaders only, not every member: N items and G groups cost N x G dot products, and a
    group cannot drift, one member at a time, far from what its leader asked."""
    order = sorted(range(len(vectors)), key=lambda i: -weights[i])
    units = [unit(v) for v in vectors]
    groups: list[list[int]] = []
    for item in order:
        best, best_similarity = None, threshold
        for group in groups:
            similarity = sum(map(mul, units[item], units[group[0]]))
            if similarity >= best_similarity:
                best, best_similarity = group, similarity
        if best is None:
            groups.append([item])
        else:
            best.append(item)
    return sorted(groups, key=lambda group: -sum(weights[i] for i in group))
