"""The Wikibase Action API (``/w/api.php``): reads, tokens, bot-password login, writes
through the Editor, Wikibase's error format; driven by plain HTTP and by
WikibaseIntegrator against a live server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from live_server import LiveServer
from staff_support import PASSWORD, catalogue, staff_app

from loader.base.errors import ConfigError
from loader.base.settings import Settings, load_settings
from loader.staff.accounts import open_accounts
from webapp.linked_data import action_api

API = "/w/api.php"
USERS = {"bob": "editor", "alice": "admin"}


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return staff_app(make_app, USERS)


def call(client: FlaskClient, method: str = "GET", **params: Any) -> dict[str, Any]:
    """One API call; the JSON answer (HTTP 200 always, as MediaWiki answers)."""
    params.setdefault("format", "json")
    if method == "GET":
        response = client.get(API, query_string=params)
    else:
        response = client.post(API, data=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    data: dict[str, Any] = response.get_json()
    if "error" in data:
        assert response.headers["MediaWiki-API-Error"] == data["error"]["code"]
    return data


def bot_login(client: FlaskClient, name: str = "bob", password: str = PASSWORD) -> str:
    """Log in as MediaWiki bot passwords do; the CSRF token for writes."""
    token = call(client, action="query", meta="tokens", type="login")["query"]["tokens"]
    answer = call(
        client,
        "POST",
        action="login",
        lgname=f"{name}@bigtentbot",
        lgpassword=password,
        lgtoken=token["logintoken"],
    )
    assert answer["login"]["result"] == "Success", answer
    csrf: str = call(client, action="query", meta="tokens")["query"]["tokens"]["csrftoken"]
    assert csrf != "+\\"
    return csrf


def entity(client: FlaskClient, entity_id: str) -> dict[str, Any]:
    data: dict[str, Any] = call(client, action="wbgetentities", ids=entity_id)["entities"][
        entity_id
    ]
    return data


def test_wbgetentities_serves_the_entity_json_of_the_data_documents(app: Flask) -> None:
    client = app.test_client()
    data = call(client, action="wbgetentities", ids="Q1200|Q999999")
    assert data["success"] == 1
    document = client.get("/data/Q1200.json").get_json()["entities"]["Q1200"]
    assert data["entities"]["Q1200"] == document
    assert data["entities"]["Q999999"] == {"id": "Q999999", "missing": ""}
    only = call(client, action="wbgetentities", ids="Q1200", props="labels", languages="de")
    assert (
        only["entities"]["Q1200"]["labels"] == {"de": document["labels"]["de"]}
        and "claims" not in only["entities"]["Q1200"]
    )


def test_the_path_is_a_setting(make_app: Callable[..., Flask]) -> None:
    moved = staff_app(make_app, {}, ACTION_API_PATH="/wiki/api.php")
    client = moved.test_client()
    answer = client.get("/wiki/api.php", query_string={"action": "wbgetentities", "ids": "Q1"})
    assert answer.get_json()["entities"]["Q1"]["id"] == "Q1"
    assert client.get(API).status_code == 404
    general = client.get("/wiki/api.php?action=query&meta=siteinfo").get_json()["query"]
    assert general["general"]["script"] == "/wiki/api.php"


def test_a_path_without_a_slash_is_refused(make_settings: Callable[..., Settings]) -> None:
    bare = Flask(__name__)
    bare.extensions["bigtent.settings"] = make_settings(ACTION_API_PATH="w/api.php")
    with pytest.raises(ConfigError, match="ACTION_API_PATH"):
        action_api.init_app(bare)


def test_errors_have_wikibase_shape(app: Flask) -> None:
    client = app.test_client()
    for params, code in [
        ({"action": "nope"}, "badvalue"),
        ({"action": "wbgetentities"}, "missingparam"),
        ({"action": "wbgetentities", "ids": "X1"}, "no-such-entity"),
        ({"action": "wbsearchentities", "search": "x", "type": "lexeme"}, "badvalue"),
        ({"action": "query", "meta": "tokens", "type": "rollback"}, "badvalue"),
        ({"action": "wbgetentities", "ids": "Q1", "maxlag": "soon"}, "badinteger"),
    ]:
        data = call(client, **params)
        assert set(data) == {"error", "servedby"}, data
        assert data["error"]["code"] == code and data["error"]["info"], data
    # maxlag is accepted; with the store up to date with the log it lets the call through
    assert call(client, action="wbgetentities", ids="Q1200", maxlag="0")["success"] == 1


def test_maxlag_is_answered_while_the_store_is_behind_the_log(app: Flask) -> None:
    """With the store one revision behind the log (as after an outage), a call with a
    maxlag below the lag gets Wikibase's ``maxlag`` error, and one without maxlag runs."""
    cat = catalogue(app)
    cat.applier.stop()  # the applier would catch up within seconds
    state = cat.revisions.state("Q1200")
    assert state is not None
    with cat.revisions._db.write() as db:  # the revision is in the log, not in the store
        db.execute("UPDATE entities SET applied = NULL WHERE entity = ?", ("Q1200",))
    client = app.test_client()
    response = client.get(API, query_string={"action": "wbgetentities", "ids": "Q1", "maxlag": "0"})
    data = response.get_json()
    assert data["error"]["code"] == "maxlag" and data["error"]["lag"] > 0, data
    assert int(response.headers["Retry-After"]) >= 1
    assert call(client, action="wbgetentities", ids="Q1")["success"] == 1
    assert cat.applier.apply_once() == 1
    assert call(client, action="wbgetentities", ids="Q1", maxlag="0")["success"] == 1


