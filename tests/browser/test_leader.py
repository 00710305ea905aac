"""A leader's walk in Chromium: insights -> the riskiest decision -> its weakest dataset -> what-if;
sorting the decisions table by its headers; and axe-core on every leader page (no WCAG 2.2 AA
violations). The samples are served with no accounts, so every page is open to read."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .test_accessibility import RUN_AXE, WCAG_TAGS, describe

COUNCIL = "Northbridge%20Borough%20Council"

# (test id, path, HTTP status)
LEADER_PAGES = [
    ("insights", "/insights", 200),
    ("insights-organisation", f"/insights?organisation={COUNCIL}&by=largest_people_affected", 200),
    ("decisions", "/decisions", 200),
    ("decisions-filtered-sorted", "/decisions?confidence=red&sort=people&order=desc", 200),
    ("decisions-none-match", "/decisions?q=no-such-decision", 200),
    ("decision", "/decisions/social-housing-allocations", 200),
    ("decision-single-points-of-failure", "/decisions/ctr-scheme", 200),
    ("decision-nothing-upstream", "/decisions/dcrg-devolution-deadline", 200),
    ("decision-not-found", "/decisions/no-such-decision", 404),
    ("explore-empty", "/explore", 200),
    ("explore-picture", "/explore?select=%2Bsocial-housing-allocations&kinds=dataset&kinds=ai_tool&depth=1", 200),
    ("explore-too-big", "/explore?select=kind:dataset", 200),
    ("explore-bad-selector", "/explore?select=%2B%2B", 400),
    ("what-if-empty", "/what-if", 200),
    ("what-if-dataset", "/what-if?dataset=housing-register", 200),
    ("what-if-result", "/what-if?dataset=housing-register&dimension=timeliness&score=0.4", 200),
    ("what-if-bad-score", "/what-if?dataset=housing-register&score=abc", 400),
]


def run_axe(page, axe_source, path):
    page.evaluate(axe_source)
    results = page.evaluate(RUN_AXE, WCAG_TAGS)
    violations, incomplete = results["violations"], results["incomplete"]
    assert not violations, f"{path}: {len(violations)} axe violation(s)\n{describe(violations)}"
    assert not incomplete, f"{path}: {len(incomplete)} axe check(s) left for review\n{describe(incomplete)}"


@pytest.mark.parametrize(("path", "status"), [p[1:] for p in LEADER_PAGES], ids=[p[0] for p in LEADER_PAGES])
def test_leader_page_has_no_axe_violations(page, problems, axe_source, path, status):
    if status != 200:
        problems.expect_status(path)
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")
    run_axe(page, axe_source, path)


def test_insights_to_the_riskiest_decision_to_its_weakest_dataset_to_what_if(page, axe_source):
    page.goto("/")
    page.get_by_role("link", name="Insights", exact=True).click()
    expect(page).to_have_url(re.compile(r"/insights$"))
    expect(page.locator("h1")).to_have_text("Where the risk is, and what is ready for AI")
    expect(page.locator("figure svg[role=img]")).to_have_count(3)

    page.get_by_text(re.compile(r"^See the \d+ riskiest decisions")).click()  # the detail, folded under the summary
    risky = page.locator("#risky-decisions ~ details table tbody tr").first
    decision = risky.locator("th a").inner_text().strip()
    rating = risky.locator(".govuk-tag").first.inner_text().strip()
    assert rating in ("RED", "AMBER")
    risky.locator("th a").click()
    expect(page).to_have_url(re.compile(r"/decisions/[a-z0-9._-]+$"))
    decision_url = page.url
    expect(page.locator("h1")).to_have_text(decision)
    expect(page.locator("#confidence-text")).to_contain_text(f"{rating.capitalize()}: the data behind this decision can be trusted")
    expect(page.locator(".app-picture__viewport svg")).to_be_visible()
    run_axe(page, axe_source, page.url)

    weakest = page.locator("#weakest-dataset")
    dataset = weakest.inner_text().strip()
    weakest.click()
    expect(page).to_have_url(re.compile(r"/nodes/[a-z0-9._-]+$"))
    expect(page.locator("h1")).to_have_text(dataset)

    page.locator("#what-if-link").click()
    expect(page).to_have_url(re.compile(r"/what-if\?dataset="))
    expect(page.locator("#dataset-quality")).to_have_text(f"{dataset} now")
    page.get_by_label("New score").fill("0.1")
    page.get_by_role("button", name="Show what would change").click()
    expect(page).to_have_url(re.compile(r"/what-if\?dataset=.*&score=0\.1"))
    expect(page.locator("#what-if-summary")).to_contain_text(re.compile(r"would move (no decision|the decision|all|\d+ of)"))
    if rating == "AMBER":  # its weakest link just got weaker: it falls to red
        expect(page.locator("#changed-decisions tbody")).to_contain_text(decision)
    expect(page.get_by_text("Nothing has been saved")).to_be_visible()
    run_axe(page, axe_source, page.url)

    page.goto(decision_url)
    expect(page.locator("h1")).to_have_text(decision)  # back to the decision, nothing changed
    expect(page.locator("#confidence-text")).to_contain_text(f"{rating.capitalize()}: the data behind this decision can be trusted")


def test_decisions_table_sorts_by_its_headers_and_filters(page):
    page.goto("/decisions")
    header = page.locator("th", has=page.get_by_role("link", name=re.compile(r"^People affected")))
    expect(header).not_to_have_attribute("aria-sort", re.compile("."))
    header.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=people&order=desc"))
    header = page.locator("th", has=page.get_by_role("link", name=re.compile(r"^People affected")))
    expect(header).to_have_attribute("aria-sort", "descending")
    numbers = [int(text.replace(",", "")) for text in page.locator("tbody tr td:nth-child(5)").all_inner_texts()
               if text.strip() not in ("–", "")]
    assert numbers == sorted(numbers, reverse=True) and numbers
    header.get_by_role("link").click()
    expect(page.locator("th[aria-sort]")).to_have_attribute("aria-sort", "ascending")

    page.get_by_text("Filter the decisions").click()
    page.get_by_label("Data confidence").select_option("red")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"confidence=red"))
    # Wait for the filtered page itself (on a loaded machine the URL changes before its rows are there).
    expect(page.locator("#results-count")).to_contain_text("of 26 decisions match")
    tags = page.locator("tbody tr td:nth-child(8) .govuk-tag").all_inner_texts()
    assert tags and set(tags) == {"RED"}


def test_explore_draws_a_selection_and_its_address_reproduces_it(page):
    page.goto("/explore")
    page.get_by_text("Advanced: selectors, kinds, steps and direction").click()
    page.get_by_label("Selector").fill("+ctr-scheme")
    page.get_by_label("Datasets").check()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#selection-count")).to_contain_text("dataset")
    expect(page.locator(".app-picture__viewport svg")).to_be_visible()
    address = page.locator("#view-link").get_attribute("href")
    page.goto("/")
    page.goto(address)
    expect(page.get_by_label("Selector")).to_have_value("+ctr-scheme")
    expect(page.get_by_label("Datasets")).to_be_checked()
    expect(page.locator(".app-picture__viewport svg")).to_be_visible()
