"""Every parser of untrusted input is bounded (issue 12, findings 1 and 9): `bigtent load`
and /import refuse RDF/XML with a DTD before it can expand, cap literals while parsing,
nesting depth before the parsers see it, the decompressed size of gzipped inputs, and a
record's triples while it is grouped; an upload that cannot be read is deleted."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from staff_support import catalogue, login, staff_app, state

from loader.base.errors import SourceError
from loader.base.namespaces import Namespaces
from loader.base.settings import Settings, load_settings
from loader.catalogue import Catalogue
from loader.ingest.inputs import InputLimits, Source
from loader.ingest.reader import Grouper, OversizedRecord, parse
from tests.conftest import BASE
from webapp.cli import main

WD = BASE + "entity/"
BIGTENT = [sys.executable, "-m", "webapp.cli"]
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
ALIAS = "http://www.w3.org/2004/02/skos/core#altLabel"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
GOOD = f'<{WD}Q5001> <{LABEL}> "Fine"@en .\n<{WD}Q5001> <{BASE}prop/direct/P1> <{WD}Q1> .\n'


def bomb(levels: int, doctype: str = "DOCTYPE", entity: str = "ENTITY") -> str:
    """A "billion laughs" RDF/XML file: ``levels`` nested entities of ten each, so the
    label expands to 3 × 10**levels bytes (a real bomb at 9: 3 GB from 1 KB)."""
    entities = [f'<!{entity} lol0 "lol">'] + [
        f'<!{entity} lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)
    ]
    return (
        f'<?xml version="1.0"?>\n<!{doctype} rdf:RDF [\n'
        + "\n".join(entities)
        + f'\n]>\n<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
        f'<rdf:Description rdf:about="{WD}Q5000"><rdfs:label xml:lang="en">&lol{levels};'
        "</rdfs:label></rdf:Description></rdf:RDF>\n"
    )


@pytest.fixture
def data_dir(ontology_template: Path, tmp_path: Path) -> Path:
    """A data directory holding the ontology (embedded store), for the command line."""
    target = tmp_path / "data"
    shutil.copytree(ontology_template, target)
    return target


def _options(data_dir: Path) -> list[str]:
    return ["--data-dir", str(data_dir), "--base-url", BASE, "load"]


def _load(data_dir: Path, *paths: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """`bigtent load` in a child process: exit code and stderr."""
    result = subprocess.run(
        [*BIGTENT, *_options(data_dir), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "BIGTENT_LOAD_WORKERS": "1", **(env or {})},
    )
    return result.returncode, result.stderr


def _revisions(data_dir: Path) -> int:
    settings = load_settings(env={}, overrides={"DATA_DIR": str(data_dir), "BASE_URL": BASE})
    with Catalogue.open(settings) as cat:
        return cat.revisions.count()


# --- finding 1: entity expansion ---------------------------------------------------------


def test_billion_laughs_is_refused_by_bigtent_load_before_it_expands(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "laughs.rdf"
    path.write_text(bomb(9), encoding="utf-8")
    assert path.stat().st_size < 1200
    before = _revisions(data_dir)
    # Bounded: 3 GiB of address space and a minute. Expanding the bomb needs more than
    # that (the code before this fix aborted here), refusing it needs almost nothing.
    limit = 3 << 30
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
            "from webapp.cli import main\n"
            "sys.exit(main(sys.argv[1:]))",
            "--data-dir",
            str(data_dir),
            "--base-url",
            BASE,
            "load",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "BIGTENT_LOAD_WORKERS": "1"},
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "DTD" in result.stderr and "<!DOCTYPE" in result.stderr
    assert "line 2" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr) < 2000  # no 30 MB error report of the expanded text
    assert _revisions(data_dir) == before


@pytest.mark.parametrize(
    ("doctype", "entity"), [("DOCTYPE", "ENTITY"), ("doctype", "ENTITY"), ("DocType", "entity")]
)
def test_a_dtd_is_refused_in_any_case(
    tmp_path: Path, doctype: str, entity: str, make_settings: Callable[..., Settings]
) -> None:
    # The RDF/XML parser takes a lower-case <!doctype> and expands its entities.
    path = tmp_path / "small-bomb.rdf"
    path.write_text(bomb(3, doctype, entity), encoding="utf-8")
    source = Source(path.name, path, ox.RdfFormat.RDF_XML, False)
    limits = InputLimits.from_settings(make_settings())
    with pytest.raises(SourceError, match="DTD"):
        list(parse(source, BASE, limits))


def test_rdfxml_without_a_dtd_still_loads(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fine.rdf"
    graph = [q.triple for q in ox.parse(GOOD.encode(), ox.RdfFormat.N_TRIPLES)]
    path.write_bytes(ox.serialize(graph, format=ox.RdfFormat.RDF_XML))
    assert main(["--data-dir", str(data_dir), "--base-url", BASE, "load", str(path)]) == 0
    assert "1 new" in capsys.readouterr().out


def test_an_uploaded_bomb_is_refused_and_deleted(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app, {"bob": "editor"})
    client = app.test_client()
    token = login(client, "bob")
    before = state(catalogue(app))
    response = client.post(
        "/import",
        data={"file": (io.BytesIO(bomb(5).encode()), "laughs.rdf"), "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert "DOCTYPE" in response.get_json()["error"]
    imports = catalogue(app).settings.data_dir / "imports"
    assert not imports.exists() or list(imports.iterdir()) == []
    assert state(catalogue(app)) == before


# --- nesting --------------------------------------------------------------------------------


def _nested_rdfxml(depth: int) -> str:
    opening = "<x:p><rdf:Description>" * depth
    closing = "</rdf:Description></x:p>" * depth
    return (
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:x="{BASE}x/">'
        f'<rdf:Description rdf:about="{WD}Q5000">{opening}{closing}</rdf:Description></rdf:RDF>'
    )


def _nested_jsonld(depth: int) -> str:
    inner = '{"@id": "' + WD + 'Q5000"}'
    for _ in range(depth):
        inner = '{"' + BASE + 'x/p": ' + inner + "}"
    return '{"@id": "' + WD + 'Q5000", "' + BASE + 'x/p": [' + inner + "]}"


@pytest.mark.parametrize(
    ("name", "fmt", "text"),
    [
        ("deep.rdf", ox.RdfFormat.RDF_XML, _nested_rdfxml(3000)),
        ("deep.jsonld", ox.RdfFormat.JSON_LD, _nested_jsonld(3000)),
    ],
)
def test_deep_nesting_is_refused_before_the_parser(
    tmp_path: Path, make_settings: Callable[..., Settings], name: str, fmt: ox.RdfFormat, text: str
) -> None:
    # 3 000 levels cost the RDF/XML parser seconds (cubic), the JSON-LD one gigabytes
    # and then a stack overflow: refused at MAX_NESTING_DEPTH instead.
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    limits = InputLimits.from_settings(make_settings(MAX_NESTING_DEPTH=64))
    with pytest.raises(SourceError, match=r"MAX_NESTING_DEPTH \(64\)"):
        list(parse(Source(name, path, fmt, False), BASE, limits))
    shallow = tmp_path / ("shallow." + name.split(".")[1])
    shallow.write_text(_nested_rdfxml(5) if fmt == ox.RdfFormat.RDF_XML else _nested_jsonld(5))
    assert list(parse(Source(shallow.name, shallow, fmt, False), BASE, limits))


# --- literals --------------------------------------------------------------------------------


def _long_literal(fmt: str, size: int) -> str:
    text = "x" * size
    if fmt == "nt":
        return f'<{WD}Q5000> <{LABEL}> "{text}"@en .\n'
    if fmt == "ttl":
        return f'<{WD}Q5000> <{LABEL}> """{text}"""@en .\n'
    if fmt == "jsonld":
        return json.dumps({"@id": WD + "Q5000", LABEL: {"@value": text, "@language": "en"}})
    if fmt == "rdf-text":
        return (
            f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
            f'<rdf:Description rdf:about="{WD}Q5000"><rdfs:label>{text}</rdfs:label>'
            "</rdf:Description></rdf:RDF>"
        )
    return (  # a property attribute
        f'<rdf:RDF xmlns:rdf="{RDF_NS}" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">'
        f'<rdf:Description rdf:about="{WD}Q5000" rdfs:label="{text}"/></rdf:RDF>'
    )


@pytest.mark.parametrize("fmt", ["nt", "ttl", "jsonld", "rdf-text", "rdf-attribute"])
def test_a_literal_over_max_literal_bytes_rejects_the_file(
    data_dir: Path, tmp_path: Path, fmt: str
) -> None:
    extension = fmt.split("-")[0]
    path = tmp_path / f"long.{extension}"
    path.write_text(_long_literal(fmt, 5000), encoding="utf-8")
    code, err = _load(data_dir, path, env={"BIGTENT_MAX_LITERAL_BYTES": "4000"})
    assert code == 1
    assert "MAX_LITERAL_BYTES (4,000 bytes)" in err
    fine = tmp_path / f"short.{extension}"
    fine.write_text(_long_literal(fmt, 200), encoding="utf-8")
    code, err = _load(data_dir, fine, env={"BIGTENT_MAX_LITERAL_BYTES": "4000"})
    assert "MAX_LITERAL_BYTES" not in err


def test_a_17_mib_literal_is_refused_without_a_traceback(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "huge-literal.ttl"
    path.write_text(_long_literal("ttl", 17 << 20), encoding="utf-8")
    code, err = _load(data_dir, path)
    assert code == 1, err[-2000:]
    assert "Traceback" not in err and "MemoryError" not in err
    assert "MAX_LITERAL_BYTES" in err


def test_a_line_is_refused_before_it_is_read_whole(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    # N-Triples are read in blocks of lines; a 40 MB line is refused at the cap, not
    # read into memory first.
    path = tmp_path / "one-line.nt"
    with path.open("w", encoding="utf-8") as out:
        out.write(GOOD)
        out.write(f'<{WD}Q5000> <{LABEL}> "')
        for _ in range(40):
            out.write("x" * (1 << 20))
        out.write('"@en .\n')
    limits = InputLimits.from_settings(make_settings())
    with pytest.raises(SourceError, match=r"line 3: a literal is longer than MAX_LITERAL_BYTES"):
        list(parse(Source(path.name, path, ox.RdfFormat.N_TRIPLES, False), BASE, limits))


# --- gzip --------------------------------------------------------------------------------------


def test_gzip_output_is_capped(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "expands.nt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for n in range(20_000):  # 2.6 MB of N-Triples, about 60 KB compressed
            out.write(f'<{WD}Q{10_000 + n}> <{LABEL}> "Organisation {n}"@en .\n')
    assert path.stat().st_size < 200_000
    before = _revisions(data_dir)
    code, err = _load(data_dir, path, env={"BIGTENT_MAX_DECOMPRESSED_BYTES": "1000000"})
    assert code == 1
    assert "MAX_DECOMPRESSED_BYTES (1,000,000 bytes)" in err
    assert _revisions(data_dir) == before


# --- records: capped while grouping ----------------------------------------------------------


def _alias_triples(entity: str, count: int) -> Iterator[ox.Quad]:
    subject = ox.NamedNode(WD + entity)
    yield ox.Quad(subject, ox.NamedNode(LABEL), ox.Literal("Big", language="en"))
    for i in range(count):
        yield ox.Quad(subject, ox.NamedNode(ALIAS), ox.Literal(f"alias {i}", language="en"))


def test_the_record_cap_holds_while_grouping(tmp_path: Path) -> None:
    source = Source("big.nt", tmp_path / "big.nt", ox.RdfFormat.N_TRIPLES, True)
    grouper = Grouper(source, Namespaces(BASE), None, 1_000_000, max_record_triples=100)
    for quad in _alias_triples("Q5000", 5000):
        grouper.feed(quad, None)
        assert len(grouper.records["Q5000"]) <= 100  # never more kept than the cap
    [record] = list(grouper.finish())
    assert isinstance(record, OversizedRecord)
    assert record.count == 5001 and record.triples == []
    assert "MAX_RECORD_TRIPLES (100)" in record.problem_message(100)


def test_an_oversized_record_is_rejected_and_the_others_load(
    data_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.nt"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(f"{q} .\n" for q in _alias_triples("Q5000", 500))
        out.write(GOOD)
    code, err = _load(data_dir, path, env={"BIGTENT_MAX_RECORD_TRIPLES": "200"})
    assert code == 1
    assert "Q5000 rejected" in err and "501 triples as read" in err
    assert "MAX_RECORD_TRIPLES (200)" in err


def test_a_huge_record_is_rejected_in_bounded_memory(data_dir: Path, tmp_path: Path) -> None:
    # One record of 400 000 triples: the loader used to hold all of them (about 450 MB;
    # 2.9 GB for 3 million) before rejecting it; now it keeps MAX_RECORD_TRIPLES.
    path = tmp_path / "huge-record.ttl"
    with path.open("w", encoding="utf-8") as out:
        out.write(f'<{WD}Q5000> <{LABEL}> "Huge"@en ;\n <{ALIAS}> ')
        out.write(", ".join(f'"alias {i}"@en' for i in range(400_000)))
        out.write(" .\n")
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.stderr.write(r.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *BIGTENT, *_options(data_dir), "--dry-run", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "BIGTENT_LOAD_WORKERS": "1"},
    )
    code, peak_kb = map(int, result.stdout.split())
    assert code == 1, result.stderr[-2000:]
    assert "400,001 triples as read" in result.stderr
    assert peak_kb < 250 * 1024, f"peak RSS {peak_kb / 1024:.0f} MB"


def test_an_upload_over_the_caps_is_refused_and_deleted(make_app: Callable[..., Flask]) -> None:
    app = staff_app(make_app, {"bob": "editor"}, MAX_LITERAL_BYTES=1000)
    client: FlaskClient = app.test_client()
    token = login(client, "bob")
    response = client.post(
        "/import",
        data={
            "file": (io.BytesIO(_long_literal("nt", 2000).encode()), "long.nt"),
            "csrf_token": token,
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422
    assert "MAX_LITERAL_BYTES" in response.get_json()["error"]
    imports = catalogue(app).settings.data_dir / "imports"
    assert not imports.exists() or list(imports.iterdir()) == []