def test_wbsearchentities_finds_items_and_properties(app: Flask) -> None:
    client = app.test_client()
    label = entity(client, "Q1200")["labels"]["en"]["value"]
    found = call(client, action="wbsearchentities", search=label, language="en")
    assert found["search"][0]["id"] == "Q1200"
    assert found["search"][0]["concepturi"].endswith("/entity/Q1200")
    props = call(
        client, action="wbsearchentities", search="instance of", language="en", type="property"
    )
    assert props["search"] and all(hit["id"].startswith("P") for hit in props["search"])
    assert props["search"][0]["id"] == "P1"


def test_siteinfo_gives_what_tools_read(app: Flask) -> None:
    client = app.test_client()
    data = call(client, action="query", meta="siteinfo")
    general = data["query"]["general"]
    base = app.config["BIGTENT_BASE_URL"].rstrip("/")
    assert general["wikibase-conceptbaseuri"] == catalogue(app).ns.entity("").value
    assert general["server"] == base and general["script"] == API
    assert general["generator"].startswith("MediaWiki 1.")


def test_anonymous_writes_are_refused(app: Flask) -> None:
    client = app.test_client()
    before = catalogue(app).revisions.count()
    data = call(
        client,
        "POST",
        action="wbeditentity",
        new="item",
        data=json.dumps({"labels": {"en": {"language": "en", "value": "Anon"}}}),
        token="+\\",
    )
    assert data["error"]["code"] == "permissiondenied"
    asserted = call(
        client,
        "POST",
        action="wbsetlabel",
        id="Q1200",
        language="en",
        value="x",
        token="+\\",
        **{"assert": "user"},
    )
    assert asserted["error"]["code"] == "assertuserfailed"
    assert catalogue(app).revisions.count() == before


def test_login_with_a_wrong_password_fails_and_a_stolen_token_is_refused(app: Flask) -> None:
    client = app.test_client()
    token = call(client, action="query", meta="tokens", type="login")["query"]["tokens"]
    wrong = call(
        client,
        "POST",
        action="login",
        lgname="bob@x",
        lgpassword="nope",
        lgtoken=token["logintoken"],
    )
    assert wrong["login"]["result"] == "Failed"
    other = app.test_client()  # a login token from another session is no use
    stolen = call(
        other,
        "POST",
        action="login",
        lgname="bob",
        lgpassword=PASSWORD,
        lgtoken=token["logintoken"],
    )
    assert stolen["login"]["result"] != "Success"
    csrf = bot_login(client)
    bad = call(
        client, "POST", action="wbsetlabel", id="Q1200", language="en", value="x", token="forged"
    )
    assert bad["error"]["code"] == "badtoken"
    assert csrf


