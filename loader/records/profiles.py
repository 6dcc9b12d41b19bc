"""Which shapes validate records, per validation profile (setting PROFILE)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from loader.base.errors import ConfigError
from loader.base.resources import SHAPES_DIR
from loader.records.shacl import ShapesGraph
from loader.records.wikibase_rules import NATIVES

#: The Wikibase statement-structure shapes: all a mirror of another Wikibase is held to.
WIKIBASE_FILE = "wikibase.ttl"
PROFILES = ("bigtent", "wikibase")
BTS = "https://w3id.org/bigtent/shapes#"
#: Shapes that check Wikibase's statement structure only (no labels, no Bigtent ontology).
WIKIBASE_STRUCTURE = {BTS + "StatementShape", BTS + "ReferenceShape", BTS + "MirrorEntityShape"}
WIKIBASE_NATIVES = {BTS + "oneStatementValue", BTS + "referenceHasValue", BTS + "truthyAgreement"}


def shape_files(profile: str, directory: Path = SHAPES_DIR) -> list[Path]:
    """The shape files of a profile."""
    if profile not in PROFILES:
        raise ConfigError(
            f"unknown PROFILE {profile!r}; use one of {', '.join(PROFILES)} "
            "(setting BIGTENT_PROFILE)"
        )
    if profile == "wikibase":
        return [directory / WIKIBASE_FILE, directory / "profiles" / "wikibase.ttl"]
    return sorted(directory.glob("*.ttl"))


@lru_cache(maxsize=8)
def load_shapes(base: str, profile: str, directory: Path = SHAPES_DIR) -> ShapesGraph:
    """Compile the shapes of a profile for one base IRI (cached per process)."""
    if profile == "wikibase":
        natives = {k: v for k, v in NATIVES.items() if k in WIKIBASE_NATIVES}
        ignored = frozenset(NATIVES) - frozenset(natives)
        graph = ShapesGraph.from_files(shape_files(profile, directory), base, natives, ignored)
        graph.restrict(WIKIBASE_STRUCTURE)
        return graph
    return ShapesGraph.from_files(shape_files(profile, directory), base, NATIVES)
