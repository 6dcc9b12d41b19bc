"""Every property (P…) and item (Q…) id the code names, in one place.

The ontology (``ontology/*.ttl``) defines these entities; this module gives the code a
name for each. ``tests/test_ids.py`` checks that every id here exists in the ontology
with the English label written beside it, and that no other module spells a P or Q id.
Ids Q1–Q999 and P1–P999 are the ontology's and never change meaning
(``ontology/README.md``).

To add a record type: add its class item to ``ontology/classes.ttl`` and its shape to
``shapes/``, then one row to :data:`RECORD_TYPES` (browse, search, reconciliation and
the home page take their classes from there).
"""

from __future__ import annotations

from typing import Final

# --- properties ------------------------------------------------------------------------
INSTANCE_OF: Final = "P1"
SUBCLASS_OF: Final = "P2"
EQUIVALENT_CLASS: Final = "P3"
MEMBER_OF: Final = "P4"
PARTICIPANT: Final = "P5"
OBJECT_HAS_ROLE: Final = "P6"
ACTIVITY_TYPE: Final = "P7"
START_TIME: Final = "P9"
END_TIME: Final = "P10"
OFFICIAL_WEBSITE: Final = "P11"
LOCATED_IN: Final = "P12"
CAPACITY_KNOWN: Final = "P13"
CAPACITY_OFFERED: Final = "P14"
CAPACITY_NEEDED: Final = "P15"
FUNDED_BY: Final = "P16"
ENDORSED_BY: Final = "P17"
REFERENCE_URL: Final = "P18"
BROADER: Final = "P20"
EXACT_MATCH: Final = "P21"
TIER: Final = "P25"
STATUS: Final = "P29"
GOVERNING_DOCUMENT: Final = "P30"
ASSESSMENT_CRITERION: Final = "P32"
ASSESSMENT_RATING: Final = "P33"
QUANTITY: Final = "P34"
DECISION_LEVEL: Final = "P35"
POINT_IN_TIME: Final = "P36"
PROFICIENCY_LEVEL: Final = "P37"
MODALITY: Final = "P38"
LANGUAGE: Final = "P39"
APPLIES_TO_TERRITORY: Final = "P40"
LANGUAGE_CODE: Final = "P41"
PART_OF: Final = "P42"
ENDORSED_ACTIVITY: Final = "P49"
FORMATTER_URL: Final = "P52"
COORDINATE_LOCATION: Final = "P53"
WIKIMEDIA_USERNAME: Final = "P54"
CONTACT_PAGE: Final = "P55"

# --- items -----------------------------------------------------------------------------
ORGANISATION: Final = "Q1"
PERSON: Final = "Q2"
NETWORK: Final = "Q3"
PARTNERSHIP: Final = "Q4"
CAPACITY: Final = "Q5"
RESOURCE: Final = "Q6"
SERVICE: Final = "Q7"
EVENT: Final = "Q8"
TERRITORY: Final = "Q9"
DOCUMENT: Final = "Q10"
LANGUAGE_ITEM: Final = "Q12"
CONTROLLED_VOCABULARY: Final = "Q20"
ACTIVITY_TYPES: Final = "Q24"
TIERS: Final = "Q25"
STATUSES: Final = "Q29"
ASSESSMENT_CRITERIA: Final = "Q31"
MODALITIES: Final = "Q34"
MEMBER: Final = "Q110"

#: The record types, in the order pages list them: URL slug -> class item.
RECORD_TYPES: Final[dict[str, str]] = {
    "organisations": ORGANISATION,
    "people": PERSON,
    "networks": NETWORK,
    "partnerships": PARTNERSHIP,
    "capacities": CAPACITY,
    "resources": RESOURCE,
    "services": SERVICE,
    "events": EVENT,
    "territories": TERRITORY,
    "documents": DOCUMENT,
    "languages": LANGUAGE_ITEM,
}

#: The English label of every id above, as the ontology states it (checked by a test).
LABELS: Final[dict[str, str]] = {
    INSTANCE_OF: "instance of",
    SUBCLASS_OF: "subclass of",
    EQUIVALENT_CLASS: "equivalent class",
    MEMBER_OF: "member of",
    PARTICIPANT: "participant",
    OBJECT_HAS_ROLE: "object has role",
    ACTIVITY_TYPE: "partnership activity type",
    START_TIME: "start time",
    END_TIME: "end time",
    OFFICIAL_WEBSITE: "official website",
    LOCATED_IN: "located in",
    CAPACITY_KNOWN: "capacity known",
    CAPACITY_OFFERED: "capacity offered",
    CAPACITY_NEEDED: "capacity needed",
    FUNDED_BY: "funded by",
    ENDORSED_BY: "endorsed by",
    REFERENCE_URL: "reference URL",
    BROADER: "broader concept",
    EXACT_MATCH: "exact match",
    TIER: "partnership tier",
    STATUS: "partnership status",
    GOVERNING_DOCUMENT: "governing document",
    ASSESSMENT_CRITERION: "assessment criterion",
    ASSESSMENT_RATING: "assessment rating",
    QUANTITY: "quantity",
    DECISION_LEVEL: "decision level",
    POINT_IN_TIME: "point in time",
    PROFICIENCY_LEVEL: "proficiency level",
    MODALITY: "modality",
    LANGUAGE: "language",
    APPLIES_TO_TERRITORY: "applies to territory",
    LANGUAGE_CODE: "language code",
    PART_OF: "part of",
    ENDORSED_ACTIVITY: "endorsed activity",
    FORMATTER_URL: "formatter URL",
    COORDINATE_LOCATION: "coordinate location",
    WIKIMEDIA_USERNAME: "Wikimedia username",
    CONTACT_PAGE: "contact page",
    ORGANISATION: "organisation",
    PERSON: "person",
    NETWORK: "network",
    PARTNERSHIP: "partnership",
    CAPACITY: "capacity",
    RESOURCE: "resource",
    SERVICE: "service",
    EVENT: "event",
    TERRITORY: "territory",
    DOCUMENT: "document",
    LANGUAGE_ITEM: "language",
    CONTROLLED_VOCABULARY: "controlled vocabulary",
    ACTIVITY_TYPES: "partnership activity type",
    TIERS: "partnership tier",
    STATUSES: "partnership status",
    ASSESSMENT_CRITERIA: "assessment criterion",
    MODALITIES: "capacity modality",
    MEMBER: "member",
}
