"""Issue 14 in Chromium, signed in as the demo contributor (Ali Khan, a housing officer): the front
door, the first screen, page height and Tab presses to "Flag a problem", the size of the picture's
labels, no sideways scrolling on a phone, axe-core at 1280 and 390 px, and the README's screenshots.

The figures the issue asks for are measured here and printed (pytest -s shows them):
My impact at most 3,500 px tall at 1280 with the details folded, the first "Flag a problem" within
15 Tab presses, label text at least 12 px.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import Problems
from .test_accessibility import RUN_AXE, describe
from .test_editing import accounts_db, accounts_url, sign_in  # noqa: F401 (fixtures)
from .test_journeys import save_if_changed

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = {1280: ROOT / "docs" / "my-impact.png", 390: ROOT / "docs" / "my-impact-phone.png"}
MY_IMPACT = "/people/officer-ali"
TEAM = "/teams/housing-options"
MAX_HEIGHT = 3500
MAX_TABS = 15
MIN_LABEL_PX = 12
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# WCAG 2.2 AA and axe's best practices, which include "region" (all content inside landmarks: the
# phase banner, say).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
CONTRIBUTOR_PAGES = [MY_IMPACT, TEAM, "/flags", "/digest", "/account", "/nodes/housing-register",
                     "/nodes/housing-register/flag", "/nodes/social-housing-allocations",
                     "/decisions/social-housing-allocations"]

# The smallest label in the picture, in screen pixels: each text's font size times the svg's scale.
SMALLEST_LABEL = """() => {
  const svg = document.querySelector('.app-picture__viewport svg')
  if (!svg || !svg.getScreenCTM()) return null
  const sizes = [...svg.querySelectorAll('text')].map((t) => {
    const ctm = t.getScreenCTM()
    return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b)
  })
  return sizes.length ? Math.min(...sizes) : null
}"""
FOCUSED_TEXT = "() => document.activeElement ? (document.activeElement.innerText || '').trim() : ''"
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _context(browser, base_url: str, problems: Problems, **options):
    """A context and page watched like conftest.open_page's (console errors, failed requests, loopback only)."""
    context = browser.new_context(viewport=DESKTOP, base_url=base_url, **options)
    context.set_default_timeout(10_000)
    context.route(lambda url: not url.startswith(base_url + "/"), problems.refuse)
    page = context.new_page()
    page.on("console", problems.on_console)
    page.on("pageerror", lambda error: problems.console.append(f"uncaught exception: {error}"))
    page.on("requestfailed", problems.on_request_failed)
    page.on("response", problems.on_response)
    return context, page


@pytest.fixture(scope="module")
def ali_state(browser, accounts_url):
    """Ali's signed-in cookies: one sign-in for the module (sign-ins are rate limited)."""
    problems = Problems(accounts_url)
    context, page = _context(browser, accounts_url, problems)
    sign_in(page, "ali")
    landed = page.url
    state = context.storage_state()
    context.close()
    assert not problems, str(problems)
    return state, landed


@pytest.fixture
def ali(browser, accounts_url, ali_state):
    """A page signed in as Ali at 1280 x 800; fails the test if anything went wrong on it."""
    problems = Problems(accounts_url)
    context, page = _context(browser, accounts_url, problems, storage_state=ali_state[0])
    page.goto("/")  # the front door
    yield page
    context.close()
    assert not problems, f"the browser saw problems:\n{problems}"


def test_signing_in_lands_on_my_impact_and_the_first_screen_names_a_decision(ali, ali_state):
    assert ali_state[1].endswith(MY_IMPACT), f"signing in landed on {ali_state[1]}"
    expect(ali).to_have_url(re.compile(MY_IMPACT + "$"))  # and so does the home page, after
    ali.evaluate("window.scrollTo(0, 0)")
    first = ali.locator(".app-cards .app-card h3 a").first
    expect(first).to_be_visible()
    box = first.bounding_box()
    assert box and box["y"] + box["height"] <= DESKTOP["height"], f"the first decision starts at {box}"
    expect(ali.get_by_role("link", name="My impact")).to_be_visible()
    expect(ali.get_by_role("link", name="Your team")).to_be_visible()


