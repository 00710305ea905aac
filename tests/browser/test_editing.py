"""A data owner's journey in Chromium: sign in, add an edge, preview and make a delete, undo it,
edit a dataset's quality and owner, and find it all in the history; axe on every form."""
from __future__ import annotations

import shutil
from typing import Iterator

import pytest
from playwright.sync_api import expect

from lineage.accounts import DEMO_ACCOUNTS, Accounts, ensure_demo_accounts
from lineage.consequence import removal_consequence
from lineage.graph import LineageGraph
from lineage.store import Store

from .conftest import Problems, open_page, serve
from .test_accessibility import RUN_AXE, WCAG_TAGS, describe

PASSWORD = {name: password for name, _, _, password in DEMO_ACCOUNTS}


@pytest.fixture(scope="module")
def accounts_db(samples_db, tmp_path_factory):
    db = tmp_path_factory.mktemp("editing") / "lineage.db"
    shutil.copyfile(samples_db, db)
    store = Store(db)
    ensure_demo_accounts(Accounts(store), actor="test")
    store.close()
    return db


@pytest.fixture(scope="module")
def accounts_url(accounts_db) -> Iterator[str]:
    yield from serve(accounts_db)


@pytest.fixture
def owner_problems(accounts_url) -> Problems:
    return Problems(accounts_url)


@pytest.fixture
def owner_page(browser, accounts_url, owner_problems) -> Iterator:
    yield from open_page(browser, accounts_url, owner_problems)


def no_axe_violations(page, axe_source) -> None:
    page.evaluate(axe_source)
    results = page.evaluate(RUN_AXE, WCAG_TAGS)
    assert not results["violations"], f"{page.url}:\n{describe(results['violations'])}"


def sign_in(page, name: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("Account name").fill(name)
    page.locator("#password").fill(PASSWORD[name])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


def test_owner_edits_adds_deletes_undoes_and_sees_history(owner_page, owner_problems, accounts_db, axe_source):
    page = owner_page
    owner_problems.expect_status("/edges/new?source=housing-register&asked=1&kind=informs")  # the form's error, on purpose
    sign_in(page, "jo")

    # Add an edge from a dataset Jo owns: the kinds and the other end are limited by the model.
    page.goto("/nodes/housing-register")
    page.get_by_role("link", name="Add an edge from it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Where does this data go next?")
    no_axe_violations(page, axe_source)
    page.get_by_label("A decision it informs").check()
    page.get_by_role("button", name="Continue").click()
    target = page.get_by_label("Name of the decision")
    expect(target).to_be_visible()
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Save").click()  # nothing chosen: a GOV.UK error
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the name of the decision the data goes to")
    no_axe_violations(page, axe_source)
    target.fill("Council Tax Reduction awards")
    page.get_by_label("Influence").select_option("supporting")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("which you can undo")

    # Preview a delete that matters: the sentence is the library's.
    store = Store(accounts_db)
    source, target_id = next(
        (e["source"], e["target"]) for e in store.edges(touching="housing-register")
        if removal_consequence(LineageGraph.from_store(store), edge=(e["source"], e["target"])).decision_count)
    sentence = removal_consequence(LineageGraph.from_store(store), edge=(source, target_id)).sentence
    page.goto(f"/edges/{source}/{target_id}/delete")
    expect(page.locator("#consequence")).to_have_text(sentence)
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("which you can undo")
    page.locator(".govuk-notification-banner a").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"delete edge {source} -> {target_id}")
    page.get_by_role("button", name="Undo this change").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is undone by")
    assert Store(accounts_db).edge(source, target_id)

    # Edit the dataset's quality, then hand it to another owner (last: Jo no longer owns it after).
    page.goto("/nodes/housing-register")
    page.get_by_role("link", name="Edit Housing register").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Housing register")
    no_axe_violations(page, axe_source)
    page.get_by_label("Timeliness score").fill("")
    page.get_by_role("button", name="Save").click()
    page.goto("/nodes/housing-register/edit")
    page.get_by_label("Timeliness score").fill("0.4")
    page.get_by_label("Owner", exact=True).fill("revs-manager-sandra")  # an id is found too
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Housing register")
    expect(page.get_by_role("link", name="Edit Housing register")).to_have_count(0)  # not Jo's any more

    page.goto("/history")
    no_axe_violations(page, axe_source)
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("edit dataset 'housing-register'")
    expect(rows.first).to_contain_text("jo")
    rows.first.get_by_role("link").click()
    expect(page.locator("table.app-diff")).to_contain_text("revs-manager-sandra")
    expect(page.locator("table.app-diff")).to_contain_text("0.4")
    no_axe_violations(page, axe_source)
    node = Store(accounts_db).node("housing-register")
    assert (node["owner"], node["quality"]["timeliness"]) == ("revs-manager-sandra", 0.4)


def test_forms_and_pages_have_no_axe_violations(owner_page, owner_problems, axe_source):
    page = owner_page
    owner_problems.expect_status("/sign-in")  # the empty form's 400, on purpose
    page.goto("/sign-in")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Sign in").click()  # empty: error summary and messages
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    no_axe_violations(page, axe_source)
    sign_in(page, "admin")
    for path in ("/nodes/new", "/nodes/new?kind=dataset", "/nodes/social-housing-allocations/delete",
                 "/bulk", "/account", "/changes/1", "/edges/new?target=housing-register",
                 "/edges/new?target=housing-register&kind=enters", "/your-data", "/nodes?kind=dataset&owner=none",
                 "/admin/accounts", "/admin/accounts/new", "/admin/accounts/jo"):
        page.goto(path)
        no_axe_violations(page, axe_source)
