"""Who the public may see: hidden and erased people are absent from every public output.

The revision log says which entities are hidden or erased; this module answers for them
the way the public must be answered (404 for hidden, as for an unknown id; 410 for
erased, saying when and never what), and gives the validation context what the store no
longer holds about hidden people. Hiding and erasing themselves are writes
(:mod:`loader.editing.privacy`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from loader.base.errors import Gone, NotFound
from loader.base.namespaces import Namespaces
from loader.storage.revision_log import HIDDEN, PRIVATE_STATES, RevisionLog


class Visibility:
    """Reads the log to tell what the public may see."""

    def __init__(self, revisions: RevisionLog, ns: Namespaces) -> None:
        self.revisions = revisions
        self.ns = ns

    # --- reading --------------------------------------------------------------------------
    def is_private(self, entity: str) -> bool:
        """True when the public may not see ``entity`` (hidden or erased)."""
        state = self.revisions.state(entity)
        return state is not None and state.state in PRIVATE_STATES

    def check_public(self, entity: str) -> None:
        """Raise what the public gets for a hidden (404, as for an unknown id) or erased
        (410) entity; return quietly otherwise."""
        state = self.revisions.state(entity)
        if state is None or state.state not in PRIVATE_STATES:
            return
        if state.state == HIDDEN:
            raise not_found(entity)
        raise erased(entity, self.revisions.revision_time(state.latest))

    def hidden_claims(self, properties: Sequence[str]) -> dict[str, dict[str, set[str]]]:
        """Truthy item values of ``properties`` for each hidden entity, read from the log:
        the validation context needs them (records that point at a hidden person still
        validate), the store no longer has them."""
        ns = self.ns
        wanted = {ns.predicate("wdt", pid).value: pid for pid in properties}
        out: dict[str, dict[str, set[str]]] = {pid: {} for pid in properties}
        hidden = self.revisions.entities_in(HIDDEN)
        for rev in self.revisions.latest_revisions(hidden):
            subject = ns.entity(rev.entity)
            for quad in ox.parse(rev.snapshot or b"", ox.RdfFormat.N_TRIPLES):
                pid = wanted.get(quad.predicate.value)
                is_item = isinstance(quad.object, ox.NamedNode)
                if pid is not None and is_item and quad.subject == subject:
                    out[pid].setdefault(rev.entity, set()).add(quad.object.value)
        return out


def not_found(entity: str) -> NotFound:
    """What the public gets for a hidden entity: the same as for an unknown one."""
    return NotFound(
        f"There is no entity {entity} in this catalogue. Entity ids look like Q42 (items) "
        "or P31 (properties).",
        title="Not found",
    )


def erased(entity: str, when: str | None) -> Gone:
    """The 410 for an erased entity (when, never what)."""
    on = f" on {when}" if when else ""
    return Gone(
        f"{entity} was erased{on}; nothing of it is kept.",
        title="Gone",
        details={"erased": when},
    )
