"""The admin form of CRMSettings: the listing columns as lists of checkboxes."""

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm


class ListingColumnsField(forms.MultipleChoiceField):
    """Columns of a listing; keys that are not (or no longer) columns are dropped, the name kept."""

    widget = forms.CheckboxSelectMultiple

    def clean(self, value):
        chosen = set(self.to_python(value))
        return [key for key, _label in self.choices if key in chosen or key == "display_name"]


class CRMSettingsForm(WagtailAdminModelForm):
    person_columns = ListingColumnsField(
        label=_("People listing columns"),
        required=False,
        help_text=_("The name is always shown, first."),
    )
    organization_columns = ListingColumnsField(
        label=_("Organisations listing columns"),
        required=False,
        help_text=_("The name is always shown, first."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Imported here: the models module imports this form for CRMSettings.base_form_class.
        from ..models import CustomField, Organization, Person
        from ..snippets.listing import available_columns

        custom_fields = list(CustomField.objects.filter(in_listing=True))
        for name, model in (("person_columns", Person), ("organization_columns", Organization)):
            if name in self.fields:
                self.fields[name].choices = list(available_columns(model, custom_fields).items())
