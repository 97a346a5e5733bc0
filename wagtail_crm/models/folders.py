from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel


class Folder(ClusterableModel):
    """A contact database: every contact lives in exactly one folder.

    A folder with an ``owner`` is that user's personal folder ("My contacts").
    A public folder's contacts may be shown on the public site.
    """

    name = models.CharField(_("name"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)
    #: Set for a personal folder; only its owner works with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        # A personal folder outlives its user: its contacts stay, visible to managers only.
        on_delete=models.SET_NULL,
        related_name="crm_personal_folders",
        help_text=_("Set to make this the personal folder of one user."),
    )
    #: Contacts in a public folder may appear on pages of the site.
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_("Contacts in this folder may be shown on the public site."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("folder")
        verbose_name_plural = _("folders")

    def __str__(self):
        return self.name

    @classmethod
    def get_default(cls):
        """The folder new contacts go to when none is chosen (created on first use)."""
        from ..conf import crm_settings

        folder, _created = cls.objects.get_or_create(name=crm_settings.DEFAULT_FOLDER_NAME)
        return folder


class AccessLevel(models.TextChoices):
    """What a group may do with the contacts of a folder; each level includes the ones before."""

    VIEW = "view", _("View")
    CONTRIBUTE = "contribute", _("Contribute: view, add, and edit their own")
    MANAGE = "manage", _("Manage: edit all, reassign, trash, restore and purge")


#: Levels ordered from least to most, for comparisons.
LEVEL_RANK = {AccessLevel.VIEW: 1, AccessLevel.CONTRIBUTE: 2, AccessLevel.MANAGE: 3}


class FolderAccess(models.Model):
    """A group's access to the contacts of one folder."""

    folder = ParentalKey(Folder, on_delete=models.CASCADE, related_name="access")
    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="crm_folder_access"
    )
    level = models.CharField(_("access"), max_length=20, choices=AccessLevel.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["folder", "group"], name="wagtail_crm_folder_group")
        ]
        verbose_name = _("folder access")
        verbose_name_plural = _("folder access")

    def __str__(self):
        return f"{self.group} · {self.folder} · {self.get_level_display()}"

    @property
    def rank(self):
        return LEVEL_RANK[self.level]
