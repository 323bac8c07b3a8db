"""The widget in a real browser, embedded by a page on another origin under a strict CSP.

Every test ends with no CSP violation seen by the page (`watched` fixture's check)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe

from testkit.browser import EmbeddingSite
from testkit.llm_stubs import Reply, StubServer
from tests.browser.conftest import Watched, make_widget, needs_browser
from tests.e2e.conftest import Service

pytestmark = needs_browser

STREAMED = Reply(deltas=("The kettle has ", "a two-year ", "warranty [1]."), delay=0.25)
FULL_ANSWER = "The kettle has a two-year warranty [1]."
# Records the answer's text at every change, with whether it was finished (rating shown).
RECORD_ANSWERS = """
() => {
  const root = document.querySelector('[data-chatconnect]').shadowRoot;
  window.__answers = [];
  new MutationObserver(() => {
    const bots = root.querySelectorAll('.msg.bot[data-message-id]');
    const last = bots[bots.length - 1];
    if (last) window.__answers.push({
      text: last.querySelector('p') ? last.querySelector('p').textContent : '',
      finished: !!last.querySelector('.acts'),
    });
  }).observe(root, {subtree: true, childList: true, characterData: true});
}
"""


@pytest.fixture
def watched_page(watched: Watched) -> Iterator[Watched]:
    yield watched
    assert watched.violations() == []
    assert watched.dialogs == []


def open_widget(watched: Watched, site: EmbeddingSite, key: str) -> Any:
    page = watched.page
    page.goto(site.page_url(key))
    page.locator("button.launch").click()
    page.locator("#cc-panel").wait_for()
    return page


def ask(page: Any, question: str) -> None:
    page.locator("#cc-input").fill(question)
    page.locator("#cc-input").press("Enter")


def last_answer(page: Any) -> Any:
    return page.locator(".msg.bot[data-message-id]").last


def focused(page: Any) -> str:
    """What has the keyboard focus inside the widget: an id, else a label or text."""
    return str(
        page.evaluate(
            """() => {
              const a = document.querySelector('[data-chatconnect]').shadowRoot.activeElement;
              return a ? (a.id || a.getAttribute('aria-label') || a.textContent) : '';
            }"""
        )
    )


def test_the_answer_grows_token_by_token_and_cites_its_sources(
    watched_page: Watched, site: EmbeddingSite, widget: dict, stub: StubServer
) -> None:
    stub.default = STREAMED
    page = open_widget(watched_page, site, widget["public_key"])
    page.evaluate(RECORD_ANSWERS)

    ask(page, "How long is the warranty?")
    last_answer(page).locator(".acts").wait_for()

    seen = page.evaluate("window.__answers")
    partial = [s for s in seen if not s["finished"] and 0 < len(s["text"]) < len(FULL_ANSWER)]
    assert partial, seen  # text was on screen before `done`
    assert all(FULL_ANSWER.startswith(s["text"]) for s in partial)
    answer = last_answer(page)
    assert answer.locator("p").inner_text() == FULL_ANSWER
    sources = answer.locator("ol.srcs li")
    assert sources.count() >= 1
    assert "h.md" in sources.first.inner_text() and "Warranty" in sources.first.inner_text()
    # [1] links to the first source, which takes the focus when followed.
    answer.locator("a.cite").click()
    assert focused(page) == sources.first.get_attribute("id")


def test_only_the_sources_the_answer_cites_are_listed_with_their_numbers(
    watched_page: Watched, site: EmbeddingSite, widget: dict, stub: StubServer
) -> None:
    page = open_widget(watched_page, site, widget["public_key"])
    question = "How long is the warranty, and when are refunds paid?"

    stub.default = Reply(deltas=("Refunds take five working days ", "[2]."))
    ask(page, question)
    last_answer(page).locator(".acts").wait_for()
    listed = last_answer(page).locator("ol.srcs li")
    assert listed.count() == 1  # of the two sections retrieved
    assert listed.first.get_attribute("value") == "2"  # numbered as the text cites it
    assert str(listed.first.get_attribute("id")).endswith("-2")
    last_answer(page).locator("a.cite").click()
    assert focused(page) == listed.first.get_attribute("id")

    # An answer that cites nothing lists what was searched.
    stub.default = Reply(deltas=("Both are in the handbook.",))
    ask(page, question)
    page.locator(".msg.bot[data-message-id] .acts").nth(1).wait_for()
    assert last_answer(page).locator("ol.srcs li").count() == 2


def test_html_from_the_model_and_a_document_stays_inert_text(
    watched_page: Watched,
    site: EmbeddingSite,
    owner_client: httpx.Client,
    stub: StubServer,
) -> None:
    evil = (
        b"Descaling the kettle: <img src=x onerror=\"alert('img')\"> "
        b"<script>alert('script')</script> and [descale guide](javascript:alert('link')). "
        b"Descale the kettle every month with citric acid."
    )
    hostile = make_widget(owner_client, {"descaling.txt": evil}, allowed_origins=[site.origin])
    stub.default = Reply(
        deltas=(
            "Descale monthly <img src=x onerror=\"alert('model')\"> ",
            "<script>alert('model script')</script> ",
            "see [the guide](javascript:alert('model link')) [1]. **Bold** and `code`.",
        )
    )
    page = open_widget(watched_page, site, hostile["public_key"])

    ask(page, "How do I descale the kettle?")
    answer = last_answer(page)
    answer.locator(".acts").wait_for()

    text = answer.inner_text()
    assert "<img src=x onerror=\"alert('model')\">" in text
    assert "<script>alert('model script')</script>" in text
    assert "<img src=x onerror=\"alert('img')\">" in answer.locator("ol.srcs").inner_text()
    shadow = "document.querySelector('[data-chatconnect]').shadowRoot"
    assert page.evaluate(f"{shadow}.querySelectorAll('img, script, iframe').length") == 0
    hrefs = page.evaluate(f"[...{shadow}.querySelectorAll('a')].map(a => a.href)")
    assert not [href for href in hrefs if not href.startswith(("http:", "https:"))], hrefs
    assert answer.locator("strong", has_text="Bold").count() == 1
    assert answer.locator("code", has_text="code").count() == 1
    assert watched_page.dialogs == []


def test_a_page_on_an_origin_not_allowed_is_refused_clearly(
    watched_page: Watched, site: EmbeddingSite, owner_client: httpx.Client
) -> None:
    elsewhere = make_widget(owner_client, {}, allowed_origins=["https://shop.example"])
    statuses: list[tuple[str, int]] = []
    watched_page.page.on(
        "response", lambda r: statuses.append((r.url, r.status)) if "/api/" in r.url else None
    )

    page = open_widget(watched_page, site, elsewhere["public_key"])

    refusal = page.locator(".note.bad")
    refusal.wait_for()
    assert "not available on this site" in refusal.inner_text()
    assert site.origin in refusal.inner_text()
    assert page.locator("#cc-input").is_disabled()
    assert [status for url, status in statuses if url.endswith("/api/widget/config")] == [403]


def test_a_visitor_over_the_limit_sees_the_limit_message_and_when_to_retry(
    watched_page: Watched, site: EmbeddingSite, owner_client: httpx.Client, stub: StubServer
) -> None:
    limited = make_widget(
        owner_client,
        allowed_origins=[site.origin],
        visitor_limit_per_minute=1,
        limit_message="Easy there: one question a minute.",
    )
    stub.default = Reply(deltas=("Two years [1].",))
    page = open_widget(watched_page, site, limited["public_key"])

    # Two questions in one minute window; a third in case the first two straddled two. Each
    # is asked only once the one before has ended (an answer's actions or a note shown):
    # typing while a refusal puts the last question back in the box would mix the two.
    ended = page.locator(".note, .msg.bot .acts")
    for _ in range(3):
        before = ended.count()
        ask(page, "How long is the warranty?")
        page.wait_for_function(
            "before => document.querySelector('[data-chatconnect]').shadowRoot"
            ".querySelectorAll('.note, .msg.bot .acts').length > before",
            arg=before,
        )
        if page.locator(".note").count():
            break
    note = page.locator(".note").last.inner_text()
    assert "Easy there: one question a minute." in note
    assert re.search(r"Try again in \d+ s\.", note), note
    assert page.locator("#cc-input").input_value() == "How long is the warranty?"


def test_a_reload_continues_the_conversation_and_new_conversation_starts_another(
    watched_page: Watched, site: EmbeddingSite, widget: dict, stub: StubServer
) -> None:
    stub.default = Reply(deltas=("Two years [1].",))
    sent: list[dict[str, Any]] = []
    watched_page.page.on(
        "request",
        lambda r: sent.append(r.post_data_json) if r.url.endswith("/chat/stream") else None,
    )
    page = open_widget(watched_page, site, widget["public_key"])
    ask(page, "How long is the warranty?")
    last_answer(page).locator(".acts").wait_for()

    page.reload()
    page.locator("button.launch").click()
    assert page.locator(".msg.user").inner_text() == "How long is the warranty?"
    ask(page, "And refunds?")
    page.locator(".msg.bot[data-message-id] .acts").nth(1).wait_for()

    page.get_by_role("button", name="New conversation").click()
    assert page.locator(".msg.user").count() == 0
    ask(page, "Do kettles come with a warranty?")
    last_answer(page).locator(".acts").wait_for()

    first, continued, fresh = sent
    assert first["conversation_id"] is None
    assert continued["conversation_id"] is not None
    assert fresh["conversation_id"] is None
    assert first["visitor_id"] == continued["visitor_id"] == fresh["visitor_id"]
    stored = page.evaluate(
        f"JSON.parse(localStorage.getItem('chatconnect:{widget['public_key']}'))"
    )
    assert stored["conversation"] not in (None, continued["conversation_id"])
    assert [m["text"] for m in stored["messages"]] == [
        "Do kettles come with a warranty?",
        "Two years [1].",
    ]


def test_the_whole_flow_works_with_the_keyboard_alone_and_passes_axe(
    watched_page: Watched, site: EmbeddingSite, widget: dict, stub: StubServer
) -> None:
    stub.default = Reply(deltas=("The kettle has ", "a two-year warranty [1]."))
    page = watched_page.page
    page.goto(site.page_url(widget["public_key"]))
    page.locator('button.launch[aria-label="Open chat: Kettle help"]').wait_for()  # configured

    page.keyboard.press("Tab")
    assert focused(page) == "Open chat: Kettle help"
    page.keyboard.press("Enter")
    assert focused(page) == "cc-input"  # the panel opened onto the question box
    page.keyboard.type("How long is the warranty?")
    page.keyboard.press("Enter")
    answer = last_answer(page)
    answer.locator(".acts").wait_for()
    live = page.locator("[role=status]")
    live.filter(has_text="Answer: The kettle has a two-year warranty").wait_for(state="attached")

    for _ in range(40):  # from the question box, Tab on to the rating
        if focused(page) == "Helpful":
            break
        page.keyboard.press("Tab")
    assert focused(page) == "Helpful"
    page.keyboard.press("Enter")
    answer.get_by_text("Thanks for your feedback.").wait_for()

    violations = [
        (v["id"], v["impact"])
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert violations == []

    page.keyboard.press("Escape")
    assert page.locator("#cc-panel").is_hidden()
    assert focused(page) == "Open chat: Kettle help"


def feedback_count(service: Service, rating: str) -> float:
    metrics = httpx.get(service.url + "/metrics").text
    found = re.search(rf'^chatconnect_feedback_total{{rating="{rating}"}} (\S+)$', metrics, re.M)
    return float(found.group(1)) if found else 0.0


async def stored_feedback(service: Service, message_id: str) -> asyncpg.Record | None:
    connection = await asyncpg.connect(service.database_url)
    try:
        return await connection.fetchrow(
            "SELECT rating, comment FROM feedback WHERE message_id = $1::uuid", message_id
        )
    finally:
        await connection.close()


def test_a_thumbs_down_with_a_comment_is_stored_and_counted(
    watched_page: Watched, site: EmbeddingSite, widget: dict, service: Service, stub: StubServer
) -> None:
    stub.default = Reply(deltas=("Two years [1].",))
    before = feedback_count(service, "down")
    page = open_widget(watched_page, site, widget["public_key"])
    ask(page, "How long is the warranty?")
    answer = last_answer(page)
    answer.locator(".acts").wait_for()

    answer.get_by_role("button", name="Not helpful").click()
    answer.get_by_role("textbox").fill("It did not say how to claim it.")
    answer.get_by_role("button", name="Send feedback").click()
    answer.get_by_text("Thanks — we'll use it to improve.").wait_for()

    message_id = answer.get_attribute("data-message-id")
    # Playwright's sync API runs its own event loop in this thread.
    with ThreadPoolExecutor(1) as thread:
        row = thread.submit(asyncio.run, stored_feedback(service, message_id)).result()
    assert row is not None and dict(row) == {
        "rating": "down",
        "comment": "It did not say how to claim it.",
    }
    assert feedback_count(service, "down") == before + 1


def test_the_stop_button_ends_the_stream_and_the_service_hangs_up_on_the_model(
    watched_page: Watched, site: EmbeddingSite, widget: dict, stub: StubServer
) -> None:
    stub.default = Reply(deltas=("The kettle ", *["and so on "] * 40), delay=0.25)
    page = open_widget(watched_page, site, widget["public_key"])
    ask(page, "What does the warranty cover, at length?")  # asked nowhere else: not cached
    last_answer(page).filter(has_text="The kettle").wait_for()

    page.get_by_role("button", name="Stop").click()

    page.locator(".note", has_text="Stopped.").wait_for()
    assert stub.outcomes() == ["client_closed"]
    assert page.get_by_role("button", name="Send").is_visible()


def test_an_error_event_is_shown_as_an_error_with_a_retry(
    watched_page: Watched, site: EmbeddingSite, widget: dict, stub: StubServer
) -> None:
    stub.script(Reply(deltas=("The kettle ", "has"), fail_after=1))
    stub.default = Reply(deltas=("Two years [1].",))
    page = open_widget(watched_page, site, widget["public_key"])
    ask(page, "Is the warranty two years long?")  # asked nowhere else: not cached

    error = page.locator(".note.bad")
    error.wait_for()
    assert "could not be completed" in error.inner_text()
    error.get_by_role("button", name="Retry").click()
    last_answer(page).filter(has_text="Two years").locator(".acts").wait_for()
    assert page.locator(".msg.user").count() == 1


def test_below_480_pixels_the_open_panel_takes_the_screen(
    browser: Any, site: EmbeddingSite, widget: dict
) -> None:
    context = browser.new_context(viewport={"width": 400, "height": 700})
    try:
        page = context.new_page()
        page.goto(site.page_url(widget["public_key"]))
        page.locator("button.launch").click()
        box = page.locator("#cc-panel").bounding_box()
        assert box == {"x": 0, "y": 0, "width": 400, "height": 700}
    finally:
        context.close()


def test_the_strict_csp_is_enforced_and_the_widget_breaks_none_of_it(
    watched: Watched, site: EmbeddingSite, widget: dict, stub: StubServer
) -> None:
    stub.default = Reply(deltas=("Two years [1].",))
    page = open_widget(watched, site, widget["public_key"])
    ask(page, "How long is the warranty?")
    last_answer(page).locator(".acts").wait_for()
    page.get_by_role("button", name="Helpful", exact=True).click()
    last_answer(page).get_by_text("Thanks for your feedback.").wait_for()
    assert watched.violations() == []
    assert not [r for r in site.reports if widget["public_key"] in str(r)]

    # The watch sees what the page forbids: an inline style is refused and reported.
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    deadline = time.monotonic() + 5
    while not watched.violations() and time.monotonic() < deadline:
        time.sleep(0.05)  # polled: wait_for_function would eval a string, which the CSP forbids
    assert "style-src" in " ".join(watched.violations())
