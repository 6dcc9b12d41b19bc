"""The public outputs a hidden or erased person must never appear in, as URLs.

``PUBLIC_URLS`` lists every public GET output and ``PUBLIC_POSTS`` the public POSTs;
``NOT_SWEPT`` the routes that cannot show a person, each with the reason.
``tests/test_privacy_sweep.py`` checks each URL for a hidden person and that every rule
of the app's URL map is either swept or in ``NOT_SWEPT`` (a new route fails until it is
one or the other); ``tests/test_privacy_erase.py`` checks them all after an erase.
``{name}`` fields are filled by :func:`expand`: ``{person}``, ``{event}`` (links to the
person), ``{org}`` (the person is a member), ``{first}`` (the person's first revision),
``{last}`` (its newest revision), ``{rev}`` (each of its revisions), ``{diff:person}``
and ``{diff:event}`` (``from=A&to=B`` for each revision and its parent, and for the
first and newest), ``{statement}``, ``{reference}`` and ``{value}`` (the ids of the
person's statements and the hashes of its reference and value nodes, from its newest
snapshot), ``{feed_page}`` and ``{as_page}`` (every page of the change feed),
``{sitemap}`` (every sitemap), ``{chart}`` (every statistics chart), ``{example}``
(every example query), ``{reconcile}`` (a reconciliation batch by name).
Outputs that other features have not built yet answer 404 and pass; they are checked
for real as soon as they exist.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import pyoxigraph as ox
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, RequestRedirect

from loader.catalogue import Catalogue
from loader.discovery.statistics import CHARTS

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
    "/page/{person}/history?page=2",
    "/page/{person}/links",
    "/page/{event}",
    "/page/{event}/history",
    # diffs, HTML and JSON: the person's own, and one of an entity linking to it
    "/page/{person}/diff",
    "/page/{person}/diff?{diff:person}",
    "/page/{person}/diff?{diff:person}&format=json",
    "/page/{person}/diff?to={rev}",
    "/page/{event}/diff?{diff:event}",
    "/page/{event}/diff?{diff:event}&format=json",
    "/page/{org}",
    "/page/{org}/links",
    # an old revision as a page; the capacity and territories the person's statements name
    "/page/{person}?revision={first}",
    "/page/{person}?revision={rev}",
    "/page/Q334",
    "/page/Q1411",
    "/page/P40/links",
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
    # the search box's suggestions and an id typed into it; the readable recent changes
    "/search?q={person}",
    "/search/suggest?q=Amara",
    "/search/suggest?q=Okonk",
    "/search/suggest?q={person}",
    "/recent-changes",
    "/recent-changes?type=people",
    "/recent-changes?kind=create",
    "/recent-changes?before={last}",
    "/recent-changes?before={first}",
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
    "/data/{person}.ttl?revision={rev}",
    "/data/{person}/history",
    # the person's statement, reference and value IRIs
    "/entity/statement/{statement}",
    "/entity/{person}/x",
    "/reference/{reference}",
    "/value/{value}",
    "/prop/P5",
    "/prop/direct/P5",
    # SPARQL
    *(sparql_url(name) for name in _SPARQL_QUERIES if not name.startswith(("construct", "desc"))),
    sparql_url("label", "csv"),
    sparql_url("labels-filled", "tsv"),
    sparql_url("labels-filled", "xml"),
    *(sparql_url(name, "ttl") for name in ("construct", "construct-person", "describe")),
    sparql_url("construct", "jsonld"),
    "/sparql",
    "/sparql/examples",
    "/sparql/examples/{example}.rq",
    "/sparql/prefixes",
    "/sparql/complete?prefix=wd&q=Amara",
    "/sparql/complete?q=Okonk",
    "/sparql/complete?prefix=wd&q=Okonkwo&uselang=fr",
    "/sparql?format=json&query="
    + quote(
        f"SELECT ?x ?xLabel WHERE {{ wd:{EVENT} wdt:P5 ?x . SERVICE wikibase:label "
        '{ bd:serviceParam wikibase:language "[AUTO_LANGUAGE],en". } }'
    ),
    "/query",
    "/query?query=" + quote(_SPARQL_QUERIES["labels-filled"]),
    "/embed",  # the query is in the fragment: the page itself holds no data
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
    "/changes/activity/{rev}",
    # dataset description and crawling aids
    "/dataset",
    "/dataset?format=jsonld",
    "/dataset?format=nt",
    "/dataset?format=html",
    "/.well-known/void",
    "/sitemap.xml",
    "/sitemap-{sitemap}.xml",
    "/robots.txt",
    # the JSON API
    "/api/entity/{person}",
    "/api/entity/{person}/history",
    "/api/entity/{person}/revisions/{rev}",
    "/api/entity/{person}/diff?{diff:person}",
    "/api/entity/{event}",
    "/api/entity/{event}/history",
    "/api/entity/{event}/diff?{diff:event}",
    "/api/session",
    # staff pages, as the public gets them (a login form or a refusal)
    "/account",
    "/admin/changes",
    "/admin/changes?format=json",
    "/admin/users",
    "/import",
    "/import/0123456789abcdef0123456789abcdef",
    "/edit/{person}",
    "/edit/{person}/delete",
    "/edit/{person}/merge",
    "/edit/new",
    "/edit/new/Q11",
    "/edit/options/P5",
    "/edit/options/P4",
    # the language switch, back to the person's page
    "/language?to=fr&next=/page/{person}",
    "/login",
    "/health",
    "/ready",
    # features of issue 6 built by others: checked once they exist
    "/peers?capacity=Q334",
    "/api/peers?capacity=Q334",
    "/api/peers?offers=Q334",
    "/page/{org}/peers",
    "/reconcile",
    "/reconcile?queries={reconcile}",
    "/reconcile/preview?id={person}",
    "/reconcile/preview?id={event}",
    "/reconcile/suggest/entity?prefix=Amara",
    "/reconcile/suggest/entity?prefix=Okonk",
    "/reconcile/suggest/type?prefix=Amara",
    "/reconcile/propose_properties?type=Q2",
    "/reconcile/suggest/property?prefix=Amara",
    "/network",
    "/network.json",
    "/network.svg",
    "/map",
    "/map.geojson?include=partnerships,territories",
    "/page/Q1411",  # Nigeria: the person is counted there
    "/statistics",
    "/statistics/{chart}.csv",
    "/partnerships",
    # the Wikibase Action API (ACTION_API_PATH)
    "/w/api.php?action=wbgetentities&ids={person}|{event}|{org}&format=json",
    "/w/api.php?action=wbgetentities&ids={person}&props=labels|descriptions|aliases",
    "/w/api.php?action=wbsearchentities&search=Amara&language=en&format=json",
    "/w/api.php?action=wbsearchentities&search=Okonk&language=en&limit=50",
    "/w/api.php?action=query&meta=siteinfo|userinfo|tokens&format=json",
]

#: Public POSTs: (path, form fields), the same questions as their GET forms.
PUBLIC_POSTS: list[tuple[str, dict[str, str]]] = [
    ("/sparql", {"query": _SPARQL_QUERIES["label"], "format": "json"}),
    ("/sparql", {"query": _SPARQL_QUERIES["labels-filled"], "format": "json"}),
    ("/reconcile", {"queries": json.dumps({"q0": {"query": "Amara Okonkwo"}})}),
    (
        "/reconcile",
        {
            "extend": json.dumps(
                {"ids": [PERSON, EVENT], "properties": [{"id": f"P{n}"} for n in (1, 4, 5, 44)]}
            )
        },
    ),
    ("/w/api.php", {"action": "wbgetentities", "ids": f"{PERSON}|{EVENT}", "format": "json"}),
    ("/w/api.php", {"action": "wbsearchentities", "search": "Okonk", "language": "en"}),
]

_STAFF_WRITE = "a staff write: the public is refused before anything is read"
#: Routes ("METHOD rule") that cannot show a person to the public, and why. Every other
#: rule of the URL map must be swept above.
NOT_SWEPT: dict[str, str] = {
    "GET /static/<path:filename>": "the app's own CSS and scripts, files of the package",
    "GET /vendor/<version>/<name>": "third-party scripts shipped with the package",
    "GET /favicon.ico": "a redirect to the static icon",
    "GET /map/land.geojson": "the land outlines of world-atlas, no entity in them",
    "POST /login": "answers about an account and password, never about entities",
    "POST /logout": "ends the session, shows nothing",
    "POST /account/password": _STAFF_WRITE,
    "POST /account/logout-everywhere": _STAFF_WRITE,
    "POST /admin/users": _STAFF_WRITE,
    "POST /admin/users/<name>/disable": _STAFF_WRITE,
    "POST /admin/users/<name>/enable": _STAFF_WRITE,
    "POST /admin/users/<name>/logout": _STAFF_WRITE,
    "POST /admin/users/<name>/remove": _STAFF_WRITE,
    "POST /admin/users/<name>/role": _STAFF_WRITE,
    "POST /api/entity": _STAFF_WRITE,
    "PUT /api/entity/<entity_id>": _STAFF_WRITE,
    "DELETE /api/entity/<entity_id>": _STAFF_WRITE,
    "POST /api/entity/<entity_id>/hide": _STAFF_WRITE,
    "POST /api/entity/<entity_id>/unhide": _STAFF_WRITE,
    "POST /api/entity/<entity_id>/merge": _STAFF_WRITE,
    "POST /api/entity/<entity_id>/revert": _STAFF_WRITE,
    "POST /edit/<entity_id>": _STAFF_WRITE,
    "POST /edit/<entity_id>/delete": _STAFF_WRITE,
    "POST /edit/<entity_id>/merge": _STAFF_WRITE,
    "POST /edit/<entity_id>/revert": _STAFF_WRITE,
    "POST /edit/new/<class_id>": _STAFF_WRITE,
    "POST /import": _STAFF_WRITE,
    "POST /import/<token>/confirm": _STAFF_WRITE,
    "POST /import/<token>/discard": _STAFF_WRITE,
    "POST /privacy/<entity_id>/hide": _STAFF_WRITE,
    "POST /privacy/<entity_id>/unhide": _STAFF_WRITE,
}


def expand(template: str, cat: Catalogue) -> list[str]:
    """The concrete URLs of one template (several for the per-page, per-revision ones;
    none when the catalogue has nothing to fill a field with)."""
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
    many = {
        "feed_page": pages,
        "as_page": pages,
        "sitemap": [str(n) for n in range(1, cat.revisions.entity_count() // 50_000 + 2)],
        "rev": [str(r.id) for r in history],
        "diff:person": _diffs(cat, PERSON),
        "diff:event": _diffs(cat, EVENT),
        "chart": [c.id for c in CHARTS],
        "example": [e.id for e in cat.examples.all()],
        **_nodes(cat),
    }
    urls = [template]
    for name, values in many.items():
        if "{" + name + "}" in template:
            urls = [u.replace("{" + name + "}", v) for u in urls for v in values]
    return [_fill(u, fields) for u in urls]


def _diffs(cat: Catalogue, entity: str) -> list[str]:
    """``from=A&to=B`` for each revision of ``entity`` and its parent, and for its first
    and newest revisions."""
    history = cat.revisions.history(entity)
    pairs = {(r.parent, r.id) for r in history if r.parent is not None}
    if len(history) > 1:
        pairs.add((history[-1].id, history[0].id))
    return [f"from={old}&to={new}" for old, new in sorted(pairs)]


def _nodes(cat: Catalogue) -> dict[str, list[str]]:
    """The person's statement ids and reference and value hashes, from the newest of its
    revisions that has a snapshot (none once it is erased)."""
    found: dict[str, set[str]] = {"statement": set(), "reference": set(), "value": set()}
    prefixes = {"statement": cat.ns["wds"], "reference": cat.ns["wdref"], "value": cat.ns["wdv"]}
    revisions = (cat.revisions.get(PERSON, r.id) for r in cat.revisions.history(PERSON))
    snapshot = next((r.snapshot for r in revisions if r is not None and r.snapshot), b"")
    for quad in ox.parse(snapshot, ox.RdfFormat.N_TRIPLES):
        for term in (quad.subject, quad.object):
            for name, prefix in prefixes.items():
                if isinstance(term, ox.NamedNode) and term.value.startswith(prefix):
                    found[name].add(term.value[len(prefix) :])
    return {name: sorted(values) for name, values in found.items()}


def _fill(url: str, fields: dict[str, str]) -> str:
    for name, value in fields.items():
        url = url.replace("{" + name + "}", value)
    return url


@dataclass(frozen=True)
class Answer:
    """What the public got: status, body as text (gzip opened), ETag."""

    status: int
    text: str
    etag: str | None


def fetch(
    client: FlaskClient,
    url: str,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """What the public gets at ``url`` (a GET, or a POST of ``form``; redirects
    followed)."""
    if form is None:
        response = client.get(url, headers=headers or {}, follow_redirects=True)
    else:
        response = client.post(url, data=form, headers=headers or {}, follow_redirects=True)
    data = response.get_data()
    response.close()  # file responses (dumps) hold the file open until closed
    assert response.status_code < 500, (url, response.status_code, data[:500])
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    etag = response.headers.get("ETag")
    return Answer(response.status_code, data.decode("utf-8", errors="replace"), etag)


def confirms(client: FlaskClient, url: str, etag: str) -> bool:
    """True when ``url`` answers 304 to a client holding the copy tagged ``etag``."""
    response = client.get(url, headers={"If-None-Match": etag}, follow_redirects=True)
    response.close()
    return response.status_code == 304


def body_of(client: FlaskClient, url: str) -> str:
    """What the public gets at ``url`` (redirects followed, gzip opened), as text."""
    return fetch(client, url).text


def swept_urls(cat: Catalogue) -> list[tuple[str, dict[str, str] | None]]:
    """Every concrete sweep request: (URL, None) for a GET, (path, form) for a POST."""
    gets: list[tuple[str, dict[str, str] | None]] = [
        (u, None) for t in PUBLIC_URLS for u in expand(t, cat)
    ]
    return gets + [(u, form) for path, form in PUBLIC_POSTS for u in expand(path, cat)]


def rule_of(url_map: Map, url: str, method: str) -> str | None:
    """The rule of ``url_map`` that ``url`` reaches, as "METHOD rule" (None for an output
    not built yet)."""
    adapter = url_map.bind("localhost")
    path = unquote(urlsplit(url).path)
    try:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except RequestRedirect as moved:  # a missing slash: the rule it redirects to
            moved_to = urlsplit(moved.new_url).path
            rule, _ = adapter.match(moved_to, method=method, return_rule=True)
    except HTTPException:
        return None
    return f"{method} {rule.rule}"


def unswept(url_map: Map, cat: Catalogue) -> list[str]:
    """Rules ("METHOD rule") of ``url_map`` (the app's) neither swept nor in
    ``NOT_SWEPT``."""
    requests = swept_urls(cat)
    swept = {rule_of(url_map, u, "GET" if form is None else "POST") for u, form in requests}
    missing = []
    for rule in url_map.iter_rules():
        for method in sorted((rule.methods or {"GET"}) - {"HEAD", "OPTIONS"}):
            key = f"{method} {rule.rule}"
            if key not in swept and key not in NOT_SWEPT:
                missing.append(key)
    return sorted(missing)


def leaks(text: str) -> list[str]:
    """The markers of the person found in ``text``."""
    folded = text.casefold()
    return [m for m in MARKERS if m.casefold() in folded]
