"""axe-core on every kind of page, in Chromium: no WCAG 2.2 AA violations that axe can detect.

axe finds perhaps a third of accessibility problems; the keyboard test in test_journeys.py and
manual checks (docs and the accessibility statement) cover more.
"""
from __future__ import annotations

import pytest

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# (test id, path, HTTP status)
PAGES = [
    ("home", "/", 200),
    ("search-results", "/search?q=housing", 200),
    ("search-empty", "/search", 200),
    ("my-impact", "/people/officer-ali", 200),
    ("team", "/teams/housing-options", 200),
    ("system", "/nodes/housing-cms", 200),
    ("dataset", "/nodes/housing-register", 200),
    ("process", "/nodes/allocations-shortlisting", 200),
    ("ai-tool", "/nodes/housing-need-model", 200),
    ("decision", "/nodes/social-housing-allocations", 200),
    ("node-list", "/nodes?kind=dataset", 200),
    ("fields", "/nodes/housing-register/fields", 200),
    ("field", "/nodes/housing-cms/field?name=household_size", 200),
    ("sources", "/sources", 200),
    ("accessibility-statement", "/accessibility", 200),
    ("not-found", "/nodes/no-such-thing", 404),
    ("bad-request", "/people/officer-ali?depth=abc", 400),
]

# Violations, and the results axe could not decide ("incomplete", e.g. an aria-label where the role
# prohibits one, if the element has content). Colour contrast of the picture's text is left out of
# the second: axe cannot see the shape behind SVG text, so test_picture_text_contrast checks it. So is
# "overlapped by another element" where nothing covers the element at its centre and corners: a picture
# drawn at a readable size is larger than its box, which clips it, but axe counts the clipped parts as
# covering what is around the box.
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}})
  const brief = (v) => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 200)),
  })
  const svgText = (n) => {
    const el = document.querySelector(n.target[0])
    return el && el.closest('svg') && el.tagName.toLowerCase() === 'text'
  }
  // "Overlapped by another element" that nothing covers where a person looks: the parts of a picture
  // its box clips still count as covering what is around the box, for axe.
  const uncovered = (n) => {
    const overlap = (n.any || []).some((check) => check.data && check.data.messageKey === 'bgOverlap')
    const el = overlap && document.querySelector(n.target[0])
    if (!el) return false
    el.scrollIntoView({block: 'center'})
    const box = el.getBoundingClientRect()
    const points = [[0.5, 0.5], [0.1, 0.2], [0.9, 0.2], [0.1, 0.8], [0.9, 0.8]]
    return points.every(([fx, fy]) => {
      const top = document.elementFromPoint(box.left + box.width * fx, box.top + box.height * fy)
      return !top || top === el || el.contains(top) || top.contains(el)
    })
  }
  return {
    violations: results.violations.map(brief),
    incomplete: results.incomplete
      .map((v) => v.id === 'color-contrast' ? {...v, nodes: v.nodes.filter((n) => !svgText(n) && !uncovered(n))} : v)
      .filter((v) => v.nodes.length)
      .map(brief),
  }
}"""


def describe(violations: list[dict]) -> str:
    return "\n".join(f"- {v['id']} ({v['impact']}, {v['count']} element{'s' if v['count'] != 1 else ''}): "
                     f"{v['help']}\n    " + "\n    ".join(v["targets"]) for v in violations)


@pytest.mark.parametrize(("path", "status"), [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_page_has_no_axe_violations(page, problems, axe_source, path, status):
    if status != 200:
        problems.expect_status(path)
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")
    page.evaluate(axe_source)
    results = page.evaluate(RUN_AXE, WCAG_TAGS)
    violations, incomplete = results["violations"], results["incomplete"]
    assert not violations, f"{path}: {len(violations)} axe violation(s)\n{describe(violations)}"
    assert not incomplete, f"{path}: {len(incomplete)} axe check(s) left for review\n{describe(incomplete)}"


# Every text in the picture against what is behind it: the first filled shape of its node, else white.
PICTURE_TEXT_CONTRAST = """() => {
  const rgb = (colour) => (colour.match(/[\\d.]+/g) || []).slice(0, 3).map(Number)
  const luminance = ([r, g, b]) => [r, g, b]
    .map((c) => c / 255).map((c) => c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0)
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
    return (hi + 0.05) / (lo + 0.05)
  }
  return [...document.querySelectorAll('.app-picture__viewport svg text')].map((text) => {
    const group = text.closest('g.node') || text.closest('svg')
    const shape = [...group.querySelectorAll('ellipse, polygon, path, rect')]
      .find((s) => s.closest('g.node') === text.closest('g.node') && getComputedStyle(s).fill.startsWith('rgb'))
    const behind = text.closest('g.node') && shape ? getComputedStyle(shape).fill : 'rgb(255, 255, 255)'
    return {text: text.textContent, fill: getComputedStyle(text).fill, behind,
            ratio: ratio(rgb(getComputedStyle(text).fill), rgb(behind))}
  })
}"""


@pytest.mark.parametrize("path", ["/people/officer-ali", "/nodes/social-housing-allocations"],
                         ids=["my-impact", "decision"])
def test_picture_text_contrast(page, path):
    """WCAG 1.4.3 for the picture, which axe leaves undecided: at least 4.5:1 everywhere."""
    page.goto(path)
    texts = page.evaluate(PICTURE_TEXT_CONTRAST)
    assert texts, "the picture has no text"
    low = [t for t in texts if t["ratio"] < 4.5]
    assert not low, "picture text below 4.5:1:\n" + "\n".join(
        f"- {t['text']!r} {t['fill']} on {t['behind']}: {t['ratio']:.2f}:1" for t in low[:10])
