"""Edits in Wikibase's entity JSON, as Wikibase tools send them (``wbeditentity`` …).

Every change arrives as a change of the entity's Wikibase JSON (the shape
:mod:`loader.publish.entity_json` serves): :func:`apply_edit` merges a ``data`` object
into the JSON of the revision the edit is based on, as Wikibase does (``clear`` starts
from nothing; a term with ``remove`` or an empty value goes; a statement with an id
replaces that statement, one with ``remove`` goes, one without an id is added); the
smaller actions (set a label, add a qualifier …) are small changes of the same JSON. Then
:func:`to_model` turns the whole entity into the JSON record model the Editor reads
(:mod:`loader.records.record_model`), so the Editor's shapes, merge, conflict rules and
revision log apply exactly as for the forms.

Problems are :class:`WikibaseJsonError` (a BigtentError) naming the field.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable
from typing import Any

from loader.base.errors import BigtentError
from loader.base.namespaces import ENTITY_ID

TERMS = ("labels", "descriptions")
UNIT_ONE = ("1", "http://www.wikidata.org/entity/Q199")
_WIKIBASE_TIME = re.compile(r"^([+-]?)(\d{1,16})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$")
_GUID = re.compile(r"^([QqPp][1-9][0-9]{0,15})\$([0-9A-Za-z-]{1,80})$")

Json = dict[str, Any]


class WikibaseJsonError(BigtentError):
    """Wikibase JSON that cannot be read; ``code`` is the Wikibase API error code."""

    def __init__(self, message: str, code: str = "invalid-json") -> None:
        super().__init__(message, title="Invalid data", status=400)
        self.code = code


def statement_guid(entity: str) -> str:
    """A new statement id as Wikibase writes it: ``Q1$<uuid>``."""
    return f"{entity}${uuid.uuid4()}"


def model_statement_id(entity: str, guid: object) -> str:
    """The record model's id of the statement Wikibase calls ``guid`` (``Q1$x`` →
    ``Q1-x``, the local name of its ``wds:`` IRI)."""
    found = _GUID.match(guid) if isinstance(guid, str) else None
    if found is None or found.group(1).upper() != entity:
        raise WikibaseJsonError(
            f"{str(guid)[:100]!r} is not a statement id of {entity}: statement ids look like "
            f"{entity}$5627445f-43cb-ed6d-3adb-760e85bd17ee",
            code="invalid-guid",
        )
    return f"{entity}-{found.group(2)}"


def entity_of_guid(guid: object) -> str:
    """The entity a statement id (``Q1$…``) belongs to."""
    found = _GUID.match(guid) if isinstance(guid, str) else None
    if found is None:
        raise WikibaseJsonError(
            f"{str(guid)[:100]!r} is not a statement id: statement ids look like "
            "Q1$5627445f-43cb-ed6d-3adb-760e85bd17ee",
            code="invalid-guid",
        )
    return found.group(1).upper()


def _entries(value: object, name: str) -> list[Json]:
    """Term entries given as ``{lang: {...}}`` or as a list of ``{...}``."""
    if isinstance(value, dict):
        items: Iterable[object] = value.values()
    elif isinstance(value, list):
        items = value
    else:
        raise WikibaseJsonError(f"{name} must be an object of language → term")
    out = []
    for item in items:
        if isinstance(item, list):  # aliases: {lang: [{...}, …]}
            out += [i for i in item if isinstance(i, dict)]
            if len(out) != sum(1 for _ in item):
                raise WikibaseJsonError(f"each of {name} must be an object with language, value")
        elif isinstance(item, dict):
            out.append(item)
        else:
            raise WikibaseJsonError(f"each of {name} must be an object with language, value")
    for item in out:
        if not isinstance(item.get("language"), str):
            raise WikibaseJsonError(f"each of {name} needs a language")
        if "remove" not in item and not isinstance(item.get("value"), str):
            raise WikibaseJsonError(f"each of {name} needs a value (text)")
    return out


def _statements(value: object) -> list[Json]:
    """Statements given as ``{P: [...]}`` or as a list."""
    if isinstance(value, dict):
        lists: list[object] = list(value.values())
    elif isinstance(value, list):
        lists = [value]
    else:
        raise WikibaseJsonError("claims must be an object of property → list of statements")
    out = []
    for group in lists:
        if not isinstance(group, list) or not all(isinstance(s, dict) for s in group):
            raise WikibaseJsonError("claims must be an object of property → list of statements")
        out += group
    return out


def claim_property(statement: Json) -> str:
    """The property of a statement's main snak."""
    snak = statement.get("mainsnak")
    pid = snak.get("property") if isinstance(snak, dict) else None
    if not isinstance(pid, str):
        raise WikibaseJsonError("a statement needs a mainsnak with a property")
    return pid


def find_claim(entity_json: Json, guid: str) -> Json | None:
    """The statement with id ``guid`` (compared without case in the entity part)."""
    for statements in entity_json.get("claims", {}).values():
        for st in statements:
            if str(st.get("id", "")).lower() == guid.lower():
                return dict(st)
    return None


