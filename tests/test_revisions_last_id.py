"""The revision log's change counter."""

from __future__ import annotations

from loader.catalogue import Catalogue


def test_last_id_grows_with_every_write(catalogue: Catalogue) -> None:
    before = catalogue.revisions.last_id()
    assert before > 0  # the ontology is installed
    entity = catalogue.revisions.recent(1)[0].entity
    catalogue.delete(entity, reason="test")
    assert catalogue.revisions.last_id() == before + 1
