"""Staff edit benchmark: opening a record for editing and saving it, on a large catalogue.

``python -m bench.edit [--records 10000] [--saves 200] [--keep]``

Builds (or, with ``--keep``, reuses) a catalogue of generated records (bench/generate.py),
then, in this process, through :class:`loader.editing.editor.Editor` exactly as the edit API does:

* **open**: ``record_json`` of a generated partnership (what an edit form starts from);
* **save**: ``read_json`` + ``save`` of that record with a changed label, a new description
  and one more activity-type statement (parse, normalise, validate, revision row, graph
  swap), one save per partnership, ``--saves`` of them;
* **merged save**: a save based on an older revision that another save changed since, so
  the three-way merge runs too (``--saves // 4`` of them);
* **form open** / **form save**: the staff HTML edit form, through the web app in-process
  (Flask test client, a logged-in staff session): ``GET /edit/<id>`` rendered, then the
  form as a browser submits it, with a changed label, ``POST /edit/<id>`` (``--saves`` of
  each), with the share of form-save time spent validating.

The first save builds the validation context (kept current afterwards); it is timed and
reported apart. Reported: median and p99 per operation, and the share of save time spent in
validation (the compiled shapes plus the editor's own checks) and in normalisation.
Writes bench/out/edit-results.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import generate as gen
from bench.run import DEFAULT_OUT, cached_input, machine, size_label
from loader.base.settings import load_settings
from loader.catalogue import Catalogue
from loader.editing import editor as editing

Result = dict[str, Any]


class Timer:
    """Accumulates the time spent in wrapped functions."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def percentiles(samples: Sequence[float]) -> Result:
    """Median, p99 and max in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def build(records: int, data_dir: Path, base: str, keep: bool) -> tuple[Result, float]:
    """The catalogue with the generated records; returns (input metadata, load seconds)."""
    meta = cached_input(records, "nt", 1, base, DEFAULT_OUT)
    path = DEFAULT_OUT / f"records-{size_label(records)}.nt"
    if keep and (data_dir / "revisions.sqlite3").exists():
        return meta, 0.0
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = load_settings(overrides={"DATA_DIR": str(data_dir), "BASE_URL": base})
    with Catalogue.open(settings) as cat:
        cat.install_ontology()
        start = time.perf_counter()
        report = cat.load_paths([path])
        seconds = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"the generated records did not load: {report.as_dict()}")
    print(f"loaded {records} records in {seconds:.1f} s", file=sys.stderr)
    return meta, seconds


def _edited(data: dict[str, Any], n: int) -> dict[str, Any]:
    data = copy.deepcopy(data)
    data["labels"]["en"] = f"{data['labels'].get('en', 'Partnership')} (edited {n})"
    data["descriptions"]["fr"] = f"partenariat modifié pour le banc d'essai n° {n}"
    used = {s["value"] for s in data["statements"] if s["property"] == "P7"}
    extra = next((f"Q{q}" for q in gen.ACTIVITY_TYPES if f"Q{q}" not in used), None)
    if extra is not None:
        data["statements"].append({"property": "P7", "value": extra})
    return data


def measure(cat: Catalogue, saves: int) -> Result:
    """Open and save generated partnerships; returns the timings."""
    editor = cat.editor
    rows = cat.select("SELECT ?e WHERE { GRAPH ?g { ?e wdt:P1 wd:Q4 } }")
    ids = sorted(
        eid
        for row in rows
        if (eid := cat.ns.entity_id(row["e"].value)) and int(eid[1:]) >= gen.FIRST_ID
    )
    if len(ids) < saves + saves // 4 + 1:
        raise SystemExit(f"only {len(ids)} generated partnerships; use more --records")
    shapes, checks, normal = Timer(), Timer(), Timer()
    cat.shapes.validate = shapes.wrap(cat.shapes.validate)  # type: ignore[method-assign]
    editor._editor_checks = checks.wrap(editor._editor_checks)  # type: ignore[method-assign]
    editing.normalise = normal.wrap(editing.normalise)  # type: ignore[attr-defined]

    def open_record(eid: str) -> tuple[dict[str, Any], int]:
        data = editor.record_json(eid)
        data.pop("modified")
        return data, int(data.pop("revision"))

    def save(eid: str, data: dict[str, Any], base: int) -> editing.SaveResult:
        submission = editor.read_json(data, eid)
        return editor.save(eid, submission, base, author="bench", summary="benchmark edit")

    # Warm-up: the first save builds the validation context.
    start = time.perf_counter()
    data, base = open_record(ids[0])
    save(ids[0], _edited(data, 0), base)
    first = time.perf_counter() - start
    opens, save_times = [], []
    shapes.seconds = checks.seconds = normal.seconds = 0.0
    for n, eid in enumerate(ids[1 : saves + 1], 1):
        start = time.perf_counter()
        data, base = open_record(eid)
        opens.append(time.perf_counter() - start)
        edited = _edited(data, n)
        start = time.perf_counter()
        result = save(eid, edited, base)
        save_times.append(time.perf_counter() - start)
        assert result.revision is not None and result.merged_with is None
    share = {
        "validation_shapes": shapes.seconds / sum(save_times),
        "validation_editor_checks": checks.seconds / sum(save_times),
        "normalise": normal.seconds / sum(save_times),
    }
    merged_times = []
    for n, eid in enumerate(ids[saves + 1 : saves + 1 + saves // 4], 1):
        data, base = open_record(eid)
        theirs = copy.deepcopy(data)
        theirs["aliases"] = {"en": [f"alias {n}"]}
        save(eid, theirs, base)
        start = time.perf_counter()
        result = save(eid, _edited(data, n), base)  # on the older base: merged
        merged_times.append(time.perf_counter() - start)
        assert result.merged_with is not None
    return {
        "first_save_with_context_s": round(first, 3),
        "open": percentiles(opens),
        "save": percentiles(save_times),
        "merged_save": percentiles(merged_times),
        "share_of_save_time": {k: round(v, 3) for k, v in share.items()},
    }


def measure_forms(settings: Any, ids: Sequence[str]) -> Result:
    """Open and save the HTML edit form of each of ``ids`` through the web app."""
    import re

    from tests.form_support import form_fields
    from webapp import create_app

    app = create_app(settings)
    cat: Catalogue = app.extensions["bigtent"]
    try:
        password = "bench password for the edit forms"  # a throwaway account
        if cat.accounts.get_user("bench-forms") is None:
            cat.accounts.add_user("bench-forms", "editor", password)
        client = app.test_client()
        token = client.get("/api/session").get_json()["csrf_token"]
        client.post(
            "/login",
            json={"name": "bench-forms", "password": password},
            headers={"X-CSRF-Token": token},
        )
        validating = Timer()
        cat.shapes.validate = validating.wrap(cat.shapes.validate)  # type: ignore[method-assign]
        editor = cat.editor
        editor._editor_checks = validating.wrap(editor._editor_checks)  # type: ignore[method-assign]
        client.get(f"/edit/{ids[0]}")  # warm-up: form models, validation context
        opens, saves = [], []
        validating.seconds = 0.0
        for n, eid in enumerate(ids[1:], 1):
            start = time.perf_counter()
            page = client.get(f"/edit/{eid}")
            opens.append(time.perf_counter() - start)
            assert page.status_code == 200, page.status_code
            fields = form_fields(page.get_data(as_text=True))
            label = next(
                k for k, v in fields.items() if re.fullmatch(r"term-\d+-lang", k) and v == "en"
            )
            fields[label.replace("-lang", "-label")] = f"form edit {n}"
            fields["action"] = "save"
            start = time.perf_counter()
            response = client.post(f"/edit/{eid}", data=fields)
            saves.append(time.perf_counter() - start)
            assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return {
            "form_open": percentiles(opens),
            "form_save": percentiles(saves),
            "form_save_share_validating": round(validating.seconds / sum(saves), 3),
        }
    finally:
        cat.close()


def markdown(records: int, result: Result) -> str:
    """The table printed at the end."""
    share = result["share_of_save_time"]
    validation = share["validation_shapes"] + share["validation_editor_checks"]
    lines = [
        f"Catalogue: {records:,} generated records (+ ontology); "
        f"first save (builds the validation context): {result['first_save_with_context_s']} s",
        "",
        "| operation | n | median ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for name in ("open", "save", "merged_save", "form_open", "form_save"):
        if name not in result:
            continue
        row = result[name]
        lines.append(
            f"| {name.replace('_', ' ')} | {row['n']} | {row['median_ms']} | {row['p99_ms']} "
            f"| {row['max_ms']} |"
        )
    lines += [
        "",
        f"Share of save time: validation {validation:.0%} (shapes {share['validation_shapes']:.0%}"
        f", editor checks {share['validation_editor_checks']:.0%}), normalisation "
        f"{share['normalise']:.0%}; the rest is parsing, the revision row and the graph swap.",
    ]
    if "form_save_share_validating" in result:
        lines.append(
            f"Share of form-save time validating: {result['form_save_share_validating']:.0%} "
            "(the rest: reading the form, the save itself, the redirect)."
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.edit", description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--base", default=gen.DEFAULT_BASE)
    parser.add_argument("--keep", action="store_true", help="reuse/keep the catalogue")
    args = parser.parse_args(argv)
    DEFAULT_OUT.mkdir(parents=True, exist_ok=True)
    data_dir = DEFAULT_OUT / "work" / f"edit-{size_label(args.records)}"
    meta, load_seconds = build(args.records, data_dir, args.base, args.keep)
    settings = load_settings(overrides={"DATA_DIR": str(data_dir), "BASE_URL": args.base})
    try:
        with Catalogue.open(settings) as cat:
            result = measure(cat, args.saves)
            entities = cat.revisions.entity_count()
            rows = cat.select("SELECT ?e WHERE { GRAPH ?g { ?e wdt:P1 wd:Q4 } }")
            form_ids = sorted(
                eid
                for row in rows
                if (eid := cat.ns.entity_id(row["e"].value)) and int(eid[1:]) >= gen.FIRST_ID
            )[: args.saves + 1]
        app_settings = load_settings(
            overrides={"DATA_DIR": str(data_dir), "BASE_URL": args.base, "DUMP_INTERVAL": 0}
        )
        result.update(measure_forms(app_settings, form_ids))
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    result.update(records=args.records, entities=entities, load_seconds=round(load_seconds, 1))
    out = {"machine": machine(), "input": meta, "result": result}
    (DEFAULT_OUT / "edit-results.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(markdown(args.records, result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
