"""Records, pure: what one entity's record is and how it is checked, with no store.

``source.py`` (a record as read), ``normalise.py`` (to the Wikibase model: statement
ids, truthy triples, types), ``record_model.py`` (the JSON model the forms and the API
edit), ``diff.py`` and ``threeway.py`` (comparing and three-way merging records),
``context.py`` (what validation knows about other entities), ``shacl/`` (the SHACL
compiler) with ``wikibase_rules.py`` (checks SHACL cannot express) and ``profiles.py``
(which shapes a PROFILE uses).

May import: ``loader.base``.

Common changes: a record type's constraints → ``shapes/``; a new Wikibase rule →
``wikibase_rules.py``; what the edit API's JSON carries → ``record_model.py``.
"""
