"""Staff accounts: password hashing, roles, sessions, throttling, the `bigtent user` CLI."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from databases import raw_rows

from loader.base.errors import ConfigError
from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.staff.accounts import (
    ADMIN,
    EDITOR,
    AccountError,
    DatabaseAccounts,
    LoginFailed,
    LoginThrottled,
    Policy,
    hash_password,
    needs_rehash,
    open_accounts,
    verify_password,
)
from webapp.cli import main

PASSWORD = "correct horse battery staple"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


Target = Callable[[str], Path | str]


@pytest.fixture
def accounts(db_target: Target, clock: Clock) -> Iterator[DatabaseAccounts]:
    """Accounts with an admin and an editor, on SQLite and on PostgreSQL."""
    policy = Policy(
        scrypt_n=1024,
        max_failures_per_account=3,
        max_failures_per_ip=5,
        failure_window=600,
        session_lifetime=3600,
        session_idle_timeout=600,
    )
    store = DatabaseAccounts(db_target("accounts"), policy, clock)
    store.add_user("alice", ADMIN, PASSWORD)
    store.add_user("bob", EDITOR, PASSWORD)
    yield store
    store.close()


def test_passwords_are_salted_scrypt_hashes_with_their_parameters() -> None:
    policy = Policy(scrypt_n=1024)
    first, second = hash_password(PASSWORD, policy), hash_password(PASSWORD, policy)
    assert first != second  # a fresh salt each time
    assert first.startswith("scrypt$1024$8$1$")
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "x", first)
    assert needs_rehash(first, Policy(scrypt_n=2048)) and not needs_rehash(first, policy)


def test_stored_hash_is_upgraded_at_login(accounts: DatabaseAccounts, db_target: Target) -> None:
    stronger = DatabaseAccounts(db_target("accounts"), Policy(scrypt_n=2048))
    stronger.authenticate("bob", PASSWORD, "10.0.0.1")
    rows = raw_rows(db_target("accounts"), "SELECT password FROM users WHERE name = 'bob'")
    assert rows[0][0].startswith("scrypt$2048$")
    stronger.close()


def test_wrong_password_and_unknown_account_fail_alike(accounts: DatabaseAccounts) -> None:
    with pytest.raises(LoginFailed) as wrong:
        accounts.authenticate("bob", "not the password", "10.0.0.1")
    with pytest.raises(LoginFailed) as unknown:
        accounts.authenticate("nobody", "not the password", "10.0.0.2")
    assert wrong.value.message == unknown.value.message
    assert wrong.value.status == 401


def test_names_are_case_insensitive_and_checked(accounts: DatabaseAccounts) -> None:
    assert accounts.authenticate("BOB", PASSWORD, "10.0.0.1").name == "bob"
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_user("Bob", EDITOR, PASSWORD)
    with pytest.raises(AccountError, match="not a valid account name"):
        accounts.add_user("<script>", EDITOR, PASSWORD)
    with pytest.raises(AccountError, match="PASSWORD_MIN_LENGTH"):
        accounts.add_user("carol", EDITOR, "short")
    with pytest.raises(AccountError, match="unknown role"):
        accounts.add_user("carol", "superuser", PASSWORD)


def test_login_is_throttled_per_account(accounts: DatabaseAccounts, clock: Clock) -> None:
    for attempt in range(3):
        with pytest.raises(LoginFailed):
            accounts.authenticate("bob", f"guess {attempt}", f"10.0.0.{attempt}")
    # Now even the right password is refused, from any address, until the window passes.
    with pytest.raises(LoginThrottled) as refused:
        accounts.authenticate("bob", PASSWORD, "10.9.9.9")
    assert refused.value.status == 429
    assert 0 < refused.value.retry_after <= 600
    assert "LOGIN_MAX_FAILURES" in refused.value.message
    assert accounts.authenticate("alice", PASSWORD, "10.9.9.9").name == "alice"  # others fine
    clock.now += 601
    assert accounts.authenticate("bob", PASSWORD, "10.9.9.9").name == "bob"


def test_login_is_throttled_per_address(accounts: DatabaseAccounts, clock: Clock) -> None:
    for n in range(5):
        with pytest.raises(LoginFailed):
            accounts.authenticate(f"user{n}", "guess", "192.0.2.7")
    with pytest.raises(LoginThrottled, match="from your address"):
        accounts.authenticate("alice", PASSWORD, "192.0.2.7")
    assert accounts.authenticate("alice", PASSWORD, "192.0.2.8").name == "alice"


def test_success_clears_the_account_count(accounts: DatabaseAccounts) -> None:
    for _ in range(2):
        with pytest.raises(LoginFailed):
            accounts.authenticate("bob", "guess", "10.0.0.1")
    accounts.authenticate("bob", PASSWORD, "10.0.0.1")
    for _ in range(2):
        with pytest.raises(LoginFailed):
            accounts.authenticate("bob", "guess", "10.0.0.1")
    assert accounts.authenticate("bob", PASSWORD, "10.0.0.1").name == "bob"


def test_sessions_expire_when_idle_and_at_their_lifetime(
    accounts: DatabaseAccounts, clock: Clock
) -> None:
    bob = accounts.authenticate("bob", PASSWORD, "10.0.0.1")
    token, session = accounts.create_session(bob)
    assert accounts.session(token) == session
    clock.now += 601  # idle longer than the idle timeout
    assert accounts.session(token) is None
    token, _ = accounts.create_session(bob)
    for _ in range(7):  # active, but the lifetime runs out
        clock.now += 550
        found = accounts.session(token)
    assert found is None
    assert accounts.session("") is None and accounts.session("forged") is None


def test_disabling_removing_and_logout_everywhere_end_sessions(accounts: DatabaseAccounts) -> None:
    bob = accounts.authenticate("bob", PASSWORD, "10.0.0.1")
    tokens = [accounts.create_session(bob)[0] for _ in range(3)]
    assert accounts.session_counts()["bob"] == 3
    accounts.end_session(tokens[0])
    assert accounts.session(tokens[0]) is None and accounts.session(tokens[1]) is not None
    assert accounts.end_sessions("bob") == 2
    assert all(accounts.session(t) is None for t in tokens)
    token, _ = accounts.create_session(bob)
    accounts.set_disabled("bob", True)
    assert accounts.session(token) is None
    with pytest.raises(LoginFailed, match="disabled"):
        accounts.authenticate("bob", PASSWORD, "10.0.0.1")
    accounts.set_disabled("bob", False)
    token, _ = accounts.create_session(accounts.authenticate("bob", PASSWORD, "10.0.0.1"))
    accounts.remove_user("bob")
    assert accounts.session(token) is None
    assert accounts.get_user("bob") is None


def test_new_password_ends_sessions(accounts: DatabaseAccounts) -> None:
    bob = accounts.authenticate("bob", PASSWORD, "10.0.0.1")
    token, _ = accounts.create_session(bob)
    accounts.set_password("bob", "another long passphrase")
    assert accounts.session(token) is None
    with pytest.raises(LoginFailed):
        accounts.authenticate("bob", PASSWORD, "10.0.0.1")


def test_the_last_admin_cannot_be_demoted_disabled_or_removed(accounts: DatabaseAccounts) -> None:
    for action in (
        lambda: accounts.set_role("alice", EDITOR),
        lambda: accounts.set_disabled("alice", True),
        lambda: accounts.remove_user("alice"),
    ):
        with pytest.raises(AccountError, match="last enabled admin"):
            action()
    accounts.set_role("bob", ADMIN)
    accounts.set_role("alice", EDITOR)
    assert accounts.get_user("alice").role == EDITOR  # type: ignore[union-attr]


def test_session_tokens_are_not_stored(accounts: DatabaseAccounts, db_target: Target) -> None:
    token, session = accounts.create_session(accounts.authenticate("bob", PASSWORD, "x"))
    target = db_target("accounts")
    if isinstance(target, Path):
        raw = target.read_bytes()
        wal = target.with_name(target.name + "-wal")
        raw += wal.read_bytes() if wal.exists() else b""
    else:
        raw = repr(raw_rows(target, "SELECT * FROM sessions")).encode()
        assert session.csrf_token.encode() in raw  # the check can see what is stored
    assert token.encode() not in raw
    assert session.csrf_token != token


def test_scrypt_cost_setting_is_checked(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="PASSWORD_SCRYPT_N"):
        Policy.from_settings(make_settings(PASSWORD_SCRYPT_N=1000))


# --- nothing about accounts is public ---------------------------------------------------


def test_accounts_live_outside_the_store_and_the_log(
    catalogue: Catalogue, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(PASSWORD_SCRYPT_N=1024)
    assert settings.data_dir == catalogue.settings.data_dir
    accounts = open_accounts(settings)
    accounts.add_user("secret-keeper", ADMIN, PASSWORD)
    accounts.create_session(accounts.authenticate("secret-keeper", PASSWORD, "x"))
    assert (catalogue.settings.data_dir / "accounts.sqlite3").exists()
    hits = catalogue.select(
        "SELECT ?s ?name WHERE { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?o), ?name)) }",
        {"name": __import__("pyoxigraph").Literal("secret-keeper")},
    )
    assert hits == []
    dumps = catalogue.dump(tmp_path / "dumps")
    import gzip

    for path in dumps:
        text = gzip.decompress(path.read_bytes())
        assert b"secret-keeper" not in text and b"scrypt$" not in text
    revisions = (catalogue.settings.data_dir / "revisions.sqlite3").read_bytes()
    assert b"secret-keeper" not in revisions


# --- the command line ----------------------------------------------------------------------


def _cli(
    data_dir: Path, *args: str, stdin: str = "", monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.setenv("BIGTENT_PASSWORD_SCRYPT_N", "1024")
    return main(["--data-dir", str(data_dir), "user", *args]), ""


def test_cli_user_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code, _ = _cli(
        data, "add", "carol", "--role", "admin", stdin=PASSWORD + "\n", monkeypatch=monkeypatch
    )
    assert code == 0 and "created carol (admin)" in capsys.readouterr().out
    code, _ = _cli(data, "add", "dave", stdin=PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 0
    _cli(data, "set-role", "dave", "admin", monkeypatch=monkeypatch)
    _cli(data, "disable", "carol", monkeypatch=monkeypatch)
    capsys.readouterr()
    _cli(data, "list", monkeypatch=monkeypatch)
    listing = capsys.readouterr().out
    assert "carol\tadmin\tdisabled" in listing and "dave\tadmin\tenabled" in listing
    code, _ = _cli(data, "add", "erin", stdin="short\n", monkeypatch=monkeypatch)
    assert code == 2 and "PASSWORD_MIN_LENGTH" in capsys.readouterr().err
    code, _ = _cli(data, "remove", "dave", monkeypatch=monkeypatch)
    assert code == 2 and "last enabled admin" in capsys.readouterr().err
    store = DatabaseAccounts(data / "accounts.sqlite3", Policy(scrypt_n=1024))
    assert store.authenticate("dave", PASSWORD, "x").role == ADMIN


def test_cli_never_takes_a_password_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["user", "add", "carol", "--password", PASSWORD])
    assert "unrecognized arguments" in capsys.readouterr().err
