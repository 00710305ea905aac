"""The bulk page with dbt zips, SQL and ATRS files, and where things came from on pages (issue 19),
through Flask's test client with CSRF on."""
from __future__ import annotations

import io as stdio
import re
import zipfile
from pathlib import Path

from conftest import client_as

from lineage.store import Store

DATA = Path(__file__).parent / "data"
TARGET = DATA / "dbt" / "target"


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def upload(client, name: str, content: bytes):
    token = token_of(client.get("/bulk").text)
    return client.post("/bulk", data={"csrf_token": token, "file": (stdio.BytesIO(content), name)},
                       content_type="multipart/form-data")


def apply(client, location: str):
    preview = client.get(location)
    return client.post(location + "/apply", data={"csrf_token": token_of(preview.text)})


def dbt_zip() -> bytes:
    buffer = stdio.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in TARGET.iterdir():
            archive.write(path, f"target/{path.name}")
    return buffer.getvalue()


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_a_dbt_zip_is_previewed_then_applied_as_one_change_that_undoes(app, db):
    admin = client_as(app, "admin")
    version = Store(db).version
    uploaded = upload(admin, "target.zip", dbt_zip())
    assert uploaded.status_code == 302 and Store(db).version == version  # a dry run
    preview = admin.get(uploaded.location)
    assert "add 9 nodes and 8 edges" in text(preview)
    twin = admin.get(uploaded.location + ".json").json
    assert twin["counts"]["nodes_added"] == 9 and twin["notes"] == []
    applied = apply(admin, uploaded.location)
    assert applied.status_code == 302 and "/changes/" in applied.location
    change = int(applied.location.rsplit("/", 1)[1])
    store = Store(db)
    assert store.version == version + 1 and store.node("marts.fct_allocations")["origin"]["type"] == "dbt"
    again = upload(admin, "target.zip", dbt_zip())
    assert "This file changes nothing" in text(admin.get(again.location))
    undo = admin.post(f"/changes/{change}/undo", data={"csrf_token": token_of(admin.get(f"/changes/{change}").text)})
    assert undo.status_code == 302
    assert Store(db).kinds_of(["marts.fct_allocations"]) == {}


def test_a_sql_upload_lists_the_statements_it_could_not_read(app, db):
    admin = client_as(app, "admin")
    uploaded = upload(admin, "warehouse.sql", (DATA / "sql" / "warehouse.sql").read_bytes())
    page = admin.get(uploaded.location)
    assert page.status_code == 200
    assert "What to know before you apply it" in page.text
    assert "warehouse.sql: line 23: this statement could not be read" in text(page)
    assert apply(admin, uploaded.location).status_code == 302
    assert Store(db).node("reporting.open_applications")["origin"]["name"] == "warehouse.sql"


def test_atrs_records_upload_in_both_formats(app, db):
    admin = client_as(app, "admin")
    for name in ("housing-prioritisation-model.json", "atrs-v2.1.csv"):
        uploaded = upload(admin, name, (DATA / "atrs" / name).read_bytes())
        assert uploaded.status_code == 302, text(uploaded)
        assert apply(admin, uploaded.location).status_code == 302
    store = Store(db)
    assert store.node("pothole-report-triage")["phase"] == "beta-pilot"
    tools = [n for n in store.nodes(kind="ai_tool") if n["name"] == "Housing prioritisation model"]
    assert len(tools) == 1 and tools[0]["atrs_url"].startswith("https://www.gov.uk/algorithmic-transparency-records/")


def test_bad_import_files_say_what_is_wrong_and_change_nothing(app, db):
    admin = client_as(app, "admin")
    version = Store(db).version
    missing = upload(admin, "records.csv", b"name,description,atrs_version\nTriage,Sorts,2.1\n")
    assert missing.status_code == 400 and "records.csv: line 1: missing the column organisation" in text(missing)
    cut = upload(admin, "target.zip", b"PK\x03\x04 not really a zip")
    assert cut.status_code == 400 and "target.zip: is not a zip file" in text(cut)
    truncated = upload(admin, "record.json", (DATA / "atrs" / "housing-prioritisation-model.json").read_bytes()[:400])
    assert truncated.status_code == 400 and "record.json: line" in text(truncated)
    odd = upload(admin, "notes.txt", b"hello")
    assert odd.status_code == 400 and ".zip (a zip of a dbt project&#39;s target folder) file" in odd.text
    assert Store(db).version == version


def test_an_owner_cannot_import_over_what_others_own(app, db):
    jo = client_as(app, "jo")
    admin = client_as(app, "admin")
    apply(admin, upload(admin, "atrs-v2.1.csv", (DATA / "atrs" / "atrs-v2.1.csv").read_bytes()).location)
    assert upload(jo, "atrs-v2.1.csv", (DATA / "atrs" / "atrs-v2.1.csv").read_bytes()).status_code == 403


