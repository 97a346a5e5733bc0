"""The admin form of people and organisations: names, contact details, custom fields, filing."""

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils.translation import gettext_lazy as _
from django_countries import countries_context
from django_countries.widgets import LazySelect
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.snippets.widgets import AdminSnippetChooser

from ..models import (
    Contact,
    ContactKind,
    CRMSettings,
    CustomField,
    Folder,
    MethodScheme,
    Organization,
    Person,
)
from ..permissions import HIDDEN_CONTACT, contact_policy, folders_for
from .widgets import QuickSelectMixin

#: Form fields editing custom values are named ``custom__<key>``.
CUSTOM_FIELD_PREFIX = "custom__"

#: Fields shared by people and organisations: filing, photo, notes.
COMMON_FIELDS = ["folder", "owner", "tags", "photo", "notes", "do_not_email"]
PERSON_FIELDS = [
    "prefix", "given_name", "additional_names", "family_name", "suffix", "nickname",
    "job_title", "primary_organization", "birthday", *COMMON_FIELDS,
]
ORGANIZATION_FIELDS = ["organization_name", "organization_type", *COMMON_FIELDS]
METHOD_FIELDS = ["type", "value", "label", "is_primary"]
ADDRESS_FIELDS = [
    "label", "street", "extended", "po_box", "locality", "region", "postal_code", "country",
    "is_primary",
]


class CountrySelect(QuickSelectMixin, LazySelect):
    """A country select that lists the countries of CRMSettings.countries_first at the top."""

    #: Shown between the first countries and the rest.
    separator = "──────────"

    def get_context(self, name, value, attrs):
        first = CRMSettings.load().countries_first_list
        with countries_context(first=first, first_break=self.separator):
            return super().get_context(name, value, attrs)


def merge_custom_values(form, cleaned_data):
    """The instance's ``custom`` with the form's valid custom fields put in (as JSON values);
    keys the form does not edit are kept. ``form.custom_fields`` maps field names to
    definitions."""
    custom = dict(form.instance.custom or {})
    for name, definition in form.custom_fields.items():
        if form.has_error(name):
            continue
        value = definition.to_json(cleaned_data.get(name))
        if value is None:
            custom.pop(definition.key, None)
        else:
            custom[definition.key] = value
    return custom


class OrganizationChooser(AdminSnippetChooser):
    """Chooses an organisation; one chosen before it went to the trash still shows, marked.

    With ``for_user`` set, an organisation in a folder that user may not view shows as
    "Hidden contact", without its name or a link.
    """

    def __init__(self, **kwargs):
        super().__init__(Organization, **kwargs)
        self.for_user = None

    def get_value_data_from_instance(self, instance):
        if self.for_user is not None and not contact_policy.user_has_permission_for_instance(
            self.for_user, "view", instance
        ):
            return {"id": instance.pk, "edit_url": "", self.display_title_key: HIDDEN_CONTACT}
        return super().get_value_data_from_instance(instance)

    def get_instance(self, value):
        if value in (None, "") or isinstance(value, Contact):
            return value or None
        return Organization.all_objects.organizations().filter(pk=value).first()

    def get_display_title(self, instance):
        title = super().get_display_title(instance)
        return _("%(name)s (in the trash)") % {"name": title} if instance.in_trash else title


class ContactChildForm(WagtailAdminModelForm):
    """The form of one contact method or address."""

    def _update_errors(self, errors):
        # The model's clean() checks "value" again (ContactMethod.normalize): a field that
        # already failed on its own keeps just its own message.
        if hasattr(errors, "error_dict"):
            for name in [name for name in errors.error_dict if self.has_error(name)]:
                del errors.error_dict[name]
        super()._update_errors(errors)


#: The child formsets of the contact form and their fields.
CONTACT_FORMSETS = {
    "methods": {"form": ContactChildForm, "fields": METHOD_FIELDS},
    "addresses": {
        "form": ContactChildForm,
        "fields": ADDRESS_FIELDS,
        "widgets": {"country": CountrySelect},
    },
}


