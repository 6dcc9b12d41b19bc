"""The Wikibase Action API, the part Wikibase tools use, at ``ACTION_API_PATH``
(``/w/api.php``): pywikibot, WikibaseIntegrator and bots written for Wikidata read and
write Bigtent as they would a Wikibase.

Reads are public: ``wbgetentities`` (the entity JSON of ``/data/Q1.json``, word for word),
``wbsearchentities`` (the site search), ``query`` with ``meta=siteinfo|tokens|userinfo``.
``action=login`` logs a staff account in with a bot password: ``lgname`` is the account
name, optionally followed by ``@`` and any bot name, ``lgpassword`` the account's
password, checked and throttled as on the login page. Writes (``wbeditentity``,
``wbcreateclaim``, ``wbsetclaim``, ``wbremoveclaims``, ``wbsetlabel``,
``wbsetdescription``, ``wbsetaliases``, ``wbsetqualifier``, ``wbsetreference``) need a
POST by a logged-in editor with the session's ``token``; each is a change of the entity's
Wikibase JSON at ``baserevid`` (default: the newest revision), saved through the same
Editor as the forms and the JSON edit API (shapes, three-way merge with newer revisions,
revision log): a clash with a newer revision is ``editconflict``.

Errors have Wikibase's shape, ``{"error": {"code", "info"}, "servedby"}``, with HTTP 200
and a ``MediaWiki-API-Error`` header as MediaWiki sends them; :func:`error_code` is the one
table from Bigtent's errors to Wikibase's codes. ``maxlag=N`` is honoured as on Wikidata
(code ``maxlag`` while the triple store is more than N seconds behind the revision log).

This lives with the machine interfaces (``linked_data``) rather than with staff: most of
its traffic is reading, and it needs only ``loader`` and ``webapp.http`` (sessions, CSRF).
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request, session
from werkzeug.exceptions import HTTPException

from loader.base.errors import BigtentError, ConfigError
from loader.base.namespaces import ENTITY_ID
from loader.discovery.search import search as run_search
from loader.editing.editor import EditConflict, ValidationFailed
from loader.editing.wikibase_json import (
    WikibaseJsonError,
    apply_edit,
    entity_of_guid,
    find_claim,
    put_claim,
    remove_claim,
    set_aliases,
    snaks_to_model,
    statement_guid,
    to_model,
)
from loader.staff.accounts import EDITOR, LoginThrottled, Session, csrf_matches
from loader.storage.page_index import DESCRIPTION
from loader.storage.revision_log import REDIRECT
from webapp.http import auth
from webapp.http.bodies import BodyLimit, limit_blueprint, parse_json
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.clients import client_address
from webapp.http.errors import public_error
from webapp.http.rendering import index

bp = Blueprint("action_api", __name__)
# a form-encoded record is about three times its JSON
limit_blueprint(bp, BodyLimit("EDIT_MAX_BYTES", factor=3, extra=16384))

SERVED_BY = "bigtent"
ANONYMOUS_TOKEN = "+\\"  # noqa: S105 (MediaWiki's token for anonymous users, not a secret)
MAX_IDS = 50
MAX_SEARCH_LIMIT = 50
MAX_SEARCH_LENGTH = 200
DEFAULT_PROPS = ("info", "sitelinks", "aliases", "labels", "descriptions", "claims", "datatype")
INFO_KEYS = ("pageid", "ns", "title", "lastrevid", "modified")
#: MediaWiki's version that tools compare against (pywikibot wants 1.31 or later).
GENERATOR = "MediaWiki 1.39.0 (Bigtent)"


class ApiError(BigtentError):
    """An error of this API with its Wikibase code."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message, title=code)
        self.code = code
        self.extra = extra


def error_code(error: BigtentError) -> str:
    """The Wikibase/MediaWiki code of a Bigtent error: the one table."""
    if isinstance(error, ApiError | WikibaseJsonError):
        return error.code
    if isinstance(error, EditConflict):
        return "editconflict"
    if isinstance(error, ValidationFailed):
        return "modification-failed"
    if isinstance(error, LoginThrottled):
        return "ratelimited"
    if error.title == "maxlag":
        return "maxlag"
    return {
        401: "permissiondenied",
        403: "permissiondenied",
        404: "no-such-entity",
        409: "editconflict",
        410: "no-such-entity",
        413: "toobig",
        422: "modification-failed",
        429: "ratelimited",
        503: "readonly",
        507: "readonly",
    }.get(error.status, "badvalue" if error.status < 500 else "internal_api_error")


