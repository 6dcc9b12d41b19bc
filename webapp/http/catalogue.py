"""Attaches one :class:`~loader.catalogue.Catalogue` to the app (``init_app`` pattern)."""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request

from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.storage.revision_log import begin_read_scope, end_read_scope

EXTENSION = "bigtent"


def init_app(app: Flask, settings: Settings) -> None:
    """Open the catalogue for this app process (the app holds the embedded store) and
    start its background applier."""
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    cat = Catalogue.open(settings, serving=True)
    cat.applier.start()  # the store catches up with the log by itself (outages)
    app.extensions[EXTENSION] = cat
    app.extensions["bigtent.settings"] = settings

    @app.before_request
    def _read_scope() -> None:
        # A request that cannot write sees one revision of the catalogue, read once.
        if request.method in ("GET", "HEAD"):
            g.bigtent_read_scope = begin_read_scope()

    @app.teardown_request
    def _end_read_scope(_exc: BaseException | None) -> None:
        token = g.pop("bigtent_read_scope", None)
        if token is not None:
            end_read_scope(token)


def get_catalogue() -> Catalogue:
    """The catalogue of the current app."""
    catalogue: Catalogue = current_app.extensions[EXTENSION]
    return catalogue


def get_settings() -> Settings:
    """The resolved settings of the current app."""
    settings: Settings = current_app.extensions["bigtent.settings"]
    return settings