class ContactForm(WagtailAdminModelForm):
    """What the person and organisation forms share.

    Adds a field per CustomField definition of :attr:`kind`, writes their values back into
    ``Contact.custom`` (keeping values that have no definition), and allows one primary contact
    method per scheme and one primary address.
    """

    #: The kind of contact edited; its CustomField definitions become form fields.
    kind = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new Organization only gets its kind on save; its validation needs it now.
        self.instance.kind = self.kind
        stored = self.instance.custom or {}
        #: The custom fields of the form, by form field name.
        self.custom_fields = {}
        for definition in CustomField.objects.for_target(self.kind):
            name = CUSTOM_FIELD_PREFIX + definition.key
            self.fields[name] = definition.formfield()
            self.fields[name].initial = definition.from_json(stored.get(definition.key))
            self.custom_fields[name] = definition
        if "owner" in self.fields:
            self.fields["owner"].queryset = get_user_model().objects.filter(
                Q(is_active=True) | Q(pk=self.instance.owner_id)
            )
        if "folder" in self.fields and not self.instance.pk and not self.initial.get("folder"):
            self.initial["folder"] = Folder.get_default().pk
        if self.for_user is not None:
            self.restrict_filing(self.for_user)

    def restrict_filing(self, user):
        """Offer only the folders the user may file into; let only managers reassign owners."""
        contact = self.instance
        if contact.pk:
            may_reassign = contact_policy.user_has_permission_for_instance(
                user, "reassign", contact
            )
        else:
            may_reassign = contact_policy.user_has_permission(user, "reassign")
        if "folder" in self.fields:
            field = self.fields["folder"]
            if not contact.pk:
                field.queryset = folders_for(user, "add")
            elif may_reassign:
                field.queryset = Folder.objects.filter(
                    Q(pk__in=folders_for(user, "reassign").values("pk")) | Q(pk=contact.folder_id)
                )
            else:
                field.queryset = Folder.objects.filter(pk=contact.folder_id)
                field.disabled = True
                field.help_text = _("Only managers of this folder move its contacts.")
            if not contact.pk and not field.queryset.filter(pk=self.initial.get("folder")).exists():
                first = field.queryset.first()
                self.initial["folder"] = first.pk if first else None
        if "owner" in self.fields:
            if not contact.pk:
                self.initial.setdefault("owner", user.pk)
            if not may_reassign:
                self.fields["owner"].disabled = True
                self.fields["owner"].help_text = _("Only managers of the folder reassign contacts.")

    def clean(self):
        cleaned_data = super().clean()
        self.instance.custom = merge_custom_values(self, cleaned_data)
        self.check_one_primary("methods", self.method_group)
        self.check_one_primary("addresses", self.address_group)
        self.check_owner(cleaned_data)
        return cleaned_data

    def check_owner(self, cleaned_data):
        """A new contact filed for someone else needs "manage" on the chosen folder."""
        user, folder, owner = self.for_user, cleaned_data.get("folder"), cleaned_data.get("owner")
        if user is None or folder is None or self.instance.pk or owner == user:
            return
        if not contact_policy.user_has_permission_for_instance(
            user, "reassign", Contact(folder=folder)
        ):
            self.add_error(
                "owner",
                _("Only managers of “%(folder)s” add contacts owned by someone else.")
                % {"folder": folder},
            )

    @staticmethod
    def method_group(form):
        scheme = form.cleaned_data["type"].scheme
        return scheme, _("Only one %(scheme)s can be primary: untick “primary” on the others.") % {
            "scheme": str(MethodScheme(scheme).label).lower()
        }

    @staticmethod
    def address_group(form):
        return "address", _("Only one address can be primary: untick “primary” on the others.")

    def check_one_primary(self, relation, group_of):
        """Put an error on each child form marked primary after the first of its group."""
        formset = self.formsets.get(relation)
        if formset is None:
            return
        groups = set()
        for form in formset.forms:
            if not form.is_valid() or form.cleaned_data.get(DELETION_FIELD_NAME):
                continue
            if not form.cleaned_data.get("is_primary"):
                continue
            group, message = group_of(form)
            if group in groups:
                form.add_error("is_primary", ValidationError(message, code="primary"))
            groups.add(group)

    def _update_errors(self, errors):
        # Contact.clean() may name fields this form does not have: its "custom" errors repeat
        # what the custom__ fields already say; anything else is shown for the whole form.
        if hasattr(errors, "error_dict"):
            for key in [k for k in errors.error_dict if k != NON_FIELD_ERRORS]:
                if key in self.fields:
                    continue
                messages = errors.error_dict.pop(key)
                if key == "custom" and any(self.has_error(name) for name in self.custom_fields):
                    continue
                errors.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(messages)
        super()._update_errors(errors)


class PersonForm(ContactForm):
    kind = ContactKind.PERSON

    class Meta:
        model = Person
        fields = PERSON_FIELDS
        formsets = CONTACT_FORMSETS
        widgets = {"primary_organization": OrganizationChooser()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "primary_organization" in self.fields:
            # What the chooser lists, and the current organisation even if in the trash.
            choices = Organization.all_objects.organizations().filter(deleted_at__isnull=True)
            if self.for_user is not None:
                choices = contact_policy.filter_queryset(choices, self.for_user, "view")
            self.fields["primary_organization"].widget.for_user = self.for_user
            self.fields["primary_organization"].queryset = (
                Organization.all_objects.organizations().filter(
                    Q(pk__in=choices.values("pk")) | Q(pk=self.instance.primary_organization_id)
                )
            )


class OrganizationForm(ContactForm):
    kind = ContactKind.ORGANIZATION

    class Meta:
        model = Organization
        fields = ORGANIZATION_FIELDS
        formsets = CONTACT_FORMSETS
