"""One Portuguese: Brazilian (CLDR's ``pt``), in the interface and in the ontology.

The interface's Portuguese catalogue and the ontology's ``@pt`` labels and descriptions
must not use words only European Portuguese uses ("ficheiro", "utilizador", "registo",
"noutro", "partilhar" …): readers get one variant, not a mix (README, "Translating the
interface").
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from babel.messages.pofile import read_po

from webapp.http.i18n import TRANSLATIONS

ROOT = Path(__file__).resolve().parent.parent
#: European-Portuguese-only words (the Brazilian word in the comment).
EUROPEAN_ONLY = (
    "ficheiro",
    "ficheiros",  # arquivo
    "utilizador",
    "utilizadores",  # usuário
    "registo",
    "registos",
    "registado",
    "registada",
    "registados",
    "registadas",  # registro
    "registar",  # registrar
    "ecrã",
    "ecrãs",  # tela
    "equipa",
    "equipas",  # equipe
    "noutro",
    "noutra",
    "noutros",
    "noutras",  # em outro
    "contacto",
    "contactos",
    "contactar",  # contato
    "facto",
    "factos",  # fato
    "acção",
    "acções",
    "actual",
    "actualizar",
    "actividade",
    "activo",
    "activa",  # ação …
    "direcção",
    "objecto",
    "projecto",
    "selecção",
    "seleccionar",
    "óptimo",
    "partilha",
    "partilhar",
    "partilhado",
    "partilhada",
    "partilhados",
    "partilhadas",
    "planear",
    "planeamento",  # planejar
    "gerir",  # gerenciar
    "multimédia",  # multimídia
    "pseudónimo",
    "pseudónimos",
    "autónomo",
    "autónoma",
    "económico",
    "académico",
    "telemóvel",
    "palavra-passe",
    "descarregar",
    "descarregue",
    "guardado",
    "guardada",
    "triplos",  # triplas
)
_WORDS = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, EUROPEAN_ONLY)) + r")(?![\w-])", re.I)
#: Words of the catalogue that are placeholders or markup, not Portuguese.
_NOT_TEXT = re.compile(r"%\(\w+\)[sd]|<[^>]+>")


def european_words(text: str) -> list[str]:
    """The European-Portuguese-only words in ``text`` (placeholders and tags ignored)."""
    return [m.group(0) for m in _WORDS.finditer(_NOT_TEXT.sub(" ", text))]


def test_the_check_catches_european_portuguese() -> None:
    assert european_words("Registos do ficheiro, noutro vocabulário") == [
        "Registos",
        "ficheiro",
        "noutro",
    ]
    assert european_words("Registros do arquivo, em outro vocabulário; %(num)s contas") == []


def test_the_interface_catalogue_is_brazilian() -> None:
    with (TRANSLATIONS / "pt" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    found = []
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if text and european_words(text):
                found.append(f"{message.id!r}: {text!r} ({', '.join(european_words(text))})")
    assert found == [], "European Portuguese in the pt catalogue:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "ontology").glob("*.ttl")) + sorted((ROOT / "shapes").glob("*.ttl")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_the_ontology_and_shapes_speak_brazilian(path: Path) -> None:
    found = []
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri="http://x.test/"):
        term = quad.object
        if isinstance(term, ox.Literal) and (term.language or "").lower().startswith("pt"):
            words = european_words(term.value)
            if words:
                found.append(f"{quad.subject} {term.value!r} ({', '.join(words)})")
    assert found == [], f"European Portuguese in {path.name}:\n" + "\n".join(found)
