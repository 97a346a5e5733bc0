"""Support tickets: a requester's question, its thread of messages and the time spent on it.

Closing a ticket charges its billable time to a credit account exactly once; that, and every
other change of status, goes through ``wagtail_crm.services.tickets``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.models import TaggedItemBase
from wagtail.documents import get_document_model_string

from .contacts import Contact
from .folders import Folder


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


#: Statuses of tickets still being worked on (they can be overdue).
ACTIVE_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class TicketPriority(models.IntegerChoices):
    HIGHEST = 5, _("5 (high)")
    HIGH = 4, _("4")
    NORMAL = 3, _("3")
    LOW = 2, _("2")
    LOWEST = 1, _("1 (low)")


class TicketChannel(models.TextChoices):
    ADMIN = "admin", _("Admin")
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("Email")


class TicketSequence(models.Model):
    """The last ticket number given out in one year: references are T-<year>-<number>."""

    year = models.PositiveIntegerField(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("ticket sequence")

    def __str__(self):
        return f"{self.year}: {self.last_number}"

    @classmethod
    def next_reference(cls, year):
        """Take the next number of ``year`` and return its reference ("T-2026-00042").

        Call inside a transaction (Ticket.save does): the UPDATE locks the year's row until
        the ticket is saved and the transaction commits, so concurrent tickets wait for each
        other and no number is given twice. A ticket that fails to save rolls its number back.
        """
        counter = cls.objects.filter(year=year)
        if not counter.update(last_number=models.F("last_number") + 1):
            try:
                with transaction.atomic():
                    cls.objects.create(year=year, last_number=1)
            except IntegrityError:
                # Another transaction created the year's row first: take a number after it.
                counter.update(last_number=models.F("last_number") + 1)
        number = counter.values_list("last_number", flat=True).get()
        return f"T-{year}-{number:05d}"


class TicketTag(TaggedItemBase):
    content_object = ParentalKey("Ticket", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        verbose_name = _("ticket tag")


class Ticket(ClusterableModel):
    """A question or request from a contact, worked on by CRM users."""

    reference = models.CharField(_("reference"), max_length=32, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        choices=TicketPriority.choices,
        default=TicketPriority.NORMAL,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    #: Changed through services.tickets (closing charges the time spent).
    status = models.CharField(
        _("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    requester = models.ForeignKey(
        Contact, verbose_name=_("requester"), on_delete=models.PROTECT, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_assigned_tickets",
    )
    #: Decides who sees the ticket (folder access); the requester's folder when left empty.
    folder = models.ForeignKey(
        Folder,
        verbose_name=_("folder"),
        on_delete=models.PROTECT,
        related_name="tickets",
        blank=True,
    )
    channel = models.CharField(
        _("channel"), max_length=20, choices=TicketChannel.choices, default=TicketChannel.ADMIN
    )
    tags = ClusterTaggableManager(through=TicketTag, blank=True, verbose_name=_("tags"))
    #: When the ticket should be resolved by; a new, open or pending ticket past it is overdue.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            # The listing's default order, and its status, folder and assignee filters.
            models.Index(fields=["status", "-updated_at"], name="crm_ticket_status"),
            models.Index(fields=["folder", "status", "-updated_at"], name="crm_ticket_folder"),
            models.Index(fields=["assignee", "status"], name="crm_ticket_assignee"),
            models.Index(fields=["priority", "status"], name="crm_ticket_priority"),
            models.Index(fields=["-updated_at", "-id"], name="crm_ticket_updated"),
            # Overdue: active tickets by due date.
            models.Index(
                fields=["due_at"],
                condition=models.Q(status__in=ACTIVE_STATUSES, due_at__isnull=False),
                name="crm_ticket_due",
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.subject}" if self.reference else self.subject

    @property
    def is_closed(self):
        return self.status == TicketStatus.CLOSED

    @property
    def is_overdue(self):
        return (
            self.status in ACTIVE_STATUSES
            and self.due_at is not None
            and self.due_at < timezone.now()
        )

    def clean(self):
        super().clean()
        if self.requester_id and not self.folder_id:
            self.folder_id = self.requester.folder_id

    def save(self, *args, **kwargs):
        if not self.folder_id and self.requester_id:
            self.folder_id = self.requester.folder_id
        if self.reference:
            return super().save(*args, **kwargs)
        with transaction.atomic():
            self.reference = TicketSequence.next_reference(timezone.localdate().year)
            return super().save(*args, **kwargs)

    def billable_minutes(self, uncharged_only=False):
        """Billable minutes logged on the ticket (only those not yet charged, if asked)."""
        entries = self.time_entries.filter(billable=True)
        if uncharged_only:
            entries = entries.filter(charged_in__isnull=True)
        return entries.aggregate(total=models.Sum("minutes"))["total"] or 0


class TicketMessage(models.Model):
    """A public reply (the requester sees it) or an internal note (CRM users only)."""

    ticket = ParentalKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("message"))
    is_internal = models.BooleanField(
        _("internal note"),
        default=False,
        help_text=_("Internal notes are not shown to the requester."),
    )
    attachments = models.ManyToManyField(
        get_document_model_string(), verbose_name=_("attachments"), blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        indexes = [models.Index(fields=["ticket", "created_at"], name="crm_ticket_message")]

    def __str__(self):
        return self.body[:60]


class TimeEntry(models.Model):
    """Minutes spent on a ticket. Billable minutes are charged when the ticket closes."""

    ticket = ParentalKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_time_entries",
    )
    minutes = models.PositiveIntegerField(_("minutes"), validators=[MinValueValidator(1)])
    note = models.CharField(_("note"), max_length=255, blank=True)
    billable = models.BooleanField(_("billable"), default=True)
    spent_on = models.DateField(_("date"), default=timezone.localdate)
    #: The ticket charge that took these minutes; set once, when the ticket closes.
    charged_in = models.ForeignKey(
        "wagtail_crm.CreditTransaction",
        verbose_name=_("charged in"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="time_entries",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["spent_on", "pk"]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")
        indexes = [
            # What closing a ticket sums: billable minutes not yet charged.
            models.Index(
                fields=["ticket"],
                condition=models.Q(billable=True, charged_in__isnull=True),
                name="crm_time_uncharged",
            ),
            models.Index(fields=["user", "spent_on"], name="crm_time_user"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="crm_time_minutes"),
        ]

    def __str__(self):
        return f"{self.minutes} min"

    def clean(self):
        super().clean()
        if self.pk and self.charged_in_id:
            stored = type(self).objects.filter(pk=self.pk).values("minutes", "billable").first()
            if stored and (stored["minutes"], stored["billable"]) != (self.minutes, self.billable):
                raise ValidationError(_("This time has been charged and cannot be changed."))