def test_bot_password_logins_are_throttled_as_the_login_page(app: Flask) -> None:
    client = app.test_client()
    token = call(client, action="query", meta="tokens", type="login")["query"]["tokens"]
    answers = [
        call(
            client,
            "POST",
            action="login",
            lgname="bob@bot",
            lgpassword=f"guess {n}",
            lgtoken=token["logintoken"],
        )["login"]
        for n in range(5)
    ]
    assert all(a["result"] == "Failed" for a in answers)
    # past LOGIN_FREE_FAILURES the next attempt must wait, even with the right password
    right = call(
        client,
        "POST",
        action="login",
        lgname="bob@bot",
        lgpassword=PASSWORD,
        lgtoken=token["logintoken"],
    )["login"]
    assert right["result"] == "Failed" and "wait" in right["reason"].lower(), right
    assert call(client, action="query", meta="tokens")["query"]["tokens"]["csrftoken"] == "+\\"


def test_wbeditentity_creates_and_edits_through_the_editor(app: Flask) -> None:
    client = app.test_client()
    token = bot_login(client)
    data = {
        "labels": {
            "en": {"language": "en", "value": "Open Lab Bot Test"},
            "fr": {"language": "fr", "value": "Laboratoire ouvert"},
        },
        "claims": {
            "P1": [
                {
                    "mainsnak": {
                        "snaktype": "value",
                        "property": "P1",
                        "datavalue": {
                            "value": {"entity-type": "item", "numeric-id": 1, "id": "Q1"},
                            "type": "wikibase-entityid",
                        },
                    },
                    "type": "statement",
                    "rank": "normal",
                }
            ]
        },
    }
    created = call(
        client,
        "POST",
        action="wbeditentity",
        new="item",
        data=json.dumps(data),
        token=token,
        summary="bot test",
    )
    assert created["success"] == 1, created
    new = created["entity"]
    assert new["labels"]["fr"]["value"] == "Laboratoire ouvert"
    assert new["claims"]["P1"][0]["mainsnak"]["datavalue"]["value"]["id"] == "Q1"
    rev = catalogue(app).revisions.get(new["id"])
    assert rev is not None and rev.author == "bob" and rev.summary == "bot test"
    assert new["lastrevid"] == rev.id
    # an edit merges: other labels stay, a removed one goes
    edited = call(
        client,
        "POST",
        action="wbeditentity",
        id=new["id"],
        token=token,
        data=json.dumps(
            {
                "labels": {
                    "fr": {"language": "fr", "remove": ""},
                    "de": {"language": "de", "value": "Offenes Labor"},
                }
            }
        ),
    )
    labels = edited["entity"]["labels"]
    assert set(labels) == {"en", "de"}, edited
    assert edited["entity"]["claims"] == new["claims"]
    assert entity(client, new["id"]) == edited["entity"]


def test_an_empty_edit_changes_no_demo_entity(app: Flask) -> None:
    """Every demo entity read as Wikibase JSON and saved back unchanged makes no revision:
    the Wikibase JSON → record model conversion loses nothing (``+3`` stays ``+3``)."""
    client = app.test_client()
    token = bot_login(client)
    cat = catalogue(app)
    entities = [e for e, _ in cat.revisions.live_entities(0, 100_000)]
    assert len(entities) > 300
    changed = []
    for entity_id in entities:
        before = cat.revisions.state(entity_id)
        answer = call(client, "POST", action="wbeditentity", id=entity_id, data="{}", token=token)
        after = cat.revisions.state(entity_id)
        if "error" in answer or "nochange" not in answer or before != after:
            changed.append((entity_id, answer.get("error")))
    assert changed == []


