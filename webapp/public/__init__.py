"""The pages a visitor reads: home and entity pages, history lists, browse, search,
peers, the network, statistics, partnerships, the query editor, health and the
front-end assets served from node_modules.

May import: ``loader``, ``webapp.http``; never the other areas (``linked_data``,
``staff``), which are its peers.

Common changes: a new page → a module with a blueprint here, listed in
``webapp.AREAS``; it joins the privacy sweep and the hostile-input test by its route.
"""
