"""Where records live: the triple store backends (``oxigraph_store.py`` embedded,
``remote_store.py`` any SPARQL 1.1 engine), the revision log (``revision_log.py``) on
SQLite or PostgreSQL (``database.py``), the page index, the write protocol that keeps
store and log in step (``repository.py``), ``verify.py`` (drift between them) and
``visibility.py`` (hidden and erased people, absent from every public output).

May import: ``loader.base``, ``loader.records``.

Common changes: a new store backend → a class with the ``TripleStore`` protocol of
``oxigraph_store.py``; a new column in the log → ``revision_log.py`` and ``database.py``.
"""
