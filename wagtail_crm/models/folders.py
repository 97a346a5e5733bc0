from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Folder(models.Model):
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
