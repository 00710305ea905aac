"""Owners and admins in Chromium (issue 15): Your data, an edit with several errors at once, the
success banner, an edge added by name with search as you type, the cross-organisation warning, a
merging CSV upload; an admin adds an account and resets a password, and the new user changes
their own password. axe on every page."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from lineage.accounts import Accounts
from lineage.store import Store

# A database and a server of this module's own (module-scoped fixtures are made again per module).
from .test_editing import accounts_db, accounts_url, no_axe_violations, owner_page, owner_problems, sign_in  # noqa: F401


def test_owner_journey(owner_page, owner_problems, accounts_db, axe_source):
    page, problems, owner_db = owner_page, owner_problems, accounts_db
    problems.expect_status("/nodes/housing-register/edit")  # the form's errors, on purpose
    problems.expect_status("/edges/new?source=housing-register&kind=feeds")
    sign_in(page, "jo")
    expect(page).to_have_url(re.compile(r"/your-data$"))  # the owner's front door
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    expect(page.locator("#summary")).to_contain_text("You own 8 things")
    expect(page.locator("#attention")).to_contain_text("Housing register")
    expect(page.get_by_role("heading", name="Datasets (4)")).to_be_visible()
    no_axe_violations(page, axe_source)

    # An edit with several errors: all at once, in page order, in plain words.
    page.goto("/nodes/housing-register/edit")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_label("Number of records").fill("lots")
    page.get_by_label("Accuracy score").fill("1.7")
    page.get_by_role("button", name="Save").click()
    errors = page.locator(".govuk-error-summary__list li")
    expect(errors).to_have_text(["Enter a name", "Enter number of records as a whole number, like 1,240",
                                 "Enter a score for accuracy from 0 to 1, like 0.85"])
    no_axe_violations(page, axe_source)
    page.get_by_label("Name", exact=True).fill("Housing register")
    page.get_by_label("Number of records").fill("8,500")
    page.get_by_label("Accuracy score").fill("0.81")
    page.get_by_text("Timeliness: note and date assessed").click()  # folded away until wanted
    page.locator("#quality_timeliness_note").fill("Backlog cleared in October")
    page.locator("#quality_timeliness_as_of_day").fill("3")
    page.locator("#quality_timeliness_as_of_month").fill("October")
    page.locator("#quality_timeliness_as_of_year").fill("2026")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Housing register is saved")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("which you can undo")
    timeliness = Store(owner_db).node("housing-register")["quality"]["timeliness"]
    assert (timeliness["note"], timeliness["as_of"]) == ("Backlog cleared in October", "2026-10-03")

    # An edge added by name: type, choose from the list (grouped by organisation), save.
    page.goto("/edges/new?source=housing-register")
    expect(page.get_by_role("heading", level=1)).to_have_text("Where does this data go next?")
    page.get_by_label("A decision it informs").check()
    page.get_by_role("button", name="Continue").click()
    name = page.get_by_role("combobox", name="Name of the decision")
    name.press_sequentially("council tax", delay=30)
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("group").first).to_contain_text("Northbridge Borough Council")
    no_axe_violations(page, axe_source)
    name.press("ArrowDown")
    name.press("Enter")
    expect(name).to_have_value(re.compile("Council Tax Reduction"))
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Housing register now informs Council Tax")

    # Across organisations: a warning to confirm first.
    page.goto("/edges/new?source=housing-register&kind=feeds")
    name = page.get_by_role("combobox", name="Name of the AI tool or process")
    name.press_sequentially("emergency admissions", delay=30)
    page.get_by_role("option", name=re.compile("Emergency admissions and bed demand forecast")).click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-warning-text")).to_contain_text("This joins two organisations")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Confirm that data goes from Northbridge Borough "
                                                                 "Council to Riverside University Hospitals")
    no_axe_violations(page, axe_source)
    page.get_by_label(re.compile("^Yes, data goes from")).check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("now feeds Emergency admissions")

    # A merging CSV upload, from Your data: one column changes, the rest stays.
    page.goto("/your-data")
    page.get_by_role("link", name="Upload changes from a spreadsheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload changes")
    no_axe_violations(page, axe_source)
    page.get_by_label("Upload a file").set_input_files(
        files=[{"name": "timeliness.csv", "mimeType": "text/csv",
                "buffer": b"id,quality.timeliness,refresh\nhousing-register,0.86,\n"}])
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.locator("#blanks-rule")).to_contain_text("leave what is stored as it is")
    expect(page.locator("main")).to_contain_text("Timeliness: 0.71 → 0.86")
    expect(page.locator("main")).not_to_contain_text("refreshed")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Apply all of these changes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Applied timeliness.csv")
    node = Store(owner_db).node("housing-register")
    assert node["quality"]["timeliness"]["score"] == 0.86 and node["quality"]["timeliness"]["note"]
    assert node["refresh"] == "nightly"

    # Lists people can use: mine, sorted by the decisions each feeds.
    page.goto("/nodes?owner=mine&sort=decisions&order=desc")
    expect(page.locator("#node-table tbody tr")).to_have_count(8)
    expect(page.locator("#node-table tbody tr").first).to_contain_text("HomeChoice Northbridge lettings portal")
    no_axe_violations(page, axe_source)


def test_admin_adds_an_account_and_resets_a_password_and_a_user_changes_their_own(owner_page, owner_problems, accounts_db, axe_source):
    page, problems, owner_db = owner_page, owner_problems, accounts_db
    problems.expect_status("/account/password")  # the mistyped new password, on purpose
    problems.expect_status("/account")  # a token whose end was not chosen, on purpose
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"/admin/accounts$"))  # the admin's front door
    expect(page.get_by_role("heading", level=1)).to_have_text("Accounts")
    no_axe_violations(page, axe_source)
    page.get_by_role("link", name="Add an account").click()
    page.get_by_label("Account name").fill("sandra")
    page.get_by_label(re.compile("Owner: edits")).check()
    person = page.get_by_role("combobox", name=re.compile("Who they are in the map"))
    person.press_sequentially("sandra", delay=30)
    page.get_by_role("option", name="Sandra Bell").click()
    page.get_by_label(re.compile("Make a link they use")).check()
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Add the account").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The account sandra is added as owner")
    link = page.locator("#set-password-link")
    expect(page.get_by_role("button", name="Copy the link")).to_be_visible()
    no_axe_violations(page, axe_source)
    url = link.inner_text().strip()

    # Sandra sets her password with the link, and signs in.
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Set your password")
    no_axe_violations(page, axe_source)
    page.get_by_label("New password").fill("sandra's long password")
    page.get_by_label("The same password again").fill("sandra's long password")
    page.get_by_role("button", name="Set my password").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password is set")
    page.get_by_label("Account name").fill("sandra")
    page.locator("#password").fill("sandra's long password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as sandra")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/your-data$"))

    # Sandra changes her own password: a mistake is said plainly, then the change is confirmed.
    page.get_by_role("link", name="Your account").first.click()
    page.get_by_role("link", name="Change your password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    no_axe_violations(page, axe_source)
    page.get_by_label("Your current password").fill("sandra's long password")
    page.get_by_label("New password", exact=True).fill("three random words here")
    page.get_by_label("New password again").fill("three random words there")
    page.get_by_role("button", name="Change your password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The two new passwords are not the same")
    no_axe_violations(page, axe_source)
    page.get_by_label("Your current password").fill("sandra's long password")
    page.get_by_label("New password", exact=True).fill("three random words here")
    page.get_by_label("New password again").fill("three random words here")
    page.get_by_role("button", name="Change your password").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password is changed")
    page.get_by_role("button", name=re.compile("Sign out")).click()
    page.goto("/sign-in")
    page.get_by_label("Account name").fill("sandra")
    page.locator("#password").fill("three random words here")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as sandra")).to_be_visible()
    page.get_by_role("button", name=re.compile("Sign out")).click()

    # The admin resets Jo's password: a new link, shown once.
    sign_in(page, "admin")
    page.get_by_role("link", name="jo", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("jo")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Reset the password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Give jo this link")
    expect(page.locator("#set-password-link")).to_contain_text("/set-password/")
    log = [entry["action"] for entry in Accounts(Store(owner_db)).log(user="jo")]
    assert log[0].startswith("set-password link made")

    # A token: shown wrapped with a copy button; revoking asks first.
    page.goto("/account")
    page.get_by_label("What the token is for").fill("Airflow pipelines")
    page.get_by_role("button", name="Make a token").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose when the token stops working")  # not chosen for you
    page.get_by_label("In 90 days").check()
    page.get_by_role("button", name="Make a token").click()
    expect(page.get_by_role("button", name="Copy the token")).to_be_visible()
    no_axe_violations(page, axe_source)
    page.get_by_role("link", name="Revoke the token for Airflow pipelines").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revoke the token for Airflow pipelines?")
    no_axe_violations(page, axe_source)
    page.get_by_role("button", name="Yes, revoke it").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The token for Airflow pipelines is revoked")