def error_response(error: BigtentError) -> Response:
    """The error as Wikibase writes it: HTTP 200, as MediaWiki answers API errors, except
    for a body too large to read, which is refused at the HTTP level (413) as the web
    server in front of a MediaWiki would."""
    error = public_error(error)
    code = error_code(error)
    body: dict[str, Any] = {"code": code, "info": error.message}
    if isinstance(error, ValidationFailed):
        body["messages"] = [
            {
                "name": "bigtent-invalid",
                "parameters": [p.field, p.message],
                "html": {"*": p.message},
            }
            for p in error.problems
        ]
    if isinstance(error, EditConflict):
        body["conflict"] = error.conflict
    if isinstance(error, ApiError):
        body.update(error.extra)
    body["*"] = 'See the Bigtent README, section "Wikibase Action API".'
    response = _json({"error": body, "servedby": SERVED_BY})
    response.headers["MediaWiki-API-Error"] = code
    if error.status == 413:
        response.status_code = 413
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(BigtentError)
def _bigtent_error(error: BigtentError) -> Response:
    return error_response(error)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    code = "toobig" if error.code == 413 else "badvalue"
    return error_response(ApiError(code, error.description or str(error)))


def _json(data: object) -> Response:
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the API at ACTION_API_PATH (its errors and cookies by the blueprint)."""
    path = str(app.extensions["bigtent.settings"].ACTION_API_PATH)
    if not path.startswith("/"):
        raise ConfigError(
            f"ACTION_API_PATH must be a path starting with /, such as /w/api.php; got {path!r} "
            "(set BIGTENT_ACTION_API_PATH)"
        )
    app.register_blueprint(bp)
    # a rule of the app under the blueprint's endpoint name: the path is a setting
    app.add_url_rule(path, f"{bp.name}.api", api, methods=["GET", "POST"])


# --- parameters ------------------------------------------------------------------------------


def _param(name: str, default: str | None = None) -> str | None:
    value = request.values.get(name)
    return default if value is None else value


def _required(name: str) -> str:
    value = request.values.get(name)
    if value is None or value == "":
        raise ApiError("missingparam", f'The "{name}" parameter must be set.')
    return value


def _flag(name: str) -> bool:
    """A MediaWiki boolean: present means true (whatever its value)."""
    return name in request.values


def _json_param(name: str) -> Any:
    """A JSON parameter, bounded as every JSON body is (size, depth, numbers)."""
    text = _required(name)
    try:
        return parse_json(text, f'the "{name}" parameter')
    except BigtentError as exc:
        if exc.status == 413:
            raise
        raise ApiError(
            "invalid-json", f'The "{name}" parameter is not valid JSON: {exc.message}'
        ) from None


def _entity_id(value: str, name: str = "id") -> str:
    entity = value.strip().upper()
    if not ENTITY_ID.match(entity):
        raise ApiError(
            "no-such-entity",
            f'Could not find an entity with the ID "{value[:60]}" ({name}): ids look like Q42 '
            "or P9.",
            id=value[:60],
        )
    return entity


def _revid(name: str = "baserevid") -> int | None:
    value = _param(name)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 15:
        raise ApiError(
            "badinteger", f'Invalid value "{value[:40]}" for integer parameter "{name}".'
        )
    return int(value)


def _summary() -> str:
    return (_param("summary", "") or "").strip()[:500]


# --- the entry point ---------------------------------------------------------------------------


def api() -> Response:
    """Dispatch on ``action``."""
    fmt = _param("format") or "json"
    if fmt not in ("json", "jsonfm"):
        raise ApiError("badvalue", f'Unrecognized value for parameter "format": {fmt[:40]}.')
    _check_maxlag()
    action = _param("action")
    if not action:
        return _json(
            {
                "help": "This is Bigtent's Wikibase Action API: give action=…",
                "actions": sorted(ACTIONS),
            }
        )
    handler = ACTIONS.get(action)
    if handler is None:
        raise ApiError("badvalue", f'Unrecognized value for parameter "action": {action[:40]}.')
    return _json(handler())


def _check_maxlag() -> None:
    raw = _param("maxlag")
    if raw is None:
        return
    try:
        limit = float(raw)
    except ValueError:
        raise ApiError("badinteger", "maxlag must be a number of seconds, e.g. maxlag=5") from None
    if not math.isfinite(limit) or limit < 0:
        raise ApiError("badinteger", "maxlag must be 0 or more seconds")
    pending, _oldest, lag = get_catalogue().applier.lag()
    if pending and lag > limit:
        error = ApiError(
            "maxlag",
            f"Waiting for the triple store: {lag:g} seconds lagged.",
            host=SERVED_BY,
            lag=lag,
            type="db",
        )
        error.retry_after = max(1, min(60, math.ceil(lag - limit)))
        raise error


# --- reading ---------------------------------------------------------------------------------


def _entity_json(entity: str, revision: int | None = None) -> dict[str, Any] | None:
    """The Wikibase JSON of an entity (at ``revision``), following a merge; None when it
    is unknown, deleted or not public (a hidden person is unknown here as everywhere)."""
    docs = get_catalogue().documents
    try:
        rev = docs.revision(entity, revision)
        if rev.state == REDIRECT and rev.redirect and revision is None:
            target = docs.revision(rev.redirect)
            merged: dict[str, Any] = json.loads(docs.render(target, "json"))["entities"]
            return {**merged[rev.redirect], "redirects": {"from": entity, "to": rev.redirect}}
        if rev.snapshot is None:
            return None
        data: dict[str, Any] = json.loads(docs.render(rev, "json"))["entities"][entity]
        return data
    except BigtentError as exc:
        if exc.status in (404, 410):
            return None
        raise


def _select(data: dict[str, Any], props: set[str], languages: set[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("labels", "descriptions", "aliases"):
            if key not in props:
                continue
            if languages is not None:
                value = {k: v for k, v in value.items() if k in languages}
        elif (key in INFO_KEYS and "info" not in props) or (
            key in ("claims", "sitelinks", "datatype") and key not in props
        ):
            continue
        out[key] = value
    return out


def wbgetentities() -> dict[str, Any]:
    """Entities by id, in Wikibase JSON."""
    ids = [i for i in _required("ids").split("|") if i]
    if len(ids) > MAX_IDS:
        raise ApiError(
            "toomanyvalues",
            f'Too many values supplied for parameter "ids". The limit is {MAX_IDS}.',
        )
    props = set((_param("props") or "|".join(DEFAULT_PROPS)).split("|"))
    langs = _param("languages")
    languages = set(langs.split("|")) if langs else None
    entities: dict[str, Any] = {}
    for raw in ids:
        entity = _entity_id(raw, "ids")
        data = _entity_json(entity)
        if data is None:
            entities[entity] = {"id": entity, "missing": ""}
        else:
            entities[entity] = _select(data, props, languages)
    return {"entities": entities, "success": 1}


def wbsearchentities() -> dict[str, Any]:
    """Entities whose labels or aliases match ``search``, best first."""
    text = _required("search")
    if len(text) > MAX_SEARCH_LENGTH:
        raise ApiError("badvalue", f"search is longer than {MAX_SEARCH_LENGTH} characters")
    language = _param("language") or "en"
    kind = _param("type", "item")
    if kind not in ("item", "property"):
        raise ApiError("badvalue", f'Unrecognized value for parameter "type": {str(kind)[:40]}.')
    limit = _revid("limit") or 7
    offset = _revid("continue") or 0
    limit = min(limit, MAX_SEARCH_LIMIT)
    found = index()
    prefix = "P" if kind == "property" else "Q"
    results = run_search(found, text, limit=offset + limit + 1 + 200)
    hits = [h for h in results.hits if h.id.startswith(prefix)]
    page = hits[offset : offset + limit]
    languages = [language, *get_settings().languages]
    names = found.names([h.id for h in page], languages)
    descriptions = found.names([h.id for h in page], languages, kind=DESCRIPTION)
    cat = get_catalogue()
    base = str(get_settings().BASE_URL).rstrip("/")
    out = []
    for hit in page:
        label = names.get(hit.id)
        entry: dict[str, Any] = {
            "id": hit.id,
            "title": hit.id if prefix == "Q" else f"Property:{hit.id}",
            "pageid": int(hit.id[1:]),
            "concepturi": cat.ns.entity(hit.id).value,
            "url": f"{base}/page/{hit.id}",
            "repository": "",
            "label": label[1] if label else hit.id,
            "match": {
                "type": "alias" if hit.matched_kind else "label",
                "language": hit.matched_lang,
                "text": hit.matched,
            },
        }
        description = descriptions.get(hit.id)
        if description:
            entry["description"] = description[1]
        out.append(entry)
    answer: dict[str, Any] = {"searchinfo": {"search": text}, "search": out, "success": 1}
    if len(hits) > offset + limit:
        answer["search-continue"] = offset + limit
    return answer


def query() -> dict[str, Any]:
    """``meta=siteinfo``, ``meta=tokens`` and ``meta=userinfo`` (several at once)."""
    metas = [m for m in (_param("meta") or "").split("|") if m]
    if _param("list") or _param("prop") or _param("generator"):
        raise ApiError(
            "readapidenied",
            "Only meta=siteinfo|tokens|userinfo are answered here: Bigtent lists no pages, "
            "users or revisions through this API (use /recent-changes, /search, /sparql).",
        )
    if not metas:
        return {"batchcomplete": ""}
    out: dict[str, Any] = {}
    warnings: dict[str, Any] = {}
    for meta in metas:
        if meta == "siteinfo":
            out.update(_siteinfo(warnings))
        elif meta == "tokens":
            out["tokens"] = _tokens()
        elif meta == "userinfo":
            out["userinfo"] = _userinfo()
        elif meta == "wikibase":
            out["wikibase"] = _wikibase()
        else:
            raise ApiError("badvalue", f'Unrecognized value for parameter "meta": {meta[:40]}.')
    answer: dict[str, Any] = {"batchcomplete": "", "query": out}
    if warnings:
        answer["warnings"] = warnings
    return answer


SITEINFO_PROPS = ("general", "namespaces", "namespacealiases", "extensions")


def _siteinfo(warnings: dict[str, Any]) -> dict[str, Any]:
    """``siprop=general|namespaces|namespacealiases|extensions`` (formatversion 2 shapes,
    which pywikibot reads); other properties are named in ``warnings``."""
    asked = [p for p in (_param("siprop") or "general").split("|") if p]
    unknown = [p for p in asked if p not in SITEINFO_PROPS]
    if unknown:
        names = ", ".join(p[:40] for p in unknown[:20])
        warnings["siteinfo"] = {"warnings": f'Unrecognized values for parameter "siprop": {names}.'}
    settings = get_settings()
    cat = get_catalogue()
    base = str(settings.BASE_URL).rstrip("/")
    path = str(settings.ACTION_API_PATH)
    languages = settings.languages or ["en"]
    general = {
        "mainpage": "Main Page",
        "base": f"{base}/",
        "sitename": str(settings.DATASET_TITLE),
        "generator": GENERATOR,
        "phpversion": "0",
        "phpsapi": "bigtent",
        "dbtype": "sqlite",
        "case": "case-sensitive",
        "lang": languages[0],
        "fallback": [],
        "rtl": False,
        "fallback8bitEncoding": "windows-1252",
        "writeapi": True,
        "timezone": "UTC",
        "timeoffset": 0,
        "articlepath": "/page/$1",
        "scriptpath": path.rsplit("/", 1)[0],
        "script": path,
        "server": base,
        "servername": base.split("://", 1)[-1].split("/")[0],
        "wikiid": "bigtent",
        "maxuploadsize": 0,
        "thumblimits": {},
        "imagelimits": {},
        "magiclinks": {},
        "wikibase-conceptbaseuri": cat.ns.entity("").value,
    }

    def namespace(number: int, name: str, model: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": number,
            "name": name,
            "subpages": False,
            "content": model is not None,
            "nonincludable": False,
        }
        if name:
            out["canonical"] = name
        if model is not None:
            out["defaultcontentmodel"] = model
        return out

    every = {
        "general": general,
        "namespaces": {
            "-1": namespace(-1, "Special"),
            "0": namespace(0, "", "wikibase-item"),
            "2": namespace(2, "User"),
            "120": namespace(120, "Property", "wikibase-property"),
        },
        "namespacealiases": [],
        "extensions": [{"name": "WikibaseRepository", "type": "wikibase"}],
    }
    return {p: every[p] for p in asked if p in every}


def _wikibase() -> dict[str, Any]:
    """Where the repository is: this site itself."""
    settings = get_settings()
    base = str(settings.BASE_URL).rstrip("/")
    script_path = str(settings.ACTION_API_PATH).rsplit("/", 1)[0]
    url = {"base": base, "scriptpath": script_path, "articlepath": "/page/$1"}
    return {"repo": {"url": url}, "siteid": "bigtent"}


def _login_token() -> str:
    token = session.get(auth.LOGIN_TOKEN)
    if not token:
        token = session[auth.LOGIN_TOKEN] = secrets.token_urlsafe(32)
    return str(token) + "+\\"


def _tokens() -> dict[str, str]:
    kinds = (_param("type") or "csrf").split("|")
    staff = auth.current()
    out = {}
    for kind in kinds:
        if kind == "login":
            out["logintoken"] = _login_token()
        elif kind == "csrf":
            out["csrftoken"] = staff.csrf_token + "+\\" if staff else ANONYMOUS_TOKEN
        else:
            raise ApiError("badvalue", f'Unrecognized value for parameter "type": {kind[:40]}.')
    return out


def _userinfo() -> dict[str, Any]:
    staff = auth.current()
    if staff is None:
        return {"id": 0, "name": client_address(), "anon": "", "groups": ["*"], "rights": ["read"]}
    rights = ["read", "edit", "writeapi", "createpage", "item-create", "property-create"]
    return {
        "id": staff.account.id,
        "name": staff.account.name,
        "groups": ["*", "user", staff.account.role],
        "rights": rights if staff.account.may(EDITOR) else ["read"],
    }


# --- logging in -----------------------------------------------------------------------------


def login() -> dict[str, Any]:
    """Log a staff account in with a bot password (``lgname``, ``lgpassword``, ``lgtoken``)."""
    if request.method != "POST":
        raise ApiError("mustbeposted", 'The "login" module requires a POST request.')
    token = _param("lgtoken")
    expected = session.get(auth.LOGIN_TOKEN)
    if (
        not token
        or not expected
        or not secrets.compare_digest(token.removesuffix("+\\").encode(), str(expected).encode())
    ):
        return {
            "login": {"result": "NeedToken" if not token else "WrongToken", "token": _login_token()}
        }
    name = (_param("lgname") or "").split("@", 1)[0][:100]
    password = _param("lgpassword") or ""
    accounts = get_catalogue().accounts
    try:
        account = accounts.authenticate(name, password, client_address())
    except BigtentError as exc:
        shown = public_error(exc)
        return {"login": {"result": "Failed", "reason": shown.message}}
    auth.forget_session()
    holder = Response()
    auth.start_session(holder, account)
    # the session cookie is carried over to the real response by _carry_cookies
    request.environ["bigtent.action_api.cookies"] = holder.headers.getlist("Set-Cookie")
    get_catalogue().editor.warm_up()
    return {"login": {"result": "Success", "lguserid": account.id, "lgusername": account.name}}


@bp.after_request
def _carry_cookies(response: Response) -> Response:
    for cookie in request.environ.get("bigtent.action_api.cookies", ()):
        response.headers.add("Set-Cookie", cookie)
    return response


def logout() -> dict[str, Any]:
    """End the session (``token`` required, as in MediaWiki)."""
    staff = _writer(role=None)
    del staff
    holder = Response()
    auth.end_session(holder)
    request.environ["bigtent.action_api.cookies"] = holder.headers.getlist("Set-Cookie")
    return {}


# --- writing ----------------------------------------------------------------------------------


def _writer(role: str | None = EDITOR) -> Session:
    """The session of a write: POST, logged in, role, the session's token."""
    if request.method != "POST":
        raise ApiError("mustbeposted", f'The "{_param("action")}" module requires a POST request.')
    staff = auth.current()
    asserted = _param("assert")
    if staff is None:
        if asserted in ("user", "bot"):
            raise ApiError(
                f"assert{asserted}failed",
                "You are no longer logged in, so the action could not be completed.",
            )
        raise ApiError(
            "permissiondenied",
            "Anonymous edits are refused: only staff accounts may change the catalogue. Log "
            "in first (action=login with the account's name and password).",
        )
    if role is not None and not staff.account.may(role):
        raise ApiError(
            "permissiondenied",
            f"Your account ({staff.account.name}, {staff.account.role}) may not edit: it "
            f"needs the {role} role.",
        )
    token = (_param("token") or "").removesuffix("+\\")
    if not token or not csrf_matches(staff, token):
        raise ApiError("badtoken", "Invalid CSRF token: get one with action=query&meta=tokens.")
    return staff


