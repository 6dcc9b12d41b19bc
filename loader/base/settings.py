"""Every Bigtent setting, declared once with its default and help text.

Values come from, in order of precedence: defaults, an optional TOML config file
(``BIGTENT_CONFIG`` or ``--config``), ``BIGTENT_*`` environment variables, and
explicit overrides (tests, command-line flags).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loader.base.errors import ConfigError

ENV_PREFIX = "BIGTENT_"


@dataclass(frozen=True)
class Setting:
    """One declared setting."""

    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        """The environment variable that sets it."""
        return ENV_PREFIX + self.name


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR",
        "instance",
        "Directory holding the triple store (store/), the revision log "
        "(revisions.sqlite3) and the staff accounts (accounts.sqlite3). Created when missing.",
    ),
    Setting(
        "DISK_RESERVE_MB",
        64,
        "Free space (MB) every write leaves on the file system of DATA_DIR: a write that "
        "would leave less is refused before anything of it is written (`bigtent load` exits "
        "with 2, the web app answers 507), so the store and the revision log are never left "
        "half-written by a full disk.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "Where the revision log, staff accounts and sessions live: empty for SQLite files in "
        "DATA_DIR, or postgresql://user:password@host:port/database for a PostgreSQL database "
        "that several app processes share.",
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000/",
        "Base IRI of every entity, statement and "
        "data document (wd: is {BASE_URL}entity/). Must end with '/'. Changing it after "
        "loading needs `bigtent reindex`.",
    ),
    Setting(
        "STORE",
        "oxigraph",
        "Triple store backend: 'oxigraph' (embedded, on disk in DATA_DIR/store) or "
        "'sparql' (a remote engine such as Virtuoso over SPARQL 1.1 Query, Update and the "
        "Graph Store Protocol: see the STORE_* settings and docs/deployment.md).",
    ),
    Setting(
        "STORE_QUERY_URL",
        "",
        "With STORE=sparql: the engine's SPARQL 1.1 query endpoint (Virtuoso: "
        "http://host:8890/sparql).",
    ),
    Setting(
        "STORE_UPDATE_URL",
        "",
        "With STORE=sparql: the SPARQL 1.1 Update endpoint (Virtuoso: /sparql-auth, with "
        "an account granted SPARQL_UPDATE); empty means STORE_QUERY_URL.",
    ),
    Setting(
        "STORE_GRAPH_STORE_URL",
        "",
        "With STORE=sparql: the Graph Store HTTP Protocol endpoint (Virtuoso: "
        "/sparql-graph-crud-auth), used to replace one entity graph with one PUT; empty "
        "means graphs are replaced with SPARQL Update (DROP + INSERT DATA in one request).",
    ),
    Setting(
        "STORE_BULK_DIR",
        "",
        "With STORE=sparql and STORE_BULK_COMMAND: a directory the engine's bulk loader may "
        "read at the same path (Virtuoso: listed in DirsAllowed). Large load batches are "
        "written there as N-Quads and loaded by the engine itself, not sent over HTTP.",
    ),
    Setting(
        "STORE_BULK_COMMAND",
        "",
        "With STORE_BULK_DIR: a command that runs SQL statements on the engine as its "
        "administrator, one statement per argument, failing (exit code not 0) on an error; "
        "for Virtuoso `scripts/virtuoso sql DIR` with VIRTUOSO_DBA_PASSWORD in its "
        "environment. Empty: every batch goes over HTTP.",
    ),
    Setting("STORE_USER", "", "With STORE=sparql: account for the engine; empty sends none."),
    Setting(
        "STORE_PASSWORD",
        "",
        "With STORE=sparql: password of STORE_USER (set it through the environment).",
    ),
    Setting(
        "STORE_AUTH",
        "digest",
        "With STORE=sparql: HTTP authentication scheme for STORE_USER, 'digest' (Virtuoso) "
        "or 'basic'.",
    ),
    Setting(
        "STORE_TIMEOUT",
        30.0,
        "With STORE=sparql: seconds to wait for the engine to connect and for each answer; "
        "a request past it counts as a failure (retried, see STORE_RETRIES).",
    ),
    Setting(
        "STORE_RETRIES",
        4,
        "With STORE=sparql: times a request is retried after a transient failure "
        "(connection refused or reset, timeout, HTTP 502/503/504, a deadlock) before the "
        "operation fails; writes are idempotent, so a retry is safe.",
    ),
    Setting(
        "STORE_RETRY_DELAY",
        0.5,
        "With STORE=sparql: seconds before the first retry; each further retry waits twice "
        "as long as the one before.",
    ),
    Setting(
        "STORE_RETRY_SECONDS",
        2.0,
        "With STORE=sparql, in the web app: the most seconds one store operation spends "
        "retrying (within STORE_RETRIES), so during an outage a visitor gets an answer (or a "
        "503 with Retry-After) quickly; a save already in the revision log is applied by "
        "the background applier when the store is back. The command line retries "
        "STORE_RETRIES times however long that takes.",
    ),
    Setting(
        "PROFILE",
        "bigtent",
        "Which shapes validate records: 'bigtent' (every shape in shapes/: Wikibase structure "
        "and Bigtent's record types) or 'wikibase' (only the Wikibase statement structure, for "
        "catalogues that mirror another Wikibase).",
    ),
    Setting(
        "LANGUAGES",
        "en,fr,es,pt",
        "Languages the interface and vocabularies are maintained in, in fallback order.",
    ),
    Setting(
        "TIMEZONE",
        "UTC",
        "IANA time zone (e.g. Europe/Paris) in which pages show times; each time names it.",
    ),
    Setting(
        "LOAD_WORKERS",
        0,
        "Worker processes that normalise and validate records during "
        "`bigtent load`; 0 means one per CPU core, 1 disables worker processes.",
    ),
    Setting(
        "LOAD_CHUNK_RECORDS",
        500,
        "Records handed to a worker at a time, and written to the store per transaction batch.",
    ),
    Setting(
        "MAX_RECORD_TRIPLES",
        20000,
        "Largest record (in triples, after normalisation) "
        "the loader accepts; bigger ones are rejected with this setting's name.",
    ),
    Setting(
        "MAX_BUFFERED_TRIPLES",
        200000,
        "Triples (every 256 characters of literal text counting as one more) the loader "
        "keeps in memory while grouping an input into records. Inputs whose records are "
        "not contiguous and which exceed this are refused rather than exhausting memory.",
    ),
    Setting(
        "MAX_LITERAL_BYTES",
        1048576,
        "Longest literal (UTF-8 bytes) an input of `bigtent load` or /import may hold, "
        "checked while parsing; a longer one rejects the file. At most 16 MiB, the RDF "
        "parsers' own limit.",
    ),
    Setting(
        "MAX_DECOMPRESSED_BYTES",
        8589934592,
        "Most bytes a gzipped input of `bigtent load` may decompress to; reading stops and "
        "the file is rejected beyond it (a small .gz file can expand enormously).",
    ),
    Setting(
        "MAX_NESTING_DEPTH",
        64,
        "Deepest nesting accepted in structured input, checked before it is parsed: arrays "
        "and objects of JSON request bodies and JSON-LD inputs, elements of RDF/XML inputs. "
        "Deeper input is refused (400, or the file is rejected).",
    ),
    Setting(
        "MAX_REPORTED_ERRORS",
        100,
        "Validation problems printed per load before the "
        "report is cut short (all are still counted).",
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Key signing session cookies. Empty means a random key per "
        "process (sessions end on restart); set it in production via the environment.",
    ),
    Setting("HOST", "127.0.0.1", "Interface `bigtent serve` listens on."),
    Setting("PORT", 5000, "Port `bigtent serve` listens on."),
    Setting(
        "TRUSTED_PROXIES",
        "",
        "Reverse proxies (IP addresses or networks, separated by spaces or commas) whose "
        "X-Forwarded-For header is believed when telling clients apart for per-client limits "
        "(SPARQL budgets, login throttling): the client is the rightmost address in it that "
        "is not a trusted proxy. Empty (the default): the client is the connection's address.",
    ),
    Setting(
        "SERVER_THREADS",
        8,
        "Request threads of `bigtent serve` (waitress, one process: the embedded store "
        "allows one writer process; the SPARQL endpoint runs queries in its own processes).",
    ),
    Setting(
        "SERVER_CONNECTIONS",
        1000,
        "Open connections `bigtent serve` keeps at once; requests are read whole by one event "
        "loop before a thread takes them, so slow clients hold a connection, never a thread.",
    ),
    Setting(
        "SERVER_IDLE_TIMEOUT",
        30,
        "Seconds a connection of `bigtent serve` may stay silent (mid-request or between "
        "keep-alive requests) before it is closed.",
    ),
    Setting(
        "SERVER_MAX_HEADER_BYTES",
        65536,
        "Largest request line plus headers `bigtent serve` reads (431 beyond it).",
    ),
    Setting(
        "SPARQL_WORKERS",
        2,
        "Worker processes running public SPARQL queries (each over a read-only snapshot of "
        "the store; a query past its time limit is stopped by killing its worker).",
    ),
    Setting(
        "SPARQL_TIMEOUT",
        30.0,
        "Seconds a public SPARQL query may run; a request may lower it with ?timeout=, "
        "never raise it. A query past it is stopped and answered with an error, never a "
        "truncated result.",
    ),
    Setting(
        "SPARQL_QUEUE_MAX",
        32,
        "Queries that may wait for a SPARQL worker in each lane (fast and normal) while all "
        "are busy; a query arriving when its lane is full is refused at once with 503 and a "
        "Retry-After estimated from the queries ahead. Each waiting query holds a request "
        "thread (SERVER_THREADS).",
    ),
    Setting(
        "SPARQL_QUEUE_WAIT",
        20.0,
        "Seconds a SPARQL query may wait for a free worker before it is answered 503 with "
        "Retry-After.",
    ),
    Setting(
        "SPARQL_FAST_WORKERS",
        1,
        "Extra SPARQL worker processes reserved for queries predicted cheap (the last query "
        "of the same shape, constants aside, finished within SPARQL_FAST_SLICE), so they "
        "never wait behind expensive ones; 0 puts every query in one lane.",
    ),
    Setting(
        "SPARQL_FAST_SLICE",
        1.0,
        "Seconds a query predicted cheap may run in the fast lane; one still running then "
        "is stopped, its shape remembered as expensive, and it runs again on the normal "
        "workers (within SPARQL_TIMEOUT).",
    ),
    Setting(
        "SPARQL_MAX_ROWS",
        100000,
        "Most result rows (or triples) a public SPARQL query returns; longer results are "
        "cut there and flagged with the response header Bigtent-Truncated: true.",
    ),
    Setting(
        "SPARQL_MAX_QUERY_BYTES",
        100000,
        "Longest SPARQL query accepted, in UTF-8 bytes (request bodies may be three times "
        "this, for percent-encoding); longer ones are refused with 413.",
    ),
    Setting(
        "SPARQL_MAX_NESTING",
        100,
        "Deepest nesting of braces, parentheses, brackets and the prefix operators ! and ^ "
        "a SPARQL query may have; deeper ones are refused with 400 before any engine sees "
        "them (very deep nesting would exhaust the query parser's stack).",
    ),
    Setting(
        "SPARQL_MAX_CHAIN",
        500,
        "Longest chain at one level of a SPARQL query: operators (a || b || …, p1/p2/…, "
        "1 + 2 + …) and groups or calls side by side ({…} UNION {…}, OPTIONAL {…} "
        "OPTIONAL {…}); longer ones are refused with 400 before any engine sees them (the "
        "engine nests one level per element). VALUES data is not counted.",
    ),
    Setting(
        "SPARQL_MAX_RESULT_BYTES",
        50000000,
        "Largest SPARQL result, in bytes: a bigger one is cut in the query worker at the "
        "last whole row that fits and flagged (Bigtent-Truncated: true), so no oversized "
        "result is ever held in the web process. 0 means no limit.",
    ),
    Setting(
        "SPARQL_CLIENT_BUDGET",
        30.0,
        "Query-seconds each client (network address, see TRUSTED_PROXIES) may use per "
        "minute, refilled continuously; running queries count as they run, and a client "
        "whose budget is spent gets 429 with Retry-After. 0 disables it.",
    ),
    Setting(
        "SPARQL_CLIENT_PARALLEL",
        1,
        "Queries one client (network address, see TRUSTED_PROXIES) may have running or "
        "waiting at once; more get 429 with Retry-After. 0 disables it.",
    ),
    Setting(
        "SPARQL_WORKER_MEMORY",
        2048,
        "Memory (MB of heap) one SPARQL worker process may use; a query needing more is "
        "stopped with an error. 0 means no limit.",
    ),
    Setting(
        "SPARQL_CACHE_MB",
        64,
        "Memory for answers to recent GET queries, in megabytes (least recently used go "
        "first; one answer may take at most an eighth); 0 turns the cache off. Answers are "
        "keyed by the catalogue revision they were computed at, so a change (a hidden "
        "person included) is never served from it.",
    ),
    Setting(
        "SPARQL_CACHE_MAX_AGE",
        60,
        "Seconds browsers and proxies may keep an answer to a GET query "
        "(Cache-Control: public, max-age); 0 means they must revalidate (ETag) each time.",
    ),
    Setting(
        "SPARQL_COMPLETE_MAX_CHARS",
        100,
        "Longest text the query editor's completion (/sparql/complete?q=) searches for, in "
        "characters; longer ones get 400.",
    ),
    Setting(
        "SPARQL_SERVICE_ALLOW",
        "",
        "Endpoints (IRIs, separated by spaces or commas) that public SPARQL queries may call "
        "with SERVICE; empty (the default) refuses every SERVICE clause and runs queries "
        "in workers without network access where the system allows it.",
    ),
    Setting(
        "SPARQL_SNAPSHOT_INTERVAL",
        1.0,
        "Seconds between checks for changes to publish to the SPARQL endpoint: a change "
        "becomes visible to queries within this interval plus the time to take a snapshot.",
    ),
    Setting(
        "NODE_MODULES",
        "",
        "Directory of the installed npm packages whose front-end files the web app serves "
        "itself (the query editor's YASGUI); empty means node_modules/ next to the Bigtent "
        "code, where `scripts/bootstrap` installs them.",
    ),
    Setting(
        "DOCUMENT_CACHE_MB",
        64,
        "Memory for recently served entity data documents (rendered bytes and revision "
        "snapshots), in megabytes; 0 turns the cache off. Entries are keyed by revision, "
        "so a change is never served stale.",
    ),
    Setting(
        "SESSION_COOKIE_SECURE",
        "auto",
        "Send the staff session cookie only over HTTPS: 'auto' (when BASE_URL starts with "
        "https://), 'true' or 'false'. The cookie is always HttpOnly and SameSite=Lax.",
    ),
    Setting(
        "SESSION_LIFETIME",
        43200,
        "Seconds a staff login lasts at most (default 12 hours); then log in again.",
    ),
    Setting(
        "SESSION_IDLE_TIMEOUT",
        7200,
        "Seconds without a request after which a staff session ends (default 2 hours).",
    ),
    Setting(
        "PASSWORD_MIN_LENGTH",
        12,
        "Shortest password accepted for a staff account.",
    ),
    Setting(
        "PASSWORD_SCRYPT_N",
        32768,
        "scrypt cost (N, a power of two; r=8, p=1) for new password hashes; memory per "
        "hash is 128*N*8 bytes (32 MiB at 32768). Stored with each hash: raising it "
        "re-hashes passwords at their next login.",
    ),
    Setting(
        "LOGIN_FREE_FAILURES",
        3,
        "Failed logins to one account from one client address before each further attempt "
        "from there must wait (LOGIN_DELAY, doubling). Never locks the account: other "
        "addresses are not slowed down.",
    ),
    Setting(
        "LOGIN_FREE_FAILURES_PER_IP",
        20,
        "Failed logins from one client address, to any accounts, before each further "
        "attempt from it must wait (LOGIN_DELAY, doubling); guards against guessing across "
        "many accounts.",
    ),
    Setting(
        "LOGIN_DELAY",
        1.0,
        "Seconds the first slowed-down login attempt must wait after the last failure; each "
        "further failure doubles it, up to LOGIN_MAX_DELAY. Earlier attempts get 429 with "
        "Retry-After.",
    ),
    Setting(
        "LOGIN_MAX_DELAY",
        300.0,
        "Longest wait, in seconds, between login attempts of a client address that keeps "
        "failing (the cap of LOGIN_DELAY's doubling).",
    ),
    Setting(
        "LOGIN_FAILURE_WINDOW",
        900,
        "Seconds without a further failure (after any wait has run out) after which an "
        "address's failed logins are forgotten.",
    ),
    Setting(
        "EDIT_MAX_BYTES",
        1048576,
        "Largest record body the edit API accepts, in bytes (413 beyond it).",
    ),
    Setting(
        "ACTION_API_PATH",
        "/w/api.php",
        "Path of the Wikibase Action API (wbgetentities, wbeditentity …) that Wikibase "
        "tools such as pywikibot and WikibaseIntegrator use.",
    ),
    Setting(
        "IMPORT_MAX_BYTES",
        10485760,
        "Largest file staff may upload at /import, in bytes (413 beyond it).",
    ),
    Setting(
        "FORM_MAX_BYTES",
        65536,
        "Largest request body, in bytes, of every route without a limit of its own (login, "
        "account and user forms, reconciliation batches, hide and unhide, …): 413 beyond it, "
        "before the body is read.",
    ),
    Setting(
        "REQUEST_MAX_BYTES",
        16777216,
        "Largest request body, in bytes, any route accepts, whatever its own limit "
        "(IMPORT_MAX_BYTES, EDIT_MAX_BYTES, SPARQL_MAX_QUERY_BYTES, FORM_MAX_BYTES): 413 "
        "beyond it, before the body is read.",
    ),
    Setting(
        "IMPORT_TTL",
        3600,
        "Seconds an uploaded import file is kept (in DATA_DIR/imports) between its "
        "validation report and its confirmation.",
    ),
    Setting(
        "NEW_ITEM_MIN",
        10000,
        "Lowest Q number given to items created by staff (the ontology uses Q1-Q999 and "
        "the demo Q1000-Q1999); new items get the next number above the highest in use.",
    ),
    Setting(
        "NEW_PROPERTY_MIN",
        1000,
        "Lowest P number given to properties created by staff (the ontology uses P1-P999).",
    ),
    Setting(
        "CONTACT_WIKI_BASE",
        "https://meta.wikimedia.org/wiki/",
        "Wiki whose Special:EmailUser page the peers page links to for people who give a "
        "Wikimedia username (P54) as their contact route; its article path, ending in '/'.",
    ),
    Setting(
        "PAGE_CACHE_SIZE",
        2000,
        "Rendered HTML pages `bigtent serve` keeps in memory (least recently used dropped "
        "first; any change to the catalogue retires them all); 0 disables the cache.",
    ),
    Setting(
        "NETWORK_MAX_ORGANISATIONS",
        1000,
        "Most organisations and networks the network view (/network, /network.json, "
        "/network.svg) shows at once: those in the most partnerships first; a request's "
        "`limit` may lower it, never raise it.",
    ),
    Setting(
        "AUTHOR",
        "",
        "Author recorded in the revision log for command-line changes; "
        "empty means the login name of the user running the command.",
    ),
    Setting(
        "DUMP_INTERVAL",
        300,
        "Seconds between dump rewrites by `bigtent serve`: after a change the dumps in "
        "DATA_DIR/dumps are rewritten in the background at most this often (never per "
        "request). 0 turns background dumps off (`bigtent dump` still writes them). With a "
        "shared database, only the process holding the dumps lease writes them.",
    ),
    Setting(
        "DUMP_DIR",
        "",
        "Directory the dumps are written to and served from; empty means DATA_DIR/dumps. "
        "Several processes point it at one shared directory: one of them (elected in the "
        "shared database) writes, all serve.",
    ),
    Setting(
        "FEED_PAGE_SIZE",
        500,
        "Revisions per page of the change feed (/changes). Pages are cut by revision id, so "
        "changing this re-cuts every page: harvesters then read the feed again from the start.",
    ),
    Setting(
        "DATASET_TITLE",
        "Bigtent",
        "Title of the catalogue in its dataset description (/dataset, DCAT and VoID).",
    ),
    Setting(
        "DATASET_DESCRIPTION",
        "Who partners with whom, on what, under which terms, and which capacities people "
        "and groups offer or need: an open registry published as Wikibase-style linked data.",
        "Description of the catalogue in its dataset description (/dataset).",
    ),
    Setting(
        "LICENSE_URL",
        "http://creativecommons.org/publicdomain/zero/1.0/",
        "Licence of the data, as an IRI (dataset description and dumps); CC0 by default.",
    ),
    Setting(
        "PUBLISHER",
        "Bigtent",
        "Name of the organisation publishing the catalogue (dct:publisher of /dataset).",
    ),
    Setting(
        "PUBLISHER_URL",
        "",
        "IRI of the publisher (its home page or an identifier such as a Wikidata item); "
        "empty means {BASE_URL}#publisher.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    default = setting.default
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{setting.name} from {origin} must be true or false, got {value!r}")
    if isinstance(default, float):
        try:
            real = float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{setting.name} from {origin} must be a number, got {value!r}"
            ) from None
        if not real >= 0 or real == float("inf"):
            raise ConfigError(
                f"{setting.name} from {origin} must be a finite number >= 0, got {value!r}"
            )
        return real
    if isinstance(default, int):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{setting.name} from {origin} must be a whole number, got {value!r}"
            ) from None
        if number < 0:
            raise ConfigError(f"{setting.name} from {origin} must not be negative, got {number}")
        return number
    return str(value)


@dataclass(frozen=True)
class Settings:
    """Resolved settings: ``settings.DATA_DIR`` etc."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_dir(self) -> Path:
        """DATA_DIR as a path."""
        return Path(self.values["DATA_DIR"])

    @property
    def service_allow(self) -> frozenset[str]:
        """SPARQL_SERVICE_ALLOW as a set of IRIs."""
        text = str(self.values["SPARQL_SERVICE_ALLOW"]).replace(",", " ")
        return frozenset(text.split())

    @property
    def languages(self) -> list[str]:
        """LANGUAGES as a list."""
        return [x.strip() for x in str(self.values["LANGUAGES"]).split(",") if x.strip()]

    def as_flask_config(self) -> dict[str, Any]:
        """``BIGTENT_``-prefixed mapping for ``app.config``."""
        return {ENV_PREFIX + k: v for k, v in self.values.items()}


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Resolve every setting: defaults, config file, environment, overrides."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    path = config_file or env.get(ENV_PREFIX + "CONFIG")
    if path:
        values.update(_read_config_file(Path(path)))
    for s in SETTINGS:
        if s.env in env:
            values[s.name] = _coerce(s, env[s.env], f"environment variable {s.env}")
    for name, value in (overrides or {}).items():
        key = name.upper().removeprefix(ENV_PREFIX)
        if key not in _BY_NAME:
            raise ConfigError(f"unknown setting {name!r}; see `bigtent settings` for the list")
        values[key] = _coerce(_BY_NAME[key], value, "overrides")
    if not str(values["BASE_URL"]).endswith("/"):
        raise ConfigError(
            f"BASE_URL must end with '/', got {values['BASE_URL']!r}: set {ENV_PREFIX}BASE_URL"
        )
    return Settings(values)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist (set by BIGTENT_CONFIG)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    section = raw.get("bigtent", raw)
    result: dict[str, Any] = {}
    for key, value in section.items():
        name = str(key).upper().removeprefix(ENV_PREFIX)
        if name not in _BY_NAME:
            known = ", ".join(s.name.lower() for s in SETTINGS)
            raise ConfigError(f"config file {path}: unknown setting {key!r}; known: {known}")
        result[name] = _coerce(_BY_NAME[name], value, f"config file {path}")
    return result
