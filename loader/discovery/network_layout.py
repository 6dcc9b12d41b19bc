"""A deterministic layout of the partnership network for the static picture.

Three rings: networks inside, partnerships in the middle, organisations outside.
Partnerships start evenly spread in id order; each organisation then moves towards the mean
direction of its partnerships and each partnership towards that of its parties, a few
rounds (every ring stays evenly spread in that order, so nothing overlaps); each network
follows the mean direction of its members. Same graph, same picture: no randomness,
and linear in the number of nodes and edges (a force-directed layout in Python would
take minutes at a thousand organisations).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Ring radius per kind, as a share of the picture's radius.
RINGS = {"network": 0.28, "partnership": 0.58, "organisation": 0.86}
#: Rounds of placing organisations by their partnerships and partnerships by their parties.
SWEEPS = 3


@dataclass(frozen=True)
class Placed:
    """A node's position (x, y) and the direction of its ring position (radians)."""

    x: float
    y: float
    angle: float


def circular_mean(angles: Sequence[float]) -> float | None:
    """The mean direction of angles (radians), in [0, 2π); None when they cancel out."""
    x = sum(math.cos(a) for a in angles)
    y = sum(math.sin(a) for a in angles)
    if not angles or (abs(x) < 1e-9 and abs(y) < 1e-9):
        return None
    return math.atan2(y, x) % math.tau


def _spread(order: Sequence[str], offset: float = 0.0) -> dict[str, float]:
    step = math.tau / max(1, len(order))
    return {node: (offset + i * step) % math.tau for i, node in enumerate(order)}


def _ordered(
    nodes: Sequence[str], neighbours: dict[str, list[str]], placed: dict[str, float]
) -> list[str]:
    """``nodes`` sorted by the mean direction of their placed neighbours (those without
    any keep their given order, after the others)."""
    keyed = []
    for position, node in enumerate(nodes):
        mean = circular_mean([placed[n] for n in neighbours.get(node, ()) if n in placed])
        keyed.append((mean is None, mean or 0.0, position, node))
    keyed.sort()
    return [node for *_, node in keyed]


def ring_layout(
    nodes: Sequence[tuple[str, str]], edges: Iterable[tuple[str, str]], radius: float
) -> dict[str, Placed]:
    """Positions of ``nodes`` ((id, kind) in a stable order) around (0, 0)."""
    neighbours: dict[str, list[str]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    by_kind: dict[str, list[str]] = {kind: [] for kind in RINGS}
    for node, kind in nodes:
        by_kind.setdefault(kind, []).append(node)
    angles = _spread(by_kind["partnership"], -math.pi / 2)
    for _ in range(SWEEPS):  # barycentric sweeps: fewer crossing lines each time
        organisations = _ordered(by_kind["organisation"], neighbours, angles)
        angles.update(_organisation_angles(organisations, neighbours, angles))
        partnerships = _ordered(by_kind["partnership"], neighbours, angles)
        angles.update(_spread(partnerships, -math.pi / 2))
    organisations = _ordered(by_kind["organisation"], neighbours, angles)
    angles.update(_organisation_angles(organisations, neighbours, angles))
    networks = _ordered(by_kind["network"], neighbours, angles)
    angles.update(_spread(networks, -math.pi / 2))
    placed = {}
    for kind, members in by_kind.items():
        ring = RINGS.get(kind, 1.0) * radius
        for node in members:
            angle = angles.get(node, 0.0)
            placed[node] = Placed(ring * math.cos(angle), ring * math.sin(angle), angle)
    return placed


def _organisation_angles(
    order: Sequence[str], neighbours: dict[str, list[str]], placed: dict[str, float]
) -> dict[str, float]:
    """Evenly spread, starting near where the first organisation wants to be."""
    if not order:
        return {}
    first = circular_mean([placed[n] for n in neighbours.get(order[0], ()) if n in placed])
    return _spread(order, -math.pi / 2 if first is None else first)