def _base_json(entity: str) -> tuple[dict[str, Any], int]:
    """The entity's Wikibase JSON at ``baserevid`` (default: the newest) and that id."""
    state = get_catalogue().revisions.state(entity)
    if state is None:
        raise ApiError(
            "no-such-entity", f'Could not find an entity with the ID "{entity}".', id=entity
        )
    base = _revid() or state.latest
    if base != state.latest and get_catalogue().revisions.get(entity, base) is None:
        raise ApiError("nosuchrevid", f"There is no revision {base} of {entity} (baserevid).")
    data = _entity_json(entity, base if base != state.latest else None)
    if data is None or "redirects" in data:
        raise ApiError(
            "no-such-entity", f"{entity} cannot be edited: it is not a live entity.", id=entity
        )
    return data, base


def _save(entity: str, new: dict[str, Any], base: int) -> dict[str, Any]:
    """Save ``new`` (Wikibase JSON) as an edit of ``entity`` made on revision ``base``;
    the saved entity's JSON."""
    cat = get_catalogue()
    submission = cat.editor.read_json(to_model(entity, new), entity)
    cat.editor.save(entity, submission, base, author=auth.author(), summary=_summary())
    saved = _entity_json(entity)
    assert saved is not None
    return saved


def _pageinfo(saved: dict[str, Any]) -> dict[str, Any]:
    return {"lastrevid": saved["lastrevid"]}


