"""Where things came from, in Chromium (issue 19): an admin uploads a dbt project's artefacts as a zip,
applies the preview, sees the source on a node page, filters its links by source, and removes
everything the project added from the sources page; axe on each page on the way."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import expect

from lineage.accounts import Accounts, ensure_demo_accounts
from lineage.store import Store

from .conftest import Problems, open_page, serve
from .test_editing import no_axe_violations, sign_in

TARGET = Path(__file__).parent.parent / "data" / "dbt" / "target"


@pytest.fixture(scope="module")
def sources_url(samples_db, tmp_path_factory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("sources") / "lineage.db"
    shutil.copyfile(samples_db, db)
    store = Store(db)
    ensure_demo_accounts(Accounts(store), actor="test")
    store.close()
    yield from serve(db)


@pytest.fixture
def admin_problems(sources_url) -> Problems:
    return Problems(sources_url)


@pytest.fixture
def admin_page(browser, sources_url, admin_problems) -> Iterator:
    yield from open_page(browser, sources_url, admin_problems)


def test_an_admin_imports_a_dbt_project_sees_its_source_and_removes_it(admin_page, admin_problems, axe_source,
                                                                        tmp_path):
    page = admin_page
    archive = tmp_path / "target.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in TARGET.iterdir():
            out.write(path, f"target/{path.name}")
    sign_in(page, "admin")
    page.goto("/bulk")
    page.set_input_files("input[type=file]", str(archive))
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.locator("#preview-summary")).to_contain_text("add 9 nodes and 8 edges")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Apply all of these changes").click()
    expect(page.get_by_text("which you can undo")).to_be_visible()

    page.goto("/nodes/marts.fct_allocations")
    expect(page.locator("#where-from")).to_contain_text("The dbt project housing_warehouse, imported")
    page.get_by_role("link", name="Add an edge from it").click()
    page.get_by_label("A decision it informs").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Name of the decision").fill("social-housing-allocations")  # an id is found too
    page.get_by_role("button", name="Save").click()
    table = page.locator("#edges + form + table, #edges ~ table").first
    expect(table).to_contain_text("Added by hand in the web app")
    page.get_by_label("Show the links that came from").select_option(label="The dbt project housing_warehouse")
    page.get_by_role("button", name="Show these links").click()
    expect(table).not_to_contain_text("Social housing allocations")
    expect(table).to_contain_text("int_priority_inputs")
    no_axe_violations(page, axe_source)

    page.goto("/sources")
    no_axe_violations(page, axe_source)
    page.get_by_role("link", name="Remove everything it added from the dbt project housing_warehouse").click()
    expect(page.locator("#remove-summary")).to_contain_text("remove 9 things and 9 links")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Remove all of these").click()
    expect(page.get_by_role("heading", name="Removed everything that came from the dbt project housing_warehouse")).to_be_visible()
    admin_problems.expect_status("/nodes/marts.fct_allocations")
    assert page.goto("/nodes/marts.fct_allocations").status == 404
