"""The entity page in detail: languages, ranks, values by type, anchors, JSON-LD,
alternate formats, history, caching."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pages_support import Page, squash

from loader.catalogue import Catalogue

LAB = """
wd:Q5000 a wikibase:Item ;
  rdfs:label "Open Knowledge Lab"@en, "Laboratório do Saber Livre"@pt ;
  schema:description "a fictional test organisation"@en ;
  skos:altLabel "OKL"@en, "Lab"@en ;
  wdt:P1 wd:Q1 ;
  p:P11 [ ps:P11 <https://old.example.org/> ; wikibase:rank wikibase:DeprecatedRank ] ,
        [ ps:P11 <https://lab.example.org/> ; wikibase:rank wikibase:PreferredRank ] ,
        [ ps:P11 <https://mirror.example.org/> ] ;
  wdt:P22 "Q42" ;
  wdt:P48 "2012"^^xsd:gYear ;
  p:P12 [ ps:P12 wd:Q1401 ; pq:P9 "2013-05-02"^^xsd:date ;
          prov:wasDerivedFrom [ pr:P18 <https://source.example.org/lab> ] ] .
"""


@pytest.fixture
def lab(app: Flask, write_ttl: Callable[[str, str], Path]) -> Catalogue:
    """The demo app's catalogue with Q5000 loaded."""
    cat: Catalogue = app.extensions["bigtent"]
    report = cat.load_paths([write_ttl("lab.ttl", LAB)], author="tester", summary="add the lab")
    assert report.ok, [r.lines() for r in report.rejections]
    return cat


def statement_ids(cat: Catalogue, entity: str, prop: str) -> dict[str, str]:
    """Statement local name → value, from the store."""
    rows = cat.select(
        "SELECT ?st ?v ?e ?p ?ps WHERE { GRAPH ?g { ?e ?p ?st . ?st ?ps ?v } }",
        {
            "e": cat.ns.entity(entity),
            "p": cat.ns.predicate("p", prop),
            "ps": cat.ns.predicate("ps", prop),
        },
    )
    return {r["st"].value.removeprefix(cat.ns["wds"]): r["v"].value for r in rows}


def test_statements_grouped_ranked_and_anchored(client: FlaskClient, lab: Catalogue) -> None:
    page = Page(client.get("/page/Q5000").get_data(as_text=True))
    groups = [
        s.attrs["aria-labelledby"].removesuffix("-h")
        for s in page.find("section", class_="property")
    ]
    assert groups[-1] == "P22"  # external identifiers come last, in their own section
    assert groups[0] == "P1"  # instance of first
    assert groups[1:-1] == sorted(groups[1:-1], key=lambda p: int(p[1:]))
    websites = [
        li for li in page.find("li") if li.attrs.get("id") in statement_ids(lab, "Q5000", "P11")
    ]
    values = [squash(li.text) for li in websites]
    assert values[0].startswith("https://lab.example.org/") and "preferred rank" in values[0]
    assert values[1].startswith("https://mirror.example.org/") and "rank" not in values[1]
    assert values[2].startswith("https://old.example.org/") and "deprecated rank" in values[2]
    assert "rank-deprecated" in websites[2].attrs["class"]
    # every statement has its id as anchor, so /entity/statement/... can point at it
    for prop in ("P1", "P11", "P12", "P22", "P48"):
        for local in statement_ids(lab, "Q5000", prop):
            assert page.by_id(local).tag == "li"


def test_values_are_shown_by_type(client: FlaskClient, lab: Catalogue) -> None:
    html = client.get("/page/Q5000").get_data(as_text=True)
    page = Page(html)
    hrefs = {a.attrs.get("href") for a in page.find("a")}
    assert "/page/Q1401" in hrefs and "/page/Q1" in hrefs  # items link to their pages
    assert "https://www.wikidata.org/wiki/Q42" in hrefs  # external id via formatter URL (P52)
    assert "https://lab.example.org/" in hrefs  # URLs as links
    assert '<time datetime="2012">2012</time>' in html  # year precision
    assert '<time datetime="2013-05-02">2013-05-02</time>' in html  # day precision qualifier
    assert "2012-01-01" not in html
    located = page.by_id(next(iter(statement_ids(lab, "Q5000", "P12"))))
    text = squash(located.text)
    assert "Germany" in text and "start time" in text and "1 reference" in text
    assert "reference URL" in text and "https://source.example.org/lab" in text
    identifiers = page.by_id("identifiers-h")
    assert identifiers.text == "Identifiers"


def test_quantities_are_shown_as_numbers(client: FlaskClient) -> None:
    html = client.get("/page/Q1208").get_data(as_text=True)  # assessment with quantity 3
    assert '<span class="quantity">3</span>' in html


def test_language_fallback_and_badges(client: FlaskClient, lab: Catalogue) -> None:
    brazil = Page(
        client.get("/page/Q5000", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    )
    h1 = brazil.find("h1")[0]
    assert squash(h1.text).startswith("Laboratório do Saber Livre")
    assert h1.children[0].attrs["lang"] == "pt"
    assert not [c for c in h1.children if "lang" in c.attrs.get("class", "")]  # reader's own
    description = brazil.find("p", class_="description")[0]
    assert description.children[0].attrs["lang"] == "en"  # fallback: pt → LANGUAGES (en)
    badge = [c for c in description.children if c.attrs.get("class") == "lang"]
    assert badge and "en" in badge[0].text
    german = Page(client.get("/page/Q5000?uselang=de").get_data(as_text=True))
    assert squash(german.find("h1")[0].text).startswith("Open Knowledge Lab")
    assert "de" not in {e.attrs.get("lang") for e in german.find("span")}
    english = Page(client.get("/page/Q5000").get_data(as_text=True))
    aliases = squash(english.find("p", class_="aliases")[0].text)
    assert aliases == "Also known as: Lab · OKL"


def test_json_ld_alternates_and_history_link(client: FlaskClient, lab: Catalogue) -> None:
    page = Page(client.get("/page/Q5000").get_data(as_text=True))
    data = page.json_ld()
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Organization"  # bt:Organisation rdfs:subClassOf schema:Organization
    assert data["@id"] == lab.ns.entity("Q5000").value
    assert data["name"] == "Open Knowledge Lab"
    assert data["url"] == "https://lab.example.org/"  # the preferred official website
    assert data["sameAs"] == ["https://www.wikidata.org/wiki/Q42"]
    assert sorted(data["alternateName"]) == ["Lab", "OKL"]
    alternates = {e.attrs["type"]: e.attrs["href"] for e in page.find("link", rel="alternate")}
    assert alternates == {
        "text/turtle": "/data/Q5000.ttl",
        "application/n-triples": "/data/Q5000.nt",
        "application/ld+json": "/data/Q5000.jsonld",
        "application/rdf+xml": "/data/Q5000.rdf",
        "application/json": "/data/Q5000.json",
    }
    assert "/page/Q5000/history" in {a.attrs.get("href") for a in page.find("a")}


def test_person_and_partnership_types(client: FlaskClient) -> None:
    person = Page(client.get("/page/Q1500").get_data(as_text=True)).json_ld()
    assert person["@type"] == "Person"  # fictional person → bt:Person → schema:Person
    partnership = Page(client.get("/page/Q1200").get_data(as_text=True)).json_ld()
    assert partnership["@type"] == "Thing"  # no schema.org class in the ontology


def test_script_content_cannot_close_the_json_ld_block(
    client: FlaskClient, app: Flask, write_ttl: Callable[[str, str], Path]
) -> None:
    body = (
        'wd:Q5001 a wikibase:Item ; rdfs:label "x</script><script>alert(1)</script>"@en ; '
        "wdt:P1 wd:Q1 ."
    )
    assert app.extensions["bigtent"].load_paths([write_ttl("evil.ttl", body)]).ok
    html = client.get("/page/Q5001").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert Page(html).json_ld()["name"] == "x</script><script>alert(1)</script>"


def test_history_lists_revisions_with_links_to_their_data(
    client: FlaskClient, lab: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    changed = LAB.replace('"a fictional test organisation"@en', '"a renamed test organisation"@en')
    assert lab.load_paths([write_ttl("lab2.ttl", changed)], author="editor", summary="reword").ok
    page = Page(client.get("/page/Q5000/history").get_data(as_text=True))
    rows = [squash(tr.text) for tr in page.find("tr") if "tbody" in tr.parents]
    revisions = lab.revisions.history("Q5000")
    assert len(rows) == len(revisions) == 2
    assert "editor" in rows[0] and "reword" in rows[0] and "update" in rows[0]
    assert "tester" in rows[1] and "add the lab" in rows[1] and "create" in rows[1]
    hrefs = {
        a.attrs["href"] for a in page.find("a") if a.attrs.get("href", "").startswith("/data/")
    }
    assert hrefs == {f"/data/Q5000.ttl?revision={r.id}" for r in revisions}
    times = [t.attrs.get("datetime") for t in page.find("time")]
    assert revisions[0].time in times  # machine-readable; the text is in the reader's locale


def test_etag_changes_with_language_and_revision(
    client: FlaskClient, lab: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    first = client.get("/page/Q5000")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"] and "Accept-Language" in first.headers["Vary"]
    again = client.get("/page/Q5000", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    french = client.get("/page/Q5000?uselang=fr")
    assert french.headers["ETag"] != etag
    assert client.get("/page/Q5000?uselang=fr", headers={"If-None-Match": etag}).status_code == 200
    changed = LAB.replace('"Open Knowledge Lab"@en', '"Open Knowledge Laboratory"@en')
    assert lab.load_paths([write_ttl("lab3.ttl", changed)]).ok
    after = client.get("/page/Q5000", headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert "Open Knowledge Laboratory" in after.get_data(as_text=True)


def test_linked_labels_refresh_when_the_linked_entity_changes(
    client: FlaskClient, lab: Catalogue, write_ttl: Callable[[str, str], Path]
) -> None:
    assert "Germany" in client.get("/page/Q5000").get_data(as_text=True)
    germany = lab.revisions.get("Q1401")
    assert germany is not None and germany.snapshot is not None
    renamed = germany.snapshot.replace(b'"Germany"@en', b'"Federal Republic of Germany"@en')
    path = write_ttl("germany.nt", "")
    path.write_bytes(renamed)
    assert lab.load_paths([path]).ok
    assert "Federal Republic of Germany" in client.get("/page/Q5000").get_data(as_text=True)


def test_property_page_shows_its_type_and_formatter(client: FlaskClient) -> None:
    html = client.get("/page/P22").get_data(as_text=True)
    assert "External identifier" in html and "formatter URL" in html  # the datatype by its label
    assert "https://www.wikidata.org/wiki/$1" in html


def test_every_demo_entity_page_renders(app: Flask, client: FlaskClient) -> None:
    # Regression: a small map whose clipping left an empty ring made /page/Q1053 a 500.
    cat: Catalogue = app.extensions["bigtent"]
    ids = [rev.entity for rev in cat.revisions.latest_revisions()]
    assert len(ids) > 300
    failed = {
        entity: status
        for entity in ids
        if (status := client.get(f"/page/{entity}").status_code) not in (200, 410)
    }
    assert not failed, f"entity pages that did not render: {failed}"