def wbeditentity() -> dict[str, Any]:
    """Create (``new=item|property``) or change an entity with Wikibase JSON ``data``."""
    _writer()
    data = _json_param("data")
    clear = _flag("clear")
    cat = get_catalogue()
    new = _param("new")
    if new is not None:
        if _param("id"):
            raise ApiError("param-illegal", 'Either provide the "id" or "new" parameter, not both.')
        if new not in ("item", "property"):
            raise ApiError("badvalue", f'Unrecognized value for parameter "new": {new[:40]}.')
        content = apply_edit({}, data, clear=True)
        result = cat.editor.create(
            lambda entity: cat.editor.read_json(to_model(entity, content), entity),
            author=auth.author(),
            summary=_summary(),
            kind="P" if new == "property" else "Q",
        )
        saved = _entity_json(result.entity)
        assert saved is not None
        return {"entity": saved, "success": 1}
    entity = _entity_id(_required("id"))
    current, base = _base_json(entity)
    before = current.get("lastrevid")
    saved = _save(entity, apply_edit(current, data, clear), base)
    answer: dict[str, Any] = {"entity": saved, "success": 1}
    if saved.get("lastrevid") == before:
        answer["nochange"] = ""  # as Wikibase says when an edit changes nothing
    return answer


def _claim_entity() -> tuple[str, str]:
    guid = _required("claim") if "claim" in request.values else _required("statement")
    return guid, entity_of_guid(guid)


