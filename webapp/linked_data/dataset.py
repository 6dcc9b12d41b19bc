"""The dataset description: /dataset (DCAT 3 + VoID, content-negotiated) and
/.well-known/void (the VoID well-known location, RFC 8615)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for

from loader.base.rdf import syntaxes
from loader.publish.dataset import DATASET_PREFIXES, describe_dataset
from loader.publish.dumps import dumps_dir
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.i18n import language_etag
from webapp.http.rdf_response import HTML, RDF_FORMATS, choose, content_type, serialise

bp = Blueprint("dataset", __name__)

OFFERED = [*(s.media_type for s in syntaxes("ttl", "jsonld", "nt", "rdf")), HTML]
MAX_AGE = 60
REPRESENTATION = "v1"


@bp.get("/dataset")
def dataset() -> Response:
    """What the catalogue is and every way to get it."""
    chosen = choose(OFFERED)
    described = describe_dataset(get_catalogue().repository, dumps_dir(get_settings()))
    if chosen == HTML:
        response = Response(render_template("dataset.html", d=described, formats=RDF_FORMATS))
    else:
        body = serialise(described.triples_rdf(), chosen, DATASET_PREFIXES)
        response = Response(body, content_type=content_type(chosen))
    tag = (
        f"dataset-{described.revision}-{described.dumps_revision}-{described.dumps_generated}"
        f"-{REPRESENTATION}-{chosen}"
    )
    if chosen == HTML:
        tag = language_etag(tag)
    return conditional(response, tag, described.modified, MAX_AGE)


@bp.get("/.well-known/void")
def well_known_void() -> Response:
    """The well-known VoID location points at the dataset description."""
    target = url_for("dataset.dataset")
    if request.query_string:
        target += "?" + request.query_string.decode("ascii", "replace")
    response = Response(status=303)
    response.location = target
    return response
