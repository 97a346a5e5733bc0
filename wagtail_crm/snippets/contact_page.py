"""The contact page (inspect view): summary, tabs and the timeline."""

from wagtail.snippets.views.snippets import InspectView


class ContactInspectView(InspectView):
    pass