def wbcreateclaim() -> dict[str, Any]:
    """Add a statement: ``entity``, ``property``, ``snaktype``, ``value`` (JSON)."""
    _writer()
    entity = _entity_id(_required("entity"), "entity")
    current, base = _base_json(entity)
    guid = statement_guid(entity)
    put_claim(
        current, {"id": guid, "mainsnak": _snak_param(), "type": "statement", "rank": "normal"}
    )
    saved = _save(entity, current, base)
    return {"pageinfo": _pageinfo(saved), "success": 1, "claim": find_claim(saved, guid)}


def _snak_param() -> dict[str, Any]:
    pid = _required("property").strip().upper()
    snaktype = _param("snaktype", "value")
    snak: dict[str, Any] = {"snaktype": snaktype, "property": pid}
    if snaktype == "value":
        value = _json_param("value")
        snak["datavalue"] = {"value": value, "type": _value_type(pid, value)}
    elif snaktype not in ("novalue", "somevalue"):
        raise ApiError("badvalue", 'snaktype must be "value", "novalue" or "somevalue"')
    return snak


def _value_type(pid: str, value: object) -> str:
    """The datavalue type of a bare value given for ``pid`` (as Wikibase infers it)."""
    ptype = get_catalogue().editor.property_types().get(pid)
    if ptype is None:
        raise ApiError("no-such-entity", f"There is no property {pid} in this catalogue.", id=pid)
    return {
        "WikibaseItem": "wikibase-entityid",
        "WikibaseProperty": "wikibase-entityid",
        "Time": "time",
        "Quantity": "quantity",
        "Monolingualtext": "monolingualtext",
        "GlobeCoordinate": "globecoordinate",
    }.get(ptype, "string")


