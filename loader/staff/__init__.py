"""Staff accounts (``accounts.py``: scrypt passwords, sessions, roles, throttling) and
the audit view of recent changes (``audit.py``). Accounts live apart from the triple
store: nothing here is ever public.

May import: every ``loader`` layer below it.

Common changes: a new role → ``accounts.py`` ``ROLES``; a new audit filter →
``audit.py``.
"""
