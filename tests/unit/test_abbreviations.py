"""An abbreviation a visitor types, found spelled out in a page's words."""

from __future__ import annotations

import pytest

from domain.abbreviations import spelled_out

PAGE = "Business costs $24 per user per month. It adds single sign-on (SAML) and audit logs."


def test_the_words_whose_initials_spell_it_are_found_as_the_page_writes_them() -> None:
    assert spelled_out("SSO", PAGE) == "single sign-on"
    assert spelled_out("FAQ", "See our Frequently asked questions.") == "Frequently asked questions"


@pytest.mark.parametrize(
    ("abbreviation", "text"),
    [
        ("SSO", "Sign in with your email; sso is not offered."),  # one word is no spelling out
        ("USA", "To use Stripe always, ask us."),  # opens on a function word
        ("OSA", "single sign-on support all"),  # a run must cover whole words ("sign-on")
        ("CRM", "Our servers are in Frankfurt."),
    ],
)
def test_no_run_of_whole_content_words_is_no_spelling_out(abbreviation: str, text: str) -> None:
    assert spelled_out(abbreviation, text) is None
