"""The Trash: contacts moved to the trash, to restore or purge (delete for good)."""

from collections import Counter

from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import router, transaction
from django.db.models.deletion import Collector, ProtectedError
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.menus import MenuItem as ListingMenuItem
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.models import Revision
from wagtail.permission_policies import BasePermissionPolicy

from ..models import Contact, Organization, Person
from ..permissions import contact_policy
from ..services.relationships import relationships_needing

#: The model whose permissions govern each kind of contact.
KIND_MODELS = {"person": Person, "organization": Organization}


def register_trash_log_actions(actions):
    """Audit log actions of the trash (for the ``register_log_actions`` hook)."""
    actions.register_action("wagtail_crm.trash", _("Move to trash"), _("Moved to the trash"))
    actions.register_action("wagtail_crm.restore", _("Restore"), _("Restored from the trash"))


class TrashPermissionPolicy(BasePermissionPolicy):
    """Who may restore or purge trashed contacts: managers of their folders (and superusers).

    The trash's one action is "delete"; it is answered by the folder access policy's "restore".
    """

    def __init__(self):
        super().__init__(Contact)

    def user_has_permission(self, user, action):
        return action == "delete" and contact_policy.user_has_permission(user, "restore")

    def user_has_permission_for_instance(self, user, action, instance):
        return action == "delete" and contact_policy.user_has_permission_for_instance(
            user, "restore", instance
        )

    def users_with_any_permission(self, actions):
        if "delete" not in actions:
            return get_user_model().objects.none()
        return contact_policy.users_with_permission("restore")

    def instances_user_has_any_permission_for(self, user, actions):
        trashed = Contact.all_objects.trashed()
        if "delete" not in actions:
            return trashed.none()
        return contact_policy.filter_queryset(trashed, user, "restore")


trash_permission_policy = TrashPermissionPolicy()


class TrashMenuItem(MenuItem):
    def is_shown(self, request):
        return trash_permission_policy.user_has_permission(request.user, "delete")


class TrashIndexView(generic.IndexView):
    permission_policy = trash_permission_policy
    any_permission_required = ["delete"]
    page_title = _("Trash")
    #: Set by the viewset.
    restore_url_name = None

    def get_base_queryset(self):
        return self.permission_policy.instances_user_has_permission_for(
            self.request.user, "delete"
        )

    def get_list_more_buttons(self, instance):
        pk = quote(instance.pk)
        return [
            ListingMenuItem(
                _("Restore"), reverse(self.restore_url_name, args=[pk]), icon_name="undo",
                priority=10,
            ),
            ListingMenuItem(
                _("Delete permanently"), reverse(self.delete_url_name, args=[pk]),
                icon_name="bin", priority=20,
            ),
        ]


class TrashedContactMixin:
    """Views of one trashed contact, found among those the user may restore or purge."""

    permission_policy = trash_permission_policy
    permission_required = "delete"

    def get_object(self, queryset=None):
        trashed = self.permission_policy.instances_user_has_permission_for(
            self.request.user, "delete"
        )
        contact = get_object_or_404(trashed, pk=unquote(str(self.kwargs["pk"])))
        if not self.permission_policy.user_has_permission_for_instance(
            self.request.user, "delete", contact
        ):
            raise PermissionDenied
        # History, revisions and the search index know contacts as people or organisations.
        return KIND_MODELS[contact.kind].all_objects.get(pk=contact.pk)


