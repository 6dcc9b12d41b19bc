"""The dataset description (DCAT 3 + VoID): what the catalogue is, under which licence,
who publishes it, how big it is, and every way to get it (dumps, SPARQL, change feed).

Counts (triples, entities per class) come from the dump manifest, so they describe
the very files a harvester downloads; the modification date comes from the revision
log and is always current. :func:`dataset_counts` is the one source of the catalogue's
triple and entity counts: this description, the SPARQL service description and the
dumps' manifest all say the same numbers.

Every vocabulary term used as a value is typed in the document itself (IANA media types
``dct:MediaType``, EU file types ``dct:MediaTypeOrExtent`` in their scheme, …): the
DCAT-AP 3.0.1 shapes check those classes with ``sh:class`` on the document alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.namespaces import RDF, RDFS, SCHEMA, SKOS, STANDARD_PREFIXES, WIKIBASE, XSD
from loader.base.rdf import BY_MEDIA_TYPE
from loader.publish.dumps import DUMPS, DumpFile, DumpKind, Manifest, read_manifest
from loader.publish.feed import COLLECTION_PATH, LDES, STREAM_PATH

if TYPE_CHECKING:
    from loader.storage.repository import Repository

DCAT = "http://www.w3.org/ns/dcat#"
DCT = "http://purl.org/dc/terms/"
VOID = "http://rdfs.org/ns/void#"
FOAF = "http://xmlns.com/foaf/0.1/"
SPDX = "http://spdx.org/rdf/terms#"
IANA = "https://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
DATASET_PREFIXES = {
    "dcat": DCAT,
    "dct": DCT,
    "void": VOID,
    "foaf": FOAF,
    "spdx": SPDX,
    "xsd": XSD,
    "rdf": RDF,
    "ldes": LDES,
    "wikibase": WIKIBASE,
    "bt": STANDARD_PREFIXES["bt"],
}
DATASET_PATH = "dataset"
DUMPS_PATH = "dumps/"
SPARQL_PATH = "sparql"
VOCABULARIES = (WIKIBASE, STANDARD_PREFIXES["bt"], RDFS, SKOS, SCHEMA, "http://www.w3.org/ns/prov#")
KEYWORDS = ("partnerships", "capacities", "skills", "organisations", "networks", "linked data")


@dataclass(frozen=True)
class Distribution:
    """A dump as a DCAT distribution."""

    kind: DumpKind
    file: DumpFile
    download_url: str


@dataclass(frozen=True)
class DatasetDescription:
    """Everything /dataset says, for RDF and HTML alike."""

    base: str
    title: str
    description: str
    license: str
    publisher: str
    publisher_iri: str
    issued: str | None  # first revision
    modified: str | None  # newest revision
    revision: int
    entities: int  # live entities now
    triples: int | None  # in the full dump
    classes: dict[str, int] = field(default_factory=dict)
    distributions: tuple[Distribution, ...] = ()
    dumps_revision: int | None = None
    dumps_generated: str | None = None
    example: str | None = None  # one entity IRI

    @property
    def iri(self) -> str:
        """The dataset."""
        return self.base + DATASET_PATH

    @property
    def catalog_iri(self) -> str:
        """The DCAT catalogue that lists the dataset and its services."""
        return self.iri + "#catalog"

    @property
    def uri_space(self) -> str:
        """Where entity IRIs live."""
        return self.base + "entity/"

    @property
    def sparql(self) -> str:
        """The SPARQL endpoint."""
        return self.base + SPARQL_PATH

    @property
    def changes(self) -> str:
        """The change feed (LDES)."""
        return self.base + STREAM_PATH

    @property
    def collection(self) -> str:
        """The change feed as an Activity Streams collection."""
        return self.base + COLLECTION_PATH

    def triples_rdf(self) -> list[ox.Triple]:
        """The description as RDF (DCAT 3, VoID)."""
        out: list[ox.Triple] = []

        def add(s: str | ox.BlankNode, p: str, o: ox.NamedNode | ox.Literal | ox.BlankNode) -> None:
            subject = ox.NamedNode(s) if isinstance(s, str) else s
            out.append(ox.Triple(subject, ox.NamedNode(p), o))

        iri, text, when, number = ox.NamedNode, _text, _time, _count
        # The class of every vocabulary term the description uses as a value: DCAT-AP's
        # sh:class constraints hold only when the document itself types the IRI.
        typed: dict[str, set[str]] = {}

        def term(value: str, cls: str) -> ox.NamedNode:
            typed.setdefault(value, set()).add(cls)
            return iri(value)

        ds = self.iri
        license_iri = iri(self.license)
        for cls in (DCAT + "Dataset", VOID + "Dataset"):
            add(ds, RDF + "type", iri(cls))
        add(ds, DCT + "title", text(self.title))
        add(ds, DCT + "description", text(self.description))
        add(ds, DCT + "license", license_iri)
        add(ds, DCT + "publisher", iri(self.publisher_iri))
        add(ds, DCT + "accrualPeriodicity", term(FREQUENCY + "CONT", DCT + "Frequency"))
        add(ds, DCAT + "landingPage", term(self.base, FOAF + "Document"))
        for keyword in KEYWORDS:
            add(ds, DCAT + "keyword", text(keyword))
        if self.issued:
            add(ds, DCT + "issued", when(self.issued))
        if self.modified:
            add(ds, DCT + "modified", when(self.modified))
        add(ds, VOID + "uriSpace", ox.Literal(self.uri_space))
        add(ds, VOID + "sparqlEndpoint", iri(self.sparql))
        add(ds, VOID + "entities", number(self.entities))
        if self.triples is not None:
            add(ds, VOID + "triples", number(self.triples))
        if self.example:
            add(ds, VOID + "exampleResource", iri(self.example))
        for vocabulary in VOCABULARIES:
            add(ds, VOID + "vocabulary", iri(vocabulary))
        # Fixed blank node labels: the same description gives the same bytes (and ETag).
        for index, (cls, count) in enumerate(sorted(self.classes.items())):
            partition = ox.BlankNode(f"class{index}")
            add(ds, VOID + "classPartition", partition)
            add(partition, VOID + "class", iri(cls))
            add(partition, VOID + "entities", number(count))

        add(license_iri.value, RDF + "type", iri(DCT + "LicenseDocument"))
        publisher = self.publisher_iri
        add(publisher, RDF + "type", iri(FOAF + "Agent"))
        add(publisher, FOAF + "name", text(self.publisher))

        for index, dist in enumerate(self.distributions):
            node = f"{ds}#{dist.kind.name}"
            add(ds, DCAT + "distribution", iri(node))
            add(ds, VOID + "dataDump", iri(dist.download_url))
            add(node, RDF + "type", iri(DCAT + "Distribution"))
            add(node, DCT + "title", text(dist.kind.title))
            add(node, DCAT + "accessURL", iri(dist.download_url))
            add(node, DCAT + "downloadURL", iri(dist.download_url))
            add(node, DCAT + "mediaType", term(IANA + dist.kind.media_type, DCT + "MediaType"))
            add(node, DCAT + "compressFormat", term(IANA + "application/gzip", DCT + "MediaType"))
            file_type = FILE_TYPE + BY_MEDIA_TYPE[dist.kind.media_type].file_type
            add(node, DCT + "format", term(file_type, DCT + "MediaTypeOrExtent"))
            add(
                node,
                DCAT + "byteSize",
                ox.Literal(str(dist.file.bytes), datatype=iri(XSD + "nonNegativeInteger")),
            )
            add(node, DCT + "issued", when(dist.file.modified))
            add(node, DCT + "modified", when(dist.file.modified))
            add(node, DCT + "license", license_iri)
            checksum = ox.BlankNode(f"checksum{index}")
            add(node, SPDX + "checksum", checksum)
            add(checksum, RDF + "type", iri(SPDX + "Checksum"))
            add(
                checksum,
                SPDX + "algorithm",
                term(SPDX + "checksumAlgorithm_sha256", SPDX + "ChecksumAlgorithm"),
            )
            add(
                checksum,
                SPDX + "checksumValue",
                ox.Literal(dist.file.sha256, datatype=iri(XSD + "hexBinary")),
            )

        services = (
            ("sparql", self.sparql, "SPARQL endpoint", "https://www.w3.org/TR/sparql11-protocol/"),
            (
                "changes",
                self.changes,
                "Change feed (Linked Data Event Stream)",
                "https://w3id.org/ldes/specification",
            ),
            (
                "activity-streams",
                self.collection,
                "Change feed (Activity Streams 2.0 collection)",
                "https://www.w3.org/TR/activitystreams-core/",
            ),
        )
        for key, endpoint, title, standard in services:
            service = f"{ds}#service-{key}"
            access = f"{ds}#access-{key}"
            add(service, RDF + "type", iri(DCAT + "DataService"))
            add(service, DCT + "title", text(title))
            add(service, DCAT + "endpointURL", term(endpoint, RDFS + "Resource"))
            add(service, DCAT + "servesDataset", iri(ds))
            add(service, DCT + "conformsTo", term(standard, DCT + "Standard"))
            add(service, DCT + "license", license_iri)
            if key == "sparql":
                add(service, DCAT + "endpointDescription", term(endpoint, RDFS + "Resource"))
            add(ds, DCAT + "distribution", iri(access))
            add(access, RDF + "type", iri(DCAT + "Distribution"))
            add(access, DCT + "title", text(title))
            add(access, DCAT + "accessURL", iri(endpoint))
            add(access, DCAT + "accessService", iri(service))
            add(access, DCT + "license", license_iri)
        add(self.changes, RDF + "type", iri(LDES + "EventStream"))

        catalog = self.catalog_iri
        add(catalog, RDF + "type", iri(DCAT + "Catalog"))
        add(catalog, DCT + "title", text(self.title))
        add(catalog, DCT + "description", text(self.description))
        add(catalog, DCT + "publisher", iri(self.publisher_iri))
        add(catalog, DCT + "license", license_iri)
        add(catalog, FOAF + "homepage", term(self.base, FOAF + "Document"))
        add(catalog, DCAT + "dataset", iri(ds))
        if self.modified:
            add(catalog, DCT + "modified", when(self.modified))
        for key, *_ in services:
            add(catalog, DCAT + "service", iri(f"{ds}#service-{key}"))
        for value, classes in sorted(typed.items()):
            for cls in sorted(classes):
                add(value, RDF + "type", iri(cls))
            if value.startswith(FILE_TYPE):
                add(value, SKOS + "inScheme", iri(FILE_TYPE.rstrip("/")))
            elif value.startswith(FREQUENCY):
                add(value, SKOS + "inScheme", iri(FREQUENCY.rstrip("/")))
        return out


@dataclass(frozen=True)
class DatasetCounts:
    """How big the catalogue is: ``triples`` — distinct triples of every entity's graph
    (value and reference nodes that several entities share count once), exactly those of
    the full dump, counted while it was written (None before the first dump);
    ``entities`` — live entities now (from the revision log)."""

    triples: int | None
    entities: int
    dumps_revision: int | None
    dumps_generated: str | None

    @property
    def tag(self) -> str:
        """Changes whenever a count may have changed (for ETags)."""
        return f"{self.entities}-{self.triples}-{self.dumps_revision}-{self.dumps_generated}"


def dataset_counts(cat: Repository, dumps_dir: Path) -> DatasetCounts:
    """The catalogue's triple and entity counts (the one source; see the module)."""
    return _counts(cat, read_manifest(dumps_dir))


