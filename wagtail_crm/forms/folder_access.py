"""The "CRM folders" panel on the Wagtail group edit page: a group's access per folder."""

from django import forms
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.formsets import BaseFormSetMixin

from ..models import AccessLevel, Folder, FolderAccess


class FolderAccessForm(forms.Form):
    """One row: a shared folder and the level the group holds on it."""

    folder = forms.ModelChoiceField(
        label=_("Folder"),
        queryset=Folder.objects.filter(owner__isnull=True),
        empty_label=None,
    )
    level = forms.ChoiceField(label=_("Access"), choices=AccessLevel.choices)


class BaseGroupFolderAccessFormSet(BaseFormSetMixin, forms.BaseFormSet):
    """Edits every FolderAccess row of one group; saving replaces them in one transaction."""

    #: Form field prefix, unique among the group page's permission panels.
    default_prefix = "crm_folder_access"
    template = "wagtail_crm/permissions/folder_access_formset.html"

    def __init__(self, data=None, files=None, instance=None, prefix=None):
        self.instance = instance
        initial = []
        if instance is not None and instance.pk:
            initial = [
                {"folder": row.folder, "level": row.level}
                for row in instance.crm_folder_access.select_related("folder").order_by(
                    "folder__name"
                )
            ]
        super().__init__(data, files, initial=initial, prefix=prefix or self.default_prefix)

    def _kept_forms(self):
        return [
            form
            for form in self.forms
            if form not in self.deleted_forms and "folder" in form.cleaned_data
        ]

    def clean(self):
        if any(self.errors):
            return
        folders = [form.cleaned_data["folder"] for form in self._kept_forms()]
        duplicates = sorted({f.name for f in folders if folders.count(f) > 1})
        if duplicates:
            raise forms.ValidationError(
                _("Each folder can appear once; %(folders)s appear more than once.")
                % {"folders": ", ".join(duplicates)}
            )

    @transaction.atomic
    def save(self):
        wanted = {form.cleaned_data["folder"].pk: form.cleaned_data["level"]
                  for form in self._kept_forms()}
        existing = {row.folder_id: row for row in self.instance.crm_folder_access.all()}
        FolderAccess.objects.filter(
            pk__in=[row.pk for folder_id, row in existing.items() if folder_id not in wanted]
        ).delete()
        for folder_id, level in wanted.items():
            row = existing.get(folder_id)
            if row is None:
                FolderAccess.objects.create(group=self.instance, folder_id=folder_id, level=level)
            elif row.level != level:
                row.level = level
                row.save(update_fields=["level"])

    def as_admin_panel(self):
        return render_to_string(self.template, {"formset": self})


GroupFolderAccessFormSet = forms.formset_factory(
    FolderAccessForm, formset=BaseGroupFolderAccessFormSet, extra=0, can_delete=True
)


def group_folder_access_panel():
    """For the ``register_group_permission_panel`` hook."""
    return GroupFolderAccessFormSet
