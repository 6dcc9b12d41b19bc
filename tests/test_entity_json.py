"""/data/Q1.json is Wikibase entity JSON: checked against Wikibase's own JSON for the
very entities whose RDF its test fixtures hold (tests/data/wikibase/json/)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import close_app, open_app
from flask import Flask
from flask.testing import FlaskClient

from loader.base.settings import Settings

DATA = Path(__file__).parent / "data" / "wikibase"
ACME = "http://acme.test/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
WIKIBASE = "http://wikiba.se/ontology#"
DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
REFERENCE = f"<{ACME}reference/d2412760c57cacd8c8f24d9afde3b20c87161cca>"
#: Keys of Wikibase's JSON that are MediaWiki page metadata, which Bigtent has no use for.
PAGE_KEYS = {"pageid", "ns", "title"}


def _statement(entity: str, node: str, value: str, reference: bool) -> str:
    lines = [
        f"<{ACME}{entity}> <{ACME}prop/P7> <{ACME}statement/{node}> .",
        f'<{ACME}statement/{node}> <{ACME}prop/statement/P7> "{value}" .',
        f"<{ACME}statement/{node}> <{RDF_TYPE}> <{WIKIBASE}Statement> .",
        f"<{ACME}statement/{node}> <{WIKIBASE}rank> <{WIKIBASE}NormalRank> .",
    ]
    if reference:
        lines.append(f"<{ACME}statement/{node}> <{DERIVED}> {REFERENCE} .")
    return "\n".join(lines) + "\n"


def _fixture_records(tmp_path: Path) -> Path:
    """Q4, Q6 and Q7 as Wikibase's RDF fixtures have them. Q6 and Q7 are fragments (a
    statement's qualifiers, a reference): the statements holding them are written here,
    with the main values Wikibase's JSON for those entities gives."""
    text = (DATA / "Q4_statements.nt").read_text(encoding="utf-8")
    text += (DATA / "Q4_values.nt").read_text(encoding="utf-8")
    text += _statement("Q6", "TEST-Qualifiers", "string", reference=False)
    text += (DATA / "Q6_qualifiers.nt").read_text(encoding="utf-8")
    text += _statement("Q7", "TEST-References", "string", reference=True)
    text += _statement("Q7", "TEST-References-2", "string2", reference=True)
    text += (DATA / "Q7_references.nt").read_text(encoding="utf-8")
    path = tmp_path / "fixtures.nt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def wikibase_client(
    backend_settings: Callable[..., Settings], tmp_path: Path
) -> Iterator[FlaskClient]:
    app = open_app(backend_settings(PROFILE="wikibase"), "empty")
    report = app.extensions["bigtent"].load_paths([_fixture_records(tmp_path)])
    assert report.ok, [r.lines() for r in report.rejections] + report.file_errors
    yield app.test_client()
    close_app(app, "empty")


def _theirs(entity: str) -> dict[str, Any]:
    text = (DATA / "json" / f"{entity}-formatted.json").read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)["entities"][entity]
    return document


def _value(datavalue: dict[str, Any], lossy: bool) -> Any:
    """What must agree. ``lossy``: the RDF fixture has no full-value node for this snak
    (Q6's qualifiers, Q7's reference), so precision and bounds cannot be known and
    only what the simple value carries is compared."""
    value = datavalue["value"]
    kind = datavalue["type"]
    if kind == "string":
        return value.strip()  # RDF IRIs cannot keep the fixture's stray whitespace
    if lossy and kind == "time":
        return value["time"][:5], value["calendarmodel"]  # the year
    if lossy and kind == "globecoordinate":
        return value["latitude"], value["longitude"], value["globe"]
    if lossy and kind == "quantity":
        return value["amount"], value["unit"]
    return value


def _snak(snak: dict[str, Any], lossy: bool, skip_value: set[str]) -> str:
    shape = {"snaktype": snak["snaktype"], "property": snak["property"]}
    if "datavalue" in snak:
        shape["type"] = snak["datavalue"]["type"]
        if snak["property"] not in skip_value:
            shape["value"] = _value(snak["datavalue"], lossy)
    return json.dumps(shape, sort_keys=True, ensure_ascii=False)


def _snaks(snaks: dict[str, list[Any]], lossy: bool, skip: set[str]) -> dict[str, list[str]]:
    return {pid: sorted(_snak(s, lossy, skip) for s in values) for pid, values in snaks.items()}


