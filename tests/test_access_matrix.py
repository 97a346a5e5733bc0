"""Folder access across every CRM admin URL that takes a contact, and every list of contacts.

A generated matrix: users x contacts x kinds (people, organisations) x URLs. What each request
must answer comes from :func:`expected`, which applies the access rules to the world declared
below; no outcome is written down by hand. Listings, searches, filters, counts, exports, the
chooser, "select all" and the trash must hold exactly the contacts a user may see.
"""

import csv
import io
import json
import re
from dataclasses import dataclass

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from wagtail.admin.views.bulk_action.registry import bulk_action_registry
from wagtail.models import Revision
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from tests.factories import (
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    SuperuserFactory,
    admin_user,
    ensure_trash_log_actions,
    folder_user,
    set_listing_columns,
)
from wagtail_crm.models import Contact, ContactTag, Organization, Person

pytestmark = pytest.mark.django_db


# The world -------------------------------------------------------------------------------------

#: Shared folders. Moves go to "C", which only the manager of "A" also manages.
SHARED_FOLDERS = ("A", "B", "C")
#: The personal folder, and the user it belongs to.
PERSONAL_FOLDER, PERSONAL_OWNER = "P", "personal_owner"
#: Users and the level their group holds on each shared folder.
GRANTS = {
    "no_crm_access": {},
    "viewer": {"A": "view"},
    "contributor": {"A": "contribute"},
    "manager": {"A": "manage", "C": "manage"},
    "other_manager": {"B": "manage"},
    "superuser": {},
    PERSONAL_OWNER: {},
}
USERS = list(GRANTS)
#: Contacts, each made as a person and as an organisation: (label, folder, owner). Owning a
#: contact in a folder one has no access to ("other_folder", "anothers") must grant nothing.
CONTACTS = {
    "own": ("Own", "A", "contributor"),
    "anothers": ("Other", "A", PERSONAL_OWNER),
    "other_folder": ("Elsewhere", "B", "contributor"),
    "personal": ("Personal", PERSONAL_FOLDER, PERSONAL_OWNER),
}
#: A pk no contact has: it must answer exactly as a contact the user may not see.
MISSING = "missing"
KINDS = {"person": Person, "organization": Organization}
LISTINGS = {"person": "/admin/crm/people/", "organization": "/admin/crm/organisations/"}
NAME_FIELDS = {"person": "family_name", "organization": "organization_name"}
SEARCH_TERM = "Quokka"
DASHBOARD = "/admin/"


# The rules -------------------------------------------------------------------------------------

OK, DENIED, NOT_FOUND = "ok", "denied (302 to the dashboard)", "not found (404)"
VIEW, CONTRIBUTE, MANAGE = 1, 2, 3
RANKS = {"view": VIEW, "contribute": CONTRIBUTE, "manage": MANAGE}
#: The level an action needs on the contact's folder ...
NEEDS = {"view": VIEW, "add": CONTRIBUTE, "change": MANAGE, "delete": MANAGE,
         "reassign": MANAGE, "restore": MANAGE, "purge": MANAGE}
#: ... or, for the contact's owner, "contribute".
OWNER_ACTIONS = {"change", "delete"}


def level(user, folder):
    if user == "superuser":
        return MANAGE
    if folder == PERSONAL_FOLDER:
        return MANAGE if user == PERSONAL_OWNER else 0
    return RANKS.get(GRANTS[user].get(folder), 0)


def may(user, contact, action):
    """Whether the rules let ``user`` do ``action`` to ``contact`` (a key of CONTACTS)."""
    if contact == MISSING:
        return False
    _label, folder, owner = CONTACTS[contact]
    rank = level(user, folder)
    if action in OWNER_ACTIONS and owner == user and rank >= CONTRIBUTE:
        return True
    return rank >= NEEDS[action]


def may_anywhere(user, action):
    """Whether ``user`` may do ``action`` to some contact of some folder (Wagtail's model check)."""
    needed = CONTRIBUTE if action in OWNER_ACTIONS else NEEDS[action]
    return any(level(user, f) >= needed for f in (*SHARED_FOLDERS, PERSONAL_FOLDER))


def may_move(user, contact, destination="C"):
    return may(user, contact, "reassign") and level(user, destination) >= MANAGE


