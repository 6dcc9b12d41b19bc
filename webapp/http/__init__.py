"""What every area of the web app shares, with no routes: content negotiation,
conditional responses and caching headers, security headers, the one error handler,
sessions and access rules (``auth.py``), request body caps and the bounded JSON parser
(``bodies.py``), the interface languages (``i18n.py``), request
arguments (``request_args.py``), who the client is (``clients.py``), where ``next=`` may
redirect to (``redirects.py``), the catalogue as a Flask extension (``catalogue.py``)
and page helpers (``rendering.py``).

May import: ``loader`` (any layer) and Flask; nothing from the areas above it.

Common changes: a new response header → ``headers.py``; a new media type offered →
``negotiation.py`` with the table in ``loader/base/rdf.py``.
"""