class RestoreView(
    TrashedContactMixin, PermissionCheckedMixin, generic.WagtailAdminTemplateMixin, TemplateView
):
    template_name = "wagtail_crm/trash/confirm_restore.html"
    page_title = _("Restore")
    header_icon = "undo"
    success_message = _("%(model_name)s '%(object)s' restored.")
    #: The audit log action recorded.
    log_action = "wagtail_crm.restore"
    #: Set by the viewset.
    index_url_name = None
    restore_url_name = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.object = self.get_object()

    def get_page_subtitle(self):
        return str(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context["restore_url"] = reverse(self.restore_url_name, args=[quote(self.object.pk)])
        context["index_url"] = reverse(self.index_url_name)
        return context

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            self.object.restore()
            log(self.object, self.log_action, user=request.user)
        viewset = type(self.object).snippet_viewset
        contact_url = reverse(viewset.get_url_name("inspect"), args=[quote(self.object.pk)])
        messages.success(
            request,
            self.success_message
            % {"model_name": capfirst(self.object._meta.verbose_name), "object": self.object},
            buttons=[messages.button(contact_url, _("View"))],
        )
        return redirect(self.index_url_name)


class PurgeView(TrashedContactMixin, generic.DeleteView):
    """Deletes a trashed contact for good, with its revisions; the audit log keeps its history."""

    template_name = "wagtail_crm/trash/confirm_purge.html"
    page_title = _("Delete permanently")
    success_message = _("%(model_name)s '%(object)s' deleted permanently.")

    def get_usage_url(self):
        return None

    @property
    def confirmation_message(self):
        message = _("Delete %(object)s permanently? This cannot be undone.") % {
            "object": self.object
        }
        count = len(relationships_needing(self.object))
        if count:
            message += " " + ngettext(
                "%(count)d relationship cannot stand without this contact and will be deleted "
                "too.",
                "%(count)d relationships cannot stand without this contact and will be deleted "
                "too.",
                count,
            ) % {"count": count}
        return message

    @cached_property
    def refusal(self):
        """Why the contact cannot be purged (records that must keep it), or ""."""
        collector = Collector(using=router.db_for_write(Contact))
        try:
            collector.collect([self.object])
        except ProtectedError as error:
            kinds = Counter(type(obj) for obj in error.protected_objects)
            names = {
                model: model._meta.verbose_name if count == 1 else model._meta.verbose_name_plural
                for model, count in kinds.items()
            }
            needed = ", ".join(sorted(f"{count} {names[model]}" for model, count in kinds.items()))
            return _(
                "%(object)s cannot be deleted permanently: other records still need it "
                "(%(needed)s). It stays in the trash."
            ) % {"object": self.object, "needed": needed}
        return ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["refusal"] = self.refusal
        return context

    def form_valid(self, form):
        if self.refusal:
            return self.render_to_response(self.get_context_data(form=form))
        return super().form_valid(form)

    def delete_action(self):
        with transaction.atomic():
            Revision.objects.for_instance(self.object).delete()
            super().delete_action()


class TrashViewSet(ModelViewSet):
    """Lists trashed contacts, newest first, and restores or purges them."""

    model = Contact
    name = "crm_trash"
    icon = "bin"
    menu_label = _("Trash")
    menu_order = 900
    menu_item_class = TrashMenuItem
    url_prefix = "crm/trash"
    index_view_class = TrashIndexView
    delete_view_class = PurgeView
    #: The view class of the restore confirmation.
    restore_view_class = RestoreView
    copy_view_enabled = False
    ordering = "-deleted_at"
    list_display = [
        "display_name",
        Column("kind", label=_("Kind"), accessor="get_kind_display", sort_key="kind"),
        DateColumn("deleted_at", label=_("Moved to trash"), sort_key="deleted_at"),
    ]
    # Trashed contacts are out of the search index: search the database.
    search_fields = ["display_name"]
    search_backend_name = None

    def get_common_view_kwargs(self, **kwargs):
        return super().get_common_view_kwargs(
            **{
                "add_url_name": None,
                "edit_url_name": None,
                "history_url_name": None,
                "usage_url_name": None,
                "delete_url_name": self.get_url_name("purge"),
                "restore_url_name": self.get_url_name("restore"),
                **kwargs,
            }
        )

    @property
    def restore_view(self):
        return self.construct_view(self.restore_view_class)

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("restore/<int:pk>/", self.restore_view, name="restore"),
            path("purge/<int:pk>/", self.delete_view, name="purge"),
        ]

    def get_permissions_to_register(self):
        # Access follows the people and organisation permissions.
        return Permission.objects.none()

    def register_admin_url_finder(self):
        # There is no edit view here: people and organisations register their own.
        pass
