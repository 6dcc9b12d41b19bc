"""The network's ranking: kept per filter, and the partnerships of shown parties found
through an index that gives what a scan of every partnership gives."""

from __future__ import annotations

import random

from loader.discovery.network import Model, NetworkFilter, Partnership


def _model(seed: int = 7) -> Model:
    rng = random.Random(seed)
    kinds = {f"Q{n}": rng.choice(("organisation", "network")) for n in range(1000, 1200)}
    ids = list(kinds)
    partnerships = [
        Partnership(
            id=f"Q{5000 + n}",
            parties=tuple(rng.sample(ids, rng.randint(0, 4))),
            activity=frozenset(rng.sample(["Q130", "Q131", "Q132"], rng.randint(0, 2))),
            tier=frozenset(),
            status=frozenset(),
            start=rng.choice([None, 2019, 2021]),
            end=None,
        )
        for n in range(600)
    ]
    return Model(kinds, partnerships, [])


def test_involving_gives_what_a_scan_of_every_partnership_gives() -> None:
    model = _model()
    for wanted in (NetworkFilter(), NetworkFilter(activity=frozenset({"Q131"}), year_to=2020)):
        ranking = model.ranked(wanted)
        for limit in (0, 10, 150, 1000):
            shown = set(ranking.candidates[:limit])
            scanned = [p for p in ranking.matched if set(p.parties) & shown]
            assert ranking.involving(shown) == scanned
            with_partyless = [p for p in ranking.matched if not p.parties or set(p.parties) & shown]
            assert ranking.involving(shown, partyless=True) == with_partyless


def test_a_ranking_is_kept_per_filter_whatever_the_limit() -> None:
    model = _model()
    first = model.ranked(NetworkFilter(limit=10))
    assert model.ranked(NetworkFilter(limit=500)) is first
    filtered = model.ranked(NetworkFilter(activity=frozenset({"Q130"})))
    assert filtered is not first
    assert all("Q130" in p.activity for p in filtered.matched)
    assert set(filtered.candidates) == set(filtered.degree)  # a filter shows only parties
    assert len(first.candidates) == len(model.kinds)  # unfiltered: every organisation
