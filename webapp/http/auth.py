"""Staff sessions in the web app: who is logged in, role checks and CSRF checks.

The session cookie holds a random token; the session itself (account, CSRF token,
expiry) lives server-side in the account database, so logging out, "log out
everywhere", disabling or removing an account end it at the next request. The cookie
is HttpOnly and SameSite=Lax, and Secure (with the ``__Host-`` name prefix) when
SESSION_COOKIE_SECURE says so (by default: when BASE_URL is https).

Every state-changing request by staff goes through :func:`write_access`: logged in,
role sufficient, CSRF token right (form field ``csrf_token`` or header
``X-CSRF-Token``), and, when the browser says where the request comes from (Origin),
from this site. Before login, the login form carries a token kept in Flask's signed
cookie, so logins cannot be forged either.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, g, request, session
from werkzeug.wrappers import Response as BaseResponse

from loader.base.errors import BigtentError
from loader.base.settings import Settings
from loader.staff.accounts import Account, Session, csrf_matches
from webapp.http.catalogue import get_catalogue, get_settings

COOKIE = "bigtent_session"
SECURE_COOKIE = "__Host-bigtent_session"  # the prefix makes browsers insist on Secure, Path=/
LOGIN_TOKEN = "login_csrf"  # noqa: S105 (a session key, not a secret)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
F = TypeVar("F", bound=Callable[..., Any])


def secure_cookies(settings: Settings) -> bool:
    """True when cookies are sent over HTTPS only (setting SESSION_COOKIE_SECURE)."""
    value = str(settings.SESSION_COOKIE_SECURE).strip().lower()
    if value == "auto":
        return str(settings.BASE_URL).lower().startswith("https://")
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise BigtentError(
        f"SESSION_COOKIE_SECURE must be auto, true or false, got {value!r}", status=500
    )


def cookie_name() -> str:
    """The session cookie's name."""
    return SECURE_COOKIE if secure_cookies(get_settings()) else COOKIE


def init_app(app: Flask, settings: Settings) -> None:
    """Load the staff session of each request; configure Flask's own cookie."""
    secure = secure_cookies(settings)
    app.config.update(
        SESSION_COOKIE_NAME="bigtent_ui",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
    )

    @app.before_request
    def _load_staff() -> None:
        g.staff = None
        token = request.cookies.get(cookie_name())
        if token:
            g.staff = get_catalogue().accounts.session(token)

    @app.context_processor
    def _staff() -> dict[str, Any]:
        return {"staff": current(), "csrf_token": csrf_token}

    @app.after_request
    def _private_for_staff(response: Response) -> Response:
        # Pages seen by a logged-in user carry their name and CSRF token: never let a
        # shared cache keep them, whatever the view said about caching.
        if current() is not None:
            response.headers["Cache-Control"] = "private, no-store"
            response.vary.add("Cookie")
        return response


def current() -> Session | None:
    """The logged-in staff session of this request, or None."""
    return cast(Session | None, g.get("staff"))


def csrf_token() -> str:
    """The token forms must carry: the session's, or before login the login token."""
    staff = current()
    if staff is not None:
        return staff.csrf_token
    token = session.get(LOGIN_TOKEN)
    if not token:
        token = session[LOGIN_TOKEN] = secrets.token_urlsafe(32)
    return str(token)


def submitted_token() -> str | None:
    """The CSRF token of this request (header, else form field)."""
    return request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")


def _check_origin() -> None:
    origin = request.headers.get("Origin")
    if not origin:
        return  # not sent by every client; SameSite cookies and the token still protect
    ours = {_origin(request.host_url), _origin(str(get_settings().BASE_URL))}
    if _origin(origin) not in ours:
        raise BigtentError(
            f"this request comes from another site ({origin[:100]}); staff changes are only "
            "accepted from Bigtent's own pages",
            title="Forbidden",
            status=403,
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_csrf(staff: Session | None) -> None:
    """Refuse a state-changing request whose CSRF token is missing or wrong."""
    _check_origin()
    token = submitted_token()
    if not token:
        raise BigtentError(
            "this request has no CSRF token: forms send it in the csrf_token field, API "
            "clients in the X-CSRF-Token header (GET /api/session gives it). Reload the "
            "page and try again.",
            title="CSRF check failed",
            status=403,
        )
    if staff is not None:
        ok = csrf_matches(staff, token)
    else:
        expected = session.get(LOGIN_TOKEN)
        ok = bool(expected) and hmac.compare_digest(str(expected).encode(), token.encode())
    if not ok:
        raise BigtentError(
            "the CSRF token does not belong to your current session (it may come from a "
            "session that has ended, another account, or another site). Reload the page "
            "and try again.",
            title="CSRF check failed",
            status=403,
        )


def require(role: str) -> Session:
    """The current session if it may act as ``role``; 401/403 otherwise."""
    staff = current()
    if staff is None:
        raise BigtentError(
            "log in first: only staff accounts may change the catalogue (POST /login)",
            title="Login required",
            status=401,
        )
    if not staff.account.may(role):
        raise BigtentError(
            f"your account ({staff.account.name}, {staff.account.role}) may not do this: it "
            f"needs the {role} role",
            title="Forbidden",
            status=403,
        )
    return staff


def write_access(role: str) -> Callable[[F], F]:
    """Decorator for state-changing views: logged in, ``role`` or stronger, CSRF token."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            staff = require(role)
            check_csrf(staff)
            return view(*args, **kwargs)

        wrapper.write_role = role  # type: ignore[attr-defined]
        return cast(F, wrapper)

    return decorate


def author() -> str:
    """The name recorded as author of the current staff change."""
    staff = current()
    assert staff is not None
    return staff.account.name


def start_session(response: BaseResponse, account: Account) -> Session:
    """Log ``account`` in: a new server-side session and its cookie."""
    token, new = get_catalogue().accounts.create_session(account)
    settings = get_settings()
    response.set_cookie(
        cookie_name(),
        token,
        max_age=int(settings.SESSION_LIFETIME),
        path="/",
        secure=secure_cookies(settings),
        httponly=True,
        samesite="Lax",
    )
    session.pop(LOGIN_TOKEN, None)  # the login token is used up
    g.staff = new
    return new


def forget_session() -> None:
    """End the current server-side session, if any (its cookie is replaced by the caller)."""
    token = request.cookies.get(cookie_name())
    if token:
        get_catalogue().accounts.end_session(token)
    g.staff = None


def end_session(response: Response | BaseResponse) -> None:
    """Log the current session out and clear its cookie."""
    token = request.cookies.get(cookie_name())
    if token:
        get_catalogue().accounts.end_session(token)
    settings = get_settings()
    response.delete_cookie(
        cookie_name(), path="/", secure=secure_cookies(settings), httponly=True, samesite="Lax"
    )
    g.staff = None


def no_store(response: BaseResponse) -> BaseResponse:
    """Mark a staff response private (never cached) and never shown in a frame of another
    site (no clickjacking of login or admin forms)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def is_write_request() -> bool:
    """True for methods that may change state."""
    return request.method not in SAFE_METHODS
