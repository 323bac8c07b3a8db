"""A visitor's misspelt word, put right against the words of the documents found."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.spelling.edits import _WORD, EditDistanceSpelling, _says

KNOWN = (
    "Every kettle comes with a two-year warranty against manufacturing faults.",
    "Invite your team from Settings.",
    "The reflog command shows where the tip of each branch was.",
    "The backup job makes a copy every night.",
    "We ship to the EU, Norway and Switzerland.",
    "Descale your kettle every 4 weeks; descaling keeps the kettle quiet.",
)


@pytest.mark.parametrize(
    ("asked", "meant"),
    [
        ("How long is the waranty?", "How long is the warranty?"),  # a letter left out
        ("How long is the warrranty?", "How long is the warranty?"),  # one doubled
        ("Do you ship to Swtizerland?", "Do you ship to Switzerland?"),  # two swapped
        ("Do you ship to Swizerlend?", "Do you ship to Switzerland?"),  # two slips, long word
        ("How often should I descael?", "How often should I descale?"),
        ("How do I DESCAEL it?", "How do I DESCALE it?"),  # capitals are loud, not a name
        ("What are relfogs?", "What are reflog?"),  # a slip in a form they do not use
    ],
)
def test_a_slip_is_put_right_with_the_documents_spelling(asked: str, meant: str) -> None:
    assert EditDistanceSpelling().corrected(asked, KNOWN) == meant


@pytest.mark.parametrize(
    "asked",
    [
        "Do you sell teapots?",  # nothing near: another thing, not a slip
        "Is the warranty void?",  # every word short or known
        "How long is the xarranty?",  # a slip in the first letter is too far to guess
        "Do you ship to Swixxxland?",  # more edits than a slip
        "Can I pay by invoice?",  # a real word two edits from "invite": too short for two
        "When was the backup made?",  # one edit from the stem of "makes", but a short word
    ],
)
def test_what_is_not_a_slip_of_a_known_word_stays_as_asked(asked: str) -> None:
    assert EditDistanceSpelling().corrected(asked, KNOWN) == asked


def test_the_word_the_documents_use_most_wins_a_tie() -> None:
    known = ("the kettles", "a kettle", "kettle kettle")
    assert EditDistanceSpelling().corrected("kettlez", known) == "kettle"


def test_another_form_of_a_word_the_documents_use_is_no_slip() -> None:
    assert EditDistanceSpelling().corrected("descaled kettles", KNOWN) == "descaled kettles"


def test_a_word_spelled_as_a_name_is_kept_as_spelled() -> None:
    # One letter from "psql", but a name the documents do not mention is no slip of theirs.
    known = ("Connect with psql to the server.",)
    assert EditDistanceSpelling().corrected("Write it in PL/pgSQL", known) == "Write it in PL/pgSQL"
    assert EditDistanceSpelling().corrected("Write it in PL/pgsql", known) == "Write it in PL/psql"


def test_an_abbreviation_the_documents_spell_out_is_searched_with_their_words() -> None:
    known = ("Business adds single sign-on (SAML), audit logs and a 99.9% uptime SLA.",)

    assert EditDistanceSpelling().corrected("Do you support SSO?", known) == (
        "Do you support SSO (single sign-on)?"
    )
    # One they use as it is stays as it is.
    assert EditDistanceSpelling().corrected("What is the SLA?", known) == "What is the SLA?"


def test_a_question_word_is_no_slip_of_a_word_the_documents_use() -> None:
    # "will" is one edit from "well": "The lantern well not turn on" was searched.
    known = ("Charge it well before the first use.", "A dose of descaler lasts a month.")
    for asked in ("The lantern will not turn on, what should I do?", "How often does it need it?"):
        assert EditDistanceSpelling().corrected(asked, known) == asked


@given(
    st.text(alphabet="ab .-é\n", max_size=40),
    st.text(alphabet="ab", min_size=1, max_size=4),
)
def test_a_word_is_said_when_the_texts_have_it_whole(said: str, word: str) -> None:
    # The quick check before counting every word agrees with counting them.
    assert _says(said, word) == (word in set(_WORD.findall(said)))
