"""People and organisations, with their addresses and contact methods."""

import re
import uuid
from urllib.parse import quote, urlsplit

from anyascii import anyascii
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.models import TaggedItemBase
from wagtail.images import get_image_model_string
from wagtail.models import RevisionMixin
from wagtail.search import index

from ..phones import format_phone, normalize_phone
from .fields import CustomField, clean_custom_values
from .folders import Folder

#: Schemes a web-address method may use.
SAFE_URL_SCHEMES = {"http", "https"}
#: Schemes a method link is never allowed to have.
UNSAFE_LINK_SCHEMES = {"javascript", "data", "vbscript"}


class ContactKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANIZATION = "organization", _("Organisation")


class OrganizationType(models.TextChoices):
    COMPANY = "company", _("Company")
    SCHOOL = "school", _("School")
    FAMILY = "family", _("Family")
    DEPARTMENT = "department", _("Department")
    OTHER = "other", _("Other")


class ContactQuerySet(models.QuerySet):
    def people(self):
        return self.filter(kind=ContactKind.PERSON)

    def organizations(self):
        return self.filter(kind=ContactKind.ORGANIZATION)

    def live(self):
        return self.filter(deleted_at__isnull=True)

    def trashed(self):
        return self.filter(deleted_at__isnull=False)


class LiveContactManager(models.Manager.from_queryset(ContactQuerySet)):
    """Contacts that are not in the trash (the default manager)."""

    kind = None

    def get_queryset(self):
        queryset = super().get_queryset().filter(deleted_at__isnull=True)
        if self.kind:
            queryset = queryset.filter(kind=self.kind)
        return queryset


class AllContactManager(models.Manager.from_queryset(ContactQuerySet)):
    """Every contact, including those in the trash."""


