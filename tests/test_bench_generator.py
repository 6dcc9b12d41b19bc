"""The benchmark generator writes valid, deterministic, self-contained records."""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402
from bench import run as harness  # noqa: E402

B = gen.DEFAULT_BASE
WD = B + "entity/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
WDT = B + "prop/direct/"
P = B + "prop/"
PS = B + "prop/statement/"
N = 200


@pytest.fixture(scope="module")
def nt_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "records.nt"
    gen.generate(N, path, seed=1)
    return path


@pytest.fixture(scope="module")
def triples(nt_path: Path) -> list[ox.Triple]:
    return list(ox.parse(path=str(nt_path), format=ox.RdfFormat.N_TRIPLES))


@pytest.fixture(scope="module")
def entities(triples: list[ox.Triple]) -> dict[str, list[ox.Triple]]:
    """Triples whose subject is an entity, by entity IRI."""
    out: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(WD):
            out[t.subject.value].append(t)
    return out


def text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph) -> str:
    """The lexical value of a term (never a quoted triple here)."""
    assert not isinstance(term, (ox.Triple, ox.DefaultGraph))
    return term.value


def qnum(iri: str) -> int | None:
    m = re.fullmatch(re.escape(WD) + r"Q(\d+)", iri)
    return int(m.group(1)) if m else None


def direct(triples: list[ox.Triple], prop: int) -> list[ox.NamedNode | ox.Literal]:
    return [t.object for t in triples if t.predicate.value == f"{WDT}P{prop}"]  # type: ignore[misc]


