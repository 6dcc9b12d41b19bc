"""What Bigtent publishes: entity documents in every format and flavor
(``entity_documents.py`` with ``entity_json.py``, ``jsonld.py``, ``schema_org.py``),
the page model of an entity (``describe.py``), revision diffs (``revision_diffs.py``),
dumps (``dumps.py``, ``dump_format.py``), the change feed (``feed.py``) and the dataset
description (``dataset.py``).

May import: ``loader.base``, ``records``, ``storage``, ``ingest``, ``query``.

Common changes: a new output format → the format table in ``loader/base/rdf.py`` and
its serialiser in ``entity_documents.py``; what an entity page shows → ``describe.py``.
"""
