"""The history window and the hard cap on a prompt, counted with a stand-in tokenizer."""

from __future__ import annotations

from domain.models import Role
from domain.prompts import (
    TRUNCATED,
    PastMessage,
    Prompt,
    PromptBudget,
    PromptSource,
    fit_prompt,
    prompt_tokens,
)
from domain.tokens import MESSAGE_OVERHEAD_TOKENS


def words(text: str) -> int:
    return len(text.split())


def turns(*pairs: tuple[str, str]) -> tuple[PastMessage, ...]:
    return tuple(
        t
        for user, bot in pairs
        for t in (PastMessage(Role.USER, user), PastMessage(Role.ASSISTANT, bot))
    )


def prompt(sources: int = 3, history: tuple[PastMessage, ...] = (), words_each: int = 50) -> Prompt:
    return Prompt(
        system="Be brief.",
        no_answer="Ask support.",
        question="What is the refund window?",
        sources=tuple(
            PromptSource(index=n, title=f"Doc {n}", text=" ".join(["word"] * words_each))
            for n in range(1, sources + 1)
        ),
        history=history,
    )


def test_a_prompt_within_budget_is_sent_as_it_is() -> None:
    original = prompt(history=turns(("hi", "hello")))
    assert fit_prompt(original, PromptBudget(), words) is original


def test_a_prompt_whose_bytes_fit_the_cap_is_not_counted() -> None:
    # No tokenizer spends less than a byte on a token: a prompt of fewer bytes than the cap
    # fits whatever the model's tokenizer, and counting it would only cost time.
    counted: list[str] = []

    def spy(text: str) -> int:
        counted.append(text)
        return words(text)

    small = prompt(sources=5, words_each=200)  # ~5 KB
    assert fit_prompt(small, PromptBudget(context_tokens=8_000), spy) is small
    assert counted == []

    fitted = fit_prompt(small, PromptBudget(context_tokens=3_000), spy)  # bytes over the cap
    assert fitted is small and counted  # counted, and fits by its count


def test_the_history_window_keeps_the_newest_turns_that_fit() -> None:
    history = turns(("one " * 30, "two " * 30), ("three " * 30, "four " * 30), ("five", "six"))
    budget = PromptBudget(history_tokens=2 * (30 + MESSAGE_OVERHEAD_TOKENS) + 20)

    fitted = fit_prompt(prompt(history=history), budget, words)

    assert [t.content.split()[0] for t in fitted.history] == ["three", "four", "five", "six"]


def test_the_window_skips_empty_answers_and_starts_with_the_visitor() -> None:
    history = (
        PastMessage(Role.ASSISTANT, "orphan answer"),
        PastMessage(Role.USER, "first"),
        PastMessage(Role.ASSISTANT, ""),  # abandoned before its first token
        PastMessage(Role.USER, "second"),
        PastMessage(Role.ASSISTANT, "reply"),
    )
    fitted = fit_prompt(prompt(history=history), PromptBudget(), words)
    assert [(t.role, t.content) for t in fitted.history] == [
        (Role.USER, "first"),
        (Role.USER, "second"),
        (Role.ASSISTANT, "reply"),
    ]


def test_over_the_cap_the_lowest_ranked_sources_go_first() -> None:
    original = prompt(sources=5, history=turns(("earlier question", "earlier answer")))
    full = prompt_tokens(original, words)
    budget = PromptBudget(history_tokens=100, context_tokens=full - 60)

    fitted = fit_prompt(original, budget, words)

    assert [s.index for s in fitted.sources] == [1, 2, 3]
    assert fitted.history == original.history
    assert prompt_tokens(fitted, words) <= budget.context_tokens


def test_then_the_history_then_the_last_source_is_cut_short() -> None:
    original = prompt(sources=2, history=turns(("q " * 20, "a " * 20)), words_each=200)
    budget = PromptBudget(history_tokens=100, context_tokens=120)

    fitted = fit_prompt(original, budget, words)

    assert [s.index for s in fitted.sources] == [1]
    assert fitted.history == ()
    assert fitted.sources[0].text.endswith(TRUNCATED)
    assert prompt_tokens(fitted, words) <= budget.context_tokens


def test_prompt_tokens_counts_the_system_text_and_every_message() -> None:
    p = prompt(sources=1, history=turns(("a b", "c")))
    expected = (
        words(p.system_text())
        + words("a b")
        + words("c")
        + words(p.user_text())  # the sources and the question
        + MESSAGE_OVERHEAD_TOKENS * 4
    )
    assert prompt_tokens(p, words) == expected