def expected(user, contact, action, gate=None, seen_with="view"):
    """What a request of ``user`` to do ``action`` to ``contact`` must answer.

    A contact the user may not see (``seen_with``) is not found, whatever the action: its
    existence must not leak. Views with a ``gate`` also need the user to be allowed ``gate`` on
    some contact, whichever (Wagtail's check of the whole model).
    """
    if not may(user, contact, seen_with):
        return NOT_FOUND
    if gate and not may_anywhere(user, gate):
        return DENIED
    return OK if may(user, contact, action) else DENIED


def visible(user):
    return {key for key in CONTACTS if may(user, key, "view")}


# Building the world ----------------------------------------------------------------------------


@dataclass
class Target:
    """One contact (or the missing pk) as the URLs see it."""

    kind: str
    key: str
    pk: int
    name: str
    revision: int = 0

    @property
    def model(self):
        return KINDS[self.kind]

    @property
    def prefix(self):
        return LISTINGS[self.kind]

    def __str__(self):
        return f"{self.kind} {self.key!r} (pk {self.pk})"


@dataclass
class World:
    users: dict
    folders: dict
    targets: list
    #: Each contact's row as built, to undo what a test changed.
    rows: dict

    def contacts(self, kind=None):
        """The contacts' targets, without the missing pk."""
        return [t for t in self.targets if t.key != MISSING and kind in (None, t.kind)]

    def pks(self, kind, keys):
        return {t.pk for t in self.contacts(kind) if t.key in keys}

    def names(self, kind, keys):
        return {t.name for t in self.contacts(kind) if t.key in keys}

    def reset(self):
        for pk, row in self.rows.items():
            Contact.all_objects.filter(pk=pk).update(**row)
        ContactTag.objects.all().delete()

    def add_revisions(self):
        """One revision per contact, written as ``save_revision`` would, without saving again."""
        for target in self.contacts():
            contact = target.model.all_objects.get(pk=target.pk)
            revision = Revision.objects.create(
                content_object=contact, base_content_type=contact.get_base_content_type(),
                user=self.users["superuser"], content=contact.serializable_data(),
                object_str=str(contact),
            )
            Contact.all_objects.filter(pk=target.pk).update(latest_revision=revision)
            target.revision = revision.pk


def make_contact(kind, label, folder, owner):
    if kind == "person":
        return PersonFactory(given_name=label, family_name=SEARCH_TERM, folder=folder, owner=owner)
    return OrganizationFactory(organization_name=f"{label} {SEARCH_TERM} Ltd", folder=folder,
                               owner=owner)


@pytest.fixture
def world():
    ensure_trash_log_actions()
    folders = {key: FolderFactory(name=f"Folder {key}") for key in SHARED_FOLDERS}
    users = {PERSONAL_OWNER: admin_user(PERSONAL_OWNER), "superuser": SuperuserFactory()}
    folders[PERSONAL_FOLDER] = FolderFactory(name="My contacts", owner=users[PERSONAL_OWNER])
    for user, grants in GRANTS.items():
        if user not in users:
            users[user] = folder_user(user, *[(folders[f], lvl) for f, lvl in grants.items()])
    targets = []
    for kind in KINDS:
        for key, (label, folder, owner) in CONTACTS.items():
            contact = make_contact(kind, label, folders[folder], users[owner])
            targets.append(Target(kind, key, contact.pk, contact.display_name))
    missing_pk = max(t.pk for t in targets) + 1000
    targets += [Target(kind, MISSING, missing_pk, "", revision=missing_pk) for kind in KINDS]
    fields = ["folder_id", "owner_id", "deleted_at", "display_name", "sort_name",
              *NAME_FIELDS.values()]
    rows = {row.pop("id"): row for row in Contact.all_objects.values("id", *fields)}
    return World(users, folders, targets, rows)


def reload(target):
    return Contact.all_objects.filter(pk=target.pk).first()


def trash_everything(world):
    for target in world.contacts():
        Contact.all_objects.get(pk=target.pk).move_to_trash()


# Reading responses -----------------------------------------------------------------------------


def outcome(response, method="GET"):
    """OK, DENIED or NOT_FOUND for a response; anything unexpected as its status code."""
    status = response.status_code
    if status == 404:
        return NOT_FOUND
    if status == 302 and response.url == DASHBOARD:
        return DENIED
    if status == 200 or (method == "POST" and status == 302 and "/login/" not in response.url):
        return OK
    return f"HTTP {status} {response.get('Location', '')}".strip()


