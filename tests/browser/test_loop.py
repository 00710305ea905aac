"""Closing the loop in Chromium: an owner posts an outcome update, a contributor sees it marked new
on My impact and flags a problem on the owner's data, the owner acknowledges it with a reply, and
the contributor sees the reply; axe-core on every new page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from .test_editing import (accounts_db, accounts_url, no_axe_violations, owner_page,  # noqa: F401 (fixtures)
                           owner_problems, sign_in)

DECISION = "social-housing-allocations"  # jo's; officer-ali's records reach it
DATASET = "housing-register"  # jo's, on officer-ali's way to it


def test_update_flag_answer_and_reply(owner_page, owner_problems, axe_source, monkeypatch):
    page = owner_page
    owner_problems.expect_status(f"/nodes/{DATASET}/flag")  # the empty form's 400, on purpose

    # Ali has been to My impact before: what comes after is new to her.
    sign_in(page, "ali")  # signing in lands on My impact (issue 14)
    expect(page).to_have_url(re.compile(r"/people/officer-ali$"))
    expect(page.locator("#updates")).to_contain_text("1,412 homes let")  # the outcomes recorded on decisions
    expect(page.locator("#updates .app-new-tag")).to_have_count(0)

    # Jo posts an outcome update on a decision Ali's records reach.
    sign_in(page, "jo")
    page.goto(f"/nodes/{DECISION}")
    page.get_by_role("link", name=re.compile("^Post an update")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Post an outcome update")  # the next page, before axe
    no_axe_violations(page, axe_source)
    page.get_by_label("What came of it").fill("Allocations now use the corrected register: 2,300 households re-banded.")
    page.get_by_label("People helped (optional)").fill("2300")
    page.get_by_role("button", name="Post the update").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is posted")
    expect(page.get_by_role("heading", level=1)).to_contain_text("What came of")
    no_axe_violations(page, axe_source)
    page.get_by_role("link", name="Edit this update").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit your update")  # the next page, before axe
    no_axe_violations(page, axe_source)

    # Ali sees it, marked New, with the path from her records.
    sign_in(page, "ali")  # on My impact, where the update is new to her
    expect(page).to_have_url(re.compile(r"/people/officer-ali$"))
    update = page.locator("#updates li").first
    expect(update).to_contain_text("2,300 households re-banded")
    expect(update.locator(".govuk-tag")).to_have_text("New")
    expect(update).to_contain_text("How your records reach it")
    no_axe_violations(page, axe_source)

    # She flags a problem on Jo's dataset, from her My impact page.
    page.locator("#quality summary").click()  # the datasets on the way, folded under Details
    page.get_by_role("link", name=re.compile("^Flag a problem with Housing register")).click()
    expect(page.locator("#affected")).to_contain_text("decision")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Flag the problem").click()  # empty: a GOV.UK error
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write 1 to 2000 characters")
    no_axe_violations(page, axe_source)
    page.get_by_label("Timeliness").check()
    page.get_by_label("What is wrong").fill("Tenancy end dates are entered weeks after the move.")
    page.get_by_label("How many records are affected (optional)").fill("40")
    page.get_by_role("button", name="Flag the problem").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is with the owner")
    expect(page.locator("#flag-status")).to_have_text("Open")
    no_axe_violations(page, axe_source)

    # Jo finds it in the inbox and acknowledges it with a reply.
    sign_in(page, "jo")
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")  # the next page, before axe
    no_axe_violations(page, axe_source)
    page.locator("table.app-flags").get_by_role("link", name="Flag 1").click()
    page.get_by_label("Acknowledged: we are looking at it").check()
    page.get_by_label("Reply to the person who flagged it (optional)").fill("Thanks: we are clearing the backlog.")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Save the answer").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The flag is acknowledged")
    page.get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name=re.compile("^Acknowledged")).click()
    expect(page.locator("table.app-flags")).to_contain_text("Flag 1")

    # Ali sees the reply: on her flags, on the flag, in her digest.
    sign_in(page, "ali")
    page.goto("/flags")
    expect(page.locator("table.app-flags")).to_contain_text("Thanks: we are clearing the backlog.")
    no_axe_violations(page, axe_source)
    page.get_by_role("link", name="Flag 1").click()
    expect(page.locator("#flag-reply")).to_have_text("Thanks: we are clearing the backlog.")
    expect(page.locator("#flag-status")).to_have_text("Acknowledged")
    page.goto("/digest")
    expect(page.locator("#replies + ul")).to_contain_text("Thanks: we are clearing the backlog.")
    expect(page.locator("#digest-updates")).to_contain_text("2,300 households re-banded")
    no_axe_violations(page, axe_source)

    # A leader sees flags left open too long on Insights.
    monkeypatch.setenv("LINEAGE_FLAG_STALE_DAYS", "0")
    sign_in(page, "jo")  # only open flags grow stale: reopen it
    page.goto("/flags/1")
    page.get_by_label("Open", exact=True).check()
    page.get_by_role("button", name="Save the answer").click()
    sign_in(page, "rob")
    page.goto("/insights")
    expect(page.locator("table.app-stale-flags")).to_contain_text("Tenancy end dates")
    no_axe_violations(page, axe_source)
