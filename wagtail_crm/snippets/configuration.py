"""Admin viewsets for the CRM's configuration: folders, contact method types, custom fields.

Django model permissions on these models decide who may change them. Forms refuse changes that
would leave stored data wrong; delete views explain, instead of deleting, while records still
depend on the object.
"""

import re
import string

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, ProtectedError, Q
from django.shortcuts import redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, NumberColumn
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.snippets.views.snippets import CreateView, DeleteView, SnippetViewSet

from ..conf import crm_settings
from ..models import (
    Contact,
    ContactKind,
    ContactMethod,
    ContactMethodType,
    CustomField,
    CustomFieldTarget,
    Folder,
    MethodScheme,
    Relationship,
)

#: Template of the delete views, which shows why an object cannot be deleted yet.
DELETE_TEMPLATE = "wagtail_crm/configuration/confirm_delete.html"


class RefusingDeleteView(DeleteView):
    """A delete view that explains, and deletes nothing, while the object is still needed."""

    def get_refusal(self):
        """Why the object cannot be deleted now, or an empty string."""
        if self.usage is not None and self.usage.is_protected:
            return self.still_used_message
        return ""

    @property
    def still_used_message(self):
        return _("Other records still use this %(model_name)s, so it cannot be deleted.") % {
            "model_name": self.object._meta.verbose_name
        }

    @cached_property
    def refusal(self):
        return self.get_refusal()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["refusal"] = self.refusal
        return context

    def form_valid(self, form):
        if not self.refusal:
            try:
                return super().form_valid(form)
            except ProtectedError:
                # Something came to depend on the object after the check.
                self.refusal = self.get_refusal() or self.still_used_message
        return self.render_to_response(self.get_context_data(form=form))


# Folders -------------------------------------------------------------------------------------


def is_default_folder_name(name):
    return name == crm_settings.DEFAULT_FOLDER_NAME