def instance_of(triples: list[ox.Triple]) -> int:
    (value,) = direct(triples, gen.P_INSTANCE_OF)
    number = qnum(value.value)
    assert number is not None
    return number


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, nt_path: Path) -> None:
    again = tmp_path / "again.nt"
    gen.generate(N, again, seed=1)
    assert again.read_bytes() == nt_path.read_bytes()
    other = tmp_path / "other.nt"
    gen.generate(N, other, seed=2)
    assert other.read_bytes() != nt_path.read_bytes()
    for fmt in ("ttl", "nq"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        gen.generate(N, a, seed=5)
        gen.generate(N, b, seed=5)
        assert a.read_bytes() == b.read_bytes()


def test_ids_unique_contiguous_and_in_generated_range(nt_path: Path) -> None:
    seen: list[str] = []
    finished: set[str] = set()
    current = None
    for line in nt_path.read_text(encoding="utf-8").splitlines():
        subject = line.split(" ", 1)[0]
        if subject.startswith("_:"):
            assert current is not None
            assert subject.startswith(f"_:s{current[len(WD) + 2 : -1]}x") or subject.startswith(
                f"_:r{current[len(WD) + 2 : -1]}x"
            ), "statement nodes follow their entity"
            continue
        if subject != current:
            assert subject not in finished, f"{subject} is not contiguous"
            if current is not None:
                finished.add(current)
            current = subject
            seen.append(subject)
    ids = [qnum(s[1:-1]) for s in seen]
    assert ids == list(range(gen.FIRST_ID, gen.FIRST_ID + N))


def test_every_record_has_one_english_label_and_at_most_one_per_language(
    entities: dict[str, list[ox.Triple]],
) -> None:
    assert len(entities) == N
    for iri, ts in entities.items():
        langs = Counter(t.object.language for t in ts if t.predicate.value == LABEL)  # type: ignore[union-attr]
        assert langs["en"] == 1, iri
        assert max(langs.values()) == 1, iri
        assert any(t.predicate.value == RDF_TYPE for t in ts)


def test_mix_of_kinds(entities: dict[str, list[ox.Triple]]) -> None:
    kinds = Counter(instance_of(ts) for ts in entities.values())
    counts = gen.plan_counts(N)
    assert kinds[gen.CLASS_TERRITORY] == counts[gen.TERRITORY]
    assert kinds[gen.CLASS_FICTIONAL_PERSON] == counts[gen.PERSON]
    assert kinds[gen.CLASS_ORGANISATION] == counts[gen.ORGANISATION]
    assert kinds[gen.CLASS_PARTNERSHIP] == counts[gen.PARTNERSHIP]
    assert kinds[gen.CLASS_NETWORK] == counts[gen.NETWORK]
    assert kinds[gen.CLASS_CAPACITY] == counts[gen.CAPACITY]
    assert 0.40 < counts[gen.PERSON] / N < 0.50
    # territories come first so every territory reference can resolve early
    first = [instance_of(entities[f"{WD}Q{gen.FIRST_ID + i}"]) for i in range(4)]
    assert first == [gen.CLASS_TERRITORY] * 4


def _time_key(literal: ox.Literal) -> str:
    datatype = literal.datatype.value.rsplit("#", 1)[1]
    return gen.normalise_time(literal.value, datatype)[0]


def test_end_time_not_before_start_time(entities: dict[str, list[ox.Triple]]) -> None:
    checked = 0
    for iri, ts in entities.items():
        starts, ends = direct(ts, gen.P_START), direct(ts, gen.P_END)
        assert len(starts) <= 1 and len(ends) <= 1, iri
        if starts and ends:
            assert _time_key(ends[0]) >= _time_key(starts[0]), iri  # type: ignore[arg-type]
            checked += 1
    assert checked > 0


def test_partnerships_have_two_or_more_distinct_participants(
    triples: list[ox.Triple], entities: dict[str, list[ox.Triple]]
) -> None:
    values: dict[str, str] = {
        text(t.subject): text(t.object) for t in triples if t.predicate.value == f"{PS}P5"
    }
    partnerships = [ts for ts in entities.values() if instance_of(ts) == gen.CLASS_PARTNERSHIP]
    assert partnerships
    for ts in partnerships:
        nodes = [text(t.object) for t in ts if t.predicate.value == f"{P}P5"]
        parties = {values[n] for n in nodes}
        assert len(parties) == len(nodes) >= 2


def test_every_generated_reference_is_defined_both_directions_occur(
    triples: list[ox.Triple], entities: dict[str, list[ox.Triple]]
) -> None:
    defined = {qnum(iri) for iri in entities}
    owner: dict[str, int | None] = {}  # blank node -> entity it hangs off
    for t in triples:
        if isinstance(t.object, ox.BlankNode):
            if isinstance(t.subject, ox.NamedNode):
                owner[t.object.value] = qnum(t.subject.value)
            else:
                owner[t.object.value] = owner[text(t.subject)]
    forward = backward = 0
    ontology_refs: set[int] = set()
    for t in triples:
        if not isinstance(t.object, ox.NamedNode):
            continue
        target = qnum(t.object.value)
        if target is None:
            continue
        if target < gen.FIRST_ID:
            ontology_refs.add(target)
            continue
        assert target in defined, t
        source = (
            qnum(t.subject.value) if isinstance(t.subject, ox.NamedNode) else owner[text(t.subject)]
        )
        assert source is not None
        if target > source:
            forward += 1
        elif target < source:
            backward += 1
    assert forward > 0 and backward > 0
    assert ontology_refs <= gen.ONTOLOGY_ITEMS


def canonical(triples: list[ox.Triple]) -> Counter[tuple[str, str, str]]:
    """Triples with each blank node replaced by a signature of what hangs off it.

    Enough to compare these files (tree-shaped blank nodes), far faster than a general
    isomorphism check.
    """
    below: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            below[t.subject.value].append(t)

    def term(node: object) -> str:
        if isinstance(node, ox.BlankNode):
            inner = sorted(f"{t.predicate} {term(t.object)}" for t in below[node.value])
            return "[" + " ; ".join(inner) + "]"
        return str(node)

    return Counter(
        (term(t.subject), str(t.predicate), term(t.object))
        for t in triples
        if not isinstance(t.subject, ox.BlankNode)
    )


def test_turtle_and_ntriples_are_the_same_graph(tmp_path: Path, triples: list[ox.Triple]) -> None:
    ttl = tmp_path / "records.ttl"
    gen.generate(N, ttl, seed=1)
    assert "@base" not in ttl.read_text(encoding="utf-8")
    parsed = list(ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE, base_iri=B))
    assert len(parsed) == len(triples)
    assert canonical(parsed) == canonical(triples)