def _counts(cat: Repository, manifest: Manifest | None) -> DatasetCounts:
    return DatasetCounts(
        triples=manifest.triples if manifest else None,
        entities=cat.revisions.entity_count(),
        dumps_revision=manifest.revision if manifest else None,
        dumps_generated=manifest.generated if manifest else None,
    )


def describe_dataset(cat: Repository, dumps_dir: Path) -> DatasetDescription:
    """The current description of ``cat`` (with the dumps in ``dumps_dir``)."""
    settings = cat.settings
    base = cat.ns.base
    log = cat.revisions
    newest = log.last_id()
    manifest: Manifest | None = read_manifest(dumps_dir)
    distributions: tuple[Distribution, ...] = ()
    if manifest is not None:
        distributions = tuple(
            Distribution(kind, entry, f"{base}{DUMPS_PATH}{kind.name}")
            for kind in DUMPS
            if (entry := manifest.file(kind.name)) is not None
        )
    first = log.live_entities(0, 1)
    counts = _counts(cat, manifest)
    return DatasetDescription(
        base=base,
        title=settings.DATASET_TITLE,
        description=settings.DATASET_DESCRIPTION,
        license=settings.LICENSE_URL,
        publisher=settings.PUBLISHER,
        publisher_iri=settings.PUBLISHER_URL or base + "#publisher",
        issued=log.revision_time(1) if newest else None,
        modified=log.revision_time(newest) if newest else None,
        revision=newest,
        entities=counts.entities,
        triples=counts.triples,
        classes=dict(manifest.classes) if manifest else {},
        distributions=distributions,
        dumps_revision=counts.dumps_revision,
        dumps_generated=counts.dumps_generated,
        example=cat.ns.entity(first[0][0]).value if first else None,
    )


def _text(value: str) -> ox.Literal:
    return ox.Literal(value, language="en")


def _time(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + "dateTime"))


def _count(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
