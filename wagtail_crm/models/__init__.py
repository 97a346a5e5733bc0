from .contacts import (
    Address,
    Contact,
    ContactKind,
    ContactMethod,
    ContactMethodType,
    ContactTag,
    MethodScheme,
    OrganizationType,
)
from .fields import CustomField, CustomFieldTarget, CustomFieldType, clean_custom_values
from .folders import LEVEL_RANK, AccessLevel, Folder, FolderAccess
from .preferences import CRMSettings
from .proxies import Organization, Person
from .relationships import (
    ParticipantKind,
    Relationship,
    RelationshipParticipant,
    RelationshipRole,
    RelationshipStatus,
    RelationshipType,
    TreePosition,
)

__all__ = [
    "LEVEL_RANK",
    "AccessLevel",
    "Address",
    "CRMSettings",
    "Contact",
    "ContactKind",
    "ContactMethod",
    "ContactMethodType",
    "ContactTag",
    "CustomField",
    "CustomFieldTarget",
    "CustomFieldType",
    "Folder",
    "FolderAccess",
    "MethodScheme",
    "Organization",
    "OrganizationType",
    "ParticipantKind",
    "Person",
    "Relationship",
    "RelationshipParticipant",
    "RelationshipRole",
    "RelationshipStatus",
    "RelationshipType",
    "TreePosition",
    "clean_custom_values",
]
