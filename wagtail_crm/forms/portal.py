"""Forms of the support portal: a new ticket and a reply."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Ticket, TicketPriority


class PortalTicketForm(forms.ModelForm):
    """What a requester gives for a new ticket; everything else is set by the view."""

    class Meta:
        model = Ticket
        fields = ["subject", "description", "priority"]
        labels = {"description": _("What do you need help with?")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].required = True
        self.fields["priority"].initial = TicketPriority.NORMAL


class PortalReplyForm(forms.Form):
    """A public reply from the requester."""

    body = forms.CharField(
        label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
