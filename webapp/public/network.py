"""The partnership network: ``/network`` (interactive graph with an equivalent table),
``/network.json`` (its data) and ``/network.svg`` (a static picture of the same view).

The three take the same filters (``activity``, ``tier``, ``status``: concept ids, repeatable;
``from``/``to``: years; ``limit``: organisations shown, at most NETWORK_MAX_ORGANISATIONS),
checked by :meth:`loader.discovery.network.PartnershipNetwork.parse_filter`. The graph is
drawn in the browser with Cytoscape.js, served from node_modules by :mod:`webapp.public.vendor`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _

from loader.discovery.network import VOCABULARIES, Graph, NetworkFilter, PartnershipNetwork
from loader.discovery.network_layout import ring_layout
from loader.storage.page_index import PageIndex
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.errors import json_only
from webapp.http.rendering import cached_html, index, language_tag
from webapp.http.request_args import label_languages

bp = Blueprint("network", __name__)

GRAPH_ASSETS = ["cytoscape.min.js"]
#: Side of the static picture, in SVG user units.
SVG_SIZE = 1000
#: Up to this many organisations and networks, the picture writes their names.
SVG_LABELS_UP_TO = 120
SVG_LABEL_CHARS = 26
KIND_ORDER = ("organisation", "network", "partnership")


def _network() -> PartnershipNetwork:
    return get_catalogue().network


def current_filter(*, view: str = "the network view", extra: Sequence[str] = ()) -> NetworkFilter:
    """The request's filters, checked (400 for anything unknown or out of range); other
    views taking the same filters (the map) name themselves and their own parameters."""
    args = {name: request.args.getlist(name) for name in request.args}
    return _network().parse_filter(
        args, int(get_settings().NETWORK_MAX_ORGANISATIONS), view=view, extra=extra
    )


def filter_args(wanted: NetworkFilter, default_limit: int) -> dict[str, object]:
    """The query parameters that ask for ``wanted`` (for links between the views)."""
    args: dict[str, object] = {name: sorted(getattr(wanted, name)) for name in VOCABULARIES}
    if wanted.year_from is not None:
        args["from"] = wanted.year_from
    if wanted.year_to is not None:
        args["to"] = wanted.year_to
    if wanted.limit != default_limit:
        args["limit"] = wanted.limit
    return {k: v for k, v in args.items() if v not in ([], None)}


def _state(wanted: NetworkFilter, languages: Sequence[str]) -> tuple[tuple[object, ...], str]:
    """Cache key and ETag of one view of the network."""
    found = index()
    key = (found.indexed_id, wanted.key(), tuple(languages), request.script_root)
    digest = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:16]
    return key, f"network-{found.indexed_id}-{digest}"


def graph_json(graph: Graph, root: str | None = None) -> dict[str, object]:
    """The JSON form of the network (``/network.json``); page links start with ``root``
    (the request's script root when None)."""
    root = request.script_root if root is None else root
    nodes: list[dict[str, object]] = []
    for node in graph.nodes:
        item: dict[str, object] = {
            "id": node.id,
            "kind": node.kind,
            "label": node.label,
            "lang": node.lang,
            "page": f"{root}/page/{node.id}",
        }
        if node.kind == "partnership":
            item.update(node.facts)
            item["start"] = node.start
            item["end"] = node.end
        else:
            item["partnerships"] = node.partnerships
        nodes.append(item)
    return {
        "truncated": graph.truncated,
        "order": "organisations and networks in the most partnerships first, then lowest id",
        "nodes": nodes,
        "edges": [{"source": s, "target": t, "kind": k} for s, t, k in graph.edges],
        "concepts": {
            c: {"label": text, "lang": lang} for c, (lang, text) in graph.concepts.items()
        },
    }


@bp.get("/network.json")
@json_only
def network_json() -> Response:
    """The network's nodes and edges for the chosen filters, as of the newest finished
    computation (its ``revision``; recomputed in the background after an edit)."""
    wanted = current_filter()
    languages = label_languages()
    network = _network()
    root = request.script_root
    key = (wanted.key(), tuple(languages), root)

    def body(_index: PageIndex) -> bytes:  # no request here: it may run in the background
        data = graph_json(network.graph(wanted, languages), root)
        data["filters"] = filter_args(wanted, -1)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    found = get_catalogue().views.get(("network.json", key), body)
    payload = found.value[:-1] + b',"revision":' + str(found.revision).encode() + b"}"
    response = Response(payload, mimetype="application/json")
    return conditional(response, _etag("network", found.revision, key), max_age=60)


def _etag(view: str, revision: int, key: tuple[object, ...]) -> str:
    """The ETag of one view's result: the revision it reflects and its parameters."""
    digest = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()[:16]
    return f"{view}-r{revision}-{digest}"


@bp.get("/network.svg")
def network_svg() -> Response:
    """A static picture of the network for the chosen filters."""
    wanted = current_filter()
    languages = label_languages()
    key, etag = _state(wanted, languages)
    payload = index().memo(
        ("network.svg", key), lambda: render_svg(_network().graph(wanted, languages)).encode()
    )
    response = Response(payload, mimetype="image/svg+xml")
    return conditional(response, etag, max_age=60)


def render_svg(graph: Graph) -> str:
    """The network as a standalone SVG document (deterministic ring layout)."""
    half = SVG_SIZE / 2
    order = sorted(graph.nodes, key=lambda n: (KIND_ORDER.index(n.kind), int(n.id[1:])))
    placed = ring_layout(
        [(n.id, n.kind) for n in order], [(s, t) for s, t, _ in graph.edges], half * 0.78
    )
    parties = sum(1 for n in graph.nodes if n.kind != "partnership")
    base = get_catalogue().ns.base  # the canonical page addresses: the picture travels
    return render_template(
        "network.svg",
        graph=graph,
        nodes=order,
        placed=placed,
        size=SVG_SIZE,
        half=half,
        labels=parties <= SVG_LABELS_UP_TO,
        shorten=_shorten,
        link=lambda entity: f"{base}page/{entity}",
        counts={k: sum(1 for n in graph.nodes if n.kind == k) for k in KIND_ORDER},
    )


def _shorten(text: str) -> str:
    return text if len(text) <= SVG_LABEL_CHARS else text[: SVG_LABEL_CHARS - 1] + "…"


@bp.get("/network")
def network_page() -> Response:
    """The interactive network, its filters and the same data as tables."""
    wanted = current_filter()
    languages = label_languages()
    key, etag = _state(wanted, languages)
    network = _network()
    default_limit = int(get_settings().NETWORK_MAX_ORGANISATIONS)

    def render() -> tuple[str, None]:
        graph = network.graph(wanted, languages)
        vocabularies = {name: network.vocabulary(name) for name in VOCABULARIES}
        names = index().names([c for values in vocabularies.values() for c in values], languages)
        args = filter_args(wanted, default_limit)
        query = urlencode(args, doseq=True)
        html = render_template(
            "network.html",
            graph=graph,
            wanted=wanted,
            vocabularies=vocabularies,
            names=names,
            labels={node.id: node for node in graph.nodes},
            parties=[n for n in graph.nodes if n.kind != "partnership"],
            partnerships=[n for n in graph.nodes if n.kind == "partnership"],
            edges_of=_edges_of(graph),
            json_url=url_for("network.network_json") + ("?" + query if query else ""),
            svg_url=url_for("network.network_svg") + ("?" + query if query else ""),
            filter_titles=filter_titles(),
            default_limit=default_limit,
            language=language_tag(languages),
        )
        return html, None

    return cached_html(("network", *key), etag, render)


def filter_titles() -> dict[str, str]:
    """The reader's name of each vocabulary filter."""
    return {"activity": _("Activity type"), "tier": _("Tier"), "status": _("Status")}


def _edges_of(graph: Graph) -> dict[str, list[str]]:
    """Each partnership's shown parties and each organisation's networks."""
    found: dict[str, list[str]] = {}
    for source, target, kind in graph.edges:
        if kind == "participant":
            found.setdefault(target, []).append(source)
        else:
            found.setdefault(source, []).append(target)
    return found
