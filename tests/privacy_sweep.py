"""The public outputs a hidden or erased person must never appear in, as URLs.

``PUBLIC_URLS`` lists every public output; add a URL here when a feature adds an output
(``tests/test_privacy_sweep.py`` checks each one for a hidden person, and
``tests/test_privacy_erase.py`` checks them all after an erase). ``{name}`` fields are
filled by :func:`expand`: ``{person}``, ``{event}`` (links to the person), ``{org}``
(the person is a member), ``{first}`` (the person's first revision), ``{last}`` (its
newest revision), ``{feed_page}`` and ``{as_page}`` (every page of the change feed),
``{sitemap}`` (every sitemap), ``{reconcile}`` (a reconciliation batch by name).
Outputs that other features have not built yet answer 404 and pass; they are checked
for real as soon as they exist.
"""

from __future__ import annotations

import gzip
import json
from urllib.parse import quote

from flask.testing import FlaskClient

from loader.catalogue import Catalogue

PERSON = "Q1500"  # Amara Okonkwo, fictional (loader/data/demo/people.ttl)
EVENT = "Q1604"  # lists PERSON as a participant (P5)
ORG = "Q1061"  # PERSON is a member of it (P4)
#: What must not appear: the label, a distinctive part of it, words of the description.
MARKERS = ("Amara Okonkwo", "Okonkwo", "volunteer trainer for new Wikipedia editors")

FORMATS = ("ttl", "nt", "jsonld", "rdf", "json")
FLAVORS = ("", "?flavor=simple", "?flavor=full")

_SPARQL_QUERIES = {
    "label": 'SELECT ?s ?o WHERE { ?s ?p ?o FILTER(CONTAINS(LCASE(STR(?o)), "okonk")) }',
    "graph": f"SELECT ?s ?p ?o WHERE {{ GRAPH wdata:{PERSON} {{ ?s ?p ?o }} }}",
    "labels-filled": f"SELECT ?x ?xLabel WHERE {{ wd:{EVENT} wdt:P5 ?x }}",
    "construct": (
        'CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(CONTAINS(LCASE(STR(?o)), "okonk")) }'
    ),
    "construct-person": f"CONSTRUCT {{ wd:{PERSON} ?p ?o }} WHERE {{ wd:{PERSON} ?p ?o }}",
    "describe": f"DESCRIBE wd:{PERSON}",
    "all-labels": "SELECT ?s ?l WHERE { ?s rdfs:label ?l } LIMIT 100000",
}


def sparql_url(name: str, fmt: str = "json") -> str:
    """The SPARQL endpoint URL of one of the sweep's queries."""
    return f"/sparql?format={fmt}&query=" + quote(_SPARQL_QUERIES[name])


PUBLIC_URLS: list[str] = [
    # pages
    "/",
    "/page/{person}",
    "/page/{person}/history",
    "/page/{person}/links",
    "/page/{event}",
    "/page/{event}/history",
    "/page/{org}",
    "/page/{org}/links",
    "/entity/{person}",
    # search and browse (the search term is only part of the name: pages echo it)
    "/search?q=Amara",
    "/search?q=Okonk",
    "/search?q=Amara&format=json",
    "/search?q=volunteer+trainer",
    "/browse/",
    "/browse/Q2",
    "/browse/Q11",
    "/browse/Q11?page=2",
    # data documents, every format and flavor, current and past revisions
    *(
        f"/data/{{{who}}}.{ext}{flavor}"
        for who in ("person", "event", "org")
        for ext in FORMATS
        for flavor in FLAVORS
    ),
    "/data/{person}",
    "/data/{person}.ttl?revision={first}",
    "/data/{person}.json?revision={first}",
    "/data/{person}.jsonld?revision={last}&flavor=full",
    "/entity/{person}?revision={first}",
    # SPARQL
    *(sparql_url(name) for name in _SPARQL_QUERIES if not name.startswith(("construct", "desc"))),
    sparql_url("label", "csv"),
    sparql_url("labels-filled", "tsv"),
    sparql_url("labels-filled", "xml"),
    *(sparql_url(name, "ttl") for name in ("construct", "construct-person", "describe")),
    sparql_url("construct", "jsonld"),
    "/sparql",
    "/sparql/examples",
    # dumps
    "/dumps/",
    "/dumps/bigtent-full.nt.gz",
    "/dumps/bigtent-full.ttl.gz",
    "/dumps/bigtent-truthy.nt.gz",
    "/dumps/bigtent-truthy.ttl.gz",
    # change feed
    "/changes",
    "/changes/page/{feed_page}",
    "/changes/activity-streams",
    "/changes/activity-streams/page/{as_page}",
    "/changes/activity/{last}",
    "/changes/activity/{first}",
    # dataset description and crawling aids
    "/dataset",
    "/dataset?format=jsonld",
    "/dataset?format=nt",
    "/dataset?format=html",
    "/sitemap.xml",
    "/sitemap-{sitemap}.xml",
    "/robots.txt",
    # the JSON API
    "/api/entity/{person}",
    "/api/entity/{person}/history",
    "/api/entity/{person}/revisions/{first}",
    "/api/entity/{person}/diff?from={first}&to={last}",
    "/api/entity/{event}",
    "/api/entity/{event}/history",
    # features of issue 6 built by others: checked once they exist
    "/peers?capacity=Q334",
    "/api/peers?capacity=Q334",
    "/api/peers?offers=Q334",
    "/page/{org}/peers",
    "/reconcile",
    "/reconcile?queries={reconcile}",
    "/network",
    "/network.json",
    "/network.svg",
    "/statistics",
    "/partnerships",
]


def expand(template: str, cat: Catalogue) -> list[str]:
    """The concrete URLs of one template (several for the per-page ones)."""
    history = cat.revisions.history(PERSON)
    fields = {
        "person": PERSON,
        "event": EVENT,
        "org": ORG,
        "first": str(history[-1].id),
        "last": str(history[0].id),
        "reconcile": quote(json.dumps({"q0": {"query": "Amara"}, "q1": {"query": "Okonk"}})),
    }
    pages = [str(n) for n in range(1, cat.feed.last_page() + 1)]
    sitemaps = [str(n) for n in range(1, cat.revisions.entity_count() // 50_000 + 2)]
    urls = [template]
    for name, values in (("feed_page", pages), ("as_page", pages), ("sitemap", sitemaps)):
        if "{" + name + "}" in template:
            urls = [u.replace("{" + name + "}", v) for u in urls for v in values]
    return [_fill(u, fields) for u in urls]


def _fill(url: str, fields: dict[str, str]) -> str:
    for name, value in fields.items():
        url = url.replace("{" + name + "}", value)
    return url


def body_of(client: FlaskClient, url: str) -> str:
    """What the public gets at ``url`` (redirects followed, gzip opened), as text."""
    response = client.get(url, follow_redirects=True)
    data = response.get_data()
    response.close()  # file responses (dumps) hold the file open until closed
    assert response.status_code < 500, (url, response.status_code, data[:500])
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def leaks(text: str) -> list[str]:
    """The markers of the person found in ``text``."""
    folded = text.casefold()
    return [m for m in MARKERS if m.casefold() in folded]