class FolderForm(WagtailAdminModelForm):
    """Keeps the default folder shared and under the name ``Folder.get_default()`` looks for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = Q(is_active=True)
        if self.instance.owner_id:
            users |= Q(pk=self.instance.owner_id)
        User = get_user_model()
        self.fields["owner"].queryset = User._default_manager.filter(users).order_by(
            User.USERNAME_FIELD
        )

    def clean_name(self):
        name = self.cleaned_data["name"]
        stored = self.instance.name if self.instance.pk else None
        if is_default_folder_name(stored) and name != stored:
            raise ValidationError(
                _(
                    "This is the default folder: contacts saved without a folder go to the folder "
                    "named '%(name)s' (setting WAGTAIL_CRM_DEFAULT_FOLDER_NAME), so it keeps "
                    "its name."
                ),
                params={"name": self.instance.name},
            )
        return name

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("owner") and is_default_folder_name(cleaned_data.get("name")):
            self.add_error(
                "owner",
                _("The default folder is shared by everyone; it cannot be a personal folder."),
            )
        access = self.formsets.get("access")
        if cleaned_data.get("owner") and access is not None and any(
            form.is_valid() and form.cleaned_data.get("group")
            and not form.cleaned_data.get("DELETE")
            for form in access.forms
        ):
            self.add_error("owner", _(
                "A personal folder belongs to its owner alone: remove the group access "
                "below, or leave the owner empty to share the folder."
            ))
        return cleaned_data


def why_folder_is_needed(folder):
    """Why ``folder`` cannot be deleted now, or an empty string."""
    if is_default_folder_name(folder.name):
        return _(
            "This is the default folder, where contacts go when no folder is chosen, so it "
            "cannot be deleted."
        )
    counts = Contact.all_objects.filter(folder=folder).aggregate(
        total=Count("pk"), trashed=Count("pk", filter=Q(deleted_at__isnull=False))
    )
    if not counts["total"]:
        return ""
    why = ngettext(
        "This folder still holds %(count)d contact; move it to another folder first.",
        "This folder still holds %(count)d contacts; move them to another folder first.",
        counts["total"],
    ) % {"count": counts["total"]}
    if counts["trashed"]:
        why += " " + ngettext(
            "%(count)d of them is in the trash: restore it to move it, or delete it for good.",
            "%(count)d of them are in the trash: restore them to move them, or delete them "
            "for good.",
            counts["trashed"],
        ) % {"count": counts["trashed"]}
    return why


class FolderDeleteView(RefusingDeleteView):
    def get_refusal(self):
        return why_folder_is_needed(self.object) or super().get_refusal()


class FolderViewSet(SnippetViewSet):
    model = Folder
    icon = "folder-open-inverse"
    menu_label = _("Folders")
    menu_order = 300
    url_prefix = "crm/folders"
    delete_view_class = FolderDeleteView
    delete_template_name = DELETE_TEMPLATE
    copy_view_enabled = False
    search_fields = ["name"]
    list_display = [
        "name",
        BooleanColumn("is_public", label=_("Public"), sort_key="is_public"),
        Column("owner", label=_("Personal folder of")),
        NumberColumn("contact_count", label=_("Contacts"), sort_key="contact_count"),
    ]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("description"), FieldPanel("is_public"),
         FieldPanel("owner"),
         InlinePanel(
             "access",
             heading=_("Group access"),
             label=_("Group"),
             panels=[FieldPanel("group"), FieldPanel("level")],
             help_text=_(
                 "View: see the contacts. Contribute: also add contacts, and edit and trash "
                 "their own. Manage: edit all, reassign, trash, restore and purge."
             ),
         )],
        base_form_class=FolderForm,
    )

    def get_queryset(self, request):
        return Folder.objects.select_related("owner").annotate(
            contact_count=Count("contacts", filter=Q(contacts__deleted_at__isnull=True))
        )


# Contact method types ------------------------------------------------------------------------

#: Placeholders a link template may use, and those that only phone numbers fill in.
LINK_PLACEHOLDERS = {"value", "e164", "digits"}
PHONE_PLACEHOLDERS = {"e164", "digits"}
#: URL schemes a link may never have: they run code in the browser.
UNSAFE_LINK_SCHEMES = {"javascript", "data", "vbscript"}
LINK_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)

LINK_TEMPLATE_HELP = _(
    "How a value becomes a link. {value} is the value as entered (URL-encoded); for phone "
    "numbers {e164} is the number in E.164 form (+442079460123) and {digits} the same without "
    "the +. Examples: mailto:{value}, tel:{e164}, https://pbx.example.com/call?to={digits}, "
    "https://example.social/@{value}. Write {{ and }} for literal braces; leave empty for no link."
)


def check_link_template(template, scheme):
    """Raise ValidationError unless ``template`` makes a safe link for values of ``scheme``."""
    try:
        fields = [(name, spec, conversion)
                  for _text, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError as error:
        raise ValidationError(
            _("This template cannot be read (%(error)s). Write placeholders as {value}, and "
              "{{ or }} for a literal brace."),
            params={"error": error},
        ) from error
    for name, spec, conversion in fields:
        if name not in LINK_PLACEHOLDERS or spec or conversion:
            written = "".join(
                ["{", name, f"!{conversion}" if conversion else "", f":{spec}" if spec else "", "}"]
            )
            raise ValidationError(
                _("Unknown placeholder %(placeholder)s: use {value}, {e164} or {digits}."),
                params={"placeholder": written},
            )
        if name in PHONE_PLACEHOLDERS and scheme != MethodScheme.PHONE:
            raise ValidationError(_("{e164} and {digits} are only filled in for phone numbers; "
                                    "use {value}."))
    if not fields:
        raise ValidationError(_("Put {value} (or, for phones, {e164} or {digits}) where the "
                                "value goes in the link."))
    # Browsers ignore control characters and spaces inside a URL scheme.
    literal = "".join(ch for ch in template.split("{", 1)[0] if ch > " ")
    match = LINK_SCHEME_RE.match(literal)
    if match and match.group(1).lower() in UNSAFE_LINK_SCHEMES:
        raise ValidationError(_("Links starting with %(scheme)s: are not allowed."),
                              params={"scheme": match.group(1)})
    if not match and scheme in (MethodScheme.PHONE, MethodScheme.HANDLE):
        raise ValidationError(_("Start the link with its scheme, as in tel:{e164} or "
                                "https://example.social/@{value}."))


class ContactMethodTypeForm(WagtailAdminModelForm):
    """Checks the link template, and keeps the scheme of a type that is in use."""

    def clean_scheme(self):
        scheme = self.cleaned_data["scheme"]
        if self.instance.pk and scheme != self.instance.scheme:
            count = ContactMethod.objects.filter(type=self.instance).count()
            if count:
                raise ValidationError(ngettext(
                    "%(count)d contact method of this type was checked and stored as %(scheme)s; "
                    "the scheme cannot change. Add a new type instead.",
                    "%(count)d contact methods of this type were checked and stored as "
                    "%(scheme)s; the scheme cannot change. Add a new type instead.",
                    count,
                ) % {"count": count, "scheme": self.instance.get_scheme_display()})
        return scheme

    def clean(self):
        cleaned_data = super().clean()
        template = cleaned_data.get("link_template")
        if template:
            scheme = cleaned_data.get("scheme", self.instance.scheme)
            try:
                check_link_template(template, scheme)
            except ValidationError as error:
                self.add_error("link_template", error)
        return cleaned_data


class ContactMethodTypeCreateView(CreateView):
    def save_instance(self):
        # A new type goes to the end of the list.
        last = ContactMethodType.objects.aggregate(last=Max("sort_order"))["last"]
        self.form.instance.sort_order = 0 if last is None else last + 1
        return super().save_instance()


def why_method_type_is_needed(method_type):
    """Why ``method_type`` cannot be deleted now, or an empty string."""
    count = ContactMethod.objects.filter(type=method_type).count()
    if not count:
        return ""
    return ngettext(
        "%(count)d contact method uses this type; change its type or remove it first.",
        "%(count)d contact methods use this type; change their type or remove them first.",
        count,
    ) % {"count": count}


class ContactMethodTypeDeleteView(RefusingDeleteView):
    def get_refusal(self):
        return why_method_type_is_needed(self.object) or super().get_refusal()


class ContactMethodTypeViewSet(SnippetViewSet):
    model = ContactMethodType
    icon = "mail"
    menu_label = _("Contact method types")
    menu_order = 400
    url_prefix = "crm/method-types"
    add_view_class = ContactMethodTypeCreateView
    delete_view_class = ContactMethodTypeDeleteView
    delete_template_name = DELETE_TEMPLATE
    copy_view_enabled = False
    #: Types are listed, and dragged into order, by ``sort_order``.
    sort_order_field = "sort_order"
    ordering = "sort_order"
    list_display = [
        "name",
        "scheme",
        "link_template",
        "vcard_property",
        "vcard_type",
        NumberColumn("method_count", label=_("Used by"), sort_key="method_count"),
    ]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("scheme"),
         FieldPanel("link_template", help_text=LINK_TEMPLATE_HELP),
         FieldPanel("vcard_property"), FieldPanel("vcard_type"), FieldPanel("icon")],
        base_form_class=ContactMethodTypeForm,
    )

    def get_queryset(self, request):
        return ContactMethodType.objects.annotate(method_count=Count("methods"))


# Custom fields -------------------------------------------------------------------------------


def count_records_with_value(field):
    """How many records, trash included, hold a value under ``field.key`` in their custom JSON."""
    if field.target == CustomFieldTarget.RELATIONSHIP:
        return Relationship.objects.filter(
            type=field.relationship_type_id, custom__has_key=field.key
        ).count()
    if field.target not in ContactKind.values:
        return 0
    return Contact.all_objects.filter(kind=field.target, custom__has_key=field.key).count()


def stranded_values_message(name, count):
    """Why the field ``name`` of a custom field with ``count`` stored values cannot change."""
    if name == "key":
        return ngettext(
            "%(count)d contact holds a value under this key, which a new key would leave "
            "behind. Keep the key, or add a new field.",
            "%(count)d contacts hold a value under this key, which a new key would leave "
            "behind. Keep the key, or add a new field.",
            count,
        ) % {"count": count}
    if name == "field_type":
        return ngettext(
            "%(count)d contact holds a value for this field, which may not be valid for another "
            "type. Keep the type, or add a new field.",
            "%(count)d contacts hold a value for this field, which may not be valid for another "
            "type. Keep the type, or add a new field.",
            count,
        ) % {"count": count}
    return ngettext(
        "%(count)d contact holds a value for this field, which would be left behind. Keep what "
        "the field applies to, or add a new field.",
        "%(count)d contacts hold a value for this field, which would be left behind. Keep what "
        "the field applies to, or add a new field.",
        count,
    ) % {"count": count}


class CustomFieldForm(WagtailAdminModelForm):
    """Keeps keys unique per target, and refuses changes that would strand stored values."""

    #: Fields that stored values depend on.
    value_bound_fields = ["key", "field_type", "target", "relationship_type"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The relationship type is asked for fields of relationships only: a bound form with
        # that target, a field that has it, or the add view opened with ?target=relationship.
        if self.is_bound:
            target = self.data.get(self.add_prefix("target"))
        else:
            target = self.initial.get("target") or self.instance.target
        if target != CustomFieldTarget.RELATIONSHIP:
            self.fields.pop("relationship_type", None)
        #: Posted from a form that did not show the type: validated without it (the error then
        #: names "applies to"), and shown again with the errors so that it can be chosen.
        self.type_field_to_show = None
        if self.is_bound and "relationship_type" in self.fields and (
            self.add_prefix("relationship_type") not in self.data
        ):
            self.type_field_to_show = self.fields.pop("relationship_type")

    def _post_clean(self):
        super()._post_clean()
        if self.type_field_to_show is not None:
            self.fields["relationship_type"] = self.type_field_to_show

    def clean(self):
        cleaned_data = super().clean()
        target, key = cleaned_data.get("target"), cleaned_data.get("key")
        relationship_type = cleaned_data.get("relationship_type")
        if target == CustomFieldTarget.RELATIONSHIP and relationship_type and key:
            # Keys are unique per relationship type.
            others = CustomField.objects.filter(relationship_type=relationship_type, key=key)
            described = relationship_type.name
        elif target and target != CustomFieldTarget.RELATIONSHIP and key:
            others = CustomField.objects.filter(
                target=target, key=key, relationship_type__isnull=True
            )
            described = CustomFieldTarget(target).label
        else:
            others = None
        if others is not None:
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("key", _(
                    "Another custom field for %(target)s already has the key '%(key)s'."
                ) % {"target": described, "key": key})
        if self.instance.pk:
            changed = [
                name for name in self.value_bound_fields
                if name in cleaned_data and cleaned_data[name] != getattr(self.instance, name)
            ]
            if changed and (count := count_records_with_value(self.instance)):
                for name in changed:
                    self.add_error(name, stranded_values_message(name, count))
        return cleaned_data


class CustomFieldCreateView(CreateView):
    """Opened with ``?target=relationship``, the form starts as a relationship type's field."""

    def get_initial(self):
        initial = super().get_initial()
        target = self.request.GET.get("target")
        if target in CustomFieldTarget.values:
            initial["target"] = target
        return initial


