"""Staff accounts, sessions and login throttling, kept apart from the catalogue.

Accounts live in their own database (``DATA_DIR/accounts.sqlite3``, or the PostgreSQL
database of ``DATABASE_URL`` shared by several app processes), never in the triple store
or the revision log, so nothing about them can reach SPARQL, pages or
dumps. Revisions record an author *name* only.

Passwords are hashed with scrypt (:func:`hashlib.scrypt`, memory-hard, in the standard
library) with a random salt per user; the cost parameters are stored with each hash,
so raising ``PASSWORD_SCRYPT_N`` later upgrades hashes at the next login. New passwords
follow NIST SP 800-63B (:func:`check_password`: length, no control characters, not on
zxcvbn's list of common passwords nor easy to guess). Sessions are
server-side rows keyed by a hash of a random token (the cookie holds the token), so
ending a session, "log out everywhere", disabling or removing an account take effect
at the next request. Each session has its own CSRF token.

Failed logins slow down the address they come from (per account and overall) with
growing waits; they never lock an account, so whoever guesses cannot keep its owner out
(OWASP's authentication cheat sheet). A disabled account fails like a wrong password.

Callers use the :class:`AccountStore` protocol; :class:`DatabaseAccounts` implements it
on SQLite or PostgreSQL (:mod:`loader.storage.database`); nothing outside this module sees SQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from loader.base.errors import BigtentError, ConfigError
from loader.base.settings import Settings
from loader.storage.database import Database, database_target

EDITOR, ADMIN = "editor", "admin"
ROLES = (EDITOR, ADMIN)
#: What each role may do, strongest last (an admin may do everything an editor may).
ROLE_RANK = {EDITOR: 1, ADMIN: 2}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: NIST SP 800-63B: verifiers allow at least 64 characters; the hash cost does not grow with it.
MAX_PASSWORD_LENGTH = 1024
#: The shortest PASSWORD_MIN_LENGTH accepted (NIST SP 800-63B's floor).
NIST_MIN_PASSWORD_LENGTH = 8
#: Unicode categories refused in passwords: controls (tab, newline, NUL...), surrogates,
#: line and paragraph separators.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
#: Passwords zxcvbn expects to be found in fewer than 10**6 guesses are refused (its
#: scores 0 and 1, "too guessable" even for online attacks that are slowed down).
MIN_GUESSES_LOG10 = 6.0
ZXCVBN_MAX_LENGTH = 72
ACCOUNTS_FILE = "accounts.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL,
    password      TEXT NOT NULL,          -- scrypt$N$r$p$salt$hash (base64)
    disabled      INTEGER NOT NULL DEFAULT 0,
    created       TEXT NOT NULL,
    last_login    TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash    TEXT PRIMARY KEY,       -- sha256 of the cookie's token; the token is not stored
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf          TEXT NOT NULL,
    created       REAL NOT NULL,
    last_seen     REAL NOT NULL,
    expires       REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_name_folded ON users (lower(name));
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS login_throttle (
    key           TEXT PRIMARY KEY,       -- sha256 of (account name, address) or of an address
    failures      INTEGER NOT NULL,       -- failed logins (an attempt counts until it succeeds)
    last          REAL NOT NULL           -- when the last one was made
);
CREATE INDEX IF NOT EXISTS login_throttle_last ON login_throttle (last);
DROP TABLE IF EXISTS login_failures;  -- the fixed-window lockout counts it replaces
"""


class AccountError(BigtentError):
    """A request about accounts that cannot be done as asked."""


class LoginFailed(BigtentError):
    """Wrong name or password, or a disabled account (the caller cannot tell which)."""

    status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Login failed", status=401)


