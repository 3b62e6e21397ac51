"""The review workspace: screening, duplicates, conflicts, extraction, risk of bias and
status in a browser, on the review's own files.

Why a web app over plain files: reviewers screen and extract in a browser, while the
review's files stay plain, version-controlled CSV. Every screen reads and writes exactly
the files the workflow uses, through the same package functions (so validation cannot
differ), with atomic writes and a check that the file did not change underneath (see
:mod:`livingmeta.app.guard`). ``livingmeta review serve`` starts it on 127.0.0.1.

One module per screen (a Flask blueprint each); templates and the vendored htmx (BSD
0-clause, ``static/htmx.LICENSE``) ship as package data, so the app needs no network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from livingmeta.validation import InputError

if TYPE_CHECKING:
    from flask import Flask

    from livingmeta.app.workspace import Workspace

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def create_app(workspace: Workspace, *, hosts: set[str] | None = None) -> Flask:
    """The Flask app serving ``workspace``.

    Parameters
    ----------
    workspace
        The review, the reviewer recording every write, and the roster.
    hosts
        Host names the app answers to (default: localhost names only).
    """
    from flask import Flask

    from livingmeta.app import (
        characteristics,
        conflicts,
        duplicates,
        extraction,
        retractions,
        risk_of_bias,
        screening,
        status,
    )
    from livingmeta.app.guard import Versions, new_secret
    from livingmeta.app.pages import install_safety, install_templates

    app = Flask(__name__)
    app.config.update(
        WORKSPACE=workspace,
        VERSIONS=Versions(),
        CSRF=new_secret(),
        HOSTS={h.lower() for h in (hosts or LOCAL_HOSTS)},
        MAX_CONTENT_LENGTH=1_000_000,
    )
    install_templates(app)
    install_safety(app)
    for module in (
        screening,
        conflicts,
        duplicates,
        extraction,
        characteristics,
        risk_of_bias,
        status,
        retractions,
    ):
        app.register_blueprint(module.blueprint)
    app.add_url_rule("/", "home", _home)
    app.register_error_handler(InputError, _invalid_files)
    return app


def _invalid_files(error: InputError) -> Any:
    """A file of the review is invalid: say which row and column, as the workflow does."""
    from flask import render_template

    return render_template("invalid.html", problems=error.problems), 422


def _home() -> Any:
    from flask import redirect, url_for

    return redirect(url_for("screening.show"))
