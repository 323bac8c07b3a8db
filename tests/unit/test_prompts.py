from __future__ import annotations

from domain.models import Role
from domain.prompts import PastMessage, Prompt, PromptSource


def test_the_system_text_numbers_the_sources_and_states_the_rules() -> None:
    prompt = Prompt(
        system="You are Acme's assistant.",
        no_answer="Please contact support.",
        question="Refunds?",
        sources=(PromptSource(index=1, title="Returns", text="Thirty days."),),
        history=(PastMessage(Role.USER, "Hi"), PastMessage(Role.ASSISTANT, "Hello!")),
    )
    text = prompt.system_text()

    assert text.startswith("You are Acme's assistant.")
    assert "[1] Returns\nThirty days." in text
    assert "reply exactly with: Please contact support." in text
    assert prompt.chat_messages() == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Refunds?"},
    ]
