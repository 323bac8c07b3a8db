"""The embeddable widget: its size on the wire, and the time from the visitor's Enter to the
first token painted.

    .venv/bin/python bench/widget.py [--questions 20] [--screenshot docs/widget.png]

Starts a stand-in OpenAI server (testkit/llm_stubs.py) whose first token comes 50 ms after
it reads the request, `chatconnect serve` on a fresh data directory pointed at it
(LLM_FREE=openai:gpt-4o-mini, the local embedder), and a third-party page on a second
origin embedding the widget under a strict CSP; Debian's headless Chromium through
Playwright. For each question (each in a new conversation, each text asked once so that no
cache answers it) the page records, with performance.now(): the keydown of Enter in the
widget's question box, the moment the first token's text is in the DOM, and the next
animation frame after it (the frame that paints it). Prints the medians.
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from testkit.browser import embedding_site, launch, why_no_browser  # noqa: E402
from testkit.llm_stubs import Reply, running_stub  # noqa: E402
from tests.browser.conftest import OWNER, make_widget  # noqa: E402
from tests.e2e.conftest import Service  # noqa: E402

COMMAND = ".venv/bin/python bench/widget.py"
FIRST_TOKEN_S = 0.050
TIMINGS = """
() => {
  const root = document.querySelector('[data-chatconnect]').shadowRoot;
  const input = root.getElementById('cc-input');
  window.__t = {};
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') window.__t = {enter: performance.now()};
  }, true);
  new MutationObserver(() => {
    const t = window.__t;
    if (t.enter === undefined || t.dom !== undefined) return;
    const bots = root.querySelectorAll('.msg.bot[data-message-id]');
    if (bots.length && bots[bots.length - 1].textContent.length) {
      t.dom = performance.now();
      requestAnimationFrame(() => { t.painted = performance.now(); });
    }
  }).observe(root, {subtree: true, childList: true, characterData: true});
}
"""


def script_size(service_url: str) -> tuple[int, int]:
    raw = httpx.get(service_url + "/widget.js", headers={"Accept-Encoding": "identity"})
    zipped = httpx.get(service_url + "/widget.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers.get("content-encoding") == "gzip"
    wire = len(gzip.compress(raw.content, compresslevel=9))
    return len(raw.content), wire


def measure(page: object, questions: int) -> list[dict[str, float]]:
    page.evaluate(TIMINGS)  # type: ignore[attr-defined]
    samples = []
    for n in range(questions + 2):  # the first two warm up
        page.get_by_role("button", name="New conversation").click()  # type: ignore[attr-defined]
        box = page.locator("#cc-input")  # type: ignore[attr-defined]
        box.fill(f"How long is the kettle warranty? (question {n})")
        box.press("Enter")
        page.locator(".msg.bot[data-message-id] .acts").wait_for()  # type: ignore[attr-defined]
        # Polled from here: wait_for_function evaluates a string, which the page's CSP forbids.
        timing = page.evaluate("window.__t")  # type: ignore[attr-defined]
        while "painted" not in timing:
            time.sleep(0.005)
            timing = page.evaluate("window.__t")  # type: ignore[attr-defined]
        if n >= 2:
            samples.append(timing)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--screenshot", type=Path, help="also save a PNG of the widget here")
    args = parser.parse_args()
    reason = why_no_browser()
    if reason:
        sys.exit(f"cannot run: {reason}")
    from playwright.sync_api import sync_playwright

    with running_stub() as stub, tempfile.TemporaryDirectory() as data:
        stub.default = Reply(
            deltas=("Every kettle has ", "a two-year warranty ", "[1]."),
            first_token_delay=FIRST_TOKEN_S,
        )
        env = {
            "OPENAI_API_KEY": "sk-bench",
            "OPENAI_BASE_URL": stub.url + "/v1",
            "LLM_FREE": "openai:gpt-4o-mini",
            "ENVIRONMENT": "development",
            "LOG_LEVEL": "WARNING",
        }
        service = Service(Path(data))
        with mock.patch.dict(os.environ, env):
            service.start()
        try:
            raw, wire = script_size(service.url)
            with (
                httpx.Client(base_url=service.url, headers=OWNER, timeout=60) as owner,
                embedding_site(service.url) as site,
                sync_playwright() as playwright,
            ):
                widget = make_widget(
                    owner,
                    allowed_origins=[site.origin, service.url.replace("127.0.0.1", "localhost")],
                    title="Kettle help",
                    greeting="Hi! Ask me anything about our kettles.",
                    suggested_questions=["How long is the warranty?", "How are refunds paid?"],
                    visitor_limit_per_minute=10_000,
                    widget_limit_per_minute=10_000,
                )
                browser = launch(playwright)
                page = browser.new_page(viewport={"width": 1200, "height": 860})
                page.goto(site.page_url(widget["public_key"]))
                page.locator("button.launch").click()
                samples = measure(page, args.questions)
                if args.screenshot:
                    shoot(browser, service.url, widget["public_key"], args.screenshot)
                browser.close()
        finally:
            service.stop()

    def median(key: str) -> float:
        return statistics.median(s[key] - s["enter"] for s in samples)

    print(f"widget.js: {raw} bytes as served, {wire} bytes gzipped (limit 15360)")
    print(f"questions: {len(samples)}, stub first token after {FIRST_TOKEN_S * 1000:.0f} ms")
    print(f"Enter -> first token in the DOM: median {median('dom'):.1f} ms")
    print(f"Enter -> first token painted:    median {median('painted'):.1f} ms")
    print(f"command: {COMMAND} --questions {args.questions}")


def shoot(browser: object, service_url: str, key: str, path: Path) -> None:
    """The demo page (served by the service in development) with the widget open."""
    page = browser.new_page(viewport={"width": 1100, "height": 760})  # type: ignore[attr-defined]
    page.goto(service_url.replace("127.0.0.1", "localhost") + f"/demo?key={key}")
    page.locator("button.launch").click()
    box = page.locator("#cc-input")
    box.fill("How long is the warranty on a kettle?")
    box.press("Enter")
    page.locator(".msg.bot[data-message-id] .acts").wait_for()
    page.locator("#cc-input").blur()
    page.screenshot(path=str(path))
    page.close()


if __name__ == "__main__":
    main()
