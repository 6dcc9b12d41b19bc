"""What machines harvest: entity data documents (``documents.py``), the SPARQL endpoint
(``sparql.py``), dumps, the sitemap and robots.txt (``harvest.py``), the change feed
(``feed.py``), the dataset description (``dataset.py``), the reconciliation API
(``reconcile.py``) and the Wikibase Action API that Wikibase tools read and write through
(``action_api.py``, at ACTION_API_PATH; its writes need a staff session).

May import: ``loader``, ``webapp.http``; never its peers ``public`` and ``staff``.

Common changes: a new format of entity documents → the table in ``loader/base/rdf.py``;
a new harvesting route → a blueprint here, listed in ``webapp.AREAS``.
"""