def html(response):
    return response.content.decode()


def listed_pks(response, kind):
    return {int(pk) for pk in re.findall(rf"{LISTINGS[kind]}inspect/(\d+)/", html(response))}


def exported_names(response, fmt):
    content = b"".join(response.streaming_content)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode())))
    else:
        rows = list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(
            values_only=True))
    column = list(rows[0]).index("Name")
    return {row[column] for row in rows[1:]}


def chosen_pks(response):
    return {int(pk) for pk in re.findall(r"/chosen/(\d+)/", html(response))}


def chosen_multiple_pks(response):
    return {int(item["id"]) for item in json.loads(response.content)["result"]}


def bulk_sections(response, world, kind):
    """(names offered for the action, names listed as not permitted) on a confirmation page."""
    offered, _marker, refused = html(response).partition("You don't have permission to")
    names = world.names(kind, CONTACTS)
    return {n for n in names if n in offered}, {n for n in names if n in refused}


def bulk_confirmation(response, world, target):
    """OK (offered), DENIED (listed as not permitted) or NOT_FOUND for one contact's page."""
    if response.status_code != 200:
        return outcome(response)
    offered, refused = bulk_sections(response, world, target.kind)
    if offered == {target.name} and not refused:
        return OK
    if refused == {target.name} and not offered:
        return DENIED
    return f"200 offering {sorted(offered)}, refusing {sorted(refused)}"


class Mismatches(list):
    """What differed from the rules, one line each, reported together at the end of a test."""

    def check(self, what, want, got):
        if want != got:
            self.append(f"{what}: expected {want}, got {got}")

    def report(self):
        return "\n" + "\n".join(self)

    def __repr__(self):
        return f"<{len(self)} mismatches>"


# URLs and forms --------------------------------------------------------------------------------


def chooser_url(model, name, *args):
    return reverse(model.snippet_viewset.chooser_viewset.get_url_name(name), args=args)


def bulk_url(kind, action, *pks, **params):
    query = "&".join([f"id={pk}" for pk in pks] + [f"{k}={v}" for k, v in params.items()])
    return f"/admin/bulk/wagtail_crm/{kind}/{action}/?{query}"


#: name: (URL of a target, action needed on the contact, action Wagtail needs on the model).
#: Wagtail shows history, usage and revisions only to users who may change some contact.
PAGES = {
    "inspect": (lambda t: f"{t.prefix}inspect/{t.pk}/", "view", None),
    "edit": (lambda t: f"{t.prefix}edit/{t.pk}/", "change", None),
    "delete": (lambda t: f"{t.prefix}delete/{t.pk}/", "delete", None),
    "history": (lambda t: f"{t.prefix}history/{t.pk}/", "view", "change"),
    "history results": (lambda t: f"{t.prefix}history-results/{t.pk}/", "view", "change"),
    "usage": (lambda t: f"{t.prefix}usage/{t.pk}/", "view", "change"),
    "revisions compare": (
        lambda t: f"{t.prefix}history/{t.pk}/revisions/compare/earliest...latest/", "view", "change"
    ),
    "revisions revert": (
        lambda t: f"{t.prefix}history/{t.pk}/revisions/{t.revision}/revert/", "change", None
    ),
    "chooser chosen": (lambda t: chooser_url(t.model, "chosen", t.pk), "view", None),
}
#: The trash's views of one trashed contact.
TRASH = {
    "restore": lambda t: f"/admin/crm/trash/restore/{t.pk}/",
    "purge": lambda t: f"/admin/crm/trash/purge/{t.pk}/",
}
#: Bulk actions on contacts: (action needed on each contact, whether it happened to a contact).
BULK_ACTIONS = {
    "crm_tag": ("change", lambda contact: contact.tags.filter(name="matrix").exists()),
    "crm_move": ("reassign", lambda contact: contact.folder.name == "Folder C"),
    "delete": ("delete", lambda contact: contact is not None and contact.in_trash),
}
BULK_FORMS = {"crm_tag": lambda world: {"tags": "matrix"},
              "crm_move": lambda world: {"folder": world.folders["C"].pk}}


def bulk_actions(kind):
    return sorted(c.action_type for c in bulk_action_registry.get_bulk_actions_for_model(
        "wagtail_crm", kind))


