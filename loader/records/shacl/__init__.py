"""A compiled SHACL validator for single records, one module per section of the spec.

The shapes in ``shapes/`` are the definition of a valid record. pySHACL is the
reference implementation (the test suite checks both agree on every example),
but running it per record is far too slow for bulk loads, so the shapes are
compiled once into Python objects and evaluated over an indexed record graph.
Only the SHACL Core subset the shapes use is supported; an unsupported construct
makes compilation fail loudly rather than silently pass data. Nodes outside the
record are looked up in the load :class:`~loader.records.context.Context`.

Modules follow the W3C recommendation (https://www.w3.org/TR/shacl/), as pySHACL's
``constraints/core/`` does: ``graph.py`` (the record graph validated, :class:`Problem`,
:class:`ShapeError`), ``paths.py`` (§2.3.1 property paths), ``shapes.py`` (§2 shapes and
targets, §3 validation: :class:`ShapesGraph`), ``constraint_component.py`` (what a
component compiles to), and the §4 core components: ``value_type.py`` (§4.1),
``cardinality.py`` (§4.2), ``value_range.py`` (§4.3), ``string_based.py`` (§4.4),
``property_pair.py`` (§4.5), ``logical.py`` (§4.6), ``shape_based.py`` (§4.7), ``other.py``
(§4.8), gathered by parameter name in ``components.py``. ``native.py`` adapts Bigtent's own
``bts:`` checks (``wikibase_rules.py``).

May import: ``loader.base`` and ``loader.records``.

Common changes: supporting a new constraint component → a builder in the module of its
§4 subsection and a row in ``components.BUILDERS`` (a parameter only read by another
builder, like ``sh:flags``, goes in the list ``ShapesGraph._constraints`` skips; one that
can fail with no value nodes, like ``sh:minCount``, in the ``counting`` set of
``ShapesGraph.compile``); a new kind of property path → ``paths.py``; a new native rule →
``wikibase_rules.py``.
"""

from loader.records.shacl.graph import Problem, RecordGraph, ShapeError, term_text
from loader.records.shacl.native import BTS, NativeCheck
from loader.records.shacl.shapes import ShapesGraph

__all__ = [
    "BTS",
    "NativeCheck",
    "Problem",
    "RecordGraph",
    "ShapeError",
    "ShapesGraph",
    "term_text",
]