def test_invalid_data_is_refused_with_the_shapes_problems(app: Flask) -> None:
    client = app.test_client()
    token = bot_login(client)
    bad = {
        "claims": [
            {
                "mainsnak": {
                    "snaktype": "value",
                    "property": "P11",
                    "datavalue": {"type": "string", "value": "not a url"},
                },
                "type": "statement",
            }
        ]
    }
    data = call(
        client, "POST", action="wbeditentity", id="Q1200", token=token, data=json.dumps(bad)
    )
    assert data["error"]["code"] == "modification-failed", data
    assert data["error"]["messages"]


def test_a_stale_baserevid_that_clashes_is_an_editconflict(app: Flask) -> None:
    client = app.test_client()
    token = bot_login(client)
    base = entity(client, "Q1200")["lastrevid"]
    first = call(
        client,
        "POST",
        action="wbsetlabel",
        id="Q1200",
        language="en",
        value="First title",
        token=token,
        baserevid=str(base),
    )
    assert first["success"] == 1, first
    # a change elsewhere on the same stale base merges
    merged = call(
        client,
        "POST",
        action="wbsetlabel",
        id="Q1200",
        language="fr",
        value="Titre",
        token=token,
        baserevid=str(base),
    )
    assert merged["success"] == 1, merged
    clash = call(
        client,
        "POST",
        action="wbsetlabel",
        id="Q1200",
        language="en",
        value="Second title",
        token=token,
        baserevid=str(base),
    )
    assert clash["error"]["code"] == "editconflict", clash
    labels = entity(client, "Q1200")["labels"]
    assert labels["en"]["value"] == "First title" and labels["fr"]["value"] == "Titre"
    for wrong in (str(entity(client, "Q1201")["lastrevid"]), "9" * 40, "-3"):
        refused = call(
            client,
            "POST",
            action="wbsetlabel",
            id="Q1200",
            language="en",
            value="Third",
            token=token,
            baserevid=wrong,
        )
        assert refused["error"]["code"] in ("nosuchrevid", "badinteger"), refused


def test_claim_qualifier_reference_and_alias_actions(app: Flask) -> None:
    client = app.test_client()
    token = bot_login(client)
    item = "Q1200"
    made = call(
        client,
        "POST",
        action="wbcreateclaim",
        entity=item,
        property="P5",
        snaktype="value",
        value=json.dumps({"entity-type": "item", "numeric-id": 1003}),
        token=token,
    )
    assert made["success"] == 1, made
    guid = made["claim"]["id"]
    assert made["claim"]["mainsnak"]["datavalue"]["value"]["id"] == "Q1003"
    qualified = call(
        client,
        "POST",
        action="wbsetqualifier",
        claim=guid,
        property="P6",
        snaktype="value",
        value=json.dumps({"entity-type": "item", "id": "Q115"}),
        token=token,
    )
    assert qualified["claim"]["qualifiers"]["P6"][0]["datavalue"]["value"]["id"] == "Q115"
    snaks = {
        "P18": [
            {
                "snaktype": "value",
                "property": "P18",
                "datavalue": {"type": "string", "value": "https://example.org/source"},
            }
        ]
    }
    referenced = call(
        client,
        "POST",
        action="wbsetreference",
        statement=guid,
        snaks=json.dumps(snaks),
        token=token,
    )
    assert referenced["reference"]["snaks"]["P18"][0]["datavalue"]["value"] == (
        "https://example.org/source"
    ), referenced
    aliases = call(
        client,
        "POST",
        action="wbsetaliases",
        id=item,
        language="en",
        add="Bundesarchiv donation|BA donation",
        token=token,
    )
    assert [a["value"] for a in aliases["entity"]["aliases"]["en"]] == [
        "BA donation",
        "Bundesarchiv donation",
    ]
    described = call(
        client,
        "POST",
        action="wbsetdescription",
        id=item,
        language="fr",
        value="don d'images",
        token=token,
    )
    assert described["entity"]["descriptions"]["fr"]["value"] == "don d'images"
    claim = next(c for c in entity(client, item)["claims"]["P5"] if c["id"] == guid)
    claim["rank"] = "preferred"
    set_claim = call(client, "POST", action="wbsetclaim", claim=json.dumps(claim), token=token)
    assert set_claim["claim"]["rank"] == "preferred", set_claim
    month = {
        "time": "+2015-03-00T00:00:00Z",
        "timezone": 0,
        "before": 0,
        "after": 0,
        "precision": 10,
        "calendarmodel": "http://www.wikidata.org/entity/Q1985727",
    }
    ended = call(
        client,
        "POST",
        action="wbcreateclaim",
        entity=item,
        property="P10",
        snaktype="value",
        value=json.dumps(month),
        token=token,
    )
    assert ended["claim"]["mainsnak"]["datavalue"] == {"value": month, "type": "time"}, ended
    removed = call(client, "POST", action="wbremoveclaims", claim=guid, token=token)
    assert removed["claims"] == [guid]
    assert all(c["id"] != guid for c in entity(client, item)["claims"]["P5"])
    history = catalogue(app).revisions.history(item)
    assert {r.author for r in history[:6]} == {"bob"}


