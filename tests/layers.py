"""The layers of Bigtent, lowest first: the one table ``test_layers.py`` enforces and the
README's architecture section shows. A module may import its own layer and any layer with
a lower rank; layers of equal rank are peers and never import each other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Layer:
    folder: str  # dotted: a package, or a module that is a layer of its own
    rank: int


LAYERS = (
    Layer("loader", 0),  # the package itself: a docstring, nothing more
    Layer("loader.base", 0),
    Layer("loader.records", 1),
    Layer("loader.storage", 2),
    Layer("loader.ingest", 3),
    Layer("loader.query", 4),
    Layer("loader.publish", 5),
    Layer("loader.discovery", 6),
    Layer("loader.editing", 7),
    Layer("loader.staff", 8),
    Layer("loader.catalogue", 9),
    Layer("webapp.http", 10),
    Layer("webapp.public", 11),
    Layer("webapp.linked_data", 11),
    Layer("webapp.staff", 11),
    Layer("webapp", 12),  # create_app, the command line, the server
)


def layer_of(module: str) -> Layer | None:
    """The layer ``module`` (or the module a name is imported from) belongs to."""
    best: Layer | None = None
    for layer in LAYERS:
        if (module == layer.folder or module.startswith(layer.folder + ".")) and (
            best is None or len(layer.folder) > len(best.folder)
        ):
            best = layer
    return best
