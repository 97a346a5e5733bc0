"""StreamField blocks of the CRM, for site builders' page models.

Import them from here: migrations refer to them as ``wagtail_crm.blocks.<Name>``.
"""

from .contacts import ContactCardBlock, ContactListBlock
from .relationships import RelationshipTreeBlock

__all__ = ["ContactCardBlock", "ContactListBlock", "RelationshipTreeBlock"]