def form_data(target, **changes):
    """POST data of the contact's edit form, keeping it as it is apart from ``changes``."""
    return contact_form_data(reload(target), **changes)


def contact_form_data(contact, **changes):
    if contact.kind == "person":
        fields = {"prefix": "", "given_name": contact.given_name, "additional_names": "",
                  "family_name": contact.family_name, "suffix": "", "nickname": "",
                  "job_title": "", "primary_organization": "", "birthday": ""}
    else:
        fields = {"organization_name": contact.organization_name,
                  "organization_type": contact.organization_type or "company"}
    return nested_form_data({
        **fields, "folder": contact.folder_id or "", "owner": contact.owner_id or "",
        "tags": "", "photo": "", "notes": "",
        "methods": inline_formset([]), "addresses": inline_formset([]), **changes,
    })


def rename(target, name):
    return {NAME_FIELDS[target.kind]: name}


def name_of(contact, kind):
    return getattr(contact, NAME_FIELDS[kind]) if contact else None


def prepare_revert(target):
    """Rename the contact behind its revision's back; reverting must bring the name back."""
    original = name_of(reload(target), target.kind)
    Contact.all_objects.filter(pk=target.pk).update(**{NAME_FIELDS[target.kind]: "Renamed"})
    return rename(target, original)


#: POSTs to the views of one contact: (URL, action needed, form data, whether it happened,
#: whether the rules let it happen).
CHANGES = {
    "edit": (
        PAGES["edit"][0], "change",
        lambda target, world: form_data(target, **rename(target, "Edited")),
        lambda contact, kind: name_of(contact, kind) == "Edited",
        lambda user, key: may(user, key, "change"),
    ),
    "edit: reassign the owner": (
        PAGES["edit"][0], "change",
        lambda target, world: form_data(target, owner=world.users["viewer"].pk),
        lambda contact, kind: contact.owner.username == "viewer",
        lambda user, key: may(user, key, "reassign"),
    ),
    "edit: move to folder C": (
        PAGES["edit"][0], "change",
        lambda target, world: form_data(target, folder=world.folders["C"].pk),
        lambda contact, kind: contact.folder.name == "Folder C",
        may_move,
    ),
    "revisions revert": (
        PAGES["revisions revert"][0], "change",
        lambda target, world: form_data(target, **prepare_revert(target)),
        lambda contact, kind: name_of(contact, kind) != "Renamed",
        lambda user, key: may(user, key, "change"),
    ),
    "delete (move to trash)": (
        PAGES["delete"][0], "delete",
        lambda target, world: {},
        lambda contact, kind: contact.in_trash,
        lambda user, key: may(user, key, "delete"),
    ),
}


# Checks of one contact at a time ---------------------------------------------------------------


def check_pages(mismatches, client, world, user):
    for target in world.targets:
        for page, (url, action, gate) in PAGES.items():
            mismatches.check(f"GET {page} of {target}", expected(user, target.key, action, gate),
                             outcome(client.get(url(target))))


def check_trash_pages(mismatches, client, world, user):
    trash_everything(world)
    for target in world.targets:
        for action, url in TRASH.items():
            # A trashed contact is seen in the trash only, by those who may restore it.
            mismatches.check(f"GET {action} of trashed {target}",
                             expected(user, target.key, action, seen_with="restore"),
                             outcome(client.get(url(target))))
    world.reset()


def check_adding(mismatches, client, world, user):
    """Adding a person (owned by oneself) needs "contribute" on the folder it goes to.

    People only: organisations share the form's filing rules (ContactForm.restrict_filing).
    """
    for folder_key, folder in world.folders.items():
        name = f"Added to {folder_key}"
        data = contact_form_data(Contact(kind="person", given_name=name), folder=folder.pk,
                                 owner=world.users[user].pk)
        response = client.post(f"{LISTINGS['person']}add/", data)
        what = f"POST add person to folder {folder_key}"
        if not may_anywhere(user, "add"):
            mismatches.check(what, DENIED, outcome(response, "POST"))
        added = Contact.objects.filter(given_name=name, folder=folder).exists()
        mismatches.check(f"{what}: done", level(user, folder_key) >= NEEDS["add"], added)


