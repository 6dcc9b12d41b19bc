"""What staff use: login and accounts, the edit forms generated from the shapes, the
JSON edit API, bulk import, history with diffs and restore, the audit view, and the
hide/unhide buttons.

May import: ``loader``, ``webapp.http``; never its peers ``public`` and
``linked_data``.

Common changes: a new staff action → a route here with ``auth.write_access`` and a
method on ``loader.editing.editor.Editor``.
"""
