"""Issue 16 in Chromium, signed in as the demo leader (rob): the walk from the leader's home to the
riskiest decision, its path to green and the owner of the dataset to fix, with axe-core on each page;
no sideways scrolling at 390 px on the leader pages; the home printed as one A4 page; search as you
type on Explore and What-if, and the same forms without JavaScript."""
from __future__ import annotations

import re
import shutil
from typing import Iterator

import pytest
from playwright.sync_api import expect

from lineage.accounts import Accounts, ensure_demo_accounts
from lineage.store import Store

from .conftest import Problems, open_page, serve
from .test_leader import run_axe

PHONE = {"width": 390, "height": 844}
LEADER_PAGES = ["/leader", "/decisions", "/insights", "/decisions/dcrg-nppf-decision",
                "/decisions/social-housing-allocations", "/explore", "/explore?name=housing",
                "/explore?name=Social+housing+allocations", "/explore?select=kind:ai_tool",
                "/what-if?dataset=Housing+register&dimension=timeliness&score=0.4", "/what-if?dataset=housing"]


@pytest.fixture(scope="module")
def leader_url(samples_db, tmp_path_factory) -> Iterator[str]:
    """The app on a copy of the samples with the demo accounts."""
    db = tmp_path_factory.mktemp("leader-home") / "lineage.db"
    shutil.copyfile(samples_db, db)
    store = Store(db)
    ensure_demo_accounts(Accounts(store), actor="test")
    store.close()
    yield from serve(db)


def sign_in(page) -> None:
    page.goto("/sign-in")
    page.get_by_label("Account name").fill("rob")
    page.locator("#password").fill("leader-demo-pass")
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture(scope="module")
def signed_in(browser, leader_url) -> dict:
    """The demo leader's cookies, signed in once (sign-in is rate-limited per account)."""
    context = browser.new_context(base_url=leader_url)
    page = context.new_page()
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/leader$"))  # a leader lands on their home
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def rob(browser, leader_url, signed_in) -> Iterator:
    """A page signed in as the demo leader, on the leader's home."""
    problems = Problems(leader_url)
    for page in open_page(browser, leader_url, problems, storage_state=signed_in):
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/leader$"))
        yield page


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: {width} px wide at {PHONE['width']} px"


def test_leader_home_to_riskiest_decision_to_its_path_to_green_to_the_dataset_owner(rob, axe_source):
    page = rob
    expect(page.locator("h1")).to_have_text("What needs doing")
    expect(page.locator("#board-summary")).to_contain_text("decisions rest on data that can be trusted poorly")
    run_axe(page, axe_source, page.url)
    first = page.locator("#at-risk-list > li").first
    decision = first.locator("h3 a").inner_text().strip()
    action = first.locator(".app-board__action").inner_text()
    owner = re.match(r"Ask (.+?) to raise", action).group(1)
    first.get_by_role("link", name=re.compile("^See the path to green")).click()
    expect(page).to_have_url(re.compile(r"/decisions/[a-z0-9._-]+#path-to-green$"))
    expect(page.locator("h1")).to_have_text(decision)
    expect(page.locator("#path-to-green")).to_be_in_viewport()
    run_axe(page, axe_source, page.url)
    fix = page.locator(".app-fixes li").first
    expect(fix).to_contain_text(f"Owner: {owner}")
    fix.get_by_role("link", name=owner).click()
    expect(page.locator("h1")).to_contain_text(owner)
    run_axe(page, axe_source, page.url)


@pytest.mark.parametrize("path", LEADER_PAGES)
def test_leader_pages_pass_axe_and_fit_a_phone(rob, axe_source, path):
    page = rob
    page.goto(path)
    run_axe(page, axe_source, path)
    page.set_viewport_size(PHONE)
    no_sideways_scroll(page)


def test_leader_home_prints_as_one_page(rob):
    page = rob
    page.emulate_media(media="print")
    for hidden in (".govuk-header, .govuk-service-navigation", ".govuk-footer", ".app-contents"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#at-risk-list > li")).to_have_count(5)
    pdf = page.pdf(format="A4", print_background=True)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1, f"the board paper prints on {pages} pages"
    assert page.evaluate("getComputedStyle(document.querySelector('.app-board a'), '::after').content") \
        in ("none", "normal")  # no addresses printed after links


def test_search_as_you_type_on_what_if_and_explore(rob):
    page = rob
    page.goto("/what-if")
    box = page.get_by_role("combobox", name="Dataset")
    box.press_sequentially("housing reg", delay=20)
    options = page.get_by_role("option")
    expect(options.first).to_have_text(re.compile(r"^Housing register"))
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(box).to_have_value("Housing register")
    expect(page.get_by_role("listbox")).to_be_hidden()
    page.get_by_label("New score").fill("0.4")
    page.get_by_role("button", name="Show what would change").click()
    expect(page.locator("#dataset-quality")).to_have_text("Housing register now")

    page.goto("/explore")
    box = page.get_by_role("combobox", name="Name")
    box.press_sequentially("social housing all", delay=20)
    page.get_by_role("option", name=re.compile("^Social housing allocations")).click()
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#selection-count")).to_contain_text("1 node")
    expect(page.locator(".app-picture__viewport svg")).to_be_visible()
    smallest = page.evaluate(LABEL_PX)
    assert smallest >= 12, f"the picture's smallest label is {smallest:.1f} px at 1280 px"


# The smallest label of the picture, in screen pixels (its font size times the picture's scale).
LABEL_PX = """() => {
  const svg = document.querySelector('.app-picture__viewport svg')
  const scale = svg.getScreenCTM().a
  return Math.min(...[...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale))
}"""


def test_names_work_without_javascript(browser, leader_url):
    context = browser.new_context(java_script_enabled=False, base_url=leader_url)
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("Account name").fill("rob")
    page.locator("#password").fill("leader-demo-pass")
    page.get_by_role("button", name="Sign in").click()
    page.goto("/explore")
    page.get_by_label("Name", exact=True).fill("housing")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator("#choices")).to_have_text("Which node do you mean?")
    page.locator("#choice-list").get_by_role("link", name="Housing register", exact=True).click()
    expect(page.locator("#selection-count")).to_contain_text("1 node")
    page.goto("/what-if")
    page.get_by_label("Dataset").fill("hosuing regster")
    page.get_by_role("button", name="Show what would change").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Did you mean “Housing register”")
    context.close()