def test_my_impact_is_short_and_flag_a_problem_is_few_tab_presses_away(ali):
    ali.goto(MY_IMPACT)
    ali.wait_for_load_state("load")
    height = ali.evaluate("document.documentElement.scrollHeight")
    print(f"\nMy impact at 1280 px: {height} px tall")
    assert height <= MAX_HEIGHT, f"My impact is {height} px tall at 1280 px; the aim is {MAX_HEIGHT}"
    presses = None
    for press in range(1, 60):
        ali.keyboard.press("Tab")
        if ali.evaluate(FOCUSED_TEXT).startswith("Flag a problem"):
            presses = press
            break
    print(f"First 'Flag a problem' after {presses} Tab presses")
    assert presses is not None and presses <= MAX_TABS, f"'Flag a problem' took {presses} Tab presses"


@pytest.mark.parametrize("path", [MY_IMPACT, TEAM, "/nodes/housing-register"])
def test_picture_labels_are_at_least_12_px_at_1280(ali, path):
    ali.goto(path)
    expect(ali.locator(".app-picture__controls")).to_be_visible()  # picture.js ran
    smallest = ali.evaluate(SMALLEST_LABEL)
    print(f"\nSmallest picture label on {path} at 1280 px: {smallest:.1f} px")
    assert smallest is not None and smallest >= MIN_LABEL_PX, f"{path}: a label is {smallest} px"


def test_the_picture_has_a_key_and_decisions_are_not_a_rag_colour(ali):
    ali.goto(MY_IMPACT)
    key = ali.locator("#picture-key")
    expect(key).to_contain_text("Decision")
    expect(key).to_contain_text("Dashed arrow")
    fills = ali.evaluate("""() => [...document.querySelectorAll('.app-picture__viewport svg g.node :is(polygon, path)')]
      .map((p) => p.getAttribute('fill'))""")
    assert "#0072b2" in [f.lower() for f in fills if f] and "#009e73" not in [f.lower() for f in fills if f]


def test_on_a_phone_the_list_comes_first_and_the_picture_is_one_tap_away(ali):
    ali.set_viewport_size(PHONE)
    ali.goto(MY_IMPACT)
    fold = ali.locator("details[data-fold-narrow]")
    expect(fold).not_to_have_attribute("open", "")
    ali.get_by_text("Show the picture").click()
    expect(ali.locator(".app-picture__viewport svg")).to_be_visible()
    expect(ali.locator(".app-picture__controls")).to_be_visible()  # started on opening
    smallest = ali.evaluate(SMALLEST_LABEL)
    assert smallest is not None and smallest >= MIN_LABEL_PX, f"a label is {smallest} px on a phone"


@pytest.mark.parametrize("path", CONTRIBUTOR_PAGES)
def test_no_contributor_page_scrolls_sideways_on_a_phone(ali, path):
    ali.set_viewport_size(PHONE)
    ali.goto(path)
    ali.wait_for_load_state("load")
    for details in ali.locator("main details").all():  # opened too: nothing inside may push it sideways
        details.evaluate("(d) => { d.open = true }")
    assert ali.evaluate(SIDEWAYS) <= 0, f"{path} scrolls sideways by {ali.evaluate(SIDEWAYS)} px at 390 px"
    for flag in ali.get_by_role("link", name=re.compile("^Flag a problem")).all():
        box = flag.bounding_box()
        if box:  # a visible "Flag a problem" stays on the screen
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (path, box)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize("path", [MY_IMPACT, TEAM], ids=["my-impact", "team"])
def test_axe_finds_nothing_on_my_impact_and_the_team_page(ali, axe_source, path, viewport):
    ali.set_viewport_size(viewport)
    ali.goto(path)
    ali.wait_for_load_state("load")
    ali.evaluate(axe_source)
    results = ali.evaluate(RUN_AXE, AXE_TAGS)
    assert not results["violations"], f"{path} at {viewport['width']}:\n{describe(results['violations'])}"
    assert not results["incomplete"], f"{path} at {viewport['width']}:\n{describe(results['incomplete'])}"


def test_screenshots_for_the_readme(ali):
    """Full-page screenshots of My impact as the demo contributor, at 1280 and 390 px (docs/)."""
    for width, path in SCREENSHOTS.items():
        ali.set_viewport_size(DESKTOP if width == 1280 else PHONE)
        ali.goto(MY_IMPACT)
        ali.wait_for_load_state("load")
        ali.evaluate("window.scrollTo(0, 0)")
        save_if_changed(path, ali.screenshot(full_page=True, animations="disabled", caret="hide"))
        assert path.stat().st_size > 10_000
