"""The architecture, enforced: a module imports only from its own folder or from layers
below it (README "Architecture"). Every import counts: module-level, inside functions and
under ``if TYPE_CHECKING:``. A failure names the file, the line and the rule it breaks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from layers import LAYERS, layer_of

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("loader", "webapp")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement in ``path``, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # "from loader.query import service" imports the module loader.query.service
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def violations(path: Path, module: str | None = None) -> list[str]:
    """Every import in ``path`` (the module ``module``, by default the one at that path)
    that reaches sideways or upwards, as "file:line: why"."""
    module = module or _module_name(path)
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    mine = layer_of(module)
    problems = []
    for line, target in imports(path, module):
        if not target.startswith(PACKAGES):
            if target.split(".")[0] == "flask" and module.startswith("loader"):
                problems.append(f"{where}:{line}: loader/ never imports Flask")
            continue
        theirs = layer_of(target)
        if theirs is None or theirs == mine:
            continue
        if mine is None or theirs.rank >= mine.rank:
            problems.append(
                f"{where}:{line}: {module} ({mine and mine.folder}) "
                f"imports {target} ({theirs.folder}), which is not below it"
            )
    return problems


SOURCES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_its_folder_or_layers_below(path: Path) -> None:
    assert violations(path) == []


def test_every_module_belongs_to_a_layer() -> None:
    homeless = [str(p.relative_to(ROOT)) for p in SOURCES if layer_of(_module_name(p)) is None]
    assert homeless == []


def test_every_layer_is_a_package_with_a_docstring_that_says_what_it_may_import() -> None:
    for layer in LAYERS:
        init = ROOT / layer.folder.replace(".", "/")
        init = init / "__init__.py" if init.is_dir() else init.with_suffix(".py")
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert len(doc) > 80, f"{init.relative_to(ROOT)} needs a docstring saying what lives there"
        if init.name == "__init__.py":
            assert "May import" in doc, f"{init.relative_to(ROOT)}: say what it may import"


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The rule bites: a storage module importing the editing layer is named, with its line,
    and so is one hidden under TYPE_CHECKING or inside a function."""
    bad = tmp_path / "probe.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from loader.editing.editor import Editor\n"
        "def f():\n"
        "    from loader import catalogue\n",
        encoding="utf-8",
    )
    found = violations(bad, "loader.storage.probe")
    assert len(found) == 2
    assert found[0].startswith("probe.py:3: ")
    assert "loader.editing.editor.Editor (loader.editing)" in found[0]
    assert found[1].startswith("probe.py:5: ")


def test_the_check_allows_the_same_folder_and_layers_below(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from loader.query import results\nfrom loader.base.errors import BigtentError\n"
        "from loader.storage import oxigraph_store\nfrom . import policy\n",
        encoding="utf-8",
    )
    assert violations(probe, "loader.query.probe") == []
    sideways = tmp_path / "sideways.py"
    sideways.write_text("from webapp.staff import history\n", encoding="utf-8")
    assert len(violations(sideways, "webapp.public.probe")) == 1


#: The one web module that may use pyoxigraph: it serialises triples for responses.
SERIALISER = ROOT / "webapp" / "http" / "rdf_response.py"


def test_views_never_touch_store_libraries() -> None:
    """Only services in ``loader`` use the store and query libraries; the web app calls
    them (``rdf_response.py`` may use pyoxigraph's serialisers, nothing else)."""
    found = []
    for path in SOURCES:
        if not path.is_relative_to(ROOT / "webapp"):
            continue
        for line, target in imports(path, _module_name(path)):
            library = target.split(".")[0]
            if library in ("rdflib", "SPARQLWrapper", "psycopg", "sqlite3") or (
                library == "pyoxigraph" and path != SERIALISER
            ):
                found.append(f"{path.relative_to(ROOT)}:{line}: {target}")
    assert found == []
