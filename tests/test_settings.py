"""Settings: declared once, read from defaults, file and environment, all documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loader.base.errors import ConfigError
from loader.base.settings import SETTINGS, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    table_rows = set(re.findall(r"^\| `(BIGTENT_[A-Z_]+)` \|", text, flags=re.M))
    declared = {s.env for s in SETTINGS}
    assert declared - table_rows == set(), "settings missing from the README table"
    assert table_rows - declared - {"BIGTENT_CONFIG"} == set(), "README documents unknown settings"


#: Limits that protect nothing from hostile clients (they size work for the operator).
NOT_SECURITY_LIMITS = {"STORE_TIMEOUT", "MAX_REPORTED_ERRORS", "NETWORK_MAX_ORGANISATIONS"}


def test_every_limit_is_in_the_security_page() -> None:
    """SECURITY.md lists every limit a hostile client could meet, by its setting."""
    text = (README.parent / "SECURITY.md").read_text(encoding="utf-8")
    limits = {
        s.name
        for s in SETTINGS
        if re.search(r"MAX|BYTES|TIMEOUT|BUDGET|PARALLEL|LOGIN_|PASSWORD_|PROXIES|SERVER_", s.name)
    }
    assert len(limits) > 20
    missing = sorted(name for name in limits - NOT_SECURITY_LIMITS if f"`{name}`" not in text)
    assert missing == []


def test_every_setting_has_help_and_a_default() -> None:
    for s in SETTINGS:
        assert s.help and len(s.help) > 20, s.name
        assert s.default is not None, s.name


def test_precedence_defaults_file_environment_overrides(tmp_path: Path) -> None:
    config = tmp_path / "bigtent.toml"
    config.write_text('[bigtent]\ndata_dir = "/from/file"\nport = 8000\n', encoding="utf-8")
    settings = load_settings(config, env={"BIGTENT_PORT": "9000"}, overrides={"LANGUAGES": "pt,en"})
    assert settings.DATA_DIR == "/from/file"
    assert settings.PORT == 9000
    assert settings.languages == ["pt", "en"]
    assert settings.BASE_URL == "http://127.0.0.1:5000/"


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('base_url = "https://x.example/"\n', encoding="utf-8")
    assert load_settings(env={"BIGTENT_CONFIG": str(config)}).BASE_URL == "https://x.example/"


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"BIGTENT_PORT": "many"}, "PORT"),
        ({"BIGTENT_BASE_URL": "https://no-slash.example"}, "BASE_URL"),
        ({"BIGTENT_LOAD_WORKERS": "-1"}, "LOAD_WORKERS"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings(env=env)


def test_unknown_setting_in_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('colour = "blue"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(config, env={})
