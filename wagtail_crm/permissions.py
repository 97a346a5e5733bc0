"""Folder access: who may see and change which contacts.

A user's access to a contact is the highest level any of their groups holds on the contact's
folder (FolderAccess), or "manage" on their own personal folder. Superusers may do everything.
Every path that hands contacts to a user filters through :data:`contact_policy`.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.permission_policies import BasePermissionPolicy

from .models import LEVEL_RANK, AccessLevel, Contact, Folder, FolderAccess

VIEW = LEVEL_RANK[AccessLevel.VIEW]
CONTRIBUTE = LEVEL_RANK[AccessLevel.CONTRIBUTE]
MANAGE = LEVEL_RANK[AccessLevel.MANAGE]

#: Actions and the level they need on a contact's folder. Owners of a contact need only
#: "contribute" for the actions in OWNER_ACTIONS.
ACTION_LEVELS = {
    "view": VIEW,
    "inspect": VIEW,
    "choose": VIEW,
    "export": VIEW,
    "add": CONTRIBUTE,
    "change": MANAGE,
    "delete": MANAGE,
    "reassign": MANAGE,
    "restore": MANAGE,
    "purge": MANAGE,
}
OWNER_ACTIONS = {"change", "delete"}

_CACHE_ATTR = "_wagtail_crm_folder_levels"


def folder_levels(user):
    """Map folder id to the user's access rank (1 view, 2 contribute, 3 manage).

    Cached on the user object, so one request asks the database once.
    Superusers get ``None``: every folder at every level.
    """
    if not user.is_active:
        return {}
    if user.is_superuser:
        return None
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    levels = {}
    rows = FolderAccess.objects.filter(group__user=user, folder__owner__isnull=True).values_list(
        "folder_id", "level"
    )
    for folder_id, level in rows:
        levels[folder_id] = max(levels.get(folder_id, 0), LEVEL_RANK[level])
    for folder_id in Folder.objects.filter(owner=user).values_list("pk", flat=True):
        levels[folder_id] = MANAGE
    setattr(user, _CACHE_ATTR, levels)
    return levels


def forget_folder_levels(user):
    """Drop the cached levels (after the user's groups or folder access changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def folder_ids(user, minimum):
    """Ids of folders where the user holds at least ``minimum``; ``None`` means all folders."""
    levels = folder_levels(user)
    if levels is None:
        return None
    return sorted(folder_id for folder_id, rank in levels.items() if rank >= minimum)


def folders_for(user, action="add"):
    """The folders a user may put contacts into (``add``) or move contacts to (``reassign``)."""
    ids = folder_ids(user, ACTION_LEVELS[action])
    folders = Folder.objects.all()
    return folders if ids is None else folders.filter(pk__in=ids)


class ContactPermissionPolicy(BasePermissionPolicy):
    """The folder access policy for contacts (and the Person and Organization proxies).

    Subclasses serve other records kept in folders by saying what makes one the user's own
    (:meth:`own_q` and :meth:`is_own`): contributors edit their own records of a folder.
    """

    @staticmethod
    def own_q(user):
        """The records that are the user's own: contacts they own."""
        return Q(owner_id=user.pk)

    @staticmethod
    def is_own(user, instance):
        return instance.owner_id is not None and instance.owner_id == user.pk

    def _q(self, user, action):
        needed = ACTION_LEVELS.get(action)
        if needed is None:
            return Q(pk__in=[])
        levels = folder_levels(user)
        if levels is None:
            return Q()
        query = Q(folder_id__in=[f for f, rank in levels.items() if rank >= needed])
        if action in OWNER_ACTIONS:
            contribute = [f for f, rank in levels.items() if rank >= CONTRIBUTE]
            query |= Q(folder_id__in=contribute) & self.own_q(user)
        return query

    def filter_queryset(self, queryset, user, actions):
        """Narrow ``queryset`` of contacts to those the user may do any of ``actions`` on."""
        if isinstance(actions, str):
            actions = [actions]
        if folder_levels(user) is None:
            return queryset
        query = Q(pk__in=[])
        for action in actions:
            query |= self._q(user, action)
        return queryset.filter(query)

    def user_has_permission(self, user, action):
        levels = folder_levels(user)
        if levels is None:
            return True
        needed = ACTION_LEVELS.get(action)
        if needed is None:
            return False
        if action in OWNER_ACTIONS:
            needed = CONTRIBUTE
        return any(rank >= needed for rank in levels.values())

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        levels = folder_levels(user)
        if levels is None:
            return True
        needed = ACTION_LEVELS.get(action)
        if needed is None:
            return False
        rank = levels.get(instance.folder_id, 0)
        if rank >= needed:
            return True
        return action in OWNER_ACTIONS and rank >= CONTRIBUTE and self.is_own(user, instance)

    def user_has_any_permission_for_instance(self, user, actions, instance):
        return any(self.user_has_permission_for_instance(user, a, instance) for a in actions)

    def instances_user_has_any_permission_for(self, user, actions):
        return self.filter_queryset(self.model._default_manager.all(), user, actions)

    def instances_user_has_permission_for(self, user, action):
        return self.instances_user_has_any_permission_for(user, [action])

    def users_with_any_permission(self, actions):
        needed = min((ACTION_LEVELS[a] for a in actions if a in ACTION_LEVELS), default=None)
        users = get_user_model().objects.filter(is_active=True)
        if needed is None:
            return users.filter(is_superuser=True)
        if any(a in OWNER_ACTIONS for a in actions):
            needed = min(needed, CONTRIBUTE)
        levels = [level for level, rank in LEVEL_RANK.items() if rank >= needed]
        return users.filter(
            Q(is_superuser=True)
            | Q(
                groups__crm_folder_access__level__in=levels,
                groups__crm_folder_access__folder__owner__isnull=True,
            )
            | Q(crm_personal_folders__isnull=False)
        ).distinct()

    def users_with_permission(self, action):
        return self.users_with_any_permission([action])

    def users_with_any_permission_for_instance(self, actions, instance):
        users = get_user_model().objects.filter(is_active=True)
        folder = instance.folder
        if folder.owner_id:
            return users.filter(Q(is_superuser=True) | Q(pk=folder.owner_id))
        query = Q(is_superuser=True)
        for action in actions:
            needed = ACTION_LEVELS.get(action)
            if needed is None:
                continue
            levels = [level for level, rank in LEVEL_RANK.items() if rank >= needed]
            query |= Q(
                groups__crm_folder_access__folder=folder,
                groups__crm_folder_access__level__in=levels,
            )
            if action in OWNER_ACTIONS and instance.owner_id:
                query |= Q(
                    pk=instance.owner_id,
                    groups__crm_folder_access__folder=folder,
                    groups__crm_folder_access__level__in=[AccessLevel.CONTRIBUTE],
                )
        return users.filter(query).distinct()

    def users_with_permission_for_instance(self, action, instance):
        return self.users_with_any_permission_for_instance([action], instance)


#: The one policy instance, registered for Contact (and so its proxies) in hooks.py.
contact_policy = ContactPermissionPolicy(Contact)

#: What a user sees instead of the name of a contact they may not view.
HIDDEN_CONTACT = _("Hidden contact")


def visible_name(user, contact):
    """``contact``'s name if ``user`` may view it, otherwise :data:`HIDDEN_CONTACT`.

    For contacts that a visible contact points at (a person's organisation), whose folder may
    be one the user cannot see: the reference shows, the name does not.
    """
    if contact is None:
        return ""
    if contact_policy.user_has_permission_for_instance(user, "view", contact):
        return str(contact)
    return HIDDEN_CONTACT
