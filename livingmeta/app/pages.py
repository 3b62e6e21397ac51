"""What every screen shares: the workspace of the request, template filters for untrusted
text, and the request checks (host, shared token, CSRF) run before any handler."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from livingmeta.display import printable

if TYPE_CHECKING:
    from flask import Flask, Response

    from livingmeta.app.guard import Versions
    from livingmeta.app.workspace import Workspace


def workspace() -> Workspace:
    from flask import current_app

    return current_app.config["WORKSPACE"]


def versions() -> Versions:
    from flask import current_app

    return current_app.config["VERSIONS"]


def show(value: Any) -> str:
    """Untrusted text for a page: control, escape and bidi characters made visible
    (Jinja's autoescape then takes care of HTML)."""
    return printable("" if value is None else str(value))


def highlight(text: Any, words: Sequence[str]) -> Any:
    """``text`` escaped (line breaks kept), with each of ``words`` (ignoring case) wrapped
    in ``<mark>``."""
    from markupsafe import Markup, escape

    text = printable("" if text is None else str(text), keep_newlines=True)
    words = [w for w in words if w.strip()]
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w.strip()) for w in words), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out += [escape(text[last : match.start()]), Markup("<mark>"), escape(match.group())]
        out.append(Markup("</mark>"))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def install_templates(app: Flask) -> None:
    """Autoescaping templates with the shared filters and page context."""
    app.jinja_env.autoescape = True
    app.jinja_env.filters["show"] = show
    app.jinja_env.filters["highlight"] = highlight

    @app.context_processor
    def page_context() -> dict[str, Any]:
        ws = workspace()
        return {"ws": ws, "csrf_token": app.config["CSRF"]}


def install_safety(app: Flask) -> None:
    """Refuse requests for another host, without the shared token, or POSTs without the
    CSRF token, before any handler runs."""
    from flask import abort, request

    from livingmeta.app.guard import (
        CSRF_FIELD,
        CSRF_HEADER,
        TOKEN_COOKIE,
        allowed_host,
        same_secret,
    )

    @app.before_request
    def check_request() -> Response | None:
        if not allowed_host(request.host, app.config["HOSTS"]):
            abort(400, "unknown host")
        token = workspace().token
        if token and not (
            same_secret(request.cookies.get(TOKEN_COOKIE), token)
            or same_secret(request.args.get("token"), token)
        ):
            abort(403, "the shared token is needed (open the address printed at start)")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
            if not same_secret(given, app.config["CSRF"]):
                abort(403, "missing or wrong CSRF token (reload the page)")
        return None

    @app.after_request
    def remember_token(response: Response) -> Response:
        token = workspace().token
        if token and same_secret(request.args.get("token"), token):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        )
        return response
