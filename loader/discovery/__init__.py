"""Finding things: browse (``browse.py``), search (``search.py``), peers by capacity
(``peers.py``, whose ordering rule is ``PEER_ORDER``), the partnership network
(``network.py``, ``network_layout.py``), the map (``geography.py``, with the land
outlines and projection in ``world_outline.py``), the network around one entity as its
page shows it (``neighbourhood.py``), statistics (``statistics.py``) and the W3C
reconciliation API (``reconciliation.py``), all read from the page index or the
public query service. Whole-catalogue views keep their newest finished result and are
recomputed in the background after writes (``views.py``, on ``loader.base.latest``).

May import: ``loader.base``, ``records``, ``storage``, ``ingest``, ``query``,
``publish``.

Common changes: how peers are ordered → ``peers.py`` ``PEER_ORDER`` (pages, API and
README take it from there); a new chart → ``statistics.py`` and a ``sparql/examples``
query; a new section of entity pages (partnerships, members …) → ``neighbourhood.py``
``SECTIONS`` and ``webapp/templates/_entity_network.html``.
"""