def test_node_pages_say_where_things_came_from_and_filter_their_links(app, db):
    admin = client_as(app, "admin")
    apply(admin, upload(admin, "target.zip", dbt_zip()).location)
    page = admin.get("/nodes/staging.stg_applications")
    assert "Where this came from" in page.text
    assert re.search(r"The dbt project housing_warehouse, imported \d+ \w+ 20\d\d", text(page))
    assert admin.get("/nodes/staging.stg_applications.json").json["where_from"].startswith("the dbt project housing_warehouse")
    # a link drawn by hand beside the imported ones: the filter tells them apart
    with Store(db).change("admin", "by hand") as change:
        change.add_edge({"source": "marts.fct_allocations", "target": "social-housing-allocations", "kind": "informs",
                         "origin": {"type": "hand", "name": "web app", "date": "2026-12-04"}})
    links = admin.get("/nodes/marts.fct_allocations")
    assert 'id="edge-source"' in links.text and "Added by hand in the web app" in links.text
    only_dbt = admin.get("/nodes/marts.fct_allocations?source=dbt:housing_warehouse")
    assert "Social housing allocations" not in only_dbt.text.split('id="edges"')[1].split('id="history"')[0]
    only_hand = admin.get("/nodes/marts.fct_allocations?source=hand:web app")
    table = only_hand.text.split('id="edges"')[1].split('id="history"')[0]
    assert "Social housing allocations" in table and "int_priority_inputs" not in table


def test_node_lists_filter_by_source(app, db):
    admin = client_as(app, "admin")
    apply(admin, upload(admin, "target.zip", dbt_zip()).location)
    listed = admin.get("/nodes.json?source=dbt:housing_warehouse")
    assert listed.json["total"] == 9 and listed.json["source"] == "dbt:housing_warehouse"
    page = admin.get("/nodes?kind=decision&source=dbt:housing_warehouse")
    assert "Only what came from the dbt project housing_warehouse" in text(page) and "Weekly allocations decision" in page.text
    assert admin.get("/nodes?source=nowhere").status_code == 400


def test_the_sources_page_and_removing_one_source(app, db):
    admin = client_as(app, "admin")
    apply(admin, upload(admin, "target.zip", dbt_zip()).location)
    listed = admin.get("/sources")
    assert listed.status_code == 200 and "The dbt project housing_warehouse" in listed.text
    assert admin.get("/sources.json").json["sources"][0]["key"] == "dbt:housing_warehouse"
    assert "Remove everything it added" in listed.text
    assert "Remove everything it added" not in client_as(app, "rob").get("/sources").text  # leaders read only
    preview = admin.get("/sources/remove?source=dbt:housing_warehouse")
    assert "This would remove 9 things and 8 links" in text(preview)
    assert admin.get("/sources/remove.json?source=dbt:housing_warehouse").json["counts"]["nodes_removed"] == 9
    removed = admin.post("/sources/remove?source=dbt:housing_warehouse",
                         data={"csrf_token": token_of(preview.text), "version": re.search(
                             r'name="version" value="(\d+)"', preview.text).group(1)})
    assert removed.status_code == 302 and Store(db).kinds_of(["cms.households"]) == {}
    assert admin.get("/sources/remove?source=dbt:housing_warehouse").status_code == 404


def test_removing_a_source_after_the_graph_changed_shows_the_new_preview(app, db):
    admin = client_as(app, "admin")
    apply(admin, upload(admin, "target.zip", dbt_zip()).location)
    preview = admin.get("/sources/remove?source=dbt:housing_warehouse")
    stale = admin.post("/sources/remove?source=dbt:housing_warehouse",
                       data={"csrf_token": token_of(preview.text), "version": "1"})
    assert stale.status_code == 302 and "/sources/remove" in stale.location
    assert Store(db).node("cms.households")


def test_owners_remove_a_source_only_when_they_own_all_it_added(app, db):
    admin, jo = client_as(app, "admin"), client_as(app, "jo")
    apply(admin, upload(admin, "target.zip", dbt_zip()).location)
    assert jo.get("/sources/remove?source=dbt:housing_warehouse").status_code == 403
    assert client_as(app, "ali").get("/sources/remove?source=dbt:housing_warehouse").status_code == 403


def test_what_people_add_in_the_web_app_records_it(app, db):
    jo = client_as(app, "jo")
    form = jo.get("/nodes/new?kind=dataset")
    created = jo.post("/nodes/new?kind=dataset", data={"csrf_token": token_of(form.text), "id": "rent-arrears",
                                                        "name": "Rent arrears", "owner": "owner-jo"})
    assert created.status_code == 302, text(created)
    assert Store(db).node("rent-arrears")["origin"]["type"] == "hand"
    assert "Added by hand in the web app on" in jo.get("/nodes/rent-arrears").text
