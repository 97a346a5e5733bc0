"""The contact edit form, its views, and delete-to-trash."""

from wagtail.admin.panels import FieldPanel, InlinePanel, ObjectList, TabbedInterface
from wagtail.snippets.views.snippets import CreateView, DeleteView, EditView


def person_edit_handler():
    return TabbedInterface([
        ObjectList([
            FieldPanel("prefix"), FieldPanel("given_name"), FieldPanel("additional_names"),
            FieldPanel("family_name"), FieldPanel("suffix"), FieldPanel("nickname"),
            FieldPanel("primary_organization"), FieldPanel("job_title"), FieldPanel("birthday"),
            FieldPanel("folder"), FieldPanel("tags"),
        ], heading="Person"),
        ObjectList([InlinePanel("methods"), InlinePanel("addresses")], heading="Contact details"),
    ])


def organization_edit_handler():
    return TabbedInterface([
        ObjectList([
            FieldPanel("organization_name"), FieldPanel("organization_type"),
            FieldPanel("folder"), FieldPanel("tags"),
        ], heading="Organisation"),
        ObjectList([InlinePanel("methods"), InlinePanel("addresses")], heading="Contact details"),
    ])


class ContactCreateView(CreateView):
    pass


class ContactEditView(EditView):
    pass


class ContactTrashView(DeleteView):
    pass
