"""Attaches one :class:`~loader.catalogue.Catalogue` to the app (``init_app`` pattern)."""

from __future__ import annotations

import secrets

from flask import Flask, current_app

from loader.base.settings import Settings
from loader.catalogue import Catalogue

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


def get_catalogue() -> Catalogue:
    """The catalogue of the current app."""
    catalogue: Catalogue = current_app.extensions[EXTENSION]
    return catalogue


def get_settings() -> Settings:
    """The resolved settings of the current app."""
    settings: Settings = current_app.extensions["bigtent.settings"]
    return settings
