"""Bulk loads: ``inputs.py`` (files, directories, stdin, formats, and the caps every reading
of an input enforces: ``InputLimits``) → ``reader.py``
(streaming records out of a source) → ``pipeline.py`` (normalise, validate in worker
processes, write in batches), with ``validation.py`` (the shapes and the catalogue
context every write path validates against).

May import: ``loader.base``, ``loader.records``, ``loader.storage``.

Common changes: a new input format → the format table in ``loader/base/rdf.py``; how
load reports read → ``pipeline.py``.
"""
