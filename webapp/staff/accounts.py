"""Staff accounts in the browser: log in and out, one's own account, user administration."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from loader.base.errors import BigtentError
from loader.staff.accounts import ADMIN, EDITOR, ROLES, AccountError, LoginThrottled
from webapp.http import auth
from webapp.http.bodies import parse_json
from webapp.http.catalogue import get_catalogue
from webapp.http.clients import client_address
from webapp.http.errors import public_error
from webapp.http.redirects import safe_next
from webapp.http.ui_terms import N_

bp = Blueprint("accounts", __name__)


def _form_or_json() -> dict[str, Any]:
    if request.is_json:
        data = parse_json(request.get_data())  # within FORM_MAX_BYTES and MAX_NESTING_DEPTH
        if not isinstance(data, dict):
            raise BigtentError("the body is not a JSON object", status=400)
        return data
    return request.form.to_dict()


def _done(message: str, page: str, **values: object) -> BaseResponse:
    """After a change: JSON for API clients (``message`` in English), else back to the
    page with the message in the interface language (``message`` is a msgid marked with
    ``N_``, its ``%(name)s`` placeholders filled from ``values``)."""
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return auth.no_store(jsonify({"ok": True, "message": message % values}))
    flash(gettext(message, **values))
    return redirect(page, code=303)


# --- logging in and out ------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse:
    """The login form, and logging in."""
    status, error, retry = 200, None, None
    name = ""
    if request.method == "POST":
        auth.check_csrf(auth.current())
        data = _form_or_json()
        name = str(data.get("name", ""))[:100]
        password = str(data.get("password", ""))
        accounts = get_catalogue().accounts
        try:
            account = accounts.authenticate(name, password, client_address())
        except LoginThrottled as exc:
            status, error, retry = exc.status, exc.message, exc.retry_after
        except BigtentError as exc:
            shown = public_error(exc)  # an outage names no host to anonymous visitors
            status, error = shown.status, shown.message
        else:
            target = safe_next(
                data.get("next") or request.args.get("next"), url_for("accounts.account")
            )
            response: BaseResponse = jsonify({}) if request.is_json else redirect(target, code=303)
            auth.forget_session()  # a new login never continues an old session
            new = auth.start_session(response, account)
            get_catalogue().editor.warm_up()  # staff edit next: prepare validation now
            if request.is_json:
                body = {
                    "ok": True,
                    "user": account.name,
                    "role": account.role,
                    "csrf_token": new.csrf_token,
                }
                response.set_data(json.dumps(body))
            return auth.no_store(response)
        if request.is_json:
            err = BigtentError(error or "", title="Login failed", status=status)
            response = make_response(jsonify(err.to_dict()), status)
            if retry:
                response.headers["Retry-After"] = str(retry)
            return auth.no_store(response)
    html = render_template(
        "login.html", error=error, name=name, next=safe_next(request.values.get("next"), "")
    )
    response = make_response(html, status)
    if retry:
        response.headers["Retry-After"] = str(retry)
    return auth.no_store(response)


@bp.post("/logout")
def logout() -> BaseResponse:
    """End this session."""
    auth.check_csrf(auth.current())
    response: BaseResponse
    if request.is_json:
        response = jsonify({"ok": True})
    else:
        flash(gettext("You are logged out."))
        response = redirect(url_for("pages.home"), code=303)
    auth.end_session(response)
    return auth.no_store(response)


# --- one's own account ------------------------------------------------------------------


@bp.get("/account")
def account() -> BaseResponse:
    """The logged-in user's account page."""
    staff = auth.current()
    if staff is None:
        return redirect(url_for("accounts.login", next=request.path), code=303)
    sessions = get_catalogue().accounts.session_counts().get(staff.account.name, 0)
    return auth.no_store(
        make_response(render_template("account.html", account=staff.account, sessions=sessions))
    )


@bp.post("/account/logout-everywhere")
@auth.write_access(EDITOR)
def logout_everywhere() -> BaseResponse:
    """End every session of the current account, this one included."""
    name = auth.author()
    count = get_catalogue().accounts.end_sessions(name)
    response = _done(N_("Sessions ended: %(count)s."), url_for("pages.home"), count=count)
    auth.end_session(response)
    return auth.no_store(response)


