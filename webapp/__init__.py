"""Bigtent's web app: ``create_app(config)`` builds it; one blueprint per area."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from loader.base.settings import Settings, load_settings
from webapp.http import auth, errors, i18n
from webapp.http import catalogue as catalogue_ext
from webapp.http import headers as http_headers
from webapp.linked_data import dataset, documents, feed, harvest, reconcile, sparql
from webapp.public import (
    browse,
    health,
    network,
    pages,
    partnerships,
    peers,
    query_editor,
    search,
    statistics,
    vendor,
)
from webapp.staff import accounts, bulk_import, edit_api, edit_forms, history, privacy


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` is resolved settings, or overrides on top of the
    environment and config file (tests pass ``{"DATA_DIR": tmp_path, ...}``)."""
    settings = config if isinstance(config, Settings) else load_settings(overrides=config)
    app = Flask(__name__)
    app.config.update(settings.as_flask_config())
    app.config["SECRET_KEY"] = settings.SECRET_KEY or None
    app.config["JSON_SORT_KEYS"] = False
    catalogue_ext.init_app(app, settings)
    i18n.init_app(app)
    errors.init_app(app)
    http_headers.init_app(app)
    auth.init_app(app, settings)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(query_editor.bp)
    vendor.init_app(app)
    app.register_blueprint(documents.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(edit_api.bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(edit_forms.bp)
    pages.init_app(app)
    browse.init_app(app)
    peers.init_app(app)
    app.register_blueprint(reconcile.bp)
    app.register_blueprint(search.bp)
    harvest.init_app(app, settings)  # dumps, sitemap, robots.txt; keeps the dumps fresh
    app.register_blueprint(feed.bp)
    app.register_blueprint(dataset.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(network.bp)
    app.register_blueprint(statistics.bp)
    partnerships.init_app(app)
    app.register_blueprint(history.bp)
    app.register_blueprint(bulk_import.bp)
    return app
