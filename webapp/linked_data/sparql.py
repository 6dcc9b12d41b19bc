"""``/sparql``: the SPARQL 1.1 Protocol (queries only) and the service description.

GET ``?query=``, form POST and direct POST (``application/sparql-query``); dataset by
``default-graph-uri``/``named-graph-uri``; results by content negotiation or ``?format=``;
``?timeout=`` lowers the time limit, ``?uselang=`` picks label languages. A GET without a
query answers with the service description. Every limit is enforced by the catalogue's
query service (:mod:`loader.query.service`); this module only speaks HTTP. The client a
query is charged to is its network address (:func:`webapp.http.clients.client_address`),
and the service description names the endpoint under BASE_URL, never under the Host
header a request sent (the description is cached publicly).
"""

from __future__ import annotations

import hashlib
import math
from urllib.parse import parse_qsl

from flask import Blueprint, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from loader.base.errors import BigtentError
from loader.discovery.search import search
from loader.query.budgets import client_key
from loader.query.execute import QueryOutcome
from loader.query.results import (
    GRAPH,
    SOLUTIONS,
    ResultFormat,
    for_media_type,
    format_names,
    formats_named,
    offered,
)
from loader.query.service import QueryService
from loader.query.service_description import describe
from loader.storage.page_index import DESCRIPTION
from webapp.http.bodies import BodyLimit, limit
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.clients import client_address
from webapp.http.errors import json_only
from webapp.http.negotiation import best_type, not_acceptable
from webapp.http.rendering import index
from webapp.http.request_args import reader_languages

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
HTML = "text/html"
SINGLE = ("query", "timeout", "uselang")
Params = list[tuple[str, str]]


def _refuse_update() -> BigtentError:
    return BigtentError(
        "This endpoint is read-only: SPARQL Update (the update parameter, "
        "application/sparql-update, INSERT, DELETE, LOAD, DROP …) is not accepted.",
        title="Read-only endpoint",
        status=403,
    )


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BigtentError(
            f"The {what} is not valid UTF-8 (byte {exc.start}); SPARQL requests must be "
            "UTF-8 encoded.",
            title="Invalid encoding",
        ) from None


def _parse_params(raw: bytes, what: str) -> Params:
    """URL-encoded parameters, percent-decoded as strict UTF-8 (Werkzeug would replace
    invalid bytes silently)."""
    text = _decode(raw, what)
    try:
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BigtentError(
            f"A parameter in the {what} is not valid UTF-8 once percent-decoded; SPARQL "
            "requests must be UTF-8 encoded.",
            title="Invalid encoding",
        ) from None


def _body(service: QueryService) -> bytes:
    """The request body, refused with 413 beyond three times SPARQL_MAX_QUERY_BYTES."""
    limit = 3 * service.max_query_bytes + 16384
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(request.content_length, limit, service)
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large(None, limit, service)
    return data


def _too_large(size: int | None, limit: int, service: QueryService) -> BigtentError:
    said = f"{size} bytes" if size is not None else "more than that"
    return BigtentError(
        f"The request body is {said}; bodies may be at most {limit} bytes, for queries of "
        f"at most {service.max_query_bytes} bytes (setting SPARQL_MAX_QUERY_BYTES).",
        title="Request too large",
        status=413,
    )


def _charset_is_utf8() -> bool:
    charset = request.mimetype_params.get("charset")
    return charset is None or charset.lower().replace("-", "") == "utf8"


def _read_request(service: QueryService) -> tuple[Params, str | None]:
    """All protocol parameters, and the query sent as a direct POST body (if any)."""
    params = _parse_params(request.query_string, "URL")
    if request.method != "POST":
        return params, None
    media_type = request.mimetype
    if media_type == UPDATE:
        raise _refuse_update()
    in_url = any(name == "query" for name, _ in params)
    if media_type not in (FORM, DIRECT) and in_url:
        # WDQS reads a query sent in the URL whatever the body is (WikibaseIntegrator
        # POSTs multipart/form-data): read within the cap, then ignored.
        _body(service)
        return params, None
    if media_type not in (FORM, DIRECT):
        got = f"Content-Type {media_type}" if media_type else "no Content-Type"
        raise BigtentError(
            f"A POST to the SPARQL endpoint needs Content-Type {FORM} (query=… in the body) "
            f"or {DIRECT} (the query as the body); this request has {got}.",
            title="Unsupported media type",
            status=415,
        )
    if not _charset_is_utf8():
        raise BigtentError(
            f"The request says charset={request.mimetype_params['charset']}; SPARQL "
            "requests must be UTF-8.",
            title="Unsupported media type",
            status=415,
        )
    body = _body(service)
    if media_type == FORM:
        sent = _parse_params(body, "request body")
        if in_url and any(name == "query" for name, _ in sent):
            raise _query_twice("in the request body (query=…)")
        return params + sent, None
    return params, _decode(body, "query")


