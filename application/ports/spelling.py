"""Putting a visitor's misspelt words right."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Spelling(Protocol):
    def corrected(self, text: str, known: Sequence[str]) -> str:
        """`text` with each word that the `known` texts never use replaced by the word of
        theirs it most likely misspells; `text` itself when there is none."""
        ...
