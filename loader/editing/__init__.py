"""Staff writes: the Editor (``editor.py``: create, save with three-way merge, revert,
delete, merge, hide), the form model generated from the shapes (``forms.py``), merging
entities (``merge.py``), hiding and erasing people (``privacy.py``), bulk imports
(``bulk_import.py``) and edits sent as Wikibase JSON by Wikibase tools
(``wikibase_json.py``). Every write ends in ``Repository.write_revisions``.

May import: every ``loader`` layer below: ``base``, ``records``, ``storage``,
``ingest``, ``query``, ``publish``, ``discovery``.

Common changes: a new kind of edit → a method on ``Editor``; what a form offers →
``forms.py`` (it reads ``shapes/``).
"""
