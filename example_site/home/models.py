from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from wagtail_crm.blocks import ContactCardBlock, ContactListBlock, RelationshipTreeBlock


class HomePage(Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]


class ContentPage(Page):
    body = RichTextField(blank=True)
    #: Shown below the body: text, contact cards, contact lists and organisation trees from
    #: public folders.
    content = StreamField(
        [
            ("paragraph", blocks.RichTextBlock()),
            ("person", ContactCardBlock("wagtail_crm.Person", label="Person")),
            ("organization", ContactCardBlock("wagtail_crm.Organization", label="Organisation")),
            ("contacts", ContactListBlock()),
            ("organization_tree", RelationshipTreeBlock()),
        ],
        blank=True,
    )

    content_panels = Page.content_panels + [FieldPanel("body"), FieldPanel("content")]
