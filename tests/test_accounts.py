"""Staff accounts: password hashing, roles, sessions, throttling, the `bigtent user` CLI."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from databases import raw_rows
from staff_support import Clock

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


@pytest.fixture
def clock() -> Clock:
    return Clock()


Target = Callable[[str], Path | str]


@pytest.fixture
def accounts(db_target: Target, clock: Clock) -> Iterator[DatabaseAccounts]:
    """Accounts with an admin and an editor, on SQLite and on PostgreSQL."""
    policy = Policy(
        scrypt_n=1024,
        free_failures=3,
        free_failures_per_ip=5,
        login_delay=1,
        max_login_delay=60,
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


WEAK_PASSWORDS = {
    "spaces only": " " * 12,
    "NULs": "\x00" * 12,
    "a tab inside": "correct\thorse battery",
    "a newline inside": "correct horse\nbattery",
    "a lone surrogate": "correct horse \ud800 battery",
    "a common password": "password1234",
    "a common password, capitalised": "Password1234",
    "a repeat": "aaaaaaaaaaaa",
    "a sequence": "abcdefghijkl",
    "a keyboard walk": "qwertyuiopas",
    "the account name": "carolcarolcarol",
    "too long": "x1 " * 342,
}


@pytest.mark.parametrize("password", WEAK_PASSWORDS.values(), ids=WEAK_PASSWORDS.keys())
def test_passwords_follow_nist_800_63b(accounts: DatabaseAccounts, password: str) -> None:
    with pytest.raises(AccountError) as refused:
        accounts.add_user("carol", EDITOR, password)
    assert refused.value.status == 400 and "password" in refused.value.message
    assert accounts.get_user("carol") is None
    with pytest.raises(AccountError):
        accounts.set_password("bob", password)
    assert accounts.authenticate("bob", PASSWORD, "10.0.0.1").name == "bob"  # unchanged


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "ünïcödé pässwörds äré fïné",
        "日本語のパスワードも使える",
        " spaces around are kept ",
        "w" + "ord salad ".join(str(n) for n in range(12)),  # 100+ characters
        "".join(hashlib.sha256(bytes([n])).hexdigest() for n in range(16)),  # 1024, longest
    ],
)
def test_long_unicode_and_spaced_passwords_are_accepted(
    accounts: DatabaseAccounts, password: str
) -> None:
    accounts.add_user("carol", EDITOR, password)
    assert accounts.authenticate("carol", password, "10.0.0.1").name == "carol"
    assert len(password) >= 12


def test_password_rules_name_what_is_wrong(accounts: DatabaseAccounts) -> None:
    with pytest.raises(AccountError, match="only spaces"):
        accounts.add_user("carol", EDITOR, " " * 12)
    with pytest.raises(AccountError, match=r"control or invalid character \(U\+0000\)"):
        accounts.add_user("carol", EDITOR, "\x00" * 12)
    with pytest.raises(AccountError, match="list of the most common passwords"):
        accounts.add_user("carol", EDITOR, "password1234")
    with pytest.raises(AccountError, match="longer than 1024"):
        accounts.add_user("carol", EDITOR, "x" * 1025)


def test_password_settings_are_checked(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="PASSWORD_MIN_LENGTH"):
        Policy.from_settings(make_settings(PASSWORD_MIN_LENGTH=6))
    with pytest.raises(ConfigError, match="LOGIN_DELAY"):
        Policy.from_settings(make_settings(LOGIN_DELAY=0))
    with pytest.raises(ConfigError, match="LOGIN_MAX_DELAY"):
        Policy.from_settings(make_settings(LOGIN_DELAY=10, LOGIN_MAX_DELAY=5))
    policy = Policy.from_settings(make_settings())
    assert (policy.min_password_length, policy.free_failures, policy.max_login_delay) == (
        12,
        3,
        300,
    )


def test_failed_logins_slow_down_the_address_never_the_account(
    accounts: DatabaseAccounts, clock: Clock
) -> None:
    for attempt in range(3):
        with pytest.raises(LoginFailed):
            accounts.authenticate("bob", f"guess {attempt}", "10.0.0.9")
    # From the guessing address, the next attempt must wait (the password is not checked)...
    with pytest.raises(LoginThrottled) as refused:
        accounts.authenticate("bob", PASSWORD, "10.0.0.9")
    assert refused.value.status == 429 and refused.value.retry_after == 1
    assert "LOGIN_DELAY" in refused.value.message
    # ...while bob, elsewhere, logs in at once: guessing never locks the account.
    assert accounts.authenticate("bob", PASSWORD, "10.9.9.9").name == "bob"
    clock.now += 1
    assert accounts.authenticate("bob", PASSWORD, "10.0.0.9").name == "bob"


def test_each_further_failure_doubles_the_wait_up_to_the_cap(
    accounts: DatabaseAccounts, clock: Clock
) -> None:
    waits: list[int] = []
    while len(waits) < 9:
        try:
            accounts.authenticate("bob", "guess", "10.0.0.9")
        except LoginThrottled as throttled:
            waits.append(throttled.retry_after)
            clock.now += throttled.retry_after
        except LoginFailed:
            pass
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]  # max_login_delay=60
    clock.now += 600 + 61  # quiet for the window after the wait: forgotten
    for _ in range(3):
        with pytest.raises(LoginFailed):
            accounts.authenticate("bob", "guess", "10.0.0.9")


def test_the_wait_grows_from_the_first_failure_past_the_free_ones() -> None:
    policy = Policy(login_delay=1, max_login_delay=8)
    assert [policy.login_delay_after(n, 0) for n in range(6)] == [0, 1, 2, 4, 8, 8]
    assert [policy.login_delay_after(n, 3) for n in range(7)] == [0, 0, 0, 1, 2, 4, 8]
    assert policy.login_delay_after(10**9, 3) == 8  # no overflow


def test_login_is_slowed_down_per_address(accounts: DatabaseAccounts, clock: Clock) -> None:
    for n in range(5):
        with pytest.raises(LoginFailed):
            accounts.authenticate(f"user{n}", "guess", "192.0.2.7")
    with pytest.raises(LoginThrottled, match="from your address") as refused:
        accounts.authenticate("alice", PASSWORD, "192.0.2.7")
    assert accounts.authenticate("alice", PASSWORD, "192.0.2.8").name == "alice"
    clock.now += refused.value.retry_after  # slowed down, not locked
    assert accounts.authenticate("alice", PASSWORD, "192.0.2.7").name == "alice"


def test_waits_are_shared_by_every_process_of_the_database(
    accounts: DatabaseAccounts, db_target: Target, clock: Clock
) -> None:
    other = DatabaseAccounts(db_target("accounts"), accounts.policy, clock)  # another process
    try:
        for _ in range(3):
            with pytest.raises(LoginFailed):
                accounts.authenticate("bob", "guess", "10.0.0.9")
        with pytest.raises(LoginThrottled):
            other.authenticate("bob", PASSWORD, "10.0.0.9")
        assert other.authenticate("bob", PASSWORD, "10.0.0.10").name == "bob"
    finally:
        other.close()


def test_parallel_guesses_cannot_slip_in_when_a_wait_ends(
    accounts: DatabaseAccounts, clock: Clock
) -> None:
    """An attempt counts before its password is checked, under the writer lock: of
    eight guesses sent at once when the wait ends, one is checked."""
    for _ in range(3):
        with pytest.raises(LoginFailed):
            accounts.authenticate("bob", "guess", "10.0.0.9")
    clock.now += 1
    outcomes: list[str] = []

    def guess() -> None:
        try:
            accounts.authenticate("bob", "guess", "10.0.0.9")
        except LoginThrottled:
            outcomes.append("throttled")
        except LoginFailed:
            outcomes.append("checked")

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["checked"] + ["throttled"] * 7


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
    with pytest.raises(LoginFailed, match=r"^wrong account name or password$"):
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
    for weak in (" " * 12, "\x00" * 12, "password1234"):
        code, _ = _cli(data, "add", "erin", stdin=weak + "\n", monkeypatch=monkeypatch)
        assert code == 2 and "password" in capsys.readouterr().err
        code, _ = _cli(data, "password", "dave", stdin=weak + "\n", monkeypatch=monkeypatch)
        assert code == 2 and "password" in capsys.readouterr().err
    code, _ = _cli(data, "remove", "dave", monkeypatch=monkeypatch)
    assert code == 2 and "last enabled admin" in capsys.readouterr().err
    store = DatabaseAccounts(data / "accounts.sqlite3", Policy(scrypt_n=1024))
    assert store.authenticate("dave", PASSWORD, "x").role == ADMIN


def test_cli_never_takes_a_password_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["user", "add", "carol", "--password", PASSWORD])
    assert "unrecognized arguments" in capsys.readouterr().err