def test_normalised_stand_in_has_one_graph_per_entity(tmp_path: Path) -> None:
    path = tmp_path / "records.nq"
    stats = gen.generate(N, path, seed=1)
    quads = list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == stats.triples
    assert len(set(quads)) == len(quads), "no duplicate quads"
    graphs = Counter(text(q.graph_name) for q in quads)
    assert set(graphs) == {f"{B}data/Q{gen.FIRST_ID + i}" for i in range(N)}
    statement_types = {
        q.subject.value
        for q in quads
        if q.predicate.value == RDF_TYPE and q.object.value == "http://wikiba.se/ontology#Statement"
    }
    linked = {q.object.value for q in quads if q.predicate.value.startswith(P + "P")}
    assert statement_types == linked
    assert all(not isinstance(q.subject, ox.BlankNode) for q in quads)


def test_raw_size_per_record_matches_the_budget(tmp_path: Path) -> None:
    stats = gen.generate(2000, tmp_path / "budget.nt", seed=3)
    assert 12 <= stats.triples / stats.records <= 17


def _ontology() -> list[ox.Triple]:
    triples: list[ox.Triple] = []
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        triples.extend(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=B))
    return triples


TYPES_BY_VALUE = {"item": {"WikibaseItem"}, "url": {"Url"}, "string": {"ExternalId", "String"}}


def test_generator_matches_the_ontology(triples: list[ox.Triple]) -> None:
    """Properties exist with a fitting type; ontology items referenced are defined."""
    ontology = _ontology()
    types = {
        text(t.subject).removeprefix(WD): text(t.object).rsplit("#", 1)[1]
        for t in ontology
        if t.predicate.value == "http://wikiba.se/ontology#propertyType"
    }
    if not types:
        pytest.skip("ontology/ declares no properties yet")
    used: dict[str, set[str]] = defaultdict(set)
    for t in triples:
        m = re.fullmatch(
            re.escape(B) + r"prop/(?:direct/|statement/|qualifier/|reference/)?(P\d+)",
            t.predicate.value,
        )
        if not m or isinstance(t.object, ox.BlankNode):
            continue
        o = t.object
        if isinstance(o, ox.Literal):
            kind = "string" if o.datatype.value.endswith("#string") else "time"
        else:
            kind = "item" if text(o).startswith(WD) else "url"
        used[m.group(1)].add(kind)
    for pid, kinds in sorted(used.items()):
        assert pid in types, f"{pid} is not declared in ontology/"
        for kind in kinds:
            assert types[pid] in TYPES_BY_VALUE.get(kind, {"Time"}), (pid, kind, types[pid])
    labelled = {qnum(text(t.subject)) for t in ontology if t.predicate.value == LABEL}
    items = {q for q in labelled if q is not None}
    if not items:
        pytest.skip("ontology/ defines no items yet")
    missing = sorted(gen.ONTOLOGY_ITEMS - items)
    assert not missing, f"items the generator references but ontology/ lacks: {missing}"


def test_too_few_records_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        gen.generate(gen.MIN_RECORDS - 1, tmp_path / "x.nt")


def test_command_line_infers_format_from_suffix(tmp_path: Path) -> None:
    out = tmp_path / "cli.ttl"
    assert gen.main(["--records", "50", "--out", str(out), "--seed", "4"]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("@prefix wd: <entity/> .")
    assert len(list(ox.parse(text, format=ox.RdfFormat.TURTLE, base_iri=B))) > 50 * 5


def test_harness_helpers() -> None:
    assert harness.parse_sizes("10k, 100000,1m") == [10_000, 100_000, 1_000_000]
    assert [harness.size_label(n) for n in (10_000, 2_000_000, 1234)] == ["10k", "2m", "1234"]


@pytest.mark.slow
def test_harness_reference_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--records", "200", "--repeat", "1", "--queries", "20", "--no-bigtent"]
    assert harness.main([*args, "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "| 200 | raw bulk_load |" in table
    assert (tmp_path / "results.json").exists()
    assert not (tmp_path / "work" / "200").exists()
