"""Where Bigtent's package data lives: the ontology, the shapes, the named and example
queries and the demo catalogue.

``ontology/``, ``shapes/`` and ``sparql/`` sit at the top of the source tree, where readers
look for them; ``loader/data/`` links to them, so the wheel ships them inside the ``loader``
package and an installed Bigtent finds them through :mod:`importlib.resources`, with no
path arithmetic from ``__file__``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_DATA = files("loader") / "data"


def data_dir(name: str) -> Path:
    """The package-data folder ``name`` (``ontology``, ``shapes``, ``sparql``, ``demo``).

    Bigtent is installed unzipped (pip always does), so the folder is a real path that
    pyoxigraph and RocksDB-backed code can open by name."""
    return Path(str(_DATA / name))


ONTOLOGY_DIR = data_dir("ontology")
SHAPES_DIR = data_dir("shapes")
SPARQL_DIR = data_dir("sparql")
EXAMPLES_DIR = SPARQL_DIR / "examples"
DEMO_DIR = data_dir("demo")
