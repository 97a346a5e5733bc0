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
from .folders import Folder
from .preferences import CRMSettings
from .proxies import Organization, Person

__all__ = [
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
    "MethodScheme",
    "Organization",
    "OrganizationType",
    "Person",
    "clean_custom_values",
]
