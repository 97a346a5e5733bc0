"""Relationships between contacts: types with roles, and relationships with participants.

A relationship type (employee of, department of, spouse of, sales opportunity) names its roles and
how many contacts of which kind play each. A relationship of that type lists its participants,
each with a role. Hierarchical types make trees: each of their relationships is one edge from the
contact in the parent role to the contact in the child role. The rules that read several rows
(cardinality, kinds, cycles, one primary employer) live in ``wagtail_crm.services.relationships``.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from .contacts import Contact
from .fields import CustomField, clean_custom_values
from .proxies import Organization, Person

#: Errors on a custom value are keyed by this prefix and the field's key, the names the
#: contact form gives its custom fields (``wagtail_crm.forms.contacts.CUSTOM_FIELD_PREFIX``).
CUSTOM_ERROR_PREFIX = "custom__"


class ParticipantKind(models.TextChoices):
    PERSON = "person", _("Person")
    ORGANIZATION = "organization", _("Organisation")
    ANY = "any", _("Person or organisation")


class TreePosition(models.TextChoices):
    PARENT = "parent", _("Parent (above in the tree)")
    CHILD = "child", _("Child (below in the tree)")


class RelationshipType(ClusterableModel):
    """A kind of relationship, with the roles its participants play."""

    name = models.CharField(_("name"), max_length=100)
    #: Stable identifier: seeded types are found by it ("employee-of", "sales-opportunity").
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    #: Every participant plays the same part (spouse of, sibling of): one role.
    is_symmetric = models.BooleanField(_("symmetric"), default=False)
    #: Each relationship is a tree edge from its parent role to its child role.
    is_hierarchical = models.BooleanField(_("hierarchical"), default=False)
    #: A relationship of this type marked primary sets the person's organisation (employment).
    sets_primary_organization = models.BooleanField(
        _("sets the person's organisation"),
        default=False,
        help_text=_(
            "A current relationship of this type marked primary makes the organisation in the "
            "parent role the person's organisation."
        ),
    )
    sort_order = models.IntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("relationship type")
        verbose_name_plural = _("relationship types")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        # Roles given in memory (an import, or a form's save(commit=False)) are checked here;
        # a form checks the roles of its inline formset by calling validate_roles() itself.
        if self.roles.is_deferring:
            self.validate_roles(list(self.roles.all()))

    def validate_roles(self, roles):
        """Check that ``roles`` (RelationshipRole objects, saved or not) suit this type.

        Raises:
            ValidationError: keyed by the type's fields (``is_symmetric``, ``is_hierarchical``,
                ``sets_primary_organization``) or non-field errors naming the role.
        """
        errors = {}

        def add(key, message, **params):
            errors.setdefault(key, []).append(ValidationError(message, params=params or None))

        if not roles:
            add(NON_FIELD_ERRORS, _("A relationship type needs at least one role."))
        if self.is_symmetric and len(roles) != 1:
            add("is_symmetric", _("A symmetric type has one role, which every participant plays."))
        if self.is_symmetric and self.is_hierarchical:
            add("is_hierarchical", _("A symmetric type cannot be hierarchical."))
        by_position = {position: [] for position in TreePosition.values}
        for role in roles:
            if role.tree_position:
                by_position[role.tree_position].append(role)
        if self.is_hierarchical:
            for position, label in TreePosition.choices:
                if len(by_position[position]) != 1:
                    add("is_hierarchical", _(
                        "A hierarchical type needs exactly one role in the position “%(position)s”."
                    ), position=label)
            for role in by_position[TreePosition.PARENT] + by_position[TreePosition.CHILD]:
                if role.min_participants != 1 or role.max_participants != 1:
                    add(NON_FIELD_ERRORS, _(
                        "“%(role)s” is an end of the tree edge: it takes exactly one participant."
                    ), role=role.name)
        else:
            for role in by_position[TreePosition.PARENT] + by_position[TreePosition.CHILD]:
                add(NON_FIELD_ERRORS, _(
                    "“%(role)s” has a tree position, but the type is not hierarchical."
                ), role=role.name)
        if self.sets_primary_organization:
            parents, children = by_position[TreePosition.PARENT], by_position[TreePosition.CHILD]
            if not (
                self.is_hierarchical and parents and children
                and parents[0].allowed_kind == ParticipantKind.ORGANIZATION
                and children[0].allowed_kind == ParticipantKind.PERSON
            ):
                add("sets_primary_organization", _(
                    "Only a hierarchical type with a person below an organisation can set "
                    "the person's organisation."
                ))
        names = [role.name.strip().casefold() for role in roles]
        if len(set(names)) != len(names):
            add(NON_FIELD_ERRORS, _("Give each role of a type its own name."))
        if errors:
            raise ValidationError(errors)


class RelationshipRole(Orderable):
    """A part that contacts play in relationships of one type (employee, employer, spouse)."""

    type = ParentalKey(RelationshipType, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(_("name"), max_length=100)
    #: Stable identifier within the type ("employee", "employer").
    slug = models.SlugField(_("slug"), max_length=100)
    allowed_kind = models.CharField(
        _("who may play it"), max_length=20, choices=ParticipantKind.choices,
        default=ParticipantKind.ANY,
    )
    min_participants = models.PositiveSmallIntegerField(_("at least"), default=1)
    #: Empty for no upper limit.
    max_participants = models.PositiveSmallIntegerField(
        _("at most"), null=True, blank=True, default=1, help_text=_("Leave empty for no limit.")
    )
    #: For hierarchical types: which end of the tree edge this role is.
    tree_position = models.CharField(
        _("position in the tree"), max_length=10, choices=TreePosition.choices, blank=True
    )

    class Meta(Orderable.Meta):
        verbose_name = _("relationship role")
        verbose_name_plural = _("relationship roles")
        constraints = [
            models.UniqueConstraint(fields=["type", "slug"], name="wagtail_crm_role_slug"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.max_participants is not None:
            if self.max_participants < 1:
                raise ValidationError({"max_participants": _("Allow at least one participant.")})
            if self.max_participants < self.min_participants:
                raise ValidationError({"max_participants": _(
                    "The most participants cannot be fewer than the fewest (%(min)s)."
                ) % {"min": self.min_participants}})

    def accepts(self, contact):
        """Whether ``contact``'s kind may play this role."""
        return self.allowed_kind == ParticipantKind.ANY or contact.kind == self.allowed_kind