def check_changes(mismatches, client, world, user):
    """Each POST starts from the world as built."""
    for target in world.contacts():
        for change, (url, action, data, happened, allowed) in CHANGES.items():
            response = client.post(url(target), data(target, world))
            what = f"POST {change} of {target}"
            mismatches.check(what, expected(user, target.key, action), outcome(response, "POST"))
            mismatches.check(f"{what}: done", allowed(user, target.key),
                             happened(reload(target), target.kind))
            world.reset()


def check_bulk_changes(mismatches, client, world, user):
    """Each action on all the contacts of a kind at once happens to those allowed only."""
    for kind in KINDS:
        pks = [t.pk for t in world.targets if t.kind == kind]
        for action in bulk_actions(kind):
            need, happened = BULK_ACTIONS[action]
            form = BULK_FORMS.get(action, lambda world: {})(world)
            client.post(bulk_url(kind, action, *pks, next=LISTINGS[kind]), form)
            for target in world.contacts(kind):
                allowed = (may_move(user, target.key) if need == "reassign"
                           else may(user, target.key, need))
                mismatches.check(f"POST bulk {action} of {target}: done", allowed,
                                 happened(reload(target)))
            world.reset()


def check_restore_and_purge(mismatches, client, world, user):
    for action, url in TRASH.items():
        trash_everything(world)
        for target in world.contacts():
            what = f"POST {action} of trashed {target}"
            mismatches.check(what, expected(user, target.key, action, seen_with="restore"),
                             outcome(client.post(url(target)), "POST"))
            contact = reload(target)
            done = contact is None if action == "purge" else not contact.in_trash
            mismatches.check(f"{what}: done", may(user, target.key, action), done)
        world.reset()


# Checks of lists of contacts -------------------------------------------------------------------


def check_list(mismatches, what, response, want, read):
    """``read(response)`` must be ``want``; a list the user may not open is right when empty."""
    if not want and outcome(response) in (DENIED, NOT_FOUND):
        return
    if response.status_code != 200:
        mismatches.check(what, f"200 listing {sorted(want)}", outcome(response))
        return
    mismatches.check(what, sorted(want), sorted(read(response)))


def folder_filter(user, folder, keys):
    """A folder the user may not see is not offered: the filter is refused, nothing narrowed."""
    if level(user, folder) < VIEW:
        return keys
    return {key for key in keys if CONTACTS[key][1] == folder}


def check_listings(mismatches, client, world, user):
    keys = visible(user)
    for kind, listing in LISTINGS.items():
        want = world.pks(kind, keys)

        def read(response, kind=kind):
            return listed_pks(response, kind)

        for url in (listing, f"{listing}results/"):
            check_list(mismatches, f"GET {url}", client.get(url), want, read)
        # The results alone (what the filters fetch) cost less than the whole page.
        for folder_key, folder in world.folders.items():
            url = f"{listing}results/?folder={folder.pk}"
            check_list(mismatches, f"GET {url} (folder {folder_key})", client.get(url),
                       world.pks(kind, folder_filter(user, folder_key, keys)), read)
        url = f"{listing}?q={SEARCH_TERM}"
        response = client.get(url)
        check_list(mismatches, f"GET {url}", response, want, read)
        if want:
            label = f"There are {len(want)} matches" if len(want) > 1 else "There is 1 match"
            mismatches.check(f"GET {url}: {label!r}", True, label in html(response))


def count_label(count, model):
    names = model._meta.verbose_name_plural if count != 1 else model._meta.verbose_name
    return f"{count} {names}"


def check_totals(mismatches, client, world, user):
    """The total under the listing counts what the user may see, not what is in the database."""
    set_listing_columns(items_per_page=1)
    for kind, listing in LISTINGS.items():
        count = len(world.pks(kind, visible(user)))
        response = client.get(listing)
        totals = re.findall(r'class="pagination__end">\s*(.*?)\s*</div>', html(response))
        check_list(mismatches, f"GET {listing} (one per page): total", response,
                   [count_label(count, KINDS[kind])] if count else [], lambda r, t=totals: t)
    set_listing_columns(items_per_page=50)


def check_exports(mismatches, client, world, user):
    for kind, listing in LISTINGS.items():
        want = world.names(kind, visible(user))
        for params in ({"export": "csv"}, {"export": "xlsx"},
                       {"export": "csv", "q": SEARCH_TERM}):
            check_list(mismatches, f"GET {listing} {params}", client.get(listing, params), want,
                       lambda r, fmt=params["export"]: exported_names(r, fmt))


