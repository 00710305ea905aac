"""A contributor's journey through the real app in Chromium, and the picture by keyboard alone."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
MAX_TABS = 400


def save_if_changed(path: Path, data: bytes) -> None:
    """Write the file only when its bytes differ, so an unchanged page leaves git clean."""
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_find_yourself_then_follow_a_decision_and_come_back(page):
    page.goto("/")
    expect(page.locator("h1")).to_have_text("See what your records go on to do")

    page.get_by_label("Find yourself, your team, a dataset or a decision").fill("Ali")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=Ali"))
    expect(page.locator("#results")).to_contain_text("for “Ali”")

    page.get_by_role("link", name="Ali Khan", exact=True).click()
    expect(page).to_have_url(re.compile(r"/people/officer-ali$"))
    expect(page.locator("h1")).to_have_text("Ali Khan")
    headline = page.locator("#headline")
    expect(headline).to_have_text(re.compile(r"^Your records feed"))
    picture = page.locator(".app-picture__viewport svg")
    expect(picture).to_be_visible()
    expect(page.locator(".app-picture__controls")).to_be_visible()  # picture.js ran

    # The README's screenshot is taken signed in as the demo contributor: test_contributor.py.

    first = page.locator(".app-cards .app-card h3 a").first
    decision = first.inner_text().strip()
    first.click()
    expect(page).to_have_url(re.compile(r"/nodes/[^/?#]+$"))
    expect(page.locator("h1")).to_have_text(decision)

    page.go_back()
    expect(page).to_have_url(re.compile(r"/people/officer-ali$"))
    expect(page.locator("#headline")).to_have_text(re.compile(r"^Your records feed"))
    expect(page.locator(".app-picture__viewport svg")).to_be_visible()


# The element that has focus, described well enough to match against.
ACTIVE = """() => {
  const el = document.activeElement
  if (!el || el === document.body) return null
  return {
    tag: el.tagName.toLowerCase(),
    href: el.getAttribute('href'),
    action: el.getAttribute('data-picture-action'),
    text: (el.innerText || '').trim().slice(0, 80),
    viewport: el.classList.contains('app-picture__viewport'),
    twin: el.closest('.app-twin') !== null,
    twinIndex: el.closest('.app-twin') ? [...document.querySelectorAll('.app-twin a')].indexOf(el) : -1,
  }
}"""


def test_keyboard_reaches_the_picture_controls_and_every_twin_link(page):
    page.goto("/people/officer-ali")
    expect(page.locator(".app-picture__controls")).to_be_visible()
    page.evaluate("document.querySelector('#twin').open = true")  # folded on My impact (issue 14)
    twin_links = page.locator(".app-twin a").count()
    assert twin_links > 0, "the text twin should have a table of links"

    wanted_actions = {"zoom-in", "zoom-out", "reset"}
    seen_actions: set[str] = set()
    seen_twin: set[int] = set()
    viewport_reached = False
    trail = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        trail.append(active)
        if active is None:
            continue
        if active["action"]:
            seen_actions.add(active["action"])
        viewport_reached |= active["viewport"]
        if active["twinIndex"] >= 0:
            seen_twin.add(active["twinIndex"])
        if seen_actions == wanted_actions and viewport_reached and len(seen_twin) == twin_links:
            break
    presses = len(trail)
    assert seen_actions == wanted_actions, f"zoom buttons reached: {sorted(seen_actions)} in {presses} presses"
    assert viewport_reached, f"the picture viewport was never focused in {presses} presses"
    missing = sorted(set(range(twin_links)) - seen_twin)
    assert not missing, f"{len(missing)} of {twin_links} text twin links never focused, first {missing[:5]}"

    # Zoom order: the buttons come before the viewport, which comes before the twin.
    order = [("button" if a["action"] else "viewport" if a["viewport"] else "twin" if a["twin"] else None)
             for a in trail if a]
    first = {kind: order.index(kind) for kind in ("button", "viewport", "twin")}
    assert first["button"] < first["viewport"] < first["twin"], order

    svg = page.locator(".app-picture__viewport svg")
    viewport = page.locator(".app-picture__viewport")
    viewport.focus()
    page.keyboard.press("0")  # tabbing through the picture's links panned it to each: back to the start
    original = svg.get_attribute("viewBox")
    assert original

    page.keyboard.press("+")
    zoomed = svg.get_attribute("viewBox")
    assert zoomed != original, "+ on the focused picture should zoom in"
    page.keyboard.press("0")
    assert svg.get_attribute("viewBox") == original, "0 should restore the picture"

    page.get_by_role("button", name="Zoom in").click()
    assert svg.get_attribute("viewBox") != original, "the Zoom in button should zoom in"
    page.get_by_role("button", name="Reset").click()
    assert svg.get_attribute("viewBox") == original


# Where the focused element is, and where the picture's viewport is, on screen.
FOCUS_IN_VIEW = """() => {
  const box = document.activeElement.getBoundingClientRect()
  const view = document.querySelector('.app-picture__viewport').getBoundingClientRect()
  return {
    text: document.activeElement.textContent.trim().replace(/\\s+/g, ' ').slice(0, 60),
    inside: box.left >= view.left - 1 && box.right <= view.right + 1
      && box.top >= view.top - 1 && box.bottom <= view.bottom + 1,
  }
}"""


def test_tabbing_through_a_zoomed_picture_keeps_the_focused_link_in_view(page):
    page.goto("/people/officer-ali")
    expect(page.locator(".app-picture__controls")).to_be_visible()
    links = page.evaluate("""() => [...document.querySelectorAll('.app-picture__viewport svg a')]
      .filter((a) => a.hasAttribute('href') || a.hasAttribute('xlink:href')).length""")
    assert links > 3
    page.locator(".app-picture__viewport").focus()
    for _ in range(2):  # the picture starts at its natural size (issue 14): 2.25 times that is close up
        page.keyboard.press("+")
    hidden = []
    for _ in range(links):
        page.keyboard.press("Tab")
        where = page.evaluate(FOCUS_IN_VIEW)
        if not where["inside"]:
            hidden.append(where["text"])
    assert not hidden, f"{len(hidden)} of {links} links got focus out of sight, e.g. {hidden[:3]}"