def _statement_shape(st: dict[str, Any], lossy: bool, skip: set[str]) -> dict[str, Any]:
    return {
        "keys": sorted(st),
        "id": st["id"],
        "rank": st["rank"],
        "type": st["type"],
        "mainsnak": _snak(st["mainsnak"], False, skip),
        "qualifiers": _snaks(st.get("qualifiers", {}), lossy, skip),
        "qualifiers-order": st.get("qualifiers-order", []),
        "references": [
            {
                "keys": sorted(ref),
                "hash": ref["hash"],
                "snaks": _snaks(ref["snaks"], lossy, skip),
                "snaks-order": ref["snaks-order"],
            }
            for ref in st.get("references", [])
        ],
    }


def _claims(entity: dict[str, Any], lossy: bool, skip: set[str]) -> dict[str, Any]:
    return {
        pid: sorted((_statement_shape(st, lossy, skip) for st in statements), key=lambda s: s["id"])
        for pid, statements in entity["claims"].items()
    }


@pytest.mark.parametrize(
    ("entity", "lossy", "skip"),
    [
        # Q4's P9 is an invalid URL; RDF holds it IRI-escaped, the raw text is lost.
        ("Q4", False, {"P9"}),
        ("Q6", True, set()),
        ("Q7", True, set()),
    ],
)
def test_entity_json_matches_wikibase(
    wikibase_client: FlaskClient, entity: str, lossy: bool, skip: set[str]
) -> None:
    response = wikibase_client.get(f"/data/{entity}.json")
    assert response.status_code == 200
    assert response.content_type == "application/json; charset=utf-8"
    ours = response.get_json()["entities"][entity]
    theirs = _theirs(entity)
    assert set(theirs) - set(ours) == PAGE_KEYS
    assert set(ours) <= set(theirs)
    assert ours["id"] == entity and ours["type"] == "item"
    assert isinstance(ours["lastrevid"], int) and ours["modified"].endswith("Z")
    assert _claims(ours, lossy, skip) == _claims(theirs, lossy, skip)
    for statements in ours["claims"].values():
        for st in statements:
            snaks = [st["mainsnak"], *(s for v in st.get("qualifiers", {}).values() for s in v)]
            for snak in snaks:
                assert len(snak["hash"]) == 40 and snak["datatype"]


def test_inferred_datatypes_follow_the_values(wikibase_client: FlaskClient) -> None:
    claims = wikibase_client.get("/data/Q4.json").get_json()["entities"]["Q4"]["claims"]
    datatypes = {pid: statements[0]["mainsnak"]["datatype"] for pid, statements in claims.items()}
    assert datatypes["P2"] == "wikibase-item"
    assert datatypes["P3"] == "commonsMedia"
    assert datatypes["P4"] == "globe-coordinate"
    assert datatypes["P5"] == "monolingualtext"
    assert datatypes["P6"] == "quantity"
    assert datatypes["P8"] == "time"
    assert datatypes["P10"] == "geo-shape"


def test_demo_entity_json_uses_declared_datatypes_and_precision(
    client: FlaskClient, app: Flask
) -> None:
    entity = client.get("/data/Q1205.json").get_json()["entities"]["Q1205"]
    assert entity["labels"]["fr"] == {
        "language": "fr",
        "value": "Partenariat vidéo ouverte Fondation Wikimédia – Mozilla",
    }
    [start] = entity["claims"]["P9"]
    assert start["mainsnak"]["datatype"] == "time"
    time = start["mainsnak"]["datavalue"]["value"]
    assert time["time"] == "+2009-01-00T00:00:00Z" and time["precision"] == 10
    [source] = start["references"][0]["snaks"]["P18"]
    assert source["datatype"] == "url"
    assert source["datavalue"]["value"].startswith("http://blog.wikimedia.org/2009/01/26/")
    partners = {s["mainsnak"]["datavalue"]["value"]["id"] for s in entity["claims"]["P5"]}
    assert partners == {"Q1000", "Q1009"}
    for statement in entity["claims"]["P5"]:
        assert statement["id"].startswith("Q1205$")
    # The statement ids dereference, in Wikibase's $ form too.
    statement_id = entity["claims"]["P5"][0]["id"]
    located = client.get(f"/entity/statement/{statement_id}")
    assert located.status_code == 303
    assert located.headers["Location"].startswith("/page/Q1205#Q1205-")
    prop = client.get("/data/P9.json").get_json()["entities"]["P9"]
    assert prop["type"] == "property" and prop["datatype"] == "time"
    assert "sitelinks" not in prop
