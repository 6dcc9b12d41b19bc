"""SHACL shapes (shapes/*.ttl) against conforming and non-conforming example records.

Every named node shape and every SHACL-SPARQL constraint component has a directory
``tests/data/shapes/<local name>/`` with at least one ``valid-*.ttl`` and two ``invalid-*.ttl``
normalised records. An invalid file says in its header what is wrong and what the report must
contain: ``# expect: bts:SomeShape`` (a shape the result comes from, directly or through one of
its property shapes, or a constraint component) and/or ``# expect-message: some text``.

How a record is validated (pySHACL is the reference implementation):

* data graph = the record + ``context_graph()`` (ontology, materialised types, referenced
  entities), loaded into a pyoxigraph store, which pySHACL queries natively;
* only the record is validated, never its context: each shape is run on the record's nodes it
  targets (pySHACL ``use_shapes`` + ``focus_nodes``, which validates exactly those focus nodes).
  pySHACL's ``focus_nodes`` alone is not usable: it also filters the nodes that nested shapes
  (sh:not, sh:or, sh:node, qualified value shapes) look at, which makes them wrong.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from shapes_support import BASE, SHAPES_DIR, context_graph, parse_turtle, shapes_graph

SH = Namespace("http://www.w3.org/ns/shacl#")
BTS = Namespace("https://w3id.org/bigtent/shapes#")
EXAMPLES_DIR = Path(__file__).resolve().parent / "data" / "shapes"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*/*.ttl"))

# The constraint vocabulary the shapes may use: what the compiled validator implements.
CORE_TERMS = {
    "targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode",
    "property", "path", "sequence", "inversePath", "alternativePath", "zeroOrMorePath",
    "minCount", "maxCount", "datatype", "nodeKind", "class", "in", "hasValue", "pattern", "flags",
    "minExclusive", "minInclusive", "maxExclusive", "maxInclusive",
    "languageIn", "uniqueLang", "lessThan", "lessThanOrEquals", "minLength", "maxLength",
    "node", "not", "or", "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount",
    "closed", "ignoredProperties", "message", "severity", "name", "deactivated",
}  # fmt: skip
# Terms that declare SHACL-SPARQL constraint components (and their prefixes).
SPARQL_TERMS = {
    "parameter", "nodeValidator", "select", "prefixes", "declare", "prefix", "namespace",
}  # fmt: skip
SHAPE_CLASSES = {SH.NodeShape, SH.ConstraintComponent, SH.SPARQLSelectValidator}
SEVERITIES = {SH.Violation, SH.Warning}


@dataclass(frozen=True)
class Result:
    """One validation result, reduced to what the tests look at."""

    focus: str
    shapes: frozenset[str]  # the named shapes the source shape belongs to, and the component
    severity: str
    path: str
    message: str

    def __str__(self) -> str:
        shapes = ", ".join(sorted(self.shapes))
        return f"{self.severity} {self.focus} {self.path}: {self.message} [{shapes}]"


def curie(term: object) -> str:
    text = str(term)
    for prefix, namespace in (("bts:", str(BTS)), ("sh:", str(SH)), ("", BASE)):
        if text.startswith(namespace):
            return prefix + text[len(namespace) :]
    return text


class RecordValidator:
    """Validates one record (plus the context) against all shapes, as described above."""

    def __init__(self) -> None:
        self.shapes = shapes_graph()
        self.context = context_graph()
        self.context_nt = self.context.serialize(format="nt", encoding="utf-8")
        self.node_shapes = sorted(
            (s for s in self.shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)),
            key=str,
        )

    def targets(self, shape: URIRef, record: Graph) -> set[object]:
        """The record's nodes the shape targets (SHACL target semantics; the subclass
        hierarchy may come from the context)."""
        graphs = (self.context, record)

        def subjects(predicate: object, obj: object) -> set[object]:
            return {s for g in graphs for s in g.subjects(predicate, obj)}  # type: ignore[arg-type]

        found: set[object] = set()
        for cls in self.shapes.objects(shape, SH.targetClass):
            classes, todo = set(), [cls]
            while todo:
                current = todo.pop()
                if current not in classes:
                    classes.add(current)
                    todo.extend(subjects(RDFS.subClassOf, current))
            for current in classes:
                found |= set(record.subjects(RDF.type, current))
        for predicate in self.shapes.objects(shape, SH.targetSubjectsOf):
            found |= set(record.subjects(predicate, None))
        for predicate in self.shapes.objects(shape, SH.targetObjectsOf):
            found |= set(record.objects(None, predicate))
        found |= set(self.shapes.objects(shape, SH.targetNode))
        return found & set(record.subjects())

    def validate(self, record: Graph) -> list[Result]:
        groups: dict[frozenset[object], list[URIRef]] = defaultdict(list)
        for shape in self.node_shapes:
            focus = self.targets(shape, record)
            blank = [n for n in focus if not isinstance(n, URIRef)]
            assert not blank, f"normalised records give {curie(shape)}'s targets IRIs: {blank}"
            if focus:
                groups[frozenset(focus)].append(shape)
        store = ox.Store()
        store.bulk_load(self.context_nt, format=ox.RdfFormat.N_TRIPLES)
        store.bulk_load(
            record.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES
        )
        results: list[Result] = []
        for focus, shapes in groups.items():
            _, report, _ = pyshacl.validate(
                store,
                shacl_graph=self.shapes,
                advanced=True,
                inference="none",
                inplace=True,
                use_shapes=shapes,
                focus_nodes=sorted(focus, key=str),
            )
            results.extend(self.read_report(report))
        return results

    def read_report(self, report: Graph) -> list[Result]:
        results = []
        for node in report.objects(None, SH.result):
            source = report.value(node, SH.sourceShape)
            component = report.value(node, SH.sourceConstraintComponent)
            results.append(
                Result(
                    focus=curie(report.value(node, SH.focusNode)),
                    shapes=frozenset({*self.owners(source), curie(component)}),
                    severity=curie(report.value(node, SH.resultSeverity)),
                    path=curie(report.value(node, SH.resultPath) or ""),
                    message=" | ".join(str(m) for m in report.objects(node, SH.resultMessage)),
                )
            )
        return results

    def owners(self, shape: object) -> set[str]:
        """The named shapes a (possibly nested, blank) shape belongs to."""
        seen, todo, named = set(), [shape], set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            if isinstance(node, URIRef):
                named.add(curie(node))
            else:
                todo.extend(self.shapes.subjects(None, node))
        return named


@dataclass(frozen=True)
class Example:
    path: Path

    @property
    def valid(self) -> bool:
        return self.path.name.startswith("valid-")

    @cached_property
    def header(self) -> list[str]:
        lines = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            lines.append(line.lstrip("# ").rstrip())
        return lines

    def expected(self, key: str) -> list[str]:
        prefix = f"{key}:"
        return [line[len(prefix) :].strip() for line in self.header if line.startswith(prefix)]


@pytest.fixture(scope="session")
def validator() -> RecordValidator:
    return RecordValidator()


def example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_example(validator: RecordValidator, path: Path) -> None:
    example = Example(path)
    results = validator.validate(parse_turtle(path))
    report = "\n".join(str(r) for r in results)
    if example.valid:
        assert not results, f"{path.name} should conform, got:\n{report}"
        return
    description = [line for line in example.header if line and not line.startswith("expect")]
    assert description, f"{path.name}: say in the header comment what is wrong"
    shapes, messages = example.expected("expect"), example.expected("expect-message")
    assert shapes or messages, f"{path.name}: add '# expect: bts:...' or '# expect-message: ...'"
    assert results, f"{path.name} should not conform"
    for shape in shapes:
        assert any(shape in r.shapes for r in results), f"no result from {shape}:\n{report}"
    for message in messages:
        assert any(message in r.message for r in results), f"no message {message!r}:\n{report}"
    if example.path.parent.name.endswith(("Shape", "ConstraintComponent")):
        owner = f"bts:{example.path.parent.name}"
        assert any(owner in r.shapes for r in results), f"no result from {owner}:\n{report}"


def named_shapes_and_components(shapes: Graph) -> list[str]:
    nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
        shapes.subjects(RDF.type, SH.ConstraintComponent)
    )
    return sorted(curie(n) for n in nodes if isinstance(n, URIRef))


def test_every_shape_and_component_has_examples() -> None:
    missing = []
    for name in named_shapes_and_components(shapes_graph()):
        directory = EXAMPLES_DIR / name.removeprefix("bts:")
        valid = list(directory.glob("valid-*.ttl"))
        invalid = list(directory.glob("invalid-*.ttl"))
        if len(valid) < 1 or len(invalid) < 2:
            missing.append(f"{name}: {len(valid)} valid, {len(invalid)} invalid")
    assert not missing, "need >= 1 valid and >= 2 invalid examples:\n" + "\n".join(missing)


def test_example_directories_name_shapes() -> None:
    names = {n.removeprefix("bts:") for n in named_shapes_and_components(shapes_graph())}
    dirs = {p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir()}
    assert dirs <= names, f"example directories without a shape: {sorted(dirs - names)}"


def test_shapes_use_the_supported_vocabulary_only() -> None:
    shapes = shapes_graph()
    used = {str(p)[len(str(SH)) :] for p in shapes.predicates() if str(p).startswith(str(SH))}
    assert used <= CORE_TERMS | SPARQL_TERMS, (
        f"unsupported: {sorted(used - CORE_TERMS - SPARQL_TERMS)}"
    )
    classes = {o for o in shapes.objects(None, RDF.type) if str(o).startswith(str(SH))}
    assert classes <= SHAPE_CLASSES, f"unsupported: {sorted(classes - SHAPE_CLASSES)}"
    assert set(shapes.objects(None, SH.severity)) <= SEVERITIES


def test_every_constraint_has_a_message() -> None:
    shapes = shapes_graph()
    constraint_terms = CORE_TERMS - {
        "targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode", "property", "path",
        "message", "severity", "name", "deactivated", "flags", "ignoredProperties",
        "qualifiedValueShape",
    }  # fmt: skip
    # Shapes used inside sh:node / sh:not / sh:or / qualified shapes report through their
    # parent's message; component parameter declarations are not constraints.
    nested = set(shapes.objects(None, SH.parameter))
    todo = [
        o for p in (SH.node, SH["not"], SH.qualifiedValueShape) for o in shapes.objects(None, p)
    ]
    for members in shapes.objects(None, SH["or"]):
        todo.extend(Collection(shapes, members))
    while todo:
        shape = todo.pop()
        if shape not in nested:
            nested.add(shape)
            todo.extend(shapes.objects(shape, SH.property))
    silent = []
    for shape in set(shapes.subjects(SH.path, None)) | set(shapes.subjects(RDF.type, SH.NodeShape)):
        if shape in nested:
            continue
        has_constraint = any(
            str(p).startswith(str(SH)) and str(p)[len(str(SH)) :] in constraint_terms
            for p in shapes.predicates(shape)
        )
        if has_constraint and shapes.value(shape, SH.message) is None:
            silent.append(
                curie(shape) if isinstance(shape, URIRef) else shapes.value(shape, SH.path)
            )
    assert not silent, f"constraints without sh:message: {silent}"


def test_components_are_documented_and_base_independent() -> None:
    shapes = shapes_graph()
    text = (SHAPES_DIR / "wikibase.ttl").read_text(encoding="utf-8")
    for component in shapes.subjects(RDF.type, SH.ConstraintComponent):
        name = curie(component)
        assert re.search(rf"^# {re.escape(name)} \(", text, re.MULTILINE), f"{name}: no comment"
        for validator in shapes.objects(component, SH.nodeValidator):
            query = str(shapes.value(validator, SH.select))
            assert BASE not in query and "bigtent" not in query, f"{name}: instance IRI in SPARQL"
            assert shapes.value(validator, SH.message) is not None, f"{name}: no sh:message"
            for parameter in shapes.objects(component, SH.parameter):
                variable = "$" + str(shapes.value(parameter, SH.path)).split("#")[-1]
                # Projected, so that engines binding parameters by substitution accept it.
                assert variable in query.split("WHERE", 1)[0], f"{name}: {variable} not projected"


def test_shape_iris_are_in_the_shapes_namespace() -> None:
    for name in named_shapes_and_components(shapes_graph()):
        assert name.startswith("bts:"), name


def test_ontology_items_conform_to_the_value_shapes(validator: RecordValidator) -> None:
    """The ontology's own items (short form, with the loader's materialised types) satisfy the
    shapes that need no statement nodes: concepts, capacities and property values."""
    shapes = [BTS.ConceptShape, BTS.CapacityShape, BTS.ControlledValueShape, BTS.PropertyValueShape]
    context = validator.context
    results: list[Result] = []
    ontology_items = {s for s in context.subjects() if str(s).startswith(f"{BASE}entity/Q")}
    ontology_items = {s for s in ontology_items if int(str(s).rsplit("Q", 1)[1]) < 1000}
    for shape in shapes:
        focus = validator.targets(shape, context) & ontology_items
        assert focus, curie(shape)
        _, report, _ = pyshacl.validate(
            context,  # Core shapes only: rdflib is faster than the store for these
            shacl_graph=validator.shapes,
            advanced=True,
            inference="none",
            inplace=True,
            use_shapes=[shape],
            focus_nodes=sorted(focus, key=str),
        )
        results.extend(validator.read_report(report))
    assert not results, "\n".join(str(r) for r in results)