class RelationshipStatus(models.TextChoices):
    """Where a relationship stands on a day, from its start and end dates."""

    UPCOMING = "upcoming", _("Upcoming")
    ACTIVE = "active", _("Active")
    PAST = "past", _("Past")


class RelationshipQuerySet(models.QuerySet):
    def active(self, on=None):
        """Relationships under way on ``on`` (default today): started, and not ended before."""
        on = on or timezone.localdate()
        return self.filter(
            models.Q(start_date__isnull=True) | models.Q(start_date__lte=on)
        ).not_ended(on)

    def upcoming(self, on=None):
        """Relationships that start after ``on`` (default today)."""
        return self.filter(start_date__gt=on or timezone.localdate())

    def past(self, on=None):
        """Relationships that ended before ``on`` (default today)."""
        return self.filter(end_date__lt=on or timezone.localdate())

    def not_ended(self, on=None):
        """Active and upcoming relationships: no end date, or one on or after ``on``."""
        on = on or timezone.localdate()
        return self.filter(models.Q(end_date__isnull=True) | models.Q(end_date__gte=on))

    def with_status(self, status, on=None):
        """Relationships in a :class:`RelationshipStatus` on ``on``."""
        return {
            RelationshipStatus.ACTIVE: self.active,
            RelationshipStatus.UPCOMING: self.upcoming,
            RelationshipStatus.PAST: self.past,
        }[status](on)

    def involving(self, contact):
        """Relationships in which ``contact`` (an instance or id) takes part."""
        return self.filter(
            pk__in=RelationshipParticipant.objects.filter(contact=contact).values("relationship")
        )

    def of_type(self, relationship_type):
        """Relationships of a type given as an instance, an id or a slug."""
        if isinstance(relationship_type, str):
            return self.filter(type__slug=relationship_type)
        return self.filter(type=relationship_type)


