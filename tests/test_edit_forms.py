"""The staff edit forms: form model, round trips of every record type, bad input."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from form_support import form_fields
from staff_support import catalogue, login, staff_app, state

USERS = {"alice": "admin", "bob": "editor", "carol": "editor"}
#: Record types and a demo record of each.
RECORDS = {
    "Q1": "organisation",
    "Q3": "network",
    "Q4": "partnership",
    "Q5": "capacity",
    "Q6": "resource",
    "Q7": "service",
    "Q8": "event",
    "Q9": "territory",
    "Q10": "document",
    "Q11": "fictional person",
    "Q12": "language",
    "Q24": "activity type (a concept)",
}


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS)


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "bob")
    return client


def _instance(app: Flask, class_id: str) -> str:
    cat = catalogue(app)
    rows = cat.select(
        "SELECT ?e ?c WHERE { GRAPH ?g { ?e wdt:P1 ?c } } ORDER BY ?e LIMIT 1",
        {"c": cat.ns.entity(class_id)},
    )
    assert rows, class_id
    eid = cat.ns.entity_id(rows[0]["e"].value)
    assert eid is not None
    return eid


def _form(client: FlaskClient, url: str) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    return form_fields(page.get_data(as_text=True))


def _problems(html: str) -> list[str]:
    block = re.search(r'<section class="form-error" id="form-problems".*?</section>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(0), re.S) if block else []


# --- the form model --------------------------------------------------------------------------


def test_form_model_follows_the_shapes(app: Flask) -> None:
    models = catalogue(app).form_models
    partnership = models.record_type("Q4", ["fr", "en"])
    assert partnership is not None and partnership.label == "partenariat"
    fields = {f.id: f for f in partnership.primary}
    assert fields["P1"].min_count == 1 and partnership.primary[0].id == "P1"
    assert fields["P5"].min_count == 2  # at least two parties
    assert fields["P7"].recommended and fields["P7"].vocabulary == "Q24"
    assert fields["P9"].max_count == 1 and fields["P9"].property.datatype == "Time"
    assert fields["P32"].qualifiers == ("P33",)
    assert fields["P9"].property.label == "date de début"
    # every declared property may be added to an open shape's records
    assert partnership.field("P11") is not None and not partnership.field("P11").primary  # type: ignore[union-attr]
    # the person shape is closed: only its listed properties
    person = models.record_type("Q2", ["en"])
    assert person is not None and person.closed
    assert {f.id for f in person.fields} == {
        "P1", "P4", "P12", "P13", "P14", "P15", "P39", "P47", "P54", "P55",
    }  # fmt: skip
    # subclasses inherit: a network has the organisation fields and its own
    network = models.record_type("Q3", ["en"])
    assert network is not None and {"P23", "P42", "P48"} <= {f.id for f in network.primary}
    assert models.record_type("Q1001", ["en"]) is None  # not a class


def test_controlled_values_come_from_the_concept_scheme(app: Flask, client: FlaskClient) -> None:
    options = dict(catalogue(app).form_models.options("P7", ["en"]))
    assert options["Q131"] == "content sharing" and "Q1001" not in options
    data = client.get("/edit/options/P7?uselang=es").get_json()
    assert data["vocabulary"] == "Q24"
    assert {"id": "Q131", "label": "intercambio de contenidos"} in data["options"]
    assert client.get("/edit/options/P5").get_json()["options"] == []
    assert client.get("/edit/options/P999").status_code == 404
    assert client.get("/edit/options/Q1").status_code == 404


def test_form_models_follow_ontology_changes(app: Flask, staff: FlaskClient) -> None:
    models = catalogue(app).form_models
    before = dict(models.options("P7", ["en"]))
    fields = _form(staff, "/edit/new/Q24")
    fields.update({"term-0-lang": "en", "term-0-label": "joint fundraising", "action": "save"})
    for n, (lang, text) in enumerate(
        [("fr", "collecte commune"), ("es", "recaudación conjunta"), ("pt", "captação conjunta")], 1
    ):
        fields.update({f"term-{n}-lang": lang, f"term-{n}-label": text})
    created = staff.post("/edit/new/Q24", data=fields)
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    new_id = created.headers["Location"].rsplit("/", 1)[-1]
    after = dict(models.options("P7", ["en"]))
    assert new_id not in before and after[new_id] == "joint fundraising"


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("class_id", sorted(RECORDS))
def test_every_record_type_round_trips_unchanged(
    app: Flask, staff: FlaskClient, class_id: str
) -> None:
    entity = _instance(app, class_id)
    cat = catalogue(app)
    before = cat.editor.record_json(entity)
    fields = _form(staff, f"/edit/{entity}")
    assert fields["base_revision"] == str(before["revision"])
    fields["action"] = "save"
    response = staff.post(f"/edit/{entity}", data=fields)
    assert response.status_code == 303, _problems(response.get_data(as_text=True))
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing changed" in page
    after = cat.editor.record_json(entity)
    assert after == before


def test_a_property_round_trips_unchanged(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    before = cat.editor.record_json("P5")
    fields = _form(staff, "/edit/P5")
    response = staff.post("/edit/P5", data={**fields, "action": "save"})
    assert response.status_code == 303
    assert cat.editor.record_json("P5") == before


def test_create_a_partnership_then_edit_it(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    fields = _form(staff, "/edit/new/Q4")
    assert fields["st-0-property"] == "P1" and fields["st-0-value"] == "Q4"
    # add a second language row and a source, through the form's own buttons
    page = staff.post("/edit/new/Q4", data={**fields, "action": "add-language"})
    fields = form_fields(page.get_data(as_text=True))
    p5 = sorted(k for k, v in fields.items() if k.endswith("-property") and v == "P5")
    assert len(p5) == 2  # the shape asks for two parties: the form offers two
    row = p5[0].split("-")[1]
    page = staff.post("/edit/new/Q4", data={**fields, "action": "add-value:P5"})
    fields = form_fields(page.get_data(as_text=True))
    p5 = sorted(
        (k for k, v in fields.items() if k.endswith("-property") and v == "P5"),
        key=lambda k: int(k.split("-")[1]),
    )
    assert len(p5) == 3  # a third, left empty (empty rows are dropped)
    fields[f"st-{row}-new-reference"] = "P18"
    page = staff.post("/edit/new/Q4", data={**fields, "action": f"add-reference:{row}"})
    fields = form_fields(page.get_data(as_text=True))
    p7 = next(k for k, v in fields.items() if k.endswith("-property") and v == "P7")
    p9 = next(k for k, v in fields.items() if k.endswith("-property") and v == "P9")
    fields.update(
        {
            "term-0-lang": "en",
            "term-0-label": "Test partnership",
            "term-1-lang": "fr",
            "term-1-label": "Partenariat d'essai",
            p5[0].replace("property", "value"): "Q1000",
            p5[1].replace("property", "value"): "Q1001",
            p7.replace("property", "value"): "Q131",
            p9.replace("property", "value"): "2024-03",
            p9.replace("property", "precision"): "10",
            f"st-{row}-r-0-0-value": "https://example.org/agreement",
            "summary": "new partnership",
            "action": "save",
        }
    )
    created = staff.post("/edit/new/Q4", data=fields)
    assert created.status_code == 303, _problems(created.get_data(as_text=True))
    entity = created.headers["Location"].rsplit("/", 1)[-1]
    record = cat.editor.record_json(entity)
    assert record["labels"] == {"en": "Test partnership", "fr": "Partenariat d'essai"}
    values = {(s["property"], str(s["value"])) for s in record["statements"]}  # type: ignore[union-attr]
    assert {
        ("P1", "Q4"),
        ("P5", "Q1000"),
        ("P5", "Q1001"),
        ("P7", "Q131"),
        ("P9", "2024-03"),
    } <= values
    [sourced] = [s for s in record["statements"] if s["references"]]  # type: ignore[union-attr]
    assert sourced["references"] == [
        [{"property": "P18", "value": "https://example.org/agreement"}]
    ]
    assert cat.revisions.get(entity).summary == "new partnership"  # type: ignore[union-attr]
    # edit it: change the English label, remove a party's source
    fields = _form(staff, f"/edit/{entity}")
    fields["term-0-label"] = "Renamed partnership"
    response = staff.post(f"/edit/{entity}", data={**fields, "action": "save"})
    assert response.status_code == 303
    assert cat.editor.record_json(entity)["labels"]["en"] == "Renamed partnership"  # type: ignore[index]


# --- validation next to the field, input kept ----------------------------------------------


def test_problems_are_shown_next_to_their_fields_and_input_is_kept(
    app: Flask, staff: FlaskClient
) -> None:
    cat = catalogue(app)
    before = state(cat)
    fields = _form(staff, "/edit/Q1200")
    p9 = next(k for k, v in fields.items() if k.endswith("-property") and v == "P9")
    value = p9.replace("property", "value")
    fields[value] = "2021-02-30"
    fields["term-0-label"] = "<script>alert(1)</script> kept & shown"
    fields["summary"] = "my summary"
    response = staff.post("/edit/Q1200", data={**fields, "action": "save"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert state(cat) == before
    assert f'id="{value}" name="{value}" value="2021-02-30"' in html
    assert f'aria-describedby="{value}-hint {value}-error" aria-invalid="true"' in html
    assert re.search(rf'id="{value}-error"><p>P9: there is no day 30', html)
    assert f'<a href="#{value}">' in html  # the summary links to the field
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; kept &amp; shown" in html
    assert 'value="my summary"' in html


def test_too_few_parties_is_shown_on_the_field(app: Flask, staff: FlaskClient) -> None:
    fields = _form(staff, "/edit/Q1200")
    for key, v in list(fields.items()):
        if key.endswith("-property") and v == "P5":
            fields[key.replace("property", "remove")] = "1"
    response = staff.post("/edit/Q1200", data={**fields, "action": "save"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="field-P5-error">.*?at least two parties', html, re.S)


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("label", "x" * 100_000, "1 to 250 characters"),
        ("lang", "zz-notalanguage", "not a known language code"),
        ("url", "https://example.org/a page", "percent-encoded"),
        ("url", "javascript:alert(1)", "http://"),
        ("item", "Q999999", "does not exist"),
        ("item", "Wikimedia", "item id"),
        ("date", "2021-13", "no month 13"),
        ("quantity", "many", "number"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(
    app: Flask, staff: FlaskClient, where: str, value: str, message: str
) -> None:
    cat = catalogue(app)
    entity = "Q1000"
    fields = _form(staff, f"/edit/{entity}")
    if where == "label":
        fields["term-0-label"] = value
        control = "term-0-label"
    elif where == "lang":
        fields["term-0-lang"] = value
        control = "term-0-lang"
    else:
        pid = {"url": "P11", "item": "P42", "date": "P48", "quantity": "P34"}[where]
        page = staff.post(
            f"/edit/{entity}", data={**fields, "new-field": pid, "action": "add-field"}
        )
        fields = form_fields(page.get_data(as_text=True))
        row = max(
            (k for k, v in fields.items() if k.endswith("-property") and v == pid),
            key=lambda k: int(k.split("-")[1]),
        )
        control = row.replace("property", "value")
        fields[control] = value
    before = state(cat)
    response = staff.post(f"/edit/{entity}", data={**fields, "action": "save"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:2000]
    assert state(cat) == before
    problems = " ".join(_problems(html))
    assert message in problems, problems
    assert f'href="#{control}"' in html and f'id="{control}-error"' in html


def test_reference_to_a_deleted_entity(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    cat.editor.delete("Q1001", "test", author="alice")
    fields = _form(staff, "/edit/Q1200")
    p5 = next(k for k, v in fields.items() if k.endswith("-property") and v == "P5")
    fields[p5.replace("property", "value")] = "Q1001"
    before = state(cat)
    response = staff.post("/edit/Q1200", data={**fields, "action": "save"})
    assert response.status_code == 422 and state(cat) == before
    assert "Q1001 was deleted" in " ".join(_problems(response.get_data(as_text=True)))


def test_forged_field_for_a_property_the_shape_does_not_allow(
    app: Flask, staff: FlaskClient
) -> None:
    cat = catalogue(app)
    person = _instance(app, "Q11")
    fields = _form(staff, f"/edit/{person}")
    fields.update({"st-900-property": "P11", "st-900-value": "https://example.org/"})
    fields.update({"st-901-property": "P9999", "st-901-value": "x"})
    before = state(cat)
    response = staff.post(f"/edit/{person}", data={**fields, "action": "save"})
    assert response.status_code == 422 and state(cat) == before
    html = response.get_data(as_text=True)
    problems = " ".join(_problems(html))
    assert "no property P9999" in problems
    assert 'value="https://example.org/"' in html  # kept, shown in its own section


def test_person_closed_shape_refuses_extra_fields(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    person = _instance(app, "Q11")
    fields = _form(staff, f"/edit/{person}")
    fields.update({"st-900-property": "P11", "st-900-value": "https://example.org/"})
    before = state(cat)
    response = staff.post(f"/edit/{person}", data={**fields, "action": "save"})
    assert response.status_code == 422 and state(cat) == before
    assert "may carry only" in " ".join(_problems(response.get_data(as_text=True)))


def test_two_rows_for_one_language(app: Flask, staff: FlaskClient) -> None:
    fields = _form(staff, "/edit/Q1000")
    fields.update({"term-77-lang": fields["term-0-lang"], "term-77-label": "Other"})
    response = staff.post("/edit/Q1000", data={**fields, "action": "save"})
    assert response.status_code == 422
    assert "two rows" in " ".join(_problems(response.get_data(as_text=True)))


# --- sessions and CSRF ---------------------------------------------------------------------


def test_forms_need_a_staff_session(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/edit/Q1000")
    assert response.status_code == 303 and "/login" in response.headers["Location"]
    response = client.post("/edit/Q1000", data={"action": "save"})
    assert response.status_code == 401


def test_missing_or_replayed_csrf_token(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    fields = _form(staff, "/edit/Q1000")
    fields["term-0-label"] = "Changed"
    before = state(cat)
    missing = {k: v for k, v in fields.items() if k != "csrf_token"}
    response = staff.post("/edit/Q1000", data={**missing, "action": "save"})
    assert response.status_code == 403 and "CSRF" in response.get_data(as_text=True)
    # log out and in again: the old form's token belongs to an ended session
    other = app.test_client()
    login(other, "bob")
    staff.post("/logout", data={"csrf_token": fields["csrf_token"]})
    login(staff, "bob")
    response = staff.post("/edit/Q1000", data={**fields, "action": "save"})
    assert response.status_code == 403
    assert state(cat) == before


def test_session_of_a_deleted_account(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    fields = _form(staff, "/edit/Q1000")
    fields["term-0-label"] = "Changed"
    cat.accounts.remove_user("bob")
    before = state(cat)
    response = staff.post("/edit/Q1000", data={**fields, "action": "save"})
    assert response.status_code == 401 and state(cat) == before


def test_stale_base_revision_and_deleted_record(app: Flask, staff: FlaskClient) -> None:
    fields = _form(staff, "/edit/Q1000")
    response = staff.post("/edit/Q1000", data={**fields, "base_revision": "", "action": "save"})
    assert response.status_code == 428
    catalogue(app).editor.delete("Q1000", "test", author="alice")
    response = staff.post("/edit/Q1000", data={**fields, "action": "save"})
    assert response.status_code == 410
    assert staff.get("/edit/Q1000").status_code == 410
    assert staff.get("/edit/Q0").status_code == 404
    assert staff.get("/edit/new/Q1000").status_code == 404


# --- concurrent edits ------------------------------------------------------------------------


def test_concurrent_edits_merge_or_show_the_conflict(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    other = app.test_client()
    login(other, "carol")
    mine = _form(staff, "/edit/Q1000")
    theirs = _form(other, "/edit/Q1000")
    en = next(k for k, v in mine.items() if k.endswith("-lang") and v == "en")[: -len("-lang")]
    # they change the description; I change the label: merged automatically
    theirs[f"{en}-description"] = "their description"
    assert other.post("/edit/Q1000", data={**theirs, "action": "save"}).status_code == 303
    mine[f"{en}-label"] = "my label"
    response = staff.post("/edit/Q1000", data={**mine, "action": "save"})
    assert response.status_code == 303
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "did not touch yours" in page
    record = cat.editor.record_json("Q1000")
    assert record["labels"]["en"] == "my label"  # type: ignore[index]
    assert record["descriptions"]["en"] == "their description"  # type: ignore[index]
    # now both change the label: conflict
    mine = _form(staff, "/edit/Q1000")
    theirs = _form(other, "/edit/Q1000")
    en = next(k for k, v in mine.items() if k.endswith("-lang") and v == "en")[: -len("-lang")]
    theirs[f"{en}-label"] = "their label"
    theirs[f"{en}-aliases"] = "their alias"
    assert other.post("/edit/Q1000", data={**theirs, "action": "save"}).status_code == 303
    mine[f"{en}-label"] = "my second label"
    before = state(cat)
    response = staff.post("/edit/Q1000", data={**mine, "action": "save"})
    assert response.status_code == 409 and state(cat) == before
    html = response.get_data(as_text=True)
    assert "their label" in html and "my second label" in html
    fields = form_fields(html)
    en = next(k for k, v in fields.items() if k.endswith("-lang") and v == "en")[: -len("-lang")]
    assert fields[f"{en}-label"] == "my second label"  # mine kept in the form
    assert fields[f"{en}-aliases"] == "their alias"  # their other change merged in
    assert fields["base_revision"] == str(cat.revisions.get("Q1000").id)  # type: ignore[union-attr]
    # take their version of the label, then save
    page = staff.post("/edit/Q1000", data={**fields, "action": "theirs:0"})
    fields = form_fields(page.get_data(as_text=True))
    assert fields[f"{en}-label"] == "their label"
    response = staff.post("/edit/Q1000", data={**fields, "action": "save"})
    assert response.status_code == 303
    record = cat.editor.record_json("Q1000")
    assert record["labels"]["en"] == "their label"  # type: ignore[index]
    assert record["aliases"]["en"] == ["their alias"]  # type: ignore[index]


# --- delete and merge -------------------------------------------------------------------------


def test_delete_needs_a_reason_and_an_admin(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    assert staff.get("/edit/Q1000/delete").status_code == 403  # bob is an editor
    admin = app.test_client()
    login(admin, "alice")
    page = admin.get("/edit/Q1000/delete")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert token
    before = state(cat)
    response = admin.post("/edit/Q1000/delete", data={"csrf_token": token.group(1), "reason": "  "})
    assert response.status_code == 422 and "reason" in response.get_data(as_text=True)
    assert state(cat) == before
    response = admin.post(
        "/edit/Q1000/delete", data={"csrf_token": token.group(1), "reason": "duplicate"}
    )
    assert response.status_code == 303
    assert cat.revisions.state("Q1000").state == "deleted"  # type: ignore[union-attr]


def test_merge_form(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    html = staff.get("/edit/Q1002/merge").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    before = state(cat)
    bad = staff.post("/edit/Q1002/merge", data={"csrf_token": token.group(1), "into": "nonsense"})
    assert bad.status_code == 422 and state(cat) == before
    assert 'value="nonsense"' in bad.get_data(as_text=True)
    response = staff.post(
        "/edit/Q1002/merge", data={"csrf_token": token.group(1), "into": "Acme (Q1003)"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/page/Q1003")
    assert cat.revisions.state("Q1002").redirect == "Q1003"  # type: ignore[union-attr]


def test_entity_pages_link_to_the_forms_for_staff_only(app: Flask, staff: FlaskClient) -> None:
    assert "/edit/Q1000" in staff.get("/page/Q1000").get_data(as_text=True)
    assert "/edit/Q1000" not in app.test_client().get("/page/Q1000").get_data(as_text=True)
    assert 'href="/edit/new"' in staff.get("/").get_data(as_text=True)


def test_nothing_is_written_by_adding_rows(app: Flask, staff: FlaskClient) -> None:
    cat = catalogue(app)
    fields = _form(staff, "/edit/Q1000")
    before = state(cat)
    for action in ("add-language", "add-value:P4", "add-field", "add-qualifier:0", "theirs:5"):
        response = staff.post("/edit/Q1000", data={**fields, "action": action})
        assert response.status_code == 200
    assert state(cat) == before


def test_record_types_are_listed_for_staff(staff: FlaskClient) -> None:
    html = staff.get("/edit/new").get_data(as_text=True)
    for class_id in ("Q1", "Q4", "Q11", "Q24"):
        assert f'href="/edit/new/{class_id}"' in html


def test_a_form_larger_than_edit_max_bytes_is_refused(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app, USERS, EDIT_MAX_BYTES=50_000)
    try:
        client = app.test_client()
        login(client, "bob")
        fields = _form(client, "/edit/Q1000")
        fields["term-0-label"] = "x" * 60_000
        before = state(catalogue(app))
        response = client.post("/edit/Q1000", data={**fields, "action": "save"})
        assert response.status_code == 413
        assert "EDIT_MAX_BYTES" in response.get_data(as_text=True)
        assert state(catalogue(app)) == before
    finally:
        catalogue(app).close()