def wbsetclaim() -> dict[str, Any]:
    """Add or replace a whole statement (``claim``: its Wikibase JSON, with its id)."""
    _writer()
    claim = _json_param("claim")
    if not isinstance(claim, dict):
        raise ApiError("invalid-claim", "claim must be a statement in Wikibase JSON")
    guid = claim.get("id")
    entity = entity_of_guid(guid)
    current, base = _base_json(entity)
    put_claim(current, claim)
    saved = _save(entity, current, base)
    return {"pageinfo": _pageinfo(saved), "success": 1, "claim": find_claim(saved, str(guid))}


def wbremoveclaims() -> dict[str, Any]:
    """Remove statements (``claim``: ids separated by |, all of one entity)."""
    _writer()
    guids = [g for g in _required("claim").split("|") if g]
    entities = {entity_of_guid(g) for g in guids}
    if len(entities) != 1:
        raise ApiError("invalid-guid", "All the statements must belong to one entity.")
    entity = entities.pop()
    current, base = _base_json(entity)
    for guid in guids:
        if not remove_claim(current, guid):
            raise ApiError("no-such-claim", f'There is no statement "{guid[:100]}" on {entity}.')
    saved = _save(entity, current, base)
    return {"pageinfo": _pageinfo(saved), "success": 1, "claims": guids}