class ContactTag(TaggedItemBase):
    content_object = ParentalKey("Contact", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        verbose_name = _("contact tag")


class Contact(RevisionMixin, index.Indexed, ClusterableModel):
    """A person or an organisation."""

    kind = models.CharField(
        _("kind"), max_length=20, choices=ContactKind.choices, default=ContactKind.PERSON
    )

    # Person names (vCard N and NICKNAME).
    prefix = models.CharField(_("prefix"), max_length=50, blank=True)
    given_name = models.CharField(_("given name"), max_length=150, blank=True)
    additional_names = models.CharField(_("additional names"), max_length=150, blank=True)
    family_name = models.CharField(_("family name"), max_length=150, blank=True)
    suffix = models.CharField(_("suffix"), max_length=50, blank=True)
    nickname = models.CharField(_("nickname"), max_length=100, blank=True)

    # Organisation.
    organization_name = models.CharField(_("organisation name"), max_length=255, blank=True)
    organization_type = models.CharField(
        _("organisation type"), max_length=20, choices=OrganizationType.choices, blank=True
    )

    #: Computed on save from the names: shown in listings and used in search.
    display_name = models.CharField(_("name"), max_length=255, editable=False)
    #: Computed on save: an ASCII, case-folded key ("family given") for sorting.
    sort_name = models.CharField(_("sort name"), max_length=255, editable=False)

    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    #: The sticky note shown at the top of the contact page.
    notes = models.TextField(_("notes"), blank=True)
    photo = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("photo"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    tags = ClusterTaggableManager(through=ContactTag, blank=True, verbose_name=_("tags"))
    folder = models.ForeignKey(
        Folder, verbose_name=_("folder"), on_delete=models.PROTECT, related_name="contacts"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_owned_contacts",
    )
    #: The contact's own login, for the members' site.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_contact",
    )
    primary_organization = models.ForeignKey(
        "self",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="primary_people",
        limit_choices_to={"kind": ContactKind.ORGANIZATION},
    )

    # Kept in step with the addresses and methods on save, for fast listings.
    primary_email = models.CharField(_("email"), max_length=254, blank=True, editable=False)
    primary_phone = models.CharField(_("phone"), max_length=32, blank=True, editable=False)
    city = models.CharField(_("city"), max_length=150, blank=True, editable=False)
    country = CountryField(_("country"), blank=True, editable=False)

    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    uid = models.CharField(
        _("UID"), max_length=255, unique=True, default=uuid.uuid4, editable=False,
        help_text=_("Stable identifier shared with other systems (vCard UID)."),
    )
    do_not_email = models.BooleanField(_("do not email"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    deleted_at = models.DateTimeField(_("moved to trash"), null=True, blank=True, editable=False)

    objects = LiveContactManager()
    all_objects = AllContactManager()

    search_fields = [
        index.SearchField("display_name", boost=3),
        index.AutocompleteField("display_name"),
        index.SearchField("organization_name"),
        index.AutocompleteField("organization_name"),
        index.SearchField("nickname"),
        index.SearchField("job_title"),
        index.SearchField("method_values"),
        index.AutocompleteField("method_values"),
        index.SearchField("organization_label"),
        index.AutocompleteField("organization_label"),
        index.SearchField("custom_search_text"),
        index.FilterField("id"),
        index.FilterField("kind"),
        index.FilterField("folder"),
        index.FilterField("country"),
        index.FilterField("primary_email"),
        index.FilterField("primary_phone"),
        index.FilterField("primary_organization"),
        index.FilterField("deleted_at"),
        index.FilterField("display_name"),
        index.FilterField("sort_name"),
        index.FilterField("city"),
        index.FilterField("organization_type"),
        index.FilterField("created_at"),
        index.FilterField("updated_at"),
    ]

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(
                fields=["kind", "sort_name", "id"],
                condition=models.Q(deleted_at__isnull=True),
                name="crm_contact_live_sort",
            ),
            # The trash listing (the live contacts' partial indexes also serve their counts).
            models.Index(
                fields=["deleted_at"],
                condition=models.Q(deleted_at__isnull=False),
                name="crm_contact_trash",
            ),
            models.Index(fields=["primary_email"], name="crm_contact_primary_email"),
            # Listings filtered by folder (and users who see some folders only), by country.
            models.Index(
                fields=["folder", "kind", "sort_name", "id"],
                condition=models.Q(deleted_at__isnull=True),
                name="crm_contact_live_folder",
            ),
            models.Index(
                fields=["kind", "country", "sort_name", "id"],
                condition=models.Q(deleted_at__isnull=True),
                name="crm_contact_live_country",
            ),
        ]

    def __str__(self):
        return self.display_name or str(_("(unnamed contact)"))

    # Names -----------------------------------------------------------------

    @property
    def is_person(self):
        return self.kind == ContactKind.PERSON

    @property
    def is_organization(self):
        return self.kind == ContactKind.ORGANIZATION

    def compute_names(self):
        """Set ``display_name`` and ``sort_name`` from the name fields."""
        if self.is_organization:
            display = self.organization_name.strip()
            sort = display
        else:
            parts = [self.prefix, self.given_name, self.additional_names, self.family_name]
            display = " ".join(p.strip() for p in parts if p and p.strip())
            if self.suffix.strip():
                display = f"{display}, {self.suffix.strip()}" if display else self.suffix.strip()
            if not display:
                display = self.nickname.strip()
            sort = " ".join(
                p.strip()
                for p in (self.family_name, self.given_name, self.additional_names)
                if p and p.strip()
            ) or display
        self.display_name = display[:255]
        self.sort_name = anyascii(sort).casefold()[:255]

    # Validation ------------------------------------------------------------

    def custom_field_definitions(self):
        return list(CustomField.objects.for_target(self.kind))

    def clean(self):
        super().clean()
        errors = {}
        if self.is_person:
            if not any(
                (v or "").strip()
                for v in (self.given_name, self.family_name, self.nickname)
            ):
                errors["family_name"] = _(
                    "Give a person at least a given name, family name or nickname."
                )
            if self.primary_organization_id and self.primary_organization_id == self.pk:
                errors["primary_organization"] = _("A contact cannot be its own organisation.")
        else:
            if not self.organization_name.strip():
                errors["organization_name"] = _("An organisation needs a name.")
            if self.primary_organization_id:
                errors["primary_organization"] = _("Only people have a primary organisation.")
        organization = self.primary_organization if self.primary_organization_id else None
        if organization and organization.kind != ContactKind.ORGANIZATION:
            errors["primary_organization"] = _("Choose an organisation, not a person.")
        cleaned, custom_errors = clean_custom_values(self.custom_field_definitions(), self.custom)
        if custom_errors:
            errors["custom"] = [m for messages in custom_errors.values() for m in messages]
        else:
            self.custom = cleaned
        if errors:
            raise ValidationError(errors)

    # Saving ----------------------------------------------------------------

    def save(self, *args, **kwargs):
        self.compute_names()
        if not self.folder_id:
            self.folder = Folder.get_default()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = set(update_fields) | {"display_name", "sort_name"}
        self._saving_cluster = True
        try:
            super().save(*args, **kwargs)
        finally:
            self._saving_cluster = False
        if update_fields is None:
            self.refresh_primaries()

    def refresh_primaries(self):
        """Copy the primary email, phone, city and country onto the contact, for listings."""
        methods = list(
            self.methods.all().select_related("type").order_by("-is_primary", "sort_order", "pk")
        )
        email = next((m.normalized for m in methods if m.type.scheme == "email"), "")
        phone = next((m.normalized for m in methods if m.type.scheme == "phone"), "")
        address = self.addresses.all().order_by("-is_primary", "sort_order", "pk").first()
        values = {
            "primary_email": email,
            "primary_phone": phone,
            "city": address.locality if address else "",
            "country": address.country.code if address and address.country else "",
        }
        changed = {k: v for k, v in values.items() if getattr(self, k) != v}
        if changed:
            for key, value in changed.items():
                setattr(self, key, value)
            type(self).all_objects.filter(pk=self.pk).update(**changed)

    # Trash -----------------------------------------------------------------

    @property
    def in_trash(self):
        return self.deleted_at is not None

    def move_to_trash(self):
        index.remove_object(self)
        self.deleted_at = timezone.now()
        type(self).all_objects.filter(pk=self.pk).update(deleted_at=self.deleted_at)

    def restore(self):
        self.deleted_at = None
        type(self).all_objects.filter(pk=self.pk).update(deleted_at=None)
        index.insert_or_update_object(self)

    def get_indexed_instance(self):
        # Contacts in the trash are left out of the search index.
        return None if self.in_trash else self

    # Search helpers --------------------------------------------------------

    def method_values(self):
        return " ".join(m.search_text() for m in self.methods.all())

    def organization_label(self):
        return self.primary_organization.display_name if self.primary_organization_id else ""

    def custom_search_text(self):
        keys = getattr(self, "_searchable_keys", None)
        if keys is None:
            keys = searchable_custom_keys()
        values = self.custom or {}
        return " ".join(
            str(values[k]) for k in keys.get(self.kind, ()) if values.get(k) not in (None, "")
        )

    @classmethod
    def get_indexed_objects(cls):
        # Everything the search fields read, in a fixed number of queries per batch.
        return (
            cls.objects.select_related("primary_organization")
            .prefetch_related(
                models.Prefetch("methods", queryset=ContactMethod.objects.select_related("type"))
            )
            .annotate(
                _searchable_keys=models.Value(searchable_custom_keys(), models.JSONField())
            )
        )


def searchable_custom_keys():
    """The keys of searchable custom fields, by contact kind."""
    keys = {}
    for target, key in CustomField.objects.filter(searchable=True).values_list("target", "key"):
        keys.setdefault(target, []).append(key)
    return keys


class Address(models.Model):
    """A postal address of a contact (vCard ADR)."""

    contact = ParentalKey(Contact, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(
        _("label"), max_length=50, default="home", blank=True,
        help_text=_("home, work, other, or your own word"),
    )
    street = models.CharField(_("street"), max_length=255, blank=True)
    extended = models.CharField(_("extended address"), max_length=255, blank=True)
    po_box = models.CharField(_("PO box"), max_length=50, blank=True)
    locality = models.CharField(_("city"), max_length=150, blank=True)
    region = models.CharField(_("region"), max_length=150, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=30, blank=True)
    country = CountryField(_("country"), blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    sort_order = models.IntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-is_primary", "sort_order", "pk"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")

    def __str__(self):
        return ", ".join(self.lines()) or str(_("(empty address)"))

    def lines(self):
        city_line = " ".join(p for p in (self.postal_code, self.locality) if p)
        parts = [self.po_box, self.street, self.extended, city_line, self.region,
                 self.country.name if self.country else ""]
        return [p for p in parts if p]

    def clean(self):
        if not any((self.street, self.extended, self.po_box, self.locality, self.postal_code,
                    self.region, self.country)):
            raise ValidationError(_("An address needs at least one filled-in line."))


class MethodScheme(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    URL = "url", _("Web address")
    HANDLE = "handle", _("Handle / user name")


class ContactMethodType(models.Model):
    """A kind of contact method defined by the admin: email, phone, website, social handle."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    scheme = models.CharField(_("scheme"), max_length=20, choices=MethodScheme.choices)
    link_template = models.CharField(
        _("link template"),
        max_length=255,
        blank=True,
        help_text=_(
            "How a value becomes a link, e.g. mailto:{value}, tel:{e164}, "
            "https://example.social/@{value}. Placeholders: {value}, {e164}, {digits}."
        ),
    )
    vcard_property = models.CharField(
        _("vCard property"), max_length=50, blank=True,
        help_text=_("EMAIL, TEL, URL, IMPP or an X- property"),
    )
    vcard_type = models.CharField(
        _("vCard TYPE"), max_length=50, blank=True, help_text=_("e.g. cell, fax, work")
    )
    icon = models.CharField(_("icon"), max_length=50, default="link")
    sort_order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("contact method type")
        verbose_name_plural = _("contact method types")

    def __str__(self):
        return self.name


class ContactMethod(models.Model):
    """An email address, phone number, web address or handle of a contact."""

    contact = ParentalKey(Contact, on_delete=models.CASCADE, related_name="methods")
    type = models.ForeignKey(
        ContactMethodType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="methods"
    )
    value = models.CharField(_("value"), max_length=255, help_text=_("As entered"))
    #: Lower-cased email or E.164 phone: what matching and the primaries use.
    normalized = models.CharField(_("normalised"), max_length=255, blank=True, editable=False)
    label = models.CharField(_("label"), max_length=50, blank=True,
                             help_text=_("e.g. work, home, mobile"))
    is_primary = models.BooleanField(_("primary"), default=False)
    sort_order = models.IntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-is_primary", "sort_order", "pk"]
        indexes = [models.Index(fields=["normalized"], name="crm_method_normalized")]
        verbose_name = _("contact method")
        verbose_name_plural = _("contact methods")

    def __str__(self):
        return self.value

    def save(self, *args, **kwargs):
        # Always re-derive ``normalized``: the value may have changed since it was set.
        if self.type_id:
            self.normalize()
        super().save(*args, **kwargs)

    def clean(self):
        if self.type_id:
            self.normalize()

    @property
    def scheme(self):
        return self.type.scheme if self.type_id else ""

    def normalize(self, phone_region=None):
        """Validate ``value`` for the type's scheme and set ``normalized``.

        Raises:
            ValidationError: on ``value``, saying why the value does not fit the scheme.
        """
        value = (self.value or "").strip()
        self.value = value
        if not value:
            raise ValidationError({"value": _("Enter a value.")})
        scheme = self.scheme
        if scheme == MethodScheme.EMAIL:
            try:
                validate_email(value)
            except ValidationError as error:
                raise ValidationError(
                    {"value": _("'%(value)s' is not a valid email address.") % {"value": value}}
                ) from error
            self.normalized = value.lower()
        elif scheme == MethodScheme.PHONE:
            if phone_region is None:
                from .preferences import CRMSettings

                phone_region = CRMSettings.get_phone_region()
            try:
                self.normalized = normalize_phone(value, phone_region)
            except ValidationError as error:
                raise ValidationError({"value": error.messages}) from error
        elif scheme == MethodScheme.URL:
            if "://" not in value:
                value = f"https://{value}"
            if urlsplit(value).scheme.lower() not in SAFE_URL_SCHEMES:
                raise ValidationError(
                    {"value": _("'%(value)s' is not a web address: use http:// or https://.")
                     % {"value": value}}
                )
            self.value = value
            self.normalized = value
        else:
            self.normalized = value.lstrip("@").lower()

    def display_value(self, display_format="international"):
        if self.scheme == MethodScheme.PHONE and self.normalized:
            return format_phone(self.normalized, display_format)
        return self.value

    def link(self, click_to_call_template=""):
        """The URL this method opens: from the type's template (or the click-to-call setting)."""
        template = self.type.link_template
        if self.scheme == MethodScheme.PHONE and click_to_call_template:
            template = click_to_call_template
        if not template:
            return ""
        e164 = self.normalized if self.scheme == MethodScheme.PHONE else ""
        is_url = self.scheme == MethodScheme.URL
        values = {
            "value": self.value if is_url else quote(self.value, safe="@+:/."),
            "e164": e164,
            "digits": e164.lstrip("+"),
        }
        try:
            link = template.format_map(values)
        except (KeyError, IndexError, ValueError):
            return ""
        # Never hand a script URL to a browser, whatever the template or value holds.
        visible = "".join(c for c in link if c > " ")
        if urlsplit(visible).scheme.lower() in UNSAFE_LINK_SCHEMES:
            return ""
        return link

    def search_text(self):
        parts = [self.value, self.normalized]
        if self.scheme == MethodScheme.PHONE and self.normalized:
            parts.append(format_phone(self.normalized, "national").replace(" ", ""))
        elif self.scheme in (MethodScheme.EMAIL, MethodScheme.URL):
            # PostgreSQL's parser keeps an address as one token; its parts make "hank@glob" match.
            parts.append(re.sub(r"\W+", " ", self.value))
        return " ".join(p for p in parts if p)