def test_hidden_people_are_absent(app: Flask) -> None:
    cat = catalogue(app)
    person = next(e for e in ("Q1500", "Q1501", "Q1502") if cat.revisions.state(e) is not None)
    name = entity(app.test_client(), person)["labels"]["en"]["value"]
    cat.editor.hide(person, "asked to be removed", author="alice")
    client = app.test_client()
    assert call(client, action="wbgetentities", ids=person)["entities"][person] == {
        "id": person,
        "missing": "",
    }
    found = call(client, action="wbsearchentities", search=name, language="en")
    assert all(hit["id"] != person for hit in found["search"])


def test_deleted_entities_are_missing(app: Flask) -> None:
    cat = catalogue(app)
    client = app.test_client()
    assert "missing" not in entity(client, "Q1209")
    cat.editor.delete("Q1209", "duplicate", author="alice")
    assert entity(client, "Q1209") == {"id": "Q1209", "missing": ""}
    token = bot_login(client)
    refused = call(
        client, "POST", action="wbsetlabel", id="Q1209", language="en", value="Back", token=token
    )
    assert refused["error"]["code"] == "no-such-entity", refused


# --- real Wikibase tools against a live server -----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live Bigtent (demo catalogue) with one editor account, ``botty``."""
    with LiveServer.start(
        tmp_path_factory.mktemp("action_api"), {"BIGTENT_PASSWORD_SCRYPT_N": "1024"}
    ) as live:
        settings = load_settings(
            overrides={"DATA_DIR": str(live.data_dir), "PASSWORD_SCRYPT_N": 1024}
        )
        accounts = open_accounts(settings)
        try:
            accounts.add_user("botty", "editor", PASSWORD)
            accounts.add_user("Pybot", "editor", PASSWORD)  # pywikibot capitalises names
        finally:
            accounts.close()
        yield live


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket connects to during the test (they must all be loopback)."""
    seen: list[Any] = []
    connect = socket.socket.connect

    def recording(sock: socket.socket, address: Any) -> Any:
        seen.append(address)
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording)
    return seen


def _loopback(seen: list[Any]) -> None:
    assert seen, "no connection was recorded"
    for address in seen:
        host = address[0] if isinstance(address, tuple) else str(address)
        assert host in ("127.0.0.1", "::1", "localhost"), address


def test_wikibaseintegrator_creates_an_organisation_and_a_partnership_statement(
    server: LiveServer, loopback_only: list[Any]
) -> None:
    """WikibaseIntegrator, unmodified: bot-password login, a new organisation with labels
    in two languages, a participant statement with a qualifier and a reference on a
    partnership, labels edited, everything read back."""
    from wikibaseintegrator import WikibaseIntegrator, datatypes, wbi_login
    from wikibaseintegrator.models import Qualifiers, Reference, References
    from wikibaseintegrator.wbi_config import config as wbi_config
    from wikibaseintegrator.wbi_enums import ActionIfExists

    wbi_config["MEDIAWIKI_API_URL"] = server.url + "w/api.php"
    wbi_config["USER_AGENT"] = "bigtent-tests/1.0 (test_action_api)"
    wbi_config["BACKOFF_MAX_TRIES"] = 1
    wbi_config["WIKIBASE_URL"] = server.url.rstrip("/")
    retries = {"max_retries": 1, "retry_after": 1}
    login = wbi_login.Login(user="botty@importer", password=PASSWORD)
    wbi = WikibaseIntegrator(login=login)

    org = wbi.item.new()
    org.labels.set("en", "Riverside Open Data Collective")
    org.labels.set("fr", "Collectif des données ouvertes de Riverside")
    org.claims.add(datatypes.Item(prop_nr="P1", value="Q1"))
    org = org.write(summary="new organisation from WikibaseIntegrator", **retries)
    assert org.id and org.id.startswith("Q")

    partnership = wbi.item.get("Q1200", **retries)
    qualifiers = Qualifiers()
    qualifiers.add(datatypes.Item(prop_nr="P6", value="Q115"))
    reference = Reference()
    reference.add(datatypes.URL(prop_nr="P18", value="https://example.org/riverside-mou"))
    references = References()
    references.add(reference)
    partnership.claims.add(
        datatypes.Item(prop_nr="P5", value=org.id, qualifiers=qualifiers, references=references),
        action_if_exists=ActionIfExists.APPEND_OR_REPLACE,
    )
    partnership.write(summary="Riverside joins", **retries)

    org = wbi.item.get(org.id, **retries)
    org.labels.set("en", "Riverside Open Data Collective e.V.")
    org.labels.set("es", "Colectivo de Datos Abiertos de Riverside")
    org.write(summary="labels", **retries)

    again = WikibaseIntegrator().item.get(org.id, **retries)  # anonymous read
    assert again.labels.get("en").value == "Riverside Open Data Collective e.V."
    assert again.labels.get("fr").value == "Collectif des données ouvertes de Riverside"
    assert again.labels.get("es").value == "Colectivo de Datos Abiertos de Riverside"
    read = WikibaseIntegrator().item.get("Q1200", **retries)
    mine = [c for c in read.claims.get("P5") if c.mainsnak.datavalue["value"]["id"] == org.id]
    assert len(mine) == 1
    claim = mine[0].get_json()
    assert claim["qualifiers"]["P6"][0]["datavalue"]["value"]["id"] == "Q115"
    ref = claim["references"][0]["snaks"]["P18"][0]["datavalue"]["value"]
    assert ref == "https://example.org/riverside-mou"
    history = requests.get(f"{server.url}api/entity/{org.id}/history", timeout=30).json()
    assert [r["author"] for r in history["revisions"]] == ["botty", "botty"]
    _loopback(loopback_only)


PYWIKIBOT_FAMILY = """
from pywikibot import family