def check_chooser(mismatches, client, world, user):
    for kind, model in KINDS.items():
        want = world.pks(kind, visible(user))
        choose, results = chooser_url(model, "choose"), chooser_url(model, "choose_results")
        for url in (choose, results, f"{results}?q={SEARCH_TERM}"):
            check_list(mismatches, f"GET {url}", client.get(url), want, chosen_pks)
        every_pk = "&".join(f"id={t.pk}" for t in world.targets if t.kind == kind)
        url = f"{chooser_url(model, 'chosen_multiple')}?{every_pk}"
        check_list(mismatches, f"GET {url}", client.get(url), want, chosen_multiple_pks)
        # Contacts are added on their own form, never through the chooser.
        create = chooser_url(model, "create")
        mismatches.check(f"GET {create}", NOT_FOUND, outcome(client.get(create)))
        mismatches.check(f"POST {create}", NOT_FOUND, outcome(client.post(create, {}), "POST"))


def check_select_all(mismatches, client, world, user):
    keys = visible(user)
    folder_a = world.folders["A"].pk
    for kind in KINDS:
        variants = [(action, {}, keys) for action in bulk_actions(kind)] + [
            ("crm_tag", {"q": SEARCH_TERM}, keys),
            ("crm_tag", {"folder": folder_a}, folder_filter(user, "A", keys)),
        ]
        for action, params, want in variants:
            url = bulk_url(kind, action, "all", **params)
            check_list(mismatches, f"GET {url}", client.get(url), world.names(kind, want),
                       lambda r, kind=kind: set().union(*bulk_sections(r, world, kind)))
        client.post(bulk_url(kind, "crm_tag", "all", next=LISTINGS[kind]), {"tags": "matrix"})
        tagged = ContactTag.objects.filter(tag__name="matrix").values_list(
            "content_object_id", flat=True)
        changeable = {key for key in keys if may(user, key, "change")}
        mismatches.check(f"POST bulk crm_tag of all {kind}: tagged",
                         sorted(world.pks(kind, changeable)), sorted(tagged))
        world.reset()


def check_trash_listing(mismatches, client, world, user):
    trash_everything(world)
    restorable = {key for key in CONTACTS if may(user, key, "restore")}
    want = {t.pk for t in world.contacts() if t.key in restorable}
    check_list(mismatches, "GET /admin/crm/trash/", client.get("/admin/crm/trash/"), want,
               lambda r: {int(pk) for pk in re.findall(r"/trash/restore/(\d+)/", html(r))})
    world.reset()


# The tests -------------------------------------------------------------------------------------


def test_every_bulk_action_on_contacts_has_a_rule():
    for kind in KINDS:
        assert set(bulk_actions(kind)) == set(BULK_ACTIONS), kind


@pytest.mark.parametrize("user", USERS)
def test_contact_pages(world, client, user):
    world.add_revisions()
    client.force_login(world.users[user])
    mismatches = Mismatches()
    check_pages(mismatches, client, world, user)
    check_trash_pages(mismatches, client, world, user)
    assert not mismatches, mismatches.report()


@pytest.mark.parametrize("user", USERS)
def test_bulk_action_confirmations(world, client, user):
    client.force_login(world.users[user])
    mismatches = Mismatches()
    for target in world.targets:
        for action in bulk_actions(target.kind):
            response = client.get(bulk_url(target.kind, action, target.pk))
            mismatches.check(
                f"GET bulk {action} of {target}",
                expected(user, target.key, BULK_ACTIONS[action][0]),
                bulk_confirmation(response, world, target),
            )
    assert not mismatches, mismatches.report()


@pytest.mark.parametrize("user", USERS)
def test_contact_changes(world, client, user):
    world.add_revisions()
    client.force_login(world.users[user])
    mismatches = Mismatches()
    check_adding(mismatches, client, world, user)
    check_changes(mismatches, client, world, user)
    check_bulk_changes(mismatches, client, world, user)
    check_restore_and_purge(mismatches, client, world, user)
    assert not mismatches, mismatches.report()


