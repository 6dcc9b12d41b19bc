"""``bigtent dump --nquads``: the store's graphs, named as in the store, for an engine's
bulk loader. An engine filled from that file alone matches the revision log
(``bigtent verify`` is clean): a fresh embedded Oxigraph store, and Virtuoso through its
bulk loader (``ld_dir`` + ``rdf_loader_run()``)."""

from __future__ import annotations

import gzip
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from live_server import bigtent
from virtuoso import Virtuoso

from loader.base.settings import Settings
from loader.catalogue import Catalogue
from loader.publish.dumps import NQUADS
from tests import conftest
from tests.conftest import BASE


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIGTENT_")}
    env.update(
        BIGTENT_DATA_DIR=str(data),
        BIGTENT_BASE_URL=BASE,
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        **extra,
    )
    return env


def _nquads(demo_template: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(a copy of the demo's DATA_DIR, the N-Quads file ``bigtent dump --nquads`` wrote)."""
    data = tmp_path / "data"
    shutil.copytree(demo_template, data)
    out = tmp_path / "nquads"
    bigtent("dump", "--nquads", "--out", str(out), env=_env(data), timeout=120)
    return data, out / NQUADS


def test_nquads_fill_a_fresh_oxigraph_store_that_verify_finds_equal_to_the_log(
    demo_template: Path, tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    data, path = _nquads(demo_template, tmp_path)
    with gzip.open(path, "rb") as fh:
        quads = list(ox.parse(fh, ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name for q in quads}
    assert ox.NamedNode(BASE + "data/Q1055") in graphs  # one graph per entity
    assert all(isinstance(g, ox.NamedNode) and g.value.startswith(BASE) for g in graphs)
    shutil.rmtree(data / "store")
    fresh = ox.Store(str(data / "store"))
    with gzip.open(path, "rb") as fh:
        fresh.bulk_load(fh, ox.RdfFormat.N_QUADS)
    fresh.flush()
    del fresh
    with Catalogue.open(make_settings(DATA_DIR=str(data))) as cat:
        assert ox.NamedNode(BASE + "ontology") in set(cat.store.graph_names())
        drift = cat.verify()
        assert drift.clean, drift.lines()
        assert drift.checked == len(graphs)


def test_nquads_bulk_loaded_into_virtuoso_match_the_log(
    demo_template: Path, tmp_path: Path, virtuoso: Virtuoso, make_settings: Callable[..., Settings]
) -> None:
    """The runbook's first load of a big catalogue: ``bigtent dump --nquads``, then
    Virtuoso's own bulk loader in ``isql``, then ``bigtent verify``."""
    data, path = _nquads(demo_template, tmp_path)
    # DirsAllowed of the test Virtuoso lists its own directory: put the file there.
    folder = virtuoso.directory / f"bulk-{secrets.token_hex(4)}"
    folder.mkdir()
    shutil.copy(path, folder / NQUADS)
    settings = make_settings(DATA_DIR=str(data), **virtuoso.settings())
    conftest._SharedStore.key = None  # the shared store is rewritten here
    with Catalogue.open(settings) as cat:
        cat.store.clear()
        assert not cat.verify().clean
        virtuoso.script(  # the runbook's command
            "sql", f"ld_dir('{folder}', '*.nq.gz', '{BASE}');", "rdf_loader_run();", "checkpoint;"
        )
        errors = virtuoso.isql(
            f"SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST WHERE ll_file LIKE '{folder}%' "
            "AND ll_error IS NOT NULL;"
        )
        assert "0 Rows" in errors, errors
        drift = cat.verify()
        assert drift.clean, drift.lines()
