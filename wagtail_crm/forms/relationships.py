"""Admin forms for relationship types (with their roles) and relationships."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from ..models import (
    Contact,
    CustomField,
    Relationship,
    RelationshipParticipant,
    RelationshipRole,
    RelationshipType,
)
from ..permissions import contact_policy
from ..services.relationships import validate_relationship
from ..snippets.access import ContactChooser
from .contacts import CUSTOM_FIELD_PREFIX, merge_custom_values

#: Fields of a role row that validate_roles reads.
ROLE_FIELDS = ("name", "allowed_kind", "min_participants", "max_participants", "tree_position")
#: Fields of the type that validate_roles reads.
TYPE_FIELDS = ("is_symmetric", "is_hierarchical", "sets_primary_organization")


class RelationshipTypeForm(WagtailAdminModelForm):
    """Checks the inline roles together with the type, and keeps roles that are in use."""

    def clean(self):
        cleaned_data = super().clean()
        roles_formset = self.formsets.get("roles")
        if roles_formset is None:
            return cleaned_data
        roles, slugs = [], set()
        for form in roles_formset.forms:
            valid = form.is_valid()
            data = getattr(form, "cleaned_data", {})
            if not form.has_changed() and not form.instance.pk:
                continue
            if data.get("DELETE"):
                if form.instance.pk and form.instance.participants.exists():
                    # A formset ignores the errors of rows marked for deletion: tell the form.
                    self.add_error(None, _(
                        "Relationships still use the role “%(role)s”, so it cannot be removed."
                    ) % {"role": form.instance.name})
                continue
            slug = data.get("slug")
            if slug and slug in slugs:
                form.add_error("slug", _("Another role of this type has this slug."))
            slugs.add(slug)
            if valid:
                roles.append(RelationshipRole(**{name: data.get(name) for name in ROLE_FIELDS}))
        if not all(form.is_valid() for form in roles_formset.forms):
            # The rows' own errors come first; the roles as a whole are checked once they pass.
            return cleaned_data
        probe = RelationshipType(**{name: cleaned_data.get(name, False) for name in TYPE_FIELDS})
        try:
            probe.validate_roles(roles)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(None if field == NON_FIELD_ERRORS else field, messages)
        return cleaned_data


class VisibleContactIds:
    """``pk in ids``: whether the user may view that contact, asked per id and remembered (a
    form holds a handful of participants; the user's contacts may be a hundred thousand)."""

    def __init__(self, queryset):
        self.queryset = queryset
        self.known = {}

    def __contains__(self, pk):
        if pk not in self.known:
            self.known[pk] = self.queryset.filter(pk=pk).exists()
        return self.known[pk]


class RelationshipForm(WagtailAdminModelForm):
    """A relationship, its participants and its type's custom fields.

    Participants are chosen among the contacts the user may view; a participant the user may
    not view, already in the relationship, stays and shows as "Hidden contact". The rules on
    participants (roles, kinds, cardinality, cycles) are checked with ``validate_relationship``
    and shown on the participant's row.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        relationship = self.instance
        if "type" in self.fields and (
            relationship.pk or getattr(relationship, "type_is_chosen", False)
        ):
            # Roles and fields depend on the type: it is chosen before the form, and a saved
            # relationship keeps it.
            self.fields["type"].disabled = True
            if relationship.pk:
                self.fields["type"].help_text = _(
                    "A relationship keeps its type: to change it, add a relationship of the "
                    "other type and delete this one."
                )
        self.relationship_type = self._chosen_type()
        if self.relationship_type is not None and not self.is_bound:
            self.initial.setdefault("type", self.relationship_type.pk)
        stored_ids = set()
        if relationship.pk:
            stored_ids = set(
                RelationshipParticipant.objects.filter(relationship=relationship)
                .values_list("contact_id", flat=True)
            )
        visible = Contact.objects.all()
        if self.for_user is not None:
            visible = contact_policy.filter_queryset(visible, self.for_user, "view")
        #: Contacts already in the relationship, which the user may keep though hidden.
        self.stored_contact_ids = stored_ids
        self.visible_contact_ids = VisibleContactIds(visible)
        contacts = Contact.all_objects.filter(
            Q(pk__in=visible.values("pk")) | Q(pk__in=stored_ids)
        )
        for_user = self.for_user
        relationship_type = self.relationship_type
        roles = RelationshipRole.objects.select_related("type")
        if self.relationship_type is not None:
            roles = roles.filter(type=self.relationship_type)
        formset = self.formsets.get("participants")
        if formset is not None:
            base = formset.form

            def init(form, *a, **kw):
                base.__init__(form, *a, **kw)
                form.fields["contact"] = forms.ModelChoiceField(
                    queryset=contacts, label=_("Contact"),
                    initial=form.fields["contact"].initial,
                    widget=ContactChooser(for_user=for_user),
                )
                form.fields["role"].queryset = roles
                if relationship_type is None:
                    # Roles of every type are offered: name the type with each.
                    form.fields["role"].label_from_instance = (
                        lambda role: f"{role.type.name}: {role.name}"
                    )

            formset.form = type(base.__name__, (base,), {"__init__": init})
        stored = relationship.custom or {}
        #: The custom fields of the form, by form field name.
        self.custom_fields = {}
        if self.relationship_type is not None:
            for definition in CustomField.objects.for_relationship_type(self.relationship_type):
                name = CUSTOM_FIELD_PREFIX + definition.key
                self.fields[name] = definition.formfield()
                self.fields[name].initial = definition.from_json(stored.get(definition.key))
                self.custom_fields[name] = definition

    def _chosen_type(self):
        """The type the form is for: as posted, as stored, or as given in the initial data."""
        if "type" in self.fields and self.fields["type"].disabled:
            value = self.instance.type_id
        elif self.is_bound:
            value = self.data.get(self.add_prefix("type"))
        elif self.instance.type_id:
            value = self.instance.type_id
        else:
            value = self.initial.get("type")
        if value in (None, ""):
            return None
        try:
            return RelationshipType.objects.filter(pk=value).first()
        except (TypeError, ValueError):
            return None

    def participant_rows(self):
        """The participant forms that will be saved, with unsaved participants built from them."""
        formset = self.formsets.get("participants")
        rows = []
        if formset is None:
            return rows
        for form in formset.forms:
            if not form.is_valid() or form.cleaned_data.get("DELETE"):
                continue
            contact, role = form.cleaned_data.get("contact"), form.cleaned_data.get("role")
            if contact is None and role is None:
                continue
            rows.append((form, RelationshipParticipant(contact=contact, role=role)))
        return rows

    def clean(self):
        cleaned_data = super().clean()
        self.instance.custom = merge_custom_values(self, cleaned_data)
        self.keep_hidden_participants()
        rows = self.participant_rows()
        for form, participant in rows:
            contact_id = participant.contact_id
            if (
                contact_id
                and contact_id not in self.visible_contact_ids
                and contact_id not in self.stored_contact_ids
            ):
                form.add_error("contact", _("Choose a contact you may view."))
        relationship_type = cleaned_data.get("type")
        if relationship_type is None or not all(
            form.is_valid() for form in self.formsets["participants"].forms
        ):
            return cleaned_data
        probe = Relationship(
            pk=self.instance.pk, type=relationship_type,
            start_date=cleaned_data.get("start_date"), end_date=cleaned_data.get("end_date"),
            is_primary=cleaned_data.get("is_primary", False),
        )
        try:
            validate_relationship(probe, [p for _form, p in rows], fields=False)
        except ValidationError as error:
            self._show_relationship_errors(error, rows)
        return cleaned_data

    def keep_hidden_participants(self):
        """Refuse changing or removing a participant whose contact the user may not view."""
        formset = self.formsets.get("participants")
        if formset is None or not self.instance.pk:
            return
        stored = {
            pk: (contact_id, role_id)
            for pk, contact_id, role_id in RelationshipParticipant.objects.filter(
                relationship=self.instance
            ).values_list("pk", "contact_id", "role_id")
        }
        for form in formset.forms:
            original = stored.get(form.instance.pk)
            if original is None or original[0] in self.visible_contact_ids:
                continue
            valid = form.is_valid()
            data = getattr(form, "cleaned_data", {})
            if data.get("DELETE"):
                # A formset ignores the errors of rows marked for deletion: tell the form.
                self.add_error(None, _("You may not remove a participant you cannot see."))
            elif valid and original != (
                getattr(data.get("contact"), "pk", None), getattr(data.get("role"), "pk", None)
            ):
                form.add_error(None, _("You may not change a participant you cannot see."))

    def _show_relationship_errors(self, error, rows):
        """Put each error on its field, or on the participant row it names."""
        for key, messages in error.error_dict.items():
            for message in messages:
                index = (message.params or {}).get("index")
                if key == NON_FIELD_ERRORS and index is not None and index < len(rows):
                    rows[index][0].add_error(None, message)
                elif key != NON_FIELD_ERRORS and key in self.fields:
                    self.add_error(key, message)
                else:
                    self.add_error(None, message)

    def _update_errors(self, errors):
        # Relationship.clean() may name fields this form does not have: shown for the form.
        if hasattr(errors, "error_dict"):
            for key in [k for k in errors.error_dict if k != NON_FIELD_ERRORS]:
                if key not in self.fields:
                    messages = errors.error_dict.pop(key)
                    errors.error_dict.setdefault(NON_FIELD_ERRORS, []).extend(messages)
        super()._update_errors(errors)