def _query_twice(where: str) -> BigtentError:
    return BigtentError(
        f"The query came both in the URL (?query=…) and {where}; send exactly one.",
        title="Repeated parameter",
    )


def _single(params: Params, name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise BigtentError(
            f"The request has {len(values)} '{name}' parameters; send exactly one.",
            title="Repeated parameter",
        )
    return values[0] if values else None


def _timeout(params: Params) -> float | None:
    text = _single(params, "timeout")
    if text is None or text == "":
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (seconds > 0 and math.isfinite(seconds)):
        raise BigtentError(
            f"timeout={text!r} is not a positive number of seconds.", title="Bad timeout"
        )
    return seconds


def _chosen_formats(params: Params) -> dict[str, ResultFormat] | None:
    """The formats ``?format=`` asks for, by kind (None without ?format=).

    Some clients repeat the parameter or list media types in it (SPARQLWrapper sends
    ``format=tsv&format=text/tab-separated-values``): the first value naming a known
    format wins."""
    given = [v for k, v in params if k == "format" and v]
    if not given:
        return None
    for value in given:
        for name in value.split(","):
            found = formats_named(name)
            if found:
                return found
    raise BigtentError(
        f"Unknown format={given[0]!r}. SELECT and ASK results: {format_names(SOLUTIONS)}; "
        f"CONSTRUCT and DESCRIBE results: {format_names(GRAPH)}.",
        title="Unknown format",
    )


def _negotiate(params: Params) -> tuple[str | None, str | None]:
    """The media types for SELECT/ASK and for CONSTRUCT/DESCRIBE results."""
    named = _chosen_formats(params)
    if named is not None:
        chosen = [named.get(kind) for kind in (SOLUTIONS, GRAPH)]
        return tuple(f.media_type if f else None for f in chosen)  # type: ignore[return-value]
    media_types = []
    for kind in (SOLUTIONS, GRAPH):
        best = best_type(offered(kind))
        media_types.append(None if best is None else for_media_type(kind, best).media_type)
    if media_types == [None, None]:
        raise not_acceptable(offered(SOLUTIONS) + offered(GRAPH))
    return media_types[0], media_types[1]


def _graphs(params: Params, name: str) -> tuple[str, ...]:
    return tuple(v for k, v in params if k == name)


@bp.route("/sparql", methods=["GET", "POST"])
@limit(BodyLimit("SPARQL_MAX_QUERY_BYTES", factor=3, extra=16384))  # as _body() allows
def endpoint() -> ResponseReturnValue:
    """The SPARQL 1.1 Protocol for queries; the service description without a query."""
    service = get_catalogue().query_service
    params, direct = _read_request(service)
    names = {k for k, _ in params}
    if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
        raise _refuse_update()
    for name in SINGLE:
        _single(params, name)
    queries = [v for k, v in params if k == "query"]
    if direct is not None:
        if queries:
            raise _query_twice(f"as the {DIRECT} body")
        queries = [direct]
    if not queries:
        if request.method == "POST":
            raise BigtentError(
                f"The request has no query: send query=… (form) or the query as an {DIRECT} body.",
                title="No query",
            )
        return _service_description(service, params)
    query = queries[0]
    if not query.strip():
        raise BigtentError("The query is empty.", title="Empty query")
    service.check_length(query)
    solutions_type, graph_type = _negotiate(params)
    default_graphs = _graphs(params, "default-graph-uri")
    named_graphs = _graphs(params, "named-graph-uri")
    dataset = bool(default_graphs or named_graphs)
    uselang = _single(params, "uselang")
    languages = reader_languages() if uselang is None else [uselang.lower(), *reader_languages()]
    query_request = service.request(
        query,
        solutions_type=solutions_type,
        graph_type=graph_type,
        default_graphs=default_graphs if dataset else None,
        named_graphs=named_graphs if dataset else None,
        languages=tuple(dict.fromkeys(languages)),
    )
    timeout = _timeout(params)
    if request.method != "GET":  # POST answers are never cached
        outcome = service.run(query_request, client=client_key(client_address()), timeout=timeout)
        response = _answer(outcome)
        response.headers["Cache-Control"] = "no-store"
        return response
    service.check(query_request)  # refused queries are refused before any cache
    tag = service.answer_tag(query_request)
    if tag in request.if_none_match:
        return _cached(Response(status=200), tag, service)
    outcome = service.run_cached(
        query_request, client=client_key(client_address()), timeout=timeout, checked=True
    )
    return _cached(_answer(outcome), service.answer_tag(query_request, outcome.revision), service)


def _answer(outcome: QueryOutcome) -> Response:
    response = Response(outcome.body, content_type=outcome.content_type)
    if outcome.truncated:
        response.headers["Bigtent-Truncated"] = "true"
    return response


def _cached(response: Response, tag: str, service: QueryService) -> Response:
    """An answer to a GET query: tagged with the revision and the request, public for
    SPARQL_CACHE_MAX_AGE seconds (304 when the client holds it)."""
    response.vary.update(("Accept", "Accept-Language"))
    return conditional(response, tag, max_age=service.cache_max_age)


def _service_description(service: QueryService, params: Params) -> ResponseReturnValue:
    named = _chosen_formats(params)
    if named is None:
        rdf = offered(GRAPH)[:4]
        best = best_type([*rdf, HTML])
        if best == HTML:
            return redirect(request.script_root + "/query", code=303)
        if best is None:
            raise not_acceptable([*rdf, HTML])
        fmt = for_media_type(GRAPH, best)
    elif GRAPH in named:
        fmt = named[GRAPH]
    else:
        raise BigtentError(
            f"The service description is RDF: ask for format {format_names(GRAPH)}.",
            title="Unknown format",
        )
    endpoint_iri = get_settings().BASE_URL + "sparql"
    counts = get_catalogue().dataset_counts()
    body = describe(service, endpoint_iri, fmt, counts.triples, counts.entities)
    response = Response(body, content_type=fmt.content_type)
    tag = hashlib.sha256(f"{counts.tag} {fmt.name} {endpoint_iri}".encode()).hexdigest()[:32]
    return conditional(response, tag, max_age=60)


#: Completion: the prefixes naming items, and those naming properties (Wikibase's layout).
ITEM_PREFIXES = ("wd",)
PROPERTY_PREFIXES = ("wdt", "p", "ps", "psv", "pq", "pqv", "pr", "prv", "wdno")
COMPLETIONS = 20


@bp.get("/sparql/prefixes")
@json_only
def prefixes() -> Response:
    """The prefixes the endpoint predefines, as JSON ``{name: IRI}`` (for the editor)."""
    response = jsonify(get_catalogue().query_service.template.prefixes)
    return conditional(response, hashlib.sha256(response.get_data()).hexdigest()[:32], max_age=3600)


@bp.get("/sparql/complete")
@json_only
def complete() -> Response:
    """Items (``prefix=wd``) or properties (``prefix=wdt``, ``p``, ``ps``, ``pq``, ``pr``,
    …; without ``prefix``: both) whose label or alias matches ``q``, with their label and
    description in the reader's language: ``[{id, label, description}]``, at most 20."""
    prefix = request.args.get("prefix", "")
    if prefix and prefix not in ITEM_PREFIXES + PROPERTY_PREFIXES:
        raise BigtentError(
            f"prefix={prefix[:20]!r} names neither items nor properties: use "
            + ", ".join(ITEM_PREFIXES + PROPERTY_PREFIXES)
            + ".",
            title="Unknown prefix",
        )
    text = request.args.get("q", "")
    most = int(get_settings().SPARQL_COMPLETE_MAX_CHARS)
    if len(text) > most:
        raise BigtentError(
            f"q is {len(text)} characters long; completion searches at most {most} "
            "(setting SPARQL_COMPLETE_MAX_CHARS).",
            title="Text too long",
        )
    kinds = "QP" if not prefix else ("Q" if prefix in ITEM_PREFIXES else "P")
    found = index()
    ids = [h.id for h in search(found, text, limit=200).hits if h.id[0] in kinds]
    ids = ids[:COMPLETIONS]
    languages = reader_languages()
    labels = found.names(ids, languages)
    descriptions = found.names(ids, languages, kind=DESCRIPTION)
    return jsonify(
        [
            {
                "id": entity,
                "label": labels.get(entity, ("", entity))[1],
                "description": descriptions.get(entity, ("", ""))[1],
            }
            for entity in ids
        ]
    )