class CustomFieldViewSet(SnippetViewSet):
    model = CustomField
    icon = "form"
    menu_label = _("Custom fields")
    menu_order = 500
    url_prefix = "crm/custom-fields"
    add_view_class = CustomFieldCreateView
    copy_view_enabled = False
    search_fields = ["label", "key"]
    list_filter = ["target", "relationship_type", "field_type"]
    list_display = [
        "label",
        "target",
        Column("relationship_type", label=_("Relationship type")),
        "key",
        "field_type",
        BooleanColumn("required", label=_("Required"), sort_key="required"),
        BooleanColumn("in_listing", label=_("In listings"), sort_key="in_listing"),
        BooleanColumn("searchable", label=_("Searchable"), sort_key="searchable"),
    ]
    edit_handler = ObjectList(
        [FieldPanel("target"),
         FieldPanel("relationship_type", help_text=_(
             "For fields that apply to relationships: the type of relationship that has them."
         )),
         FieldPanel("label"), FieldPanel("key"), FieldPanel("field_type"),
         FieldPanel("choices"), FieldPanel("required"), FieldPanel("help_text"),
         FieldPanel("in_listing"), FieldPanel("searchable"), FieldPanel("sort_order")],
        base_form_class=CustomFieldForm,
    )

    def get_queryset(self, request):
        return CustomField.objects.select_related("relationship_type")