@pytest.mark.parametrize("user", USERS)
def test_lists_hold_exactly_the_visible_contacts(world, client, user):
    """Listings (searched, filtered), totals, exports, the chooser, "select all", the trash."""
    client.force_login(world.users[user])
    mismatches = Mismatches()
    check_listings(mismatches, client, world, user)
    check_exports(mismatches, client, world, user)
    check_chooser(mismatches, client, world, user)
    check_select_all(mismatches, client, world, user)
    check_totals(mismatches, client, world, user)
    check_trash_listing(mismatches, client, world, user)
    assert not mismatches, mismatches.report()


#: Each person's primary organisation: one in another folder than the person's own.
EMPLOYERS = {"own": "other_folder", "anothers": "personal", "other_folder": "own",
             "personal": "anothers"}
HIDDEN = "Hidden contact"


def employ_elsewhere(world):
    """Give each person the organisation of :data:`EMPLOYERS`; return (person, organisation)
    pairs."""
    organizations = {t.key: t for t in world.contacts("organization")}
    employers = []
    for person in world.contacts("person"):
        employer = organizations[EMPLOYERS[person.key]]
        Contact.all_objects.filter(pk=person.pk).update(primary_organization_id=employer.pk)
        employers.append((person, employer))
    return employers


def check_organisation_named(mismatches, what, text, user, employer):
    """``text`` names ``employer`` if ``user`` may see it, and otherwise says it is hidden."""
    shown = may(user, employer.key, "view")
    mismatches.check(f"{what}: names {employer.name}", shown, employer.name in text)
    mismatches.check(f"{what}: says {HIDDEN!r}", not shown, HIDDEN in text)


def exported_organisations(response, fmt):
    content = b"".join(response.streaming_content)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(content.decode())))
    else:
        rows = [["" if cell is None else cell for cell in row] for row in load_workbook(
            io.BytesIO(content), read_only=True).active.iter_rows(values_only=True)]
    name, organisation = list(rows[0]).index("Name"), list(rows[0]).index("Organisation")
    return {row[name]: row[organisation] for row in rows[1:]}


@pytest.mark.parametrize("user", USERS)
def test_hidden_organisations_are_never_named(world, client, user):
    """A person the user sees, employed by an organisation they may not see: the listing, its
    exports, the contact page and the edit form show "Hidden contact", never the name."""
    employers = employ_elsewhere(world)
    client.force_login(world.users[user])
    mismatches = Mismatches()
    listing = LISTINGS["person"]
    seen = [(person, employer) for person, employer in employers
            if may(user, person.key, "view")]
    if not seen:  # no CRM access: every URL is refused, as test_contact_pages checks
        assert user == "no_crm_access"
        return
    rows = re.split(r"<tr\b", html(client.get(listing)))
    for person, employer in seen:
        row = next((r for r in rows if f"{listing}inspect/{person.pk}/" in r), "")
        check_organisation_named(mismatches, f"listing row of {person}", row, user, employer)
    for fmt in ("csv", "xlsx"):
        exported = exported_organisations(client.get(listing, {"export": fmt}), fmt)
        for person, employer in seen:
            check_organisation_named(mismatches, f"{fmt} export of {person}",
                                     str(exported.get(person.name)), user, employer)
    for person, employer in seen:
        page = html(client.get(PAGES["inspect"][0](person)))
        check_organisation_named(mismatches, f"contact page of {person}", page, user, employer)
        if may(user, person.key, "change"):
            page = html(client.get(PAGES["edit"][0](person)))
            check_organisation_named(mismatches, f"edit form of {person}", page, user, employer)
    assert not mismatches, mismatches.report()


@pytest.mark.parametrize("user", USERS)
def test_contact_pages_offer_only_what_the_user_may_do(world, client, user):
    """The contact page's header links to the edit form and the trash only where allowed, and
    to the history only for users whom Wagtail's history view lets in."""
    client.force_login(world.users[user])
    mismatches = Mismatches()
    for target in world.contacts():
        if not may(user, target.key, "view"):
            continue
        page = html(client.get(PAGES["inspect"][0](target)))
        for name, action in (("edit", "change"), ("delete", "delete")):
            mismatches.check(f"{target}: links to {name}", may(user, target.key, action),
                             f'href="{target.prefix}{name}/{target.pk}/"' in page)
        mismatches.check(f"{target}: links to history", may_anywhere(user, "change"),
                         f'href="{target.prefix}history/{target.pk}/"' in page)
    assert not mismatches, mismatches.report()