def remove_claim(entity_json: Json, guid: str) -> bool:
    """Remove the statement ``guid``; False when there is none."""
    claims = entity_json.setdefault("claims", {})
    for pid, statements in list(claims.items()):
        kept = [s for s in statements if str(s.get("id", "")).lower() != guid.lower()]
        if len(kept) != len(statements):
            if kept:
                claims[pid] = kept
            else:
                del claims[pid]
            return True
    return False


def put_claim(entity_json: Json, statement: Json) -> None:
    """Add ``statement``, or replace the one with its id (keeping its place)."""
    claims = entity_json.setdefault("claims", {})
    guid = statement.get("id")
    if isinstance(guid, str):
        for pid, statements in claims.items():
            for i, st in enumerate(statements):
                if str(st.get("id", "")).lower() == guid.lower():
                    if pid == claim_property(statement):
                        statements[i] = statement
                        return
                    remove_claim(entity_json, guid)
                    break
    claims.setdefault(claim_property(statement), []).append(statement)


def apply_edit(current: Json, data: object, clear: bool = False) -> Json:
    """``current`` (entity JSON, not changed) with ``data`` merged in as ``wbeditentity``
    merges it; with ``clear``, ``data`` replaces the whole entity."""
    if not isinstance(data, dict):
        raise WikibaseJsonError("data must be a JSON object (the entity's new content)")
    result: Json = {"labels": {}, "descriptions": {}, "aliases": {}, "claims": {}}
    if not clear:
        for key in result:
            result[key] = copy.deepcopy(current.get(key) or {})
    for key in ("id", "type", "datatype"):
        if key in current:
            result[key] = current[key]
    if "datatype" in data:
        result["datatype"] = data["datatype"]
    for name in TERMS:
        if name in data:
            for item in _entries(data[name], name):
                lang = item["language"]
                if "remove" in item or item.get("value", "") == "":
                    result[name].pop(lang, None)
                else:
                    result[name][lang] = {"language": lang, "value": item["value"]}
    if "aliases" in data:
        replaced: set[str] = set()
        for item in _entries(data["aliases"], "aliases"):
            lang = item["language"]
            texts = [a["value"] for a in result["aliases"].get(lang, [])]
            if "remove" in item:
                texts = [t for t in texts if t != item.get("value")]
            elif "add" in item:
                texts.append(item["value"])
            else:
                if lang not in replaced:
                    texts = []
                    replaced.add(lang)
                texts.append(item["value"])
            set_aliases(result, lang, texts)
    if "claims" in data:
        for st in _statements(data["claims"]):
            if "remove" in st:
                guid = st.get("id")
                if not isinstance(guid, str) or not remove_claim(result, guid):
                    raise WikibaseJsonError(
                        f"there is no statement {str(guid)[:100]!r} to remove", code="no-such-claim"
                    )
            else:
                put_claim(result, st)
    return result


def set_aliases(entity_json: Json, lang: str, texts: list[str]) -> None:
    """Set one language's aliases (none: the language's aliases go)."""
    unique = list(dict.fromkeys(t for t in texts if t.strip()))
    aliases = entity_json.setdefault("aliases", {})
    if unique:
        aliases[lang] = [{"language": lang, "value": t} for t in unique]
    else:
        aliases.pop(lang, None)


# --- Wikibase JSON → the record model ----------------------------------------------------


def _time(value: object) -> dict[str, object]:
    if not isinstance(value, dict) or not isinstance(value.get("time"), str):
        raise WikibaseJsonError(
            'a time value is {"time": "+2012-05-00T00:00:00Z", "precision": 10}'
        )
    found = _WIKIBASE_TIME.match(value["time"])
    if found is None:
        raise WikibaseJsonError(
            f"{value['time'][:40]!r} is not a Wikibase time: write +YYYY-MM-DDT00:00:00Z"
        )
    sign, year, month, day, hh, mm, ss = found.groups()
    if value.get("calendarmodel") not in (None, "http://www.wikidata.org/entity/Q1985727"):
        raise WikibaseJsonError(
            "only dates in the proleptic Gregorian calendar (Q1985727) are kept"
        )
    month, day = month if month != "00" else "01", day if day != "00" else "01"
    text = f"{'-' if sign == '-' else ''}{year.lstrip('0').zfill(4)}-{month}-{day}T{hh}:{mm}:{ss}Z"
    precision = value.get("precision")
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)):
        raise WikibaseJsonError("a time's precision is a number (9 year, 10 month, 11 day)")
    return {"time": text, "precision": precision}


def _quantity(value: object) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("amount"), str | int | float):
        raise WikibaseJsonError('a quantity is {"amount": "+5", "unit": "1"}')
    if str(value.get("unit", "1")) not in UNIT_ONE:
        raise WikibaseJsonError("quantities with a unit cannot be kept here: use unit 1")
    return str(value["amount"])  # as written: "+3" stays "+3", as loaded from RDF