class Relationship(ClusterableModel):
    """A relationship of one type between its participants."""

    type = models.ForeignKey(
        RelationshipType, verbose_name=_("type"), on_delete=models.PROTECT,
        related_name="relationships",
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    #: Ended relationships stay, shown as past.
    end_date = models.DateField(_("end date"), null=True, blank=True)
    #: For an opportunity, its description.
    description = models.TextField(_("description"), blank=True)
    #: Values of the type's custom fields, validated in clean().
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    #: For types that set the person's organisation: this is the person's main employment.
    is_primary = models.BooleanField(
        _("primary"), default=False,
        help_text=_("The person's main employer: shown as their organisation."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RelationshipQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "pk"]
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")

    def __str__(self):
        # No participant names: Wagtail shows this in titles, breadcrumbs and the audit log to
        # users who may not see every participant (the admin names the visible ones itself).
        type_name = self.type.name if self.type_id else _("Relationship")
        return f"{type_name} #{self.pk}" if self.pk else str(type_name)

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        instance = super().from_db(db, field_names, values, *args, **kwargs)
        #: The stored type, so that changing it away from employment still syncs.
        instance._loaded_type_id = instance.__dict__.get("type_id")
        return instance

    def status(self, on=None):
        """The :class:`RelationshipStatus` on ``on`` (default today)."""
        on = on or timezone.localdate()
        if self.end_date is not None and self.end_date < on:
            return RelationshipStatus.PAST
        if self.start_date is not None and self.start_date > on:
            return RelationshipStatus.UPCOMING
        return RelationshipStatus.ACTIVE

    def is_active(self, on=None):
        """Whether the relationship has started and not ended on ``on`` (default today)."""
        return self.status(on) == RelationshipStatus.ACTIVE

    def has_ended(self, on=None):
        """Whether the relationship ended before ``on`` (default today)."""
        return self.status(on) == RelationshipStatus.PAST

    def custom_field_definitions(self):
        if not self.type_id:
            return []
        return list(CustomField.objects.for_relationship_type(self.type_id))

    def field_errors(self):
        """Errors of the relationship's own fields, as a dict of lists of ValidationErrors.

        Normalises ``custom`` when its values are valid. Errors on custom values are keyed
        ``custom__<key>`` (see :data:`CUSTOM_ERROR_PREFIX`).
        """
        errors = {}
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = [ValidationError(
                _("The end date cannot be before the start date (%(start)s)."),
                code="end_before_start", params={"start": self.start_date.isoformat()},
            )]
        if self.is_primary and self.type_id and not self.type.sets_primary_organization:
            errors["is_primary"] = [ValidationError(_(
                "Only relationships that set a person's organisation, such as Employee of, "
                "can be primary."
            ), code="primary_not_allowed")]
        cleaned, custom_errors = clean_custom_values(self.custom_field_definitions(), self.custom)
        for key, messages in custom_errors.items():
            errors[CUSTOM_ERROR_PREFIX + key] = [
                ValidationError("%(message)s", code="invalid_custom", params={"message": m})
                for m in messages
            ]
        if not custom_errors:
            self.custom = cleaned
        return errors

    def clean(self):
        """Validate the fields and, when given in memory, the participants.

        Participants assigned in memory (``Relationship(participants=[...])``, an import, a
        form's ``save(commit=False)``) are checked with the rest; an admin form checks its
        inline formset's participants by calling
        :func:`wagtail_crm.services.relationships.validate_relationship` itself.
        """
        super().clean()
        from ..services.relationships import validate_relationship

        if self.type_id and self.participants.is_deferring:
            validate_relationship(self, list(self.participants.all()))
            return
        errors = self.field_errors()
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        from ..services.relationships import sync_primary_organizations

        with transaction.atomic():
            super().save(*args, **kwargs)
            loaded_type_id = getattr(self, "_loaded_type_id", None)
            sync_primary_organizations(self, previous_type_id=loaded_type_id)
            self._loaded_type_id = self.type_id


class RelationshipParticipant(Orderable):
    """A contact taking part in a relationship, in one of its type's roles."""

    relationship = ParentalKey(
        Relationship, on_delete=models.CASCADE, related_name="participants", db_index=False
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
        related_name="relationship_participations", db_index=False,
    )
    role = models.ForeignKey(
        RelationshipRole, verbose_name=_("role"), on_delete=models.PROTECT,
        related_name="participants",
    )

    class Meta(Orderable.Meta):
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        indexes = [
            # A contact's relationships, by role: the tree queries' step from a contact
            # (covering: the relationship id is read from the index).
            models.Index(
                fields=["contact", "role", "relationship"], name="crm_participant_contact"
            ),
            # The other participants of a relationship, by role.
            models.Index(
                fields=["relationship", "role", "contact"], name="crm_participant_relation"
            ),
        ]

    def __str__(self):
        return f"{self.contact} ({self.role})"


# A participant removed from an employment (or deleted with its relationship or contact) may
# leave a person's organisation pointing at a past employer: recompute it after the delete.


@receiver(pre_delete, sender=RelationshipParticipant)
def remember_employment(sender, instance, **kwargs):
    from ..services.relationships import employment_ends

    instance._employment_ends = employment_ends(instance.relationship_id)


@receiver(post_delete, sender=RelationshipParticipant)
def release_employment(sender, instance, **kwargs):
    from ..services.relationships import sync_primary_organization

    people, organizations = getattr(instance, "_employment_ends", ((), ()))
    for person_id in people:
        sync_primary_organization(person_id, released=organizations)


def delete_relationships_needing(sender, instance, **kwargs):
    """Deleting a contact for good deletes the relationships that cannot stand without it.

    They are logged as deleted in the audit log; the contact's other relationships keep their
    remaining participants.
    """
    from wagtail.log_actions import log

    from ..services.relationships import relationships_needing

    ids = relationships_needing(instance)
    if not ids:
        return
    for relationship in Relationship.objects.filter(pk__in=ids).select_related("type"):
        log(relationship, "wagtail.delete")
        relationship.delete()


for _model in (Contact, Person, Organization):
    pre_delete.connect(delete_relationships_needing, sender=_model,
                       dispatch_uid=f"crm_relationships_needing_{_model.__name__}")