class Family(family.WikibaseFamily):
    name = "bigtent"
    langs = {"bigtent": HOST}

    def scriptpath(self, code):
        return "/w"

    def protocol(self, code):
        return "http"
"""

#: Run by a fresh interpreter: pywikibot reads its configuration once per process.
PYWIKIBOT_SCRIPT = """
import json, os, socket, sys

seen = []
connect = socket.socket.connect


def recording(sock, address):
    seen.append(address)
    return connect(sock, address)


socket.socket.connect = recording

import pywikibot
from pywikibot import config

here = os.environ["PYWIKIBOT_DIR"]
config.family_files["bigtent"] = os.path.join(here, "bigtent_family.py")
config.usernames["bigtent"]["bigtent"] = "Pybot"
config.password_file = os.path.join(here, "passwords")
config.put_throttle = 0
config.max_retries = 1
config.retry_wait = 1
config.maxlag = 5

repo = pywikibot.Site("bigtent", "bigtent")
repo.login()
instance = pywikibot.Claim(repo, "P1")
instance.setTarget(pywikibot.ItemPage(repo, "Q1"))
org = pywikibot.ItemPage(repo)
org.editEntity(
    {"labels": {"en": "Harbour Commons Trust", "fr": "Fiducie des communs du port"},
     "claims": [instance.toJSON()]},
    summary="new organisation from pywikibot",
)
partnership = pywikibot.ItemPage(repo, "Q1201")
partnership.get()
participant = pywikibot.Claim(repo, "P5")
participant.setTarget(org)
partnership.addClaim(participant, summary="Harbour Commons joins")
role = pywikibot.Claim(repo, "P6", is_qualifier=True)
role.setTarget(pywikibot.ItemPage(repo, "Q115"))
participant.addQualifier(role, summary="role")
source = pywikibot.Claim(repo, "P18", is_reference=True)
source.setTarget("https://example.org/harbour-commons")
participant.addSources([source], summary="source")
org.editLabels(
    {"en": "Harbour Commons Trust Ltd", "es": "Fideicomiso del puerto"}, summary="labels"
)

