"""The public SPARQL service: ``policy.py`` (read-only, SERVICE allow-list, nesting;
fails closed), ``budgets.py`` (per-client time budgets; a client is its address),
``fair_queue.py`` (waiting queries served fairly across clients), ``lanes.py`` (the fast
lane for queries predicted cheap), ``service.py`` (the
worker processes, ``worker.py``, on ``snapshots.py``), ``remote.py`` (the same on a
remote engine), ``execute.py`` (with the result byte cap), ``labels.py`` (the
``?xLabel`` convention), ``label_service.py`` (WDQS's ``SERVICE wikibase:label``, rewritten
to plain SPARQL), ``result_cache.py`` (answers to GET queries by revision), ``results.py``
(result formats), ``service_description.py`` and ``examples.py`` (``sparql/examples``).

May import: ``loader.base``, ``loader.records``, ``loader.storage``, ``loader.ingest``.

Common changes: a new limit → ``service.py`` ``_configure`` and a setting; a new result
format → ``results.py``; a new example → a file in ``sparql/examples/``.
"""