def _term_action(name: str) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        _writer()
        entity = _entity_id(_required("id"))
        language = _required("language")
        value = (_param("value") or "").strip()
        current, base = _base_json(entity)
        change = {"language": language, **({"value": value} if value else {"remove": ""})}
        saved = _save(entity, apply_edit(current, {name: [change]}), base)
        term = saved.get(name, {}).get(language) or {"language": language, "removed": ""}
        return {
            "entity": {
                "id": entity,
                "type": saved["type"],
                name: {language: term},
                "lastrevid": saved["lastrevid"],
            },
            "success": 1,
        }

    run.__doc__ = f"Set or remove the {name[:-1]} in one language."
    return run


def wbsetaliases() -> dict[str, Any]:
    """Change one language's aliases: ``set``, or ``add`` and ``remove`` (| separated)."""
    _writer()
    entity = _entity_id(_required("id"))
    language = _required("language")
    current, base = _base_json(entity)
    texts = [a["value"] for a in current.get("aliases", {}).get(language, [])]
    if "set" in request.values:
        texts = [t for t in (_param("set") or "").split("|") if t]
    else:
        drop = set((_param("remove") or "").split("|"))
        texts = [t for t in texts if t not in drop] + [
            t for t in (_param("add") or "").split("|") if t
        ]
    set_aliases(current, language, texts)
    saved = _save(entity, current, base)
    return {
        "entity": {
            "id": entity,
            "type": saved["type"],
            "aliases": {language: saved.get("aliases", {}).get(language, [])},
            "lastrevid": saved["lastrevid"],
        },
        "success": 1,
    }


def _statement_of(current: dict[str, Any], guid: str) -> dict[str, Any]:
    statement = find_claim(current, guid)
    if statement is None:
        raise ApiError("no-such-claim", f'There is no statement "{guid[:100]}".')
    return statement


def wbsetqualifier() -> dict[str, Any]:
    """Add a qualifier to a statement, or replace the one with ``snakhash``."""
    _writer()
    guid, entity = _claim_entity()
    current, base = _base_json(entity)
    statement = _statement_of(current, guid)
    qualifiers: dict[str, list[Any]] = {
        p: list(s) for p, s in (statement.get("qualifiers") or {}).items()
    }
    old = _param("snakhash")
    if old:
        found = False
        for pid in list(qualifiers):
            kept = [s for s in qualifiers[pid] if s.get("hash") != old]
            found = found or len(kept) != len(qualifiers[pid])
            qualifiers[pid] = kept
        if not found:
            raise ApiError("no-such-qualifier", f'The statement has no qualifier "{old[:60]}".')
    snak = _snak_param()
    qualifiers.setdefault(snak["property"], []).append(snak)
    statement["qualifiers"] = {p: s for p, s in qualifiers.items() if s}
    put_claim(current, statement)
    saved = _save(entity, current, base)
    return {"pageinfo": _pageinfo(saved), "success": 1, "claim": find_claim(saved, guid)}


def wbsetreference() -> dict[str, Any]:
    """Add a reference to a statement (``snaks``: JSON), or replace the one with
    ``reference`` (its hash)."""
    _writer()
    guid, entity = _claim_entity()
    snaks = _json_param("snaks")
    current, base = _base_json(entity)
    statement = _statement_of(current, guid)
    references = list(statement.get("references") or [])
    old = _param("reference")
    new_ref = {"snaks": snaks, "snaks-order": list(snaks) if isinstance(snaks, dict) else []}
    if old:
        kept = [r for r in references if r.get("hash") != old]
        if len(kept) == len(references):
            raise ApiError("no-such-reference", f'The statement has no reference "{old[:60]}".')
        references = kept
    references.append(new_ref)
    statement["references"] = references
    put_claim(current, statement)
    saved = _save(entity, current, base)
    claim = find_claim(saved, guid) or {}
    wanted = _snak_key(snaks)
    reference = next(
        (r for r in claim.get("references", []) if _snak_key(r.get("snaks")) == wanted), None
    )
    return {"pageinfo": _pageinfo(saved), "success": 1, "reference": reference}


