"""Fields in a real browser: the picture of a dataset opened into its fields has labels people can
read, scrolls inside its own box rather than the page, and the fields pages fit a phone."""
from __future__ import annotations

import pytest

# The smallest label in the fields picture, in screen pixels.
SMALLEST_LABEL = """() => {
  const svg = document.querySelector('.app-fields-picture svg')
  if (!svg) return null
  const sizes = [...svg.querySelectorAll('text')].map((t) => {
    const ctm = t.getScreenCTM()
    return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(ctm.a, ctm.b)
  })
  return sizes.length ? Math.min(...sizes) : null
}"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_the_fields_picture_has_readable_labels_and_scrolls_in_its_box(page):
    page.goto("/nodes/housing-register/fields")
    smallest = page.evaluate(SMALLEST_LABEL)
    assert smallest is not None and smallest >= 13, f"the smallest label is {smallest} px"
    box = page.locator(".app-fields-picture")
    assert box.evaluate("(el) => el.scrollWidth > el.clientWidth"), "the picture should be wider than its box here"
    assert page.evaluate(SIDEWAYS) == 0
    page.get_by_role("link", name="Household size").first.click()
    assert page.locator("h1").inner_text() == "Household size"


@pytest.mark.parametrize("path", ["/nodes/housing-register/fields", "/nodes/housing-cms/field?name=household_size",
                                  "/nodes/housing-register", "/nodes/social-housing-allocations"])
def test_fields_pages_do_not_scroll_sideways_on_a_phone(page, path):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(path)
    assert page.evaluate(SIDEWAYS) == 0, f"{path} scrolls sideways at 390 px"
