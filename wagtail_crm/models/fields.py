"""Custom fields: admin-defined attributes whose values live in a ``custom`` JSON field."""

import datetime
import decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..phones import PhoneNumberFormField


class CustomFieldTarget(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANIZATION = "organization", _("Organisation")
    #: Relationships of one type (CustomField.relationship_type); values in Relationship.custom.
    RELATIONSHIP = "relationship", _("Relationship")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    TEXTAREA = "textarea", _("Long text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Choice")
    MULTICHOICE = "multichoice", _("Multiple choice")
    EMAIL = "email", _("Email address")
    URL = "url", _("URL")
    PHONE = "phone", _("Phone number")
    #: A decimal from 0 to 100, such as a profit margin.
    PERCENT = "percent", _("Percentage")


key_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*$",
    _("Use lower-case letters, digits and underscores, starting with a letter."),
)


class CustomFieldQuerySet(models.QuerySet):
    def for_target(self, target):
        return self.filter(target=target).order_by("sort_order", "pk")

    def for_relationship_type(self, relationship_type):
        """The definitions of one relationship type (an instance or an id), in form order."""
        return self.filter(
            target=CustomFieldTarget.RELATIONSHIP, relationship_type=relationship_type
        ).order_by("sort_order", "pk")


class CustomField(models.Model):
    """The definition of one custom field for people, organisations or other CRM records."""

    target = models.CharField(_("applies to"), max_length=30, choices=CustomFieldTarget.choices)
    #: For relationship fields: the relationship type whose relationships carry the field.
    relationship_type = models.ForeignKey(
        "wagtail_crm.RelationshipType",
        verbose_name=_("relationship type"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="custom_fields",
        help_text=_("For relationship fields: the type of relationship they belong to."),
    )
    key = models.CharField(
        _("key"),
        max_length=50,
        validators=[key_validator],
        help_text=_("Stable name used in exports and imports, e.g. 'member_number'."),
    )
    label = models.CharField(_("label"), max_length=100)
    field_type = models.CharField(
        _("type"), max_length=20, choices=CustomFieldType.choices, default=CustomFieldType.TEXT
    )
    choices = models.TextField(
        _("choices"), blank=True, help_text=_("For choice fields: one choice per line.")
    )
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=255, blank=True)
    sort_order = models.IntegerField(_("order"), default=0)
    #: Offer the field as a column (and, for choice fields, a filter) in listings.
    in_listing = models.BooleanField(_("show in listings"), default=False)
    #: Include the field's values in the search index.
    searchable = models.BooleanField(_("searchable"), default=False)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        ordering = ["target", "sort_order", "pk"]
        constraints = [
            # Keys are unique per contact kind, and per relationship type.
            models.UniqueConstraint(
                fields=["target", "key"],
                condition=models.Q(relationship_type__isnull=True),
                name="wagtail_crm_customfield_contact_key",
            ),
            models.UniqueConstraint(
                fields=["relationship_type", "key"],
                condition=models.Q(relationship_type__isnull=False),
                name="wagtail_crm_customfield_type_key",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(target="relationship", relationship_type__isnull=False)
                    | (~models.Q(target="relationship") & models.Q(relationship_type__isnull=True))
                ),
                name="wagtail_crm_customfield_relationship_type",
                violation_error_message=_(
                    "Fields for relationships need a relationship type; other fields have none."
                ),
            ),
        ]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self):
        if self.relationship_type_id:
            return f"{self.label} ({self.relationship_type})"
        return f"{self.label} ({self.get_target_display()})"

    @property
    def choice_list(self):
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        # Checked here, where the excluded fields are known: a form without the relationship
        # type field gets the message on "applies to" instead of an error it cannot show.
        is_relationship = self.target == CustomFieldTarget.RELATIONSHIP
        field = "target" if exclude and "relationship_type" in exclude else "relationship_type"
        if is_relationship and not self.relationship_type_id:
            errors.setdefault(field, []).append(ValidationError(
                _("Choose the relationship type this field belongs to."),
                code="relationship_type_missing",
            ))
        elif not is_relationship and self.relationship_type_id:
            errors.setdefault(field, []).append(ValidationError(
                _("Only fields for relationships have a relationship type."),
                code="relationship_type_not_allowed",
            ))
        if errors:
            raise ValidationError(errors)

    def clean(self):
        if self.field_type in (CustomFieldType.CHOICE, CustomFieldType.MULTICHOICE):
            if not self.choice_list:
                raise ValidationError({"choices": _("A choice field needs at least one choice.")})

    def formfield(self, **kwargs):
        """A Django form field that edits this custom field's value."""
        options = {
            "label": self.label,
            "required": self.required,
            "help_text": self.help_text,
            **kwargs,
        }
        ftype = self.field_type
        if ftype == CustomFieldType.TEXTAREA:
            return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **options)
        if ftype == CustomFieldType.INTEGER:
            return forms.IntegerField(**options)
        if ftype == CustomFieldType.DECIMAL:
            return forms.DecimalField(max_digits=20, decimal_places=6, **options)
        if ftype == CustomFieldType.PERCENT:
            return forms.DecimalField(
                max_digits=9, decimal_places=4, min_value=0, max_value=100, **options
            )
        if ftype == CustomFieldType.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **options)
        if ftype == CustomFieldType.BOOLEAN:
            return forms.BooleanField(**options)
        if ftype == CustomFieldType.CHOICE:
            choices = [("", "---------")] + [(c, c) for c in self.choice_list]
            return forms.ChoiceField(choices=choices, **options)
        if ftype == CustomFieldType.MULTICHOICE:
            return forms.MultipleChoiceField(
                choices=[(c, c) for c in self.choice_list],
                widget=forms.CheckboxSelectMultiple,
                **options,
            )
        if ftype == CustomFieldType.EMAIL:
            return forms.EmailField(**options)
        if ftype == CustomFieldType.URL:
            return forms.URLField(**options)
        if ftype == CustomFieldType.PHONE:
            return PhoneNumberFormField(**options)
        return forms.CharField(max_length=1000, **options)

    def to_json(self, value):
        """Turn a cleaned form value into what is stored in the JSON field."""
        if value in (None, "", []):
            return None
        if isinstance(value, decimal.Decimal):
            return str(value)
        if isinstance(value, datetime.date):
            return value.isoformat()
        return value

    def from_json(self, value):
        """Turn a stored JSON value into the form field's initial value."""
        if value is None:
            return None
        if self.field_type == CustomFieldType.DATE and isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                return value
        return value


