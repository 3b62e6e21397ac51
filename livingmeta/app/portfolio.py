"""Portfolio mode: one server over every review of a config, with a review picker.

Why one workspace app per review, mounted under ``/<review id>/``: each review keeps its
own roster, files, CSRF secret and file versions, exactly as when served alone, and the
picker only links to them. A review whose roster does not name the reviewer is listed
with the reason and not served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

    from livingmeta.app.workspace import Workspace


@dataclass(frozen=True)
class Entry:
    """A review of the portfolio: its workspace, or why the reviewer cannot open it."""

    id: str
    title: str
    workspace: Workspace | None
    reason: str = ""


def open_portfolio(
    config_path: str | Path,
    reviewer: str,
    *,
    root: str | Path | None = None,
    **options: Any,
) -> list[Entry]:
    """Every review of the config, opened for ``reviewer`` where their roster allows
    (``options`` as for :func:`~livingmeta.app.workspace.open_workspace`)."""
    from livingmeta.app.workspace import open_workspace
    from livingmeta.config import load_config, reviews

    root = Path(root or Path.cwd()).resolve()
    entries = []
    for review_id, review in reviews(load_config(root / config_path)).items():
        try:
            ws = open_workspace(config_path, review_id, reviewer, root=root, **options)
        except ValueError as exc:
            entries.append(Entry(review_id, review.title, None, str(exc)))
        else:
            entries.append(Entry(review_id, review.title, ws))
    return entries


def create_portfolio_app(
    entries: Sequence[Entry], reviewer: str, *, hosts: set[str] | None = None
) -> Any:
    """A WSGI app: the picker at ``/``, each openable review's workspace at ``/<id>/``."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from livingmeta.app import create_app

    mounted = {f"/{e.id}": create_app(e.workspace, hosts=hosts) for e in entries if e.workspace}
    return DispatcherMiddleware(_picker(entries, reviewer, hosts), mounted)


def _picker(entries: Sequence[Entry], reviewer: str, hosts: set[str] | None) -> Flask:
    """The picker page, behind the same host and shared-token checks as the reviews."""
    from flask import Flask, abort, render_template, request

    from livingmeta.app import LOCAL_HOSTS
    from livingmeta.app.guard import TOKEN_COOKIE, allowed_host, same_secret

    app = Flask(__name__)
    app.jinja_env.autoescape = True
    bound = {h.lower() for h in (hosts or LOCAL_HOSTS)}
    token = next((e.workspace.token for e in entries if e.workspace), None)

    @app.before_request
    def check_request() -> None:
        if not allowed_host(request.host, bound):
            abort(400, "unknown host")
        given = request.cookies.get(TOKEN_COOKIE) or request.args.get("token")
        if token and not same_secret(given, token):
            abort(403, "the shared token is needed (open the address printed at start)")

    @app.get("/")
    def pick() -> Any:
        from livingmeta.display import printable

        shown = [
            Entry(printable(e.id), printable(e.title or e.id), e.workspace, printable(e.reason))
            for e in entries
        ]
        page = render_template("picker.html", entries=shown, reviewer=printable(reviewer))
        response = app.make_response(page)
        if token and same_secret(request.args.get("token"), token):
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        return response

    return app
