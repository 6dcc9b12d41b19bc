"""Bigtent's web app. ``create_app(config)`` builds it and reads like a table of
contents: the shared HTTP machinery first (``webapp.http``: the catalogue, languages,
errors, headers, sessions), then every area's routes from one list, :data:`AREAS`.

The areas are folders by audience: ``public`` (pages people read), ``linked_data``
(what machines harvest) and ``staff`` (editing). A route added to any of them joins the
privacy sweep and the hostile-input test through the app's URL map.

May import: everything in ``loader`` and ``webapp``; nothing imports this package but
the command line (``webapp.cli``) and tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from flask import Flask

from loader.base.settings import Settings, load_settings
from webapp.http import (
    auth,
    bodies,
    clients,
    errors,
    formatting,
    headers,
    i18n,
    navigation,
    rendering,
)
from webapp.http import catalogue as catalogue_ext
from webapp.linked_data import (
    action_api,
    dataset,
    entity_documents,
    feed,
    harvest,
    reconciliation,
    sparql,
)
from webapp.public import (
    browse,
    health,
    language,
    network,
    pages,
    partnerships,
    peers,
    query_editor,
    recent_changes,
    search,
    statistics,
    vendor,
)
from webapp.public import map as world_map
from webapp.staff import accounts, bulk_import, edit_api, edit_forms, history, privacy

#: Every area, in registration order. Each module has either ``init_app(app)`` (when it
#: needs more than its routes: caches, template helpers, background work) or a blueprint
#: ``bp``; adding an area is one entry here.
AREAS: tuple[ModuleType, ...] = (
    language,
    sparql,
    query_editor,
    vendor,
    entity_documents,
    accounts,
    edit_api,
    privacy,
    edit_forms,
    pages,
    browse,
    peers,
    reconciliation,
    action_api,  # the Wikibase Action API at ACTION_API_PATH
    search,
    harvest,  # dumps, sitemap, robots.txt; keeps the dumps fresh
    feed,
    dataset,
    health,
    network,
    world_map,
    statistics,
    partnerships,
    recent_changes,
    history,
    bulk_import,
)


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` is resolved settings, or overrides on top of the
    environment and config file (tests pass ``{"DATA_DIR": tmp_path, ...}``)."""
    settings = config if isinstance(config, Settings) else load_settings(overrides=config)
    app = Flask(__name__)
    app.config.update(settings.as_flask_config())
    app.config["SECRET_KEY"] = settings.SECRET_KEY or None
    app.config["JSON_SORT_KEYS"] = False
    clients.init_app(app)  # a wrong TRUSTED_PROXIES stops the app before it opens anything
    catalogue_ext.init_app(app, settings)
    bodies.init_app(app, settings)  # bodies capped before any hook may read one
    i18n.init_app(app)
    formatting.init_app(app, settings)
    errors.init_app(app)
    headers.init_app(app)
    auth.init_app(app, settings)
    rendering.init_app(app)
    navigation.init_app(app)
    for area in AREAS:
        init = getattr(area, "init_app", None)
        if init is not None:
            init(app)
        else:
            app.register_blueprint(area.bp)
    return app
