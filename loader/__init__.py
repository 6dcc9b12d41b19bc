"""Bigtent's catalogue: everything below the web. Read, normalise, validate and write
Wikibase-style records; serve them as linked data, SPARQL, dumps and feeds.

The folders are the layers, lowest first; a module imports only its own folder or the
layers below it (``tests/test_layers.py``):

``base`` → ``records`` → ``storage`` → ``ingest`` → ``query`` → ``publish`` →
``discovery`` → ``editing`` → ``staff`` → ``catalogue.py`` (the composition root).

May import: nothing from ``webapp``, and never Flask.
"""
