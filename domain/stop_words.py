"""The words of a question that say what kind of answer is wanted, not what about."""

from __future__ import annotations

# Question words and fillers: neither the answer's evidence nor a typing slip to put right.
STOP_WORDS = frozenset(
    """
    a about after all also am an and any are as at be been before being but by can could
    did do does doing done for from get gets had has have having how i if in into is it
    its just me more most my no not of on once only or other our out over own please
    same should so some such tell than that the their them then there these they this
    those through to too under until up use used using very want was we were what when
    where which while who whom why will with would you your yours
    """.split()  # noqa: SIM905
)