def clean_custom_values(definitions, values):
    """Validate and normalise custom field values against their definitions.

    Args:
        definitions: the CustomField definitions that apply.
        values: a mapping of key to raw value (strings from a form or an import, or stored JSON).

    Returns:
        A tuple ``(cleaned, errors)``: ``cleaned`` maps keys to JSON-ready values; ``errors``
        maps keys to lists of messages. Values for keys without a definition are kept as they are,
        so nothing is lost when a definition is removed.
    """
    values = dict(values or {})
    cleaned = {}
    errors = {}
    defined = set()
    for definition in definitions:
        defined.add(definition.key)
        field = definition.formfield()
        raw = values.get(definition.key)
        if definition.field_type == CustomFieldType.DATE:
            raw = raw if raw is None or isinstance(raw, datetime.date) else str(raw)
        if definition.field_type == CustomFieldType.MULTICHOICE and isinstance(raw, str):
            raw = [raw] if raw else []
        try:
            value = field.clean(raw)
        except ValidationError as error:
            errors[definition.key] = [f"{definition.label}: {m}" for m in error.messages]
            continue
        json_value = definition.to_json(value)
        if json_value is not None:
            cleaned[definition.key] = json_value
    for key, value in values.items():
        if key not in defined:
            cleaned[key] = value
    return cleaned, errors