def _datavalue(datavalue: object) -> object:
    """A Wikibase datavalue as a value of the record model."""
    if not isinstance(datavalue, dict):
        raise WikibaseJsonError('a value snak needs a datavalue {"type": …, "value": …}')
    kind, value = datavalue.get("type"), datavalue.get("value")
    if kind == "wikibase-entityid":
        if not isinstance(value, dict):
            raise WikibaseJsonError('an entity value is {"entity-type": "item", "id": "Q1"}')
        eid = value.get("id")
        if eid is None and isinstance(value.get("numeric-id"), int):
            prefix = "P" if value.get("entity-type") == "property" else "Q"
            eid = f"{prefix}{value['numeric-id']}"
        if not isinstance(eid, str) or not ENTITY_ID.match(eid):
            raise WikibaseJsonError(f"{str(eid)[:40]!r} is not an entity id such as Q42")
        return eid
    if kind == "string":
        if not isinstance(value, str):
            raise WikibaseJsonError("a string value must be text")
        return value
    if kind == "time":
        return _time(value)
    if kind == "quantity":
        return _quantity(value)
    if kind == "monolingualtext":
        if not isinstance(value, dict):
            raise WikibaseJsonError('a monolingual text is {"text": …, "language": …}')
        return {"text": value.get("text"), "language": value.get("language")}
    if kind == "globecoordinate":
        if not isinstance(value, dict):
            raise WikibaseJsonError('a coordinate is {"latitude": …, "longitude": …, …}')
        keys = ("latitude", "longitude", "altitude", "precision", "globe")
        return {k: value.get(k) for k in keys if k in value}
    raise WikibaseJsonError(f"values of type {str(kind)[:40]!r} cannot be kept here")


def snak_to_model(snak: object) -> Json:
    """A Wikibase snak as a snak of the record model."""
    if not isinstance(snak, dict) or not isinstance(snak.get("property"), str):
        raise WikibaseJsonError("a snak is an object with snaktype and property")
    out: Json = {"property": snak["property"]}
    kind = snak.get("snaktype", "value")
    if kind == "novalue":
        out["novalue"] = True
    elif kind == "somevalue":
        out["somevalue"] = True
    elif kind == "value":
        out["value"] = _datavalue(snak.get("datavalue"))
    else:
        raise WikibaseJsonError(f"snaktype must be value, novalue or somevalue, not {kind!r}")
    return out


def snaks_to_model(snaks: object) -> list[Json]:
    """``{P: [snak, …]}`` (or a list of snaks) as a list of model snaks."""
    if isinstance(snaks, dict):
        groups = list(snaks.values())
    elif isinstance(snaks, list):
        groups = [snaks]
    else:
        raise WikibaseJsonError("snaks must be an object of property → list of snaks")
    out = []
    for group in groups:
        if not isinstance(group, list):
            raise WikibaseJsonError("snaks must be an object of property → list of snaks")
        out += [snak_to_model(s) for s in group]
    return out


def statement_to_model(entity: str, statement: Json) -> Json:
    """A Wikibase statement as a statement of the record model."""
    out = snak_to_model(statement.get("mainsnak"))
    if statement.get("id") is not None:
        out["id"] = model_statement_id(entity, statement["id"])
    out["rank"] = statement.get("rank", "normal")
    out["qualifiers"] = snaks_to_model(statement.get("qualifiers") or {})
    references = statement.get("references") or []
    if not isinstance(references, list):
        raise WikibaseJsonError("references must be a list of {snaks: …}")
    out["references"] = []
    for ref in references:
        if not isinstance(ref, dict):
            raise WikibaseJsonError("a reference is an object with snaks")
        out["references"].append(snaks_to_model(ref.get("snaks") or {}))
    return out


def to_model(entity: str, entity_json: Json) -> Json:
    """The JSON record model of an entity given as Wikibase JSON."""
    model: Json = {
        "labels": {lang: t["value"] for lang, t in entity_json.get("labels", {}).items()},
        "descriptions": {
            lang: t["value"] for lang, t in entity_json.get("descriptions", {}).items()
        },
        "aliases": {
            lang: [a["value"] for a in texts]
            for lang, texts in entity_json.get("aliases", {}).items()
        },
        "statements": [
            statement_to_model(entity, st)
            for statements in entity_json.get("claims", {}).values()
            for st in statements
        ],
    }
    if entity.startswith("P"):
        model["type"] = "property"
        datatype = entity_json.get("datatype")
        if isinstance(datatype, str):
            model["datatype"] = DATATYPE_NAMES.get(datatype, datatype)
    return model


#: Wikibase's JSON ``datatype`` → the ``wikibase:propertyType`` local name.
DATATYPE_NAMES = {
    "wikibase-item": "WikibaseItem",
    "wikibase-property": "WikibaseProperty",
    "string": "String",
    "external-id": "ExternalId",
    "url": "Url",
    "globe-coordinate": "GlobeCoordinate",
    "monolingualtext": "Monolingualtext",
    "quantity": "Quantity",
    "time": "Time",
}
