"""The foundations every other layer stands on: errors (one error type), settings
(declared once, with default and help), namespaces and IRIs, language tags, the P/Q ids
the code names (``ids.py``), RDF terms and the one table of RDF formats (``rdf.py``),
where package data lives (``resources.py``), and the newest finished result of
whole-catalogue views, recomputed in the background (``latest.py``).

May import: the standard library and pyoxigraph only; nothing else from ``loader``.

Common changes: a new setting → ``settings.py`` (and the README table); a new P/Q id the
code needs → ``ids.py``; a new RDF format → the table in ``rdf.py``.
"""