class LoginThrottled(BigtentError):
    """Too many failed logins recently from this address (for this account or any):
    the next attempt from there must wait ``retry_after`` seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, title="Too many attempts", status=429)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    """A staff account (never the password hash)."""

    id: int
    name: str
    role: str
    disabled: bool
    created: str
    last_login: str | None

    def may(self, role: str) -> bool:
        """True when this account has ``role`` or a stronger one (and is enabled)."""
        return not self.disabled and ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


@dataclass(frozen=True)
class Session:
    """A logged-in session."""

    account: Account
    csrf_token: str
    created: float
    expires: float


@dataclass(frozen=True)
class Policy:
    """The limits accounts are held to (from settings)."""

    scrypt_n: int = 2**15
    scrypt_r: int = 8
    scrypt_p: int = 1
    min_password_length: int = 12
    session_lifetime: int = 12 * 3600
    session_idle_timeout: int = 2 * 3600
    free_failures: int = 3
    free_failures_per_ip: int = 20
    login_delay: float = 1.0
    max_login_delay: float = 300.0
    failure_window: int = 15 * 60

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """The policy the settings describe (checked)."""
        n = int(settings.PASSWORD_SCRYPT_N)
        if n < 1024 or n & (n - 1):
            raise ConfigError(
                f"PASSWORD_SCRYPT_N must be a power of two of at least 1024, got {n} "
                "(set BIGTENT_PASSWORD_SCRYPT_N; 32768 or more in production)"
            )
        minimum = int(settings.PASSWORD_MIN_LENGTH)
        if not NIST_MIN_PASSWORD_LENGTH <= minimum <= MAX_PASSWORD_LENGTH:
            raise ConfigError(
                f"PASSWORD_MIN_LENGTH must be between {NIST_MIN_PASSWORD_LENGTH} (NIST SP "
                f"800-63B) and {MAX_PASSWORD_LENGTH}, got {minimum} "
                "(set BIGTENT_PASSWORD_MIN_LENGTH)"
            )
        delay, longest = float(settings.LOGIN_DELAY), float(settings.LOGIN_MAX_DELAY)
        if not 0 < delay <= longest:
            raise ConfigError(
                f"LOGIN_DELAY ({delay}) must be more than 0 and at most LOGIN_MAX_DELAY "
                f"({longest}) (set BIGTENT_LOGIN_DELAY and BIGTENT_LOGIN_MAX_DELAY)"
            )
        return cls(
            scrypt_n=n,
            min_password_length=minimum,
            session_lifetime=int(settings.SESSION_LIFETIME),
            session_idle_timeout=int(settings.SESSION_IDLE_TIMEOUT),
            free_failures=int(settings.LOGIN_FREE_FAILURES),
            free_failures_per_ip=int(settings.LOGIN_FREE_FAILURES_PER_IP),
            login_delay=delay,
            max_login_delay=longest,
            failure_window=int(settings.LOGIN_FAILURE_WINDOW),
        )

    def login_delay_after(self, failures: int, free: int) -> float:
        """Seconds the next attempt must wait after ``failures`` counted failures, of
        which ``free`` are allowed without waiting: LOGIN_DELAY, doubled by each further
        failure, at most LOGIN_MAX_DELAY."""
        if failures <= 0 or failures < free:
            return 0.0
        doublings = min(failures - max(free, 1), 64)
        return min(self.login_delay * 2.0**doublings, self.max_login_delay)


# --- passwords --------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r * p + (1 << 20)
    )


def hash_password(password: str, policy: Policy) -> str:
    """``scrypt$N$r$p$salt$hash`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    n, r, p = policy.scrypt_n, policy.scrypt_r, policy.scrypt_p
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(_scrypt(password, salt, n, r, p))}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(encoded: str, policy: Policy) -> bool:
    """True when the stored hash is weaker than the policy asks for."""
    try:
        _, n, r, p, _, _ = encoded.split("$")
        return (int(n), int(r), int(p)) < (policy.scrypt_n, policy.scrypt_r, policy.scrypt_p)
    except ValueError:
        return True


def check_name(name: str) -> str:
    """The account name, checked: letters, digits, '.', '_' and '-', 1 to 64 characters."""
    if not NAME.match(name):
        raise AccountError(
            f"{name[:80]!r} is not a valid account name: use 1 to 64 letters, digits, '.', "
            "'_' or '-', starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    """The role, checked."""
    if role not in ROLES:
        raise AccountError(f"unknown role {role[:40]!r}; use one of: {', '.join(ROLES)}")
    return role


def check_password(password: str, policy: Policy, name: str = "") -> None:
    """Refuse a password that breaks NIST SP 800-63B's rules: shorter than
    PASSWORD_MIN_LENGTH or longer than MAX_PASSWORD_LENGTH characters (code points), only
    whitespace, any control character, on the list of common passwords that zxcvbn ships,
    or guessed within a million tries by zxcvbn's estimate (repeats, sequences, keyboard
    patterns, common passwords with a few digits, the account name or "bigtent")."""
    minimum = policy.min_password_length
    if len(password) < minimum:
        raise AccountError(
            f"the password is too short: use at least {minimum} characters "
            "(setting PASSWORD_MIN_LENGTH); a few unrelated words make a good one"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"the password is longer than {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise AccountError("the password is only spaces: use words, letters, digits or signs")
    bad = next((c for c in password if unicodedata.category(c) in FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        raise AccountError(
            f"the password contains a control or invalid character (U+{ord(bad):04X}); use "
            "printable characters and spaces only"
        )
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded.strip() in _common_passwords():
        raise AccountError(
            "this password is on a public list of the most common passwords: choose another "
            "(a few unrelated words make a good one)"
        )
    if _guesses_log10(password, name) < MIN_GUESSES_LOG10:
        raise AccountError(
            "this password is too easy to guess (it is close to a common password, a "
            "pattern such as a repeat or a sequence, or the account name): choose another "
            "(a few unrelated words make a good one)"
        )


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The most common passwords of leaked password sets, as zxcvbn ships them (30,000)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # loaded when first needed

    return frozenset(FREQUENCY_LISTS["passwords"])


def _guesses_log10(password: str, name: str) -> float:
    """zxcvbn's estimate of the guesses needed (log10). zxcvbn's matching grows fast with
    the length, so only the first ZXCVBN_MAX_LENGTH characters are looked at: a longer
    password is judged by its start, which is enough to catch a weak one."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[name, "bigtent"])
    return float(result["guesses_log10"])


def _throttle_key(*parts: str) -> str:
    """The login_throttle key of an account name and address, or of an address (hashed:
    the table holds no addresses, and keys have a fixed size whatever was typed)."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=0).isoformat()


# --- the store --------------------------------------------------------------------------


class AccountStore(Protocol):
    """What the web app and the command line need from an account database."""

    policy: Policy

    def add_user(self, name: str, role: str, password: str) -> Account:
        """Create an account; raises when the name is taken or the password too weak."""

    def get_user(self, name: str) -> Account | None:
        """The account with that name (any case), or None."""

    def list_users(self) -> list[Account]:
        """Every account, by name."""

    def set_role(self, name: str, role: str) -> Account:
        """Change an account's role (at least one enabled admin always remains)."""

    def set_disabled(self, name: str, disabled: bool) -> Account:
        """Disable (ending its sessions) or enable an account."""

    def remove_user(self, name: str) -> None:
        """Delete an account and its sessions (its name stays in the revision log)."""

    def set_password(self, name: str, password: str) -> None:
        """Set a new password and end every session of the account."""

    def authenticate(self, name: str, password: str, address: str) -> Account:
        """The account if the password is right; raises LoginFailed or LoginThrottled."""

    def create_session(self, account: Account) -> tuple[str, Session]:
        """A new session: (token for the cookie, session)."""

    def session(self, token: str) -> Session | None:
        """The live session of a token, or None (unknown, expired, account disabled)."""

    def end_session(self, token: str) -> None:
        """Log one session out."""

    def end_sessions(self, name: str) -> int:
        """Log an account out everywhere; returns how many sessions ended."""

    def session_counts(self) -> dict[str, int]:
        """Live sessions per account name."""

    def close(self) -> None:
        """Release the database."""


class DatabaseAccounts:
    """:class:`AccountStore` on SQLite (a file path, None: in memory) or PostgreSQL (a
    URL). Safe to share between threads; several processes may share a PostgreSQL one."""

    def __init__(
        self, target: Path | str | None, policy: Policy, clock: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._db = Database(target, "accounts", SCHEMA)
        self.path = self._db.path
        self._lock = threading.RLock()
        # A hash to check against when the account does not exist, so a wrong name
        # takes as long as a wrong password and names cannot be probed by timing.
        self._dummy = hash_password(secrets.token_hex(16), policy)

    def close(self) -> None:
        """Close the database (closing twice is harmless)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[Database]:
        with self._lock, self._db.write() as db:
            yield db

    def _rows(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._db.execute(sql, args))

    def copy_into(self, other: DatabaseAccounts) -> int:
        """Copy accounts and live sessions into another, empty account database (login
        failures are not copied: they only matter for minutes)."""
        return self._db.copy_into(other._db, ("users", "sessions"))

    # --- accounts -------------------------------------------------------------------------
    @staticmethod
    def _account(row: tuple[object, ...]) -> Account:
        return Account(
            int(row[0]),  # type: ignore[call-overload]
            str(row[1]),
            str(row[2]),
            bool(row[3]),
            str(row[4]),
            None if row[5] is None else str(row[5]),
        )

    def check_password(self, password: str, name: str = "") -> None:
        """Refuse a password that breaks the rules of :func:`check_password`."""
        check_password(password, self.policy, name)

    def add_user(self, name: str, role: str, password: str) -> Account:
        """Create an account; raises when the name is taken or the password too weak."""
        check_name(name)
        check_role(role)
        self.check_password(password, name)
        encoded = hash_password(password, self.policy)
        with self._write() as db:
            if db.execute("SELECT 1 FROM users WHERE lower(name) = lower(?)", (name,)).fetchone():
                raise AccountError(f"an account named {name!r} already exists", status=409)
            db.execute(
                "INSERT INTO users (name, role, password, created) VALUES (?, ?, ?, ?)",
                (name, role, encoded, _iso(self.clock())),
            )
        account = self.get_user(name)
        assert account is not None
        return account

    def get_user(self, name: str) -> Account | None:
        """The account with that name (any case), or None."""
        rows = self._rows(
            "SELECT id, name, role, disabled, created, last_login FROM users "
            "WHERE lower(name) = lower(?)",
            (name,),
        )
        return self._account(rows[0]) if rows else None

    def _existing(self, name: str) -> Account:
        account = self.get_user(name)
        if account is None:
            raise AccountError(f"there is no account named {name[:80]!r}", status=404)
        return account

    def list_users(self) -> list[Account]:
        """Every account, by name."""
        rows = self._rows(
            "SELECT id, name, role, disabled, created, last_login FROM users ORDER BY lower(name)"
        )
        return [self._account(r) for r in rows]

    def _keep_an_admin(self, db: Database, losing: Account) -> None:
        if losing.role != ADMIN or losing.disabled:
            return
        others = db.execute(
            "SELECT count(*) FROM users WHERE role = ? AND disabled = 0 AND id != ?",
            (ADMIN, losing.id),
        ).fetchone()[0]
        if not others:
            raise AccountError(
                f"{losing.name} is the last enabled admin: make another account admin first",
                status=409,
            )

    def set_role(self, name: str, role: str) -> Account:
        """Change an account's role (at least one enabled admin always remains)."""
        check_role(role)
        account = self._existing(name)
        with self._write() as db:
            if role != ADMIN:
                self._keep_an_admin(db, account)
            db.execute("UPDATE users SET role = ? WHERE id = ?", (role, account.id))
        return self._existing(name)

    def set_disabled(self, name: str, disabled: bool) -> Account:
        """Disable (ending its sessions) or enable an account."""
        account = self._existing(name)
        with self._write() as db:
            if disabled:
                self._keep_an_admin(db, account)
                db.execute("DELETE FROM sessions WHERE user_id = ?", (account.id,))
            db.execute("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), account.id))
        return self._existing(name)

    def remove_user(self, name: str) -> None:
        """Delete an account and its sessions (its name stays in the revision log)."""
        account = self._existing(name)
        with self._write() as db:
            self._keep_an_admin(db, account)
            db.execute("DELETE FROM users WHERE id = ?", (account.id,))

    def set_password(self, name: str, password: str) -> None:
        """Set a new password and end every session of the account."""
        account = self._existing(name)
        self.check_password(password, account.name)
        encoded = hash_password(password, self.policy)
        with self._write() as db:
            db.execute("UPDATE users SET password = ? WHERE id = ?", (encoded, account.id))
            db.execute("DELETE FROM sessions WHERE user_id = ?", (account.id,))

    # --- logging in -------------------------------------------------------------------------
    def _claim_attempt(self, keys: list[tuple[str, int]], now: float) -> None:
        """Count a login attempt against each (key, free failures) before its password
        is checked, or raise LoginThrottled while a key's wait is still running.

        The attempt counts as a failure until it succeeds: so parallel guesses cannot
        slip in together when a wait ends (the writer lock orders them)."""
        window = self.policy.failure_window
        wait = 0.0
        counts: list[int] = []
        with self._write() as db:
            for key, free in keys:
                row = db.execute(
                    "SELECT failures, last FROM login_throttle WHERE key = ?", (key,)
                ).fetchone()
                failures, last = (int(row[0]), float(row[1])) if row else (0, now)
                delay = self.policy.login_delay_after(failures, free)
                if now - last > delay + window:
                    failures = 0  # quiet for a whole window after its wait ended: forgotten
                else:
                    wait = max(wait, last + delay - now)
                counts.append(failures)
            if wait > 0:
                retry = max(math.ceil(wait), 1)
                raise LoginThrottled(
                    f"too many failed logins from your address: wait {retry} seconds before "
                    "trying again (each further failure doubles the wait; settings "
                    "LOGIN_FREE_FAILURES, LOGIN_FREE_FAILURES_PER_IP, LOGIN_DELAY and "
                    "LOGIN_MAX_DELAY)",
                    retry_after=retry,
                )
            for (key, _free), failures in zip(keys, counts, strict=True):
                db.execute(
                    "INSERT INTO login_throttle (key, failures, last) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
                    "last = excluded.last",
                    (key, failures + 1, now),
                )
            # Counts quiet for longer than any wait plus the window are forgotten anyway.
            db.execute(
                "DELETE FROM login_throttle WHERE last < ?",
                (now - self.policy.max_login_delay - window,),
            )

    def authenticate(self, name: str, password: str, address: str) -> Account:
        """The account if the password is right; raises LoginFailed or LoginThrottled.

        Failed logins slow down, they never lock an account: failures are counted per
        (account name, client address) and per client address. Past LOGIN_FREE_FAILURES
        (resp. LOGIN_FREE_FAILURES_PER_IP) failures, each attempt from that address must
        wait LOGIN_DELAY seconds after the last one, doubled by each further failure up to
        LOGIN_MAX_DELAY; an attempt made earlier is answered LoginThrottled (429) without
        checking the password. Other addresses are never slowed down, so whoever guesses
        cannot keep the owner of an account out. A success forgets the (account, address)
        count; a count is also forgotten after LOGIN_FAILURE_WINDOW quiet seconds. A
        disabled account fails exactly like a wrong password."""
        now = self.clock()
        folded = name.lower()[:100]
        pair_key = _throttle_key("account", folded, address)
        ip_key = _throttle_key("address", address)
        self._claim_attempt(
            [(pair_key, self.policy.free_failures), (ip_key, self.policy.free_failures_per_ip)],
            now,
        )
        # Only a valid name can have an account (and only one is sent to the database).
        rows = (
            self._rows(
                "SELECT id, password, disabled FROM users WHERE lower(name) = lower(?)", (name,)
            )
            if NAME.match(name)
            else []
        )
        encoded = str(rows[0][1]) if rows else self._dummy
        # The hash is checked whatever the account's state, so a disabled account costs
        # the same time and gives the same answer as a wrong password.
        ok = verify_password(password[:MAX_PASSWORD_LENGTH], encoded)
        if not (ok and rows and not rows[0][2]):
            raise LoginFailed("wrong account name or password")
        user_id = int(rows[0][0])  # type: ignore[call-overload]
        with self._write() as db:
            db.execute("DELETE FROM login_throttle WHERE key = ?", (pair_key,))
            # Not a failure after all; the address keeps the rest of its count (logging in
            # to an account of one's own must not reset the guessing of others).
            db.execute(
                "UPDATE login_throttle SET failures = failures - 1 WHERE key = ? AND failures > 0",
                (ip_key,),
            )
            db.execute("UPDATE users SET last_login = ? WHERE id = ?", (_iso(now), user_id))
            if needs_rehash(encoded, self.policy):
                db.execute(
                    "UPDATE users SET password = ? WHERE id = ?",
                    (hash_password(password, self.policy), user_id),
                )
        account = self.get_user(name)
        assert account is not None
        return account

    # --- sessions -------------------------------------------------------------------------
    def create_session(self, account: Account) -> tuple[str, Session]:
        """A new session: (token for the cookie, session)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.clock()
        expires = now + self.policy.session_lifetime
        with self._write() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                (_token_hash(token), account.id, csrf, now, now, expires),
            )
            db.execute("DELETE FROM sessions WHERE expires < ?", (now,))
        return token, Session(account, csrf, now, expires)

    def session(self, token: str) -> Session | None:
        """The live session of a token, or None (unknown, expired, idle too long, or the
        account is disabled or removed)."""
        if not token or len(token) > 200:
            return None
        key = _token_hash(token)
        rows = self._rows(
            "SELECT s.csrf, s.created, s.last_seen, s.expires, "
            "u.id, u.name, u.role, u.disabled, u.created, u.last_login "
            "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
            (key,),
        )
        if not rows:
            return None
        csrf, created, last_seen, expires, *user = rows[0]
        account = self._account(tuple(user))
        now = self.clock()
        idle = now - float(last_seen)  # type: ignore[arg-type]
        if account.disabled or now > float(expires) or idle > self.policy.session_idle_timeout:  # type: ignore[arg-type]
            self.end_session(token)
            return None
        if idle > 60:  # record activity at most once a minute: one write, not one per request
            with self._write() as db:
                db.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, key))
        return Session(account, str(csrf), float(created), float(expires))  # type: ignore[arg-type]

    def end_session(self, token: str) -> None:
        """Log one session out."""
        with self._write() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))

    def end_sessions(self, name: str) -> int:
        """Log an account out everywhere; returns how many sessions ended."""
        account = self._existing(name)
        with self._write() as db:
            cursor = db.execute("DELETE FROM sessions WHERE user_id = ?", (account.id,))
            return int(cursor.rowcount)

    def session_counts(self) -> dict[str, int]:
        """Live sessions per account name."""
        rows = self._rows(
            "SELECT u.name, count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE s.expires >= ? GROUP BY u.name",
            (self.clock(),),
        )
        return {str(r[0]): int(r[1]) for r in rows}  # type: ignore[call-overload]


def csrf_matches(session: Session, token: str | None) -> bool:
    """True when ``token`` is this session's CSRF token (constant-time comparison)."""
    return bool(token) and hmac.compare_digest(session.csrf_token.encode(), str(token).encode())


#: The name this class had while SQLite was its only engine.
SqliteAccounts = DatabaseAccounts


def open_accounts(settings: Settings, clock: Callable[[], float] = time.time) -> DatabaseAccounts:
    """The account database of a catalogue: DATABASE_URL, else ``DATA_DIR/accounts.sqlite3``."""
    data_dir = settings.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create DATA_DIR {data_dir}: {exc.strerror}") from None
    target = database_target(settings.DATABASE_URL, data_dir / ACCOUNTS_FILE)
    return DatabaseAccounts(target, Policy.from_settings(settings), clock)