# Bulk delete ---------------------------------------------------------------------------------

#: How to tell why an object of a configuration model cannot be deleted yet.
WHY_NEEDED = {Folder: why_folder_is_needed, ContactMethodType: why_method_type_is_needed}
#: How to tell why a user may not bulk delete the given objects of a model (a message, or "").
#: Checked before the confirmation page, whose list of objects must not show what is hidden.
WHY_REFUSED_TO_USER = {}


def refuse_bulk_delete_of_needed_objects(request, instances):
    """``before_delete_snippet`` hook: bulk delete leaves alone folders and types still needed.

    The single delete views explain for themselves; this covers the listings' bulk action.
    """
    match = request.resolver_match
    if match is None or match.url_name != "wagtail_bulk_action":
        return None
    for model, why_refused in WHY_REFUSED_TO_USER.items():
        mine = [instance for instance in instances if isinstance(instance, model)]
        why = why_refused(request.user, mine) if mine else ""
        if why:
            messages.error(request, why)
            listing = model.snippet_viewset.get_url_name("list")
            return redirect(get_valid_next_url_from_request(request) or listing)
    refused = []
    for instance in instances:
        why_needed = WHY_NEEDED.get(type(instance))
        why = why_needed(instance) if why_needed else ""
        if why:
            messages.error(request, f"{instance}: {why}")
            refused.append(instance)
    if not refused:
        return None
    listing = refused[0].snippet_viewset.get_url_name("list")
    return redirect(get_valid_next_url_from_request(request) or listing)
