"""Fixed English words that pages show but do not write themselves, in the reader's
interface language: error titles (raised in ``loader/`` in English), account roles,
revision actions, Activity Streams types, kinds of backlink, audiences of example
queries, dump files.

Each term is marked with ``N_`` so that ``pybabel extract`` (and ``tests/test_i18n.py``)
find it, and translated when a page is rendered. A term not listed here (a title added
later, say) is shown as it is, in English.
"""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext


def N_(text: str) -> str:
    """Mark ``text`` for translation without translating it yet."""
    return text


ERROR_TITLES = {
    t.lower(): t
    for t in (
        # Titles of BigtentError in loader/ and webapp/.
        N_("Bad graph IRI"),
        N_("Bad page number"),
        N_("Bad request"),
        N_("Bad revision id"),
        N_("Bad revision"),
        N_("Bad revision number"),
        N_("Bad filter"),
        N_("Cannot restore"),
        N_("Empty file"),
        N_("File too large"),
        N_("No file"),
        N_("No such upload"),
        N_("Nothing to compare"),
        N_("Revisions in the wrong order"),
        N_("Unreadable file"),
        N_("Unreadable upload"),
        N_("Bad setting"),
        N_("Bad timeout"),
        N_("Base revision required"),
        N_("CSRF check failed"),
        N_("Conflict"),
        N_("Edit conflict"),
        N_("Empty query"),
        N_("Endpoint busy"),
        N_("Forbidden"),
        N_("Gone"),
        N_("Input rejected"),
        N_("Internal error"),
        N_("Invalid encoding"),
        N_("Invalid record"),
        N_("Login failed"),
        N_("Login required"),
        N_("Merge conflict"),
        N_("No query"),
        N_("No such activity"),
        N_("No such class"),
        N_("No such dump"),
        N_("No such page"),
        N_("No such revision"),
        N_("No such sitemap"),
        N_("Not acceptable"),
        N_("Not found"),
        N_("Not installed"),
        N_("Not written yet"),
        N_("Query failed"),
        N_("Query syntax error"),
        N_("Query timeout"),
        N_("Query too deeply nested"),
        N_("Query too expensive"),
        N_("Query too long"),
        N_("Range not satisfiable"),
        N_("Read-only endpoint"),
        N_("Reason required"),
        N_("Record too large"),
        N_("Repeated parameter"),
        N_("Request too large"),
        N_("SERVICE call failed"),
        N_("SERVICE not allowed"),
        N_("Store busy"),
        N_("Store unavailable"),
        N_("Too many attempts"),
        N_("Too many filters"),
        N_("Too many requests"),
        N_("Unknown facet value"),
        N_("Unknown facet"),
        N_("Unknown flavor"),
        N_("Unknown format"),
        N_("Unknown type"),
        N_("Unsupported format"),
        N_("Unsupported media type"),
        # Werkzeug's names of HTTP errors (compared case-insensitively).
        N_("Method not allowed"),
        N_("Unauthorized"),
        N_("Request timeout"),
        N_("Length required"),
        N_("Precondition failed"),
        N_("Request entity too large"),
        N_("URI too long"),
        N_("Unprocessable entity"),
        N_("Internal server error"),
        N_("Service unavailable"),
    )
}
ROLES = {"editor": N_("editor"), "admin": N_("admin")}
#: Revision actions (``loader.storage.revision_log``), as the history page lists them.
ACTIONS = {
    "create": N_("created"),
    "update": N_("updated"),
    "delete": N_("deleted"),
    "merge": N_("merged"),
    "restore": N_("restored"),
}
#: Activity Streams activity types of the change feed.
# Past participles: "Create" and "Delete" are buttons (verbs) elsewhere.
ACTIVITIES = {"Create": N_("Created"), "Update": N_("Updated"), "Delete": N_("Deleted")}
#: Where a backlink is used (``webapp.public.pages.LINK_KINDS``).
LINK_KINDS = {
    "statement": N_("statement"),
    "qualifier": N_("qualifier"),
    "reference": N_("reference"),
}
#: Audiences of the example queries (``loader.query.examples.AUDIENCES``).
AUDIENCES = {
    "data consumers": N_("For data consumers"),
    "aggregators": N_("For aggregators"),
    "staff": N_("For staff"),
}
#: The dump files (``loader.publish.dumps.DUMPS``), by file name.
DUMP_TITLES = {
    "bigtent-full.nt.gz": N_("Full dump (N-Triples, gzip)"),
    "bigtent-full.ttl.gz": N_("Full dump (Turtle, gzip)"),
    "bigtent-truthy.nt.gz": N_("Truthy dump (N-Triples, gzip)"),
    "bigtent-truthy.ttl.gz": N_("Truthy dump (Turtle, gzip)"),
}

#: Property datatypes (``wikibase:propertyType``, without the namespace), by the names
#: Wikidata's interface gives them.
DATATYPES = {
    "WikibaseItem": N_("Item"),
    "WikibaseProperty": N_("Property"),
    "String": N_("String"),
    "Monolingualtext": N_("Monolingual text"),
    "ExternalId": N_("External identifier"),
    "Url": N_("URL"),
    "Time": N_("Point in time"),
    "Quantity": N_("Quantity"),
    "GlobeCoordinate": N_("Geographic coordinates"),
    "CommonsMedia": N_("Commons media file"),
    "Math": N_("Mathematical expression"),
}


def _term(terms: dict[str, str], key: str, fallback: str | None = None) -> str:
    found = terms.get(key)
    return gettext(found) if found is not None else (key if fallback is None else fallback)


def error_title(title: str) -> str:
    """An error's title in the interface language."""
    return _term(ERROR_TITLES, title.lower(), title)


def role_name(role: str) -> str:
    """An account role in the interface language."""
    return _term(ROLES, role)


def action_name(action: str) -> str:
    """A revision's action (create, update, …) in the interface language."""
    return _term(ACTIONS, action)


def activity_name(activity_type: str) -> str:
    """An Activity Streams type (Create, Update, Delete) in the interface language."""
    return _term(ACTIVITIES, activity_type)


def link_kind(kind: str) -> str:
    """Where a backlink is used (statement, qualifier, reference) in the interface language."""
    return _term(LINK_KINDS, kind)


def audience_label(audience: str) -> str:
    """ "For <audience>", the heading of a group of example queries."""
    return _term(AUDIENCES, audience, audience)


def dump_title(name: str, title: str) -> str:
    """What a dump file holds, in the interface language."""
    return _term(DUMP_TITLES, name, title)


def datatype_label(datatype: str) -> str:
    """A property datatype ("WikibaseItem", or its full IRI) by its name ("Item")."""
    name = datatype.rsplit("#", 1)[-1]
    return _term(DATATYPES, name, name)


def init_app(app: Flask) -> None:
    """Make the terms available to every template."""
    app.jinja_env.globals.update(
        error_title=error_title,
        role_name=role_name,
        action_name=action_name,
        activity_name=activity_name,
        link_kind=link_kind,
        audience_label=audience_label,
        dump_title=dump_title,
        datatype_label=datatype_label,
    )
