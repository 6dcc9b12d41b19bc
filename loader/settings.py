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

from loader.errors import ConfigError

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
        "Directory holding the triple store (store/) and the "
        "revision log (revisions.sqlite3). Created when missing.",
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
        "Triple store backend: 'oxigraph' (embedded, on disk in DATA_DIR/store).",
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
        "SERVER_THREADS",
        8,
        "Request threads of `bigtent serve` (gunicorn, one process: the embedded store "
        "allows one writer process; the SPARQL endpoint runs queries in its own processes).",
    ),
    Setting(
        "PAGE_CACHE_SIZE",
        2000,
        "Rendered HTML pages `bigtent serve` keeps in memory (least recently used dropped "
        "first; any change to the catalogue retires them all); 0 disables the cache.",
    ),
    Setting(
        "AUTHOR",
        "",
        "Author recorded in the revision log for command-line changes; "
        "empty means the login name of the user running the command.",
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