@bp.post("/account/password")
@auth.write_access(EDITOR)
def change_password() -> BaseResponse:
    """Change one's own password (ends every session; log in again)."""
    data = _form_or_json()
    accounts = get_catalogue().accounts
    name = auth.author()
    try:
        accounts.authenticate(name, str(data.get("current", "")), client_address())
        new = str(data.get("new", ""))
        if new != str(data.get("confirm", new)):
            raise AccountError("the new password and its confirmation differ")
        accounts.set_password(name, new)
    except BigtentError as exc:
        if request.is_json:
            raise
        flash(exc.message, "error")
        return redirect(url_for("accounts.account"), code=303)
    response = _done(N_("Password changed; log in again."), url_for("accounts.login"))
    auth.end_session(response)
    return response


# --- administration -----------------------------------------------------------------------


@bp.get("/admin/users")
def users() -> BaseResponse:
    """Every account, with forms to change role, disable, end sessions or remove."""
    staff = auth.current()
    if staff is None:
        return redirect(url_for("accounts.login", next=request.path), code=303)
    auth.require(ADMIN)
    accounts = get_catalogue().accounts
    html = render_template(
        "admin_users.html",
        users=accounts.list_users(),
        sessions=accounts.session_counts(),
        roles=ROLES,
        me=staff.account.name,
    )
    return auth.no_store(make_response(html))


def _admin_action(run: Any, message: str, **values: object) -> BaseResponse:
    try:
        run()
    except AccountError as exc:
        if request.is_json:
            raise
        flash(exc.message, "error")
        return redirect(url_for("accounts.users"), code=303)
    return _done(message, url_for("accounts.users"), **values)


@bp.post("/admin/users")
@auth.write_access(ADMIN)
def add_user() -> BaseResponse:
    """Create an account."""
    data = _form_or_json()
    name, role = str(data.get("name", "")), str(data.get("role", EDITOR))
    password = str(data.get("password", ""))

    def run() -> None:
        if password != str(data.get("confirm", password)):
            raise AccountError("the password and its confirmation differ")
        get_catalogue().accounts.add_user(name, role, password)

    return _admin_action(run, N_("Account %(name)s created (%(role)s)."), name=name, role=role)


@bp.post("/admin/users/<name>/role")
@auth.write_access(ADMIN)
def set_role(name: str) -> BaseResponse:
    """Change an account's role."""
    role = str(_form_or_json().get("role", ""))
    return _admin_action(
        lambda: get_catalogue().accounts.set_role(name, role),
        N_("%(name)s is now %(role)s."),
        name=name,
        role=role,
    )


@bp.post("/admin/users/<name>/disable")
@auth.write_access(ADMIN)
def disable(name: str) -> BaseResponse:
    """Disable an account (its sessions end at once)."""
    return _admin_action(
        lambda: get_catalogue().accounts.set_disabled(name, True),
        N_("%(name)s is disabled."),
        name=name,
    )


@bp.post("/admin/users/<name>/enable")
@auth.write_access(ADMIN)
def enable(name: str) -> BaseResponse:
    """Enable an account again."""
    return _admin_action(
        lambda: get_catalogue().accounts.set_disabled(name, False),
        N_("%(name)s is enabled."),
        name=name,
    )


@bp.post("/admin/users/<name>/logout")
@auth.write_access(ADMIN)
def end_user_sessions(name: str) -> BaseResponse:
    """Log an account out everywhere."""
    return _admin_action(
        lambda: get_catalogue().accounts.end_sessions(name),
        N_("%(name)s is logged out everywhere."),
        name=name,
    )


@bp.post("/admin/users/<name>/remove")
@auth.write_access(ADMIN)
def remove(name: str) -> BaseResponse:
    """Delete an account (its edits keep its name)."""
    if _form_or_json().get("confirm") not in ("yes", True):
        raise BigtentError(
            f"removing {name} cannot be undone: confirm it (confirm=yes)", status=422
        )
    return _admin_action(
        lambda: get_catalogue().accounts.remove_user(name),
        N_("Account %(name)s removed."),
        name=name,
    )


def session_json() -> Response:
    """Who is logged in, and the CSRF token to send with changes (``GET /api/session``)."""
    staff = auth.current()
    data: dict[str, object] = {"authenticated": staff is not None, "csrf_token": auth.csrf_token()}
    if staff is not None:
        data.update(user=staff.account.name, role=staff.account.role)
    response = jsonify(data)
    auth.no_store(response)
    return response
