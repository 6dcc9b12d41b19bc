"""/reconcile: the Reconciliation Service API 0.2, with requests shaped as OpenRefine sends
them (manifest by GET; batches of ``queries=`` as a POST form, ten at a time; type
guessing with untyped queries; reconciled columns as ``{"id", "name"}`` property values)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

BASE = "https://bigtent.example.org/"
OPENREFINE = {"User-Agent": "OpenRefine/3.8.2 [TRUNK]", "Accept": "*/*"}


def batch(client: FlaskClient, queries: dict[str, Any], method: str = "post") -> Any:
    if method == "post":
        response = client.post(
            "/reconcile", data={"queries": json.dumps(queries)}, headers=OPENREFINE
        )
    else:
        response = client.get("/reconcile", query_string={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.data
    return response.get_json()


def check_result_shape(body: dict[str, Any]) -> None:
    """The spec's reconciliation-result-batch schema, checked by hand."""
    for key, value in body.items():
        assert isinstance(key, str)
        assert isinstance(value["result"], list)
        for candidate in value["result"]:
            assert isinstance(candidate["id"], str) and isinstance(candidate["name"], str)
            assert isinstance(candidate["score"], int | float)
            assert isinstance(candidate["match"], bool)
            for kind in candidate["type"]:
                assert isinstance(kind["id"], str) and isinstance(kind["name"], str)


def test_manifest(client: FlaskClient) -> None:
    response = client.get("/reconcile", headers=OPENREFINE)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    manifest = response.get_json()
    assert "0.2" in manifest["versions"]
    assert manifest["identifierSpace"] == BASE + "entity/"
    assert manifest["schemaSpace"] == BASE + "prop/direct/"
    assert {"id": "Q1", "name": "organisation"} in manifest["defaultTypes"]
    assert "{{id}}" in manifest["view"]["url"] and "{{id}}" in manifest["preview"]["url"]
    assert isinstance(manifest["preview"]["width"], int)
    assert manifest["suggest"]["entity"]["service_path"] == "/suggest/entity"


def test_manifest_as_jsonp(client: FlaskClient) -> None:
    response = client.get("/reconcile?callback=jsonp123")
    assert response.mimetype == "application/javascript"
    assert response.get_data(as_text=True).startswith("/**/jsonp123({")
    assert client.get("/reconcile?callback=alert(document.cookie)").status_code == 400


def test_openrefine_batch_by_name_and_type(client: FlaskClient) -> None:
    queries = {
        "q0": {"query": "Wikimedia Deutschland", "type": "Q1", "type_strict": "should"},
        "q1": {"query": "wikimedia  DEUTSCHLAND", "type": "Q1", "type_strict": "should"},
        "q2": {"query": "Allemagne", "type": "Q9", "type_strict": "should"},
        "q3": {"query": "nothing like this exists", "type": "Q1", "type_strict": "should"},
    }
    body = batch(client, queries)
    check_result_shape(body)
    assert set(body) == set(queries)
    top = body["q0"]["result"][0]
    assert (top["id"], top["match"], top["score"]) == ("Q1001", True, 100)
    assert {"id": "Q1", "name": "organisation"} in top["type"]
    assert body["q1"]["result"][0]["id"] == "Q1001"  # case and spaces do not matter
    assert body["q2"]["result"][0]["id"] == "Q1401"  # a French label
    assert body["q3"]["result"] == []
    assert body == batch(client, queries, method="get")


def test_type_restricts_candidates_and_untyped_queries_report_types(client: FlaskClient) -> None:
    typed = batch(client, {"q0": {"query": "Germany", "type": "Q1", "limit": 25}})
    assert "Q1401" not in {c["id"] for c in typed["q0"]["result"]}
    guess = batch(client, {"q0": {"query": "Germany", "limit": 3}})  # OpenRefine's type guess
    assert guess["q0"]["result"][0]["type"] == [{"id": "Q9", "name": "territory"}]
    assert len(guess["q0"]["result"]) <= 3


def test_property_values_refine_the_score(client: FlaskClient) -> None:
    plain = batch(client, {"q0": {"query": "Wikimedia", "type": "Q1", "limit": 25}})["q0"]["result"]
    by_id = {
        "q0": {
            "query": "Wikimedia",
            "type": "Q1",
            "limit": 25,
            "properties": [{"pid": "P12", "v": {"id": "Q1401", "name": "Germany"}}],
        }
    }
    refined = batch(client, by_id)["q0"]["result"]
    assert refined[0]["id"] == "Q1001"  # the one located in Germany comes first
    by_name = {"q0": {**by_id["q0"], "properties": [{"pid": "P12", "v": "Germany"}]}}
    assert batch(client, by_name)["q0"]["result"][0]["id"] == "Q1001"
    assert [c["id"] for c in plain] != [c["id"] for c in refined] or refined[0]["id"] == "Q1001"


def test_single_query(client: FlaskClient) -> None:
    response = client.get("/reconcile", query_string={"query": "Wikimedia Deutschland"})
    assert response.get_json()["result"][0]["id"] == "Q1001"
    as_object = json.dumps({"query": "Germany", "type": "Q9"})
    assert (
        client.get("/reconcile", query_string={"query": as_object}).get_json()["result"][0]["id"]
        == "Q1401"
    )


def test_preview_and_suggest(client: FlaskClient) -> None:
    preview = client.get("/reconcile/preview?id=Q1001")
    assert preview.status_code == 200 and b"Wikimedia Deutschland" in preview.data
    assert client.get("/reconcile/preview?id=Q99999999").status_code == 404
    assert client.get("/reconcile/preview?id=%3Cscript%3E").status_code == 404
    entity = client.get("/reconcile/suggest/entity?prefix=wikimedia%20deu").get_json()
    assert entity["result"][0]["id"] == "Q1001"
    types = client.get("/reconcile/suggest/type?prefix=organ").get_json()
    assert types["result"][0] == {
        "id": "Q1",
        "name": "organisation",
        "description": types["result"][0]["description"],
    }
    props = client.get("/reconcile/suggest/property?prefix=located").get_json()
    assert props["result"][0]["id"] == "P12"


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("{}", "must be a JSON object"),
        ('"Germany"', "must be a JSON object"),
        ('{"q0": 5}', "each query is a JSON object"),
        ('{"q0": {"query": 5}}', "query must be a string"),
        ('{"q0": {}}', "give a query string"),
        ('{"q0": {"query": "x", "limit": -1}}', "limit must be a positive number"),
        ('{"q0": {"query": "x", "type": {"id": "Q1"}}}', "type must be"),
        ('{"q0": {"query": "x", "type": "<script>"}}', "type must name item ids"),
        (
            '{"q0": {"query": "x", "properties": [{"pid": "located", "v": "x"}]}}',
            "not a property id",
        ),
        ('{"q0": {"query": "x", "properties": [{"pid": "P12"}]}}', "property values are"),
        ('{"q0": {"query": "x", "properties": "P12"}}', "properties must be a list"),
        (json.dumps({f"q{i}": {"query": "x"} for i in range(500)}), "at most 50"),
        (json.dumps({"q0": {"query": "x" * 500}}), "longer than"),
    ],
)
def test_malformed_batches_are_json_400s(client: FlaskClient, queries: str, message: str) -> None:
    response = client.post("/reconcile", data={"queries": queries}, headers=OPENREFINE)
    assert response.status_code == 400
    assert message in response.get_json()["error"]


def test_script_in_a_query_is_only_a_name(client: FlaskClient) -> None:
    body = batch(client, {"q0": {"query": "<script>alert(1)</script>"}})
    check_result_shape(body)
    assert "<script>" not in json.dumps(body)