def _snak_key(snaks: object) -> list[str]:
    """Snaks compared by what they say (not by order or hash)."""
    return sorted(json.dumps(s, sort_keys=True) for s in snaks_to_model(snaks))


#: Actions that change something (MediaWiki's ``mustbeposted``).
WRITES = frozenset(
    {
        "login",
        "logout",
        "wbeditentity",
        "wbcreateclaim",
        "wbsetclaim",
        "wbremoveclaims",
        "wbsetlabel",
        "wbsetdescription",
        "wbsetaliases",
        "wbsetqualifier",
        "wbsetreference",
    }
)
#: The query submodules (``meta``) and their parameter prefixes.
QUERY_MODULES = {"siteinfo": "si", "tokens": "", "userinfo": "ui", "wikibase": "wb"}


def _parameter(name: str, kind: object = "string", **more: object) -> dict[str, Any]:
    return {"index": 0, "name": name, "type": kind, **more}


def _module(path: str) -> dict[str, Any]:
    """MediaWiki's ``paraminfo`` of one module: enough for clients that check which
    actions exist, their prefixes and whether they must be posted (pywikibot)."""
    name = path.rsplit("+", 1)[-1]
    out: dict[str, Any] = {
        "name": name,
        "classname": f"Bigtent\\{name}",
        "path": path,
        "group": "action",
        "prefix": "",
        "source": "Bigtent",
        "parameters": [],
        "templatedparameters": [],
        "helpurls": [],
        "examples": [],
    }
    if path == "main":
        actions = sorted(ACTIONS)
        out["parameters"] = [
            _parameter("action", actions, submodules={a: a for a in actions}, default="help"),
            _parameter("format", ["json"], submodules={"json": "json"}, default="json"),
            _parameter("maxlag", "integer"),
            _parameter("assert", ["anon", "bot", "user"]),
            _parameter("uselang", "string", default="user"),
        ]
    elif path == "query":
        meta = {m: f"query+{m}" for m in QUERY_MODULES}
        out["parameters"] = [
            _parameter("prop", [], submodules={}, multi="", limit=50),
            _parameter("list", [], submodules={}, multi="", limit=50),
            _parameter("meta", sorted(meta), submodules=meta, multi="", limit=50),
            _parameter("generator", [], submodules={}),
        ]
    elif path == "paraminfo":
        out["parameters"] = [_parameter("modules", "string", multi="", limit=50)]
    elif path.startswith("query+") and name in QUERY_MODULES:
        out["group"] = "meta"
        out["prefix"] = QUERY_MODULES[name]
        if name == "tokens":
            out["parameters"] = [_parameter("type", ["csrf", "login"], multi="", limit=50)]
        else:
            out["parameters"] = [_parameter("prop", "string", multi="", limit=50)]
    elif path in ACTIONS:
        if path in WRITES:
            out["mustbeposted"] = ""
            out["writerights"] = ""
            out["parameters"] = [_parameter("token", "string", tokentype="csrf")]
    else:
        return {"name": name, "path": path, "missing": ""}
    return out


def paraminfo() -> dict[str, Any]:
    """What modules there are and how they are called (``modules``, | separated)."""
    modules = [m for m in (_param("modules") or "").split("|") if m][:50]
    return {"paraminfo": {"helpformat": "none", "modules": [_module(m) for m in modules]}}


ACTIONS: dict[str, Callable[[], dict[str, Any]]] = {
    "wbgetentities": wbgetentities,
    "wbsearchentities": wbsearchentities,
    "query": query,
    "login": login,
    "logout": logout,
    "wbeditentity": wbeditentity,
    "wbcreateclaim": wbcreateclaim,
    "wbsetclaim": wbsetclaim,
    "wbremoveclaims": wbremoveclaims,
    "wbsetlabel": _term_action("labels"),
    "wbsetdescription": _term_action("descriptions"),
    "wbsetaliases": wbsetaliases,
    "wbsetqualifier": wbsetqualifier,
    "wbsetreference": wbsetreference,
    "paraminfo": paraminfo,
}