again = pywikibot.ItemPage(repo, org.getID())
again.get(force=True)
partnership = pywikibot.ItemPage(repo, "Q1201")
partnership.get(force=True)
mine = [c for c in partnership.claims["P5"] if c.getTarget().getID() == org.getID()]
print(json.dumps({
    "user": repo.user(),
    "id": org.getID(),
    "labels": dict(again.labels),
    "qualifiers": [q.getTarget().getID() for q in mine[0].qualifiers["P6"]],
    "sources": [s["P18"][0].getTarget() for s in mine[0].sources],
    "sockets": [list(a) if isinstance(a, tuple) else a for a in seen],
}))
"""


def test_pywikibot_creates_an_organisation_and_a_partnership_statement(
    server: LiveServer, tmp_path: Path
) -> None:
    """pywikibot, unmodified, with a generated family file and a bot password: the same
    story as WikibaseIntegrator's; it connects to nothing but the live server."""
    host = server.url.removeprefix("http://").rstrip("/")
    (tmp_path / "bigtent_family.py").write_text(PYWIKIBOT_FAMILY.replace("HOST", repr(host)))
    passwords = tmp_path / "passwords"
    passwords.write_text(f'("Pybot", BotPassword("importer", {PASSWORD!r}))\n')
    passwords.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWIKIBOT")}
    env.update(PYWIKIBOT_DIR=str(tmp_path), PYWIKIBOT_NO_USER_CONFIG="2")
    done = subprocess.run(
        [sys.executable, "-c", PYWIKIBOT_SCRIPT],
        cwd=tmp_path,  # pywikibot writes its caches and cookies here
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["user"] == "Pybot"
    assert result["labels"] == {
        "en": "Harbour Commons Trust Ltd",
        "fr": "Fiducie des communs du port",
        "es": "Fideicomiso del puerto",
    }
    assert result["qualifiers"] == ["Q115"]
    assert result["sources"] == ["https://example.org/harbour-commons"]
    assert result["sockets"] and all(a[0] == "127.0.0.1" for a in result["sockets"])
    history = requests.get(f"{server.url}api/entity/{result['id']}/history", timeout=30).json()
    assert {r["author"] for r in history["revisions"]} == {"Pybot"}
    data = requests.get(f"{server.url}api/entity/Q1201/history", timeout=30).json()
    assert [r["summary"] for r in data["revisions"][:3]] == [
        "source",
        "role",
        "Harbour Commons joins",
    ]


def test_live_anonymous_write_is_refused(server: LiveServer) -> None:
    response = requests.post(
        server.url + "w/api.php",
        data={
            "action": "wbsetlabel",
            "id": "Q1200",
            "language": "en",
            "value": "vandal",
            "token": "+\\",
            "format": "json",
        },
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json()["error"]["code"] == "permissiondenied"
    assert response.headers["MediaWiki-API-Error"] == "permissiondenied"


#: The parameters each action reads (beyond action, format, maxlag, token, assert).
PARAMS = {
    "wbgetentities": ("ids", "props", "languages"),
    "wbsearchentities": ("search", "language", "type", "limit", "continue"),
    "query": ("meta", "type"),
    "login": ("lgname", "lgpassword", "lgtoken"),
    "wbeditentity": ("id", "new", "data", "clear", "baserevid", "summary"),
    "wbcreateclaim": ("entity", "property", "snaktype", "value", "baserevid"),
    "wbsetclaim": ("claim", "baserevid"),
    "wbremoveclaims": ("claim", "baserevid"),
    "wbsetlabel": ("id", "language", "value", "baserevid"),
    "wbsetdescription": ("id", "language", "value"),
    "wbsetaliases": ("id", "language", "add", "remove", "set"),
    "wbsetqualifier": ("claim", "property", "snaktype", "value", "snakhash"),
    "wbsetreference": ("statement", "snaks", "reference"),
}
#: A valid call of each action, one parameter of which each hostile value replaces.
VALID: dict[str, dict[str, str]] = {
    "wbgetentities": {"ids": "Q1200"},
    "wbsearchentities": {"search": "wiki"},
    "query": {"meta": "siteinfo"},
    "login": {},
    "wbeditentity": {"id": "Q1200", "data": "{}"},
    "wbcreateclaim": {"entity": "Q1200", "property": "P5", "value": '"Q1003"'},
    "wbsetclaim": {"claim": "{}"},
    "wbremoveclaims": {"claim": "Q1200$00000000-0000-0000-0000-000000000000"},
    "wbsetlabel": {"id": "Q1200", "language": "en", "value": "Renamed"},
    "wbsetdescription": {"id": "Q1200", "language": "en", "value": "Described"},
    "wbsetaliases": {"id": "Q1200", "language": "en", "add": "Alias"},
    "wbsetqualifier": {"claim": "Q1200$00000000-0000-0000-0000-000000000000", "property": "P6"},
    "wbsetreference": {"statement": "Q1200$00000000-0000-0000-0000-000000000000", "snaks": "{}"},
}
HOSTILE = (
    "",
    "0",
    "9" * 40,
    "1e400",
    "\ud800",
    "\r\nX-Injected: 1",
    "Q1200",
    "Q1200$00000000-0000-0000-0000-000000000000",
    "P1",
    "[]",
    '{"labels": {"en": {"language": "xx-!!", "value": 5}}}',
    '{"claims": {"P1": [{"mainsnak": {"snaktype": "value", "property": "P1"}}]}}',
    '{"claims": [{"mainsnak": {"snaktype": "value", "property": "P9", "datavalue": '
    '{"type": "time", "value": {"time": "+2012-13-45T00:00:00Z", "precision": 99}}}}]}',
    '{"entity-type": "item", "numeric-id": -4}',
    '{"P18": [{"snaktype": "bogus", "property": "P18"}]}',
    "[" * 2000 + "]" * 2000,
)


@pytest.mark.parametrize("who", ["anonymous", "editor"])
def test_hostile_parameters_get_wikibase_errors_never_a_500(app: Flask, who: str) -> None:
    client = app.test_client()
    token = bot_login(client) if who == "editor" else "+\\"
    before = {e: catalogue(app).revisions.state(e) for e in ("Q1200", "P1")}
    for action, names in PARAMS.items():
        if action == "login":
            continue  # would end the editor's session
        for name in names:
            for value in HOSTILE:
                fields = {"action": action, "format": "json", "token": token, **VALID[action]}
                fields[name] = value
                raw = {k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}
                for response in (client.get(API, query_string=raw), client.post(API, data=raw)):
                    body = response.get_data(as_text=True)
                    assert response.status_code == 200, (action, name, value, body[:300])
                    data = json.loads(body)
                    assert "Traceback" not in body
                    if "error" in data:
                        assert data["error"]["code"] and data["error"]["info"]
                        assert set(data) == {"error", "servedby"}
    if who == "anonymous":
        assert {e: catalogue(app).revisions.state(e) for e in before} == before
