from django.db import DatabaseError, models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from ..conf import crm_settings
from ..forms.settings import CRMSettingsForm

#: Listing columns that can be shown for people and organisations (custom fields are added).
DEFAULT_PERSON_COLUMNS = [
    "display_name",
    "primary_email",
    "primary_phone",
    "primary_organization",
    "city",
    "country",
    "tags",
]
DEFAULT_ORGANIZATION_COLUMNS = [
    "display_name",
    "organization_type",
    "primary_email",
    "primary_phone",
    "city",
    "country",
    "tags",
]


def default_person_columns():
    return list(DEFAULT_PERSON_COLUMNS)


def default_organization_columns():
    return list(DEFAULT_ORGANIZATION_COLUMNS)


class PhoneDisplayFormat(models.TextChoices):
    INTERNATIONAL = "international", _("International (+44 20 7946 0000)")
    NATIONAL = "national", _("National (020 7946 0000)")
    E164 = "e164", _("E.164 (+442079460000)")


@register_setting(icon="group")
class CRMSettings(BaseGenericSetting):
    """Preferences of the CRM, edited under Settings > CRM in the Wagtail admin."""

    base_form_class = CRMSettingsForm

    items_per_page = models.PositiveIntegerField(
        _("items per page"), default=50, help_text=_("Rows per page in contact listings.")
    )
    person_columns = models.JSONField(
        _("people listing columns"), default=default_person_columns, blank=True
    )
    organization_columns = models.JSONField(
        _("organisations listing columns"), default=default_organization_columns, blank=True
    )
    default_phone_region = CountryField(
        _("default phone region"),
        default="GB",
        help_text=_(
            "Phone numbers entered without +country code are read as numbers of this country."
        ),
    )
    phone_display_format = models.CharField(
        _("phone display format"),
        max_length=20,
        choices=PhoneDisplayFormat.choices,
        default=PhoneDisplayFormat.INTERNATIONAL,
    )
    countries_first = models.CharField(
        _("countries listed first"),
        max_length=255,
        blank=True,
        help_text=_("Country codes shown at the top of country lists, comma separated: GB, IE"),
    )
    click_to_call_template = models.CharField(
        _("click-to-call URL"),
        max_length=255,
        blank=True,
        help_text=_(
            "When set, phone numbers link here instead of tel:. "
            "Placeholders: {e164}, {digits}, {value}."
        ),
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("items_per_page"), FieldPanel("person_columns"),
             FieldPanel("organization_columns")],
            heading=_("Listings"),
        ),
        MultiFieldPanel(
            [FieldPanel("default_phone_region"), FieldPanel("phone_display_format"),
             FieldPanel("click_to_call_template"), FieldPanel("countries_first")],
            heading=_("Phones and addresses"),
        ),
    ]

    class Meta:
        verbose_name = _("CRM settings")

    @classmethod
    def get_phone_region(cls):
        """The default phone region, falling back to WAGTAIL_CRM_FALLBACK_PHONE_REGION."""
        try:
            region = cls.load().default_phone_region
        except DatabaseError:
            region = None
        return str(region or crm_settings.FALLBACK_PHONE_REGION)

    @property
    def countries_first_list(self):
        return [c.strip().upper() for c in self.countries_first.split(",") if c.strip()]
