"""Relationships across models: validation, saving, the primary employer, and tree queries.

Validation (:func:`validate_relationship`) checks a relationship with its participants before
anything is written, so an admin form and an import can call it on unsaved objects.
:func:`save_relationship` validates and saves in one transaction. A person's organisation
(``Contact.primary_organization``) follows their current primary employment: saving a
relationship, or deleting one of its participants, recomputes it (see
:func:`sync_primary_organization`); an organisation set by hand on the contact form stays until a
primary employment says otherwise.

The tree queries (:func:`subtree`, :func:`ancestors`, :func:`walk`) are one recursive query each,
on SQLite and PostgreSQL, with a depth limit and a cycle guard. They return named tuples;
:func:`load_contacts` fetches the Contact rows of a result in one query.

Access is the caller's job: these functions see every contact. Pass ``visible`` (the folder ids
from ``wagtail_crm.permissions.folder_ids(user, VIEW)``, or a callable taking a node) to have
the nodes a user may not see marked ``hidden``, and show those as
``wagtail_crm.permissions.HIDDEN_CONTACT``, never by name.
"""

from typing import NamedTuple

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from ..models import Contact, ContactKind
from ..models.relationships import (
    Relationship,
    RelationshipParticipant,
    RelationshipRole,
    RelationshipType,
    TreePosition,
)

#: The deepest a tree query goes when no depth is given.
MAX_DEPTH = 50

# Validation ----------------------------------------------------------------------------------


def validate_relationship(relationship, participants, *, fields=True, on=None):
    """Check a relationship and its participants, saved or not, before they are saved.

    Args:
        relationship: the Relationship, with its type set.
        participants: the RelationshipParticipant objects it will have (contact and role set;
            rows without either are ignored, as a form reports those itself).
        fields: also check the relationship's own fields (dates, custom values, primary);
            a ModelForm, whose model validation has done so, passes False.
        on: the day that decides which relationships are active (default today).

    Raises:
        ValidationError: a dict keyed by field (``type``, ``end_date``, ``is_primary``,
            ``custom__<key>``) or ``NON_FIELD_ERRORS`` for participants. Each participant
            error names the contact or role and has a ``code`` and ``params`` with the
            participant's ``index`` in ``participants`` where one participant is at fault.
    """
    errors = relationship.field_errors() if fields else {}

    def add(key, message, code, **params):
        errors.setdefault(key, []).append(ValidationError(message, code=code, params=params))

    if not relationship.type_id:
        add("type", _("Choose the type of relationship."), "required")
        raise ValidationError(errors)
    rtype = relationship.type
    roles = {role.pk: role for role in rtype.roles.all()}
    given = [(i, p) for i, p in enumerate(participants) if p.contact_id and p.role_id]
    contacts = Contact.all_objects.in_bulk({p.contact_id for _i, p in given})
    counts = dict.fromkeys(roles, 0)
    seen = {}
    for index, participant in given:
        contact = contacts.get(participant.contact_id)
        name = str(contact) if contact else str(participant.contact_id)
        role = roles.get(participant.role_id)
        if role is None:
            add(NON_FIELD_ERRORS, _(
                "%(contact)s: the role “%(role)s” is not a role of %(type)s."
            ), "role_of_other_type", index=index, contact=name,
                role=str(participant.role), type=rtype.name)
            continue
        counts[role.pk] += 1
        if contact and not role.accepts(contact):
            if contact.kind == ContactKind.PERSON:
                message = _("%(contact)s is a person; the role “%(role)s” is for organisations.")
            else:
                message = _("%(contact)s is an organisation; the role “%(role)s” is for people.")
            add(NON_FIELD_ERRORS, message, "wrong_kind", index=index, contact=name,
                role=role.name)
        if participant.contact_id in seen:
            add(NON_FIELD_ERRORS, _(
                "%(contact)s takes part twice; a contact plays one role in a relationship."
            ), "duplicate_contact", index=index, contact=name)
        seen.setdefault(participant.contact_id, role)
    for role in roles.values():
        count = counts[role.pk]
        if count < role.min_participants:
            add(NON_FIELD_ERRORS, ngettext_lazy(
                "“%(role)s” needs at least %(min)s participant; it has %(count)s.",
                "“%(role)s” needs at least %(min)s participants; it has %(count)s.", "min",
            ), "too_few", role=role.name, min=role.min_participants, count=count)
        elif role.max_participants is not None and count > role.max_participants:
            add(NON_FIELD_ERRORS, ngettext_lazy(
                "“%(role)s” takes at most %(max)s participant; it has %(count)s.",
                "“%(role)s” takes at most %(max)s participants; it has %(count)s.", "max",
            ), "too_many", role=role.name, max=role.max_participants, count=count)
    if not relationship.has_ended(on):
        # An upcoming relationship is checked too: it will be under way without being saved.
        ends = {role.tree_position: cid for cid, role in seen.items() if role.tree_position}
        parent, child = ends.get(TreePosition.PARENT), ends.get(TreePosition.CHILD)
        if rtype.is_hierarchical and parent and child and parent != child:
            loop = _loop_through(parent, child, relationship.pk, on)
            if loop:
                add(NON_FIELD_ERRORS, _(
                    "This would make a loop in the tree: %(parent)s is already below "
                    "%(child)s (%(chain)s)."
                ), "cycle", parent=loop[-1], child=loop[0], chain=" › ".join(loop))
        if relationship.is_primary and rtype.sets_primary_organization and child:
            other = _other_primary_employment(child, relationship, on)
            if other:
                add("is_primary", _(
                    "%(person)s already has a primary employer, %(employer)s. Unmark that "
                    "relationship or end it first."
                ), "second_primary", person=str(contacts.get(child, child)), employer=other)
    if errors:
        raise ValidationError(errors)


def _loop_through(parent_id, child_id, relationship_id, on):
    """Names from ``child`` down to ``parent`` when ``child`` is already above ``parent``.

    Relationships that have not started yet count: a loop must not appear later by itself.
    """
    for node in ancestors(parent_id, on=on, exclude_relationship=relationship_id,
                          include_upcoming=True):
        if node.contact_id == child_id:
            names = Contact.all_objects.in_bulk(node.path)
            return [str(names[pk]) for pk in reversed(node.path)]
    return None


def _other_primary_employment(person_id, relationship, on):
    """The employer's name in another primary employment of the person whose dates overlap
    those of ``relationship`` (from ``on`` on), or None."""
    others = (
        Relationship.objects.not_ended(on)
        .filter(
            is_primary=True,
            type__sets_primary_organization=True,
            participants__contact=person_id,
            participants__role__tree_position=TreePosition.CHILD,
        )
        .exclude(pk=relationship.pk)
    )
    start, end = relationship.start_date, relationship.end_date
    if end:
        others = others.filter(Q(start_date__isnull=True) | Q(start_date__lte=end))
    if start:
        others = others.filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
    employer = (
        RelationshipParticipant.objects.filter(
            relationship__in=others, role__tree_position=TreePosition.PARENT
        ).select_related("contact").first()
    )
    return str(employer.contact) if employer else None


def relationships_needing(contact):
    """Ids of the relationships that cannot stand without ``contact``.

    Without the contact, a role it plays there would have fewer participants than the role's
    minimum (an employment without its employee, a marriage with one spouse). Purging the
    contact deletes these relationships with it; the others lose one participant.
    """
    contact_id = getattr(contact, "pk", contact)
    rows = RelationshipParticipant.objects.filter(
        relationship__in=RelationshipParticipant.objects.filter(contact=contact_id)
        .values("relationship")
    ).values_list("relationship_id", "role_id", "contact_id", "role__min_participants")
    remaining, minimum, played = {}, {}, set()
    for relationship_id, role_id, participant_id, fewest in rows:
        key = (relationship_id, role_id)
        minimum[key] = fewest
        if participant_id == contact_id:
            played.add(key)
        else:
            remaining[key] = remaining.get(key, 0) + 1
    return sorted({
        relationship_id for relationship_id, role_id in played
        if remaining.get((relationship_id, role_id), 0) < minimum[(relationship_id, role_id)]
    })


# Saving and the primary organisation ---------------------------------------------------------


def save_relationship(relationship, participants=None):
    """Validate and save a relationship with its participants, in one transaction.

    The people taking part are locked (PostgreSQL) so that two saves cannot both make a
    primary employment. Saving recomputes the organisation of the people employed.

    Args:
        relationship: a Relationship, new or loaded.
        participants: the RelationshipParticipant objects it should have; None keeps those
            it has (in memory or saved).

    Returns:
        The saved relationship.

    Raises:
        ValidationError: as :func:`validate_relationship`; nothing is saved.
    """
    with transaction.atomic():
        if participants is None:
            participants = list(relationship.participants.all())
        relationship.participants = participants
        ids = sorted({p.contact_id for p in participants if p.contact_id})
        list(Contact.all_objects.select_for_update().filter(pk__in=ids).values_list("pk"))
        relationship.full_clean()
        relationship.save()
    return relationship


def _primary_employments(person_id, on=None):
    return Relationship.objects.active(on).filter(
        is_primary=True,
        type__sets_primary_organization=True,
        participants__contact=person_id,
        participants__role__tree_position=TreePosition.CHILD,
    )


def primary_employer_id(person, on=None):
    """The id of the organisation of ``person``'s current primary employment, or None."""
    person_id = getattr(person, "pk", person)
    return (
        RelationshipParticipant.objects.filter(
            relationship__in=_primary_employments(person_id, on),
            role__tree_position=TreePosition.PARENT,
            contact__kind=ContactKind.ORGANIZATION,
        )
        .order_by(F("relationship__start_date").desc(nulls_last=True), "-relationship_id")
        .values_list("contact_id", flat=True)
        .first()
    )


def sync_primary_organization(person, released=(), on=None):
    """Make ``person``'s organisation follow their current primary employment.

    With a current primary employment, its organisation becomes the person's organisation.
    Without one, the organisation is cleared only when it is one of ``released`` (the
    employers of relationships that just ended, were unmarked or deleted), so that an
    organisation chosen by hand on the contact form stays. A change is saved through
    ``Contact.save`` and so re-indexes the contact for search.

    Args:
        person: a Contact or its id; organisations are left alone.
        released: ids of organisations the person may no longer be employed by.
        on: the day that decides which employments are current (default today).

    Returns:
        The id of the person's organisation afterwards.
    """
    person_id = getattr(person, "pk", person)
    contact = Contact.all_objects.filter(pk=person_id, kind=ContactKind.PERSON).first()
    if contact is None:
        return None
    employer_id = primary_employer_id(person_id, on)
    current = contact.primary_organization_id
    if employer_id is None and current not in set(released):
        return current
    if employer_id != current:
        contact.primary_organization_id = employer_id
        contact.save(update_fields=["primary_organization", "updated_at"])
    return employer_id


def employment_ends(relationship_id):
    """``(people, organisations)``: the ids at each end of a primary employment, else empty."""
    rows = RelationshipParticipant.objects.filter(
        relationship_id=relationship_id,
        relationship__is_primary=True,
        relationship__type__sets_primary_organization=True,
    ).values_list("contact_id", "role__tree_position", "contact__kind")
    people = [pk for pk, position, kind in rows
              if position == TreePosition.CHILD and kind == ContactKind.PERSON]
    organizations = [pk for pk, position, _kind in rows if position == TreePosition.PARENT]
    return people, organizations


def sync_primary_organizations(relationship, previous_type_id=None):
    """Recompute the organisation of the people in an employment (after it was saved).

    Called by ``Relationship.save()``. ``previous_type_id`` is the type it was loaded with,
    so that a relationship changed from an employment to another type releases its employer.
    """
    type_ids = {relationship.type_id, previous_type_id} - {None}
    if not RelationshipType.objects.filter(
        pk__in=type_ids, sets_primary_organization=True
    ).exists():
        return
    rows = relationship.participants.values_list(
        "contact_id", "role__tree_position", "contact__kind"
    )
    if relationship.type.sets_primary_organization:
        people = [pk for pk, pos, kind in rows
                  if pos == TreePosition.CHILD and kind == ContactKind.PERSON]
        released = [pk for pk, pos, _kind in rows if pos == TreePosition.PARENT]
    else:
        people = [pk for pk, _pos, kind in rows if kind == ContactKind.PERSON]
        released = [pk for pk, _pos, kind in rows if kind == ContactKind.ORGANIZATION]
    for person_id in people:
        sync_primary_organization(person_id, released=released)


def refresh_primary_organizations(on=None):
    """Recompute organisations whose primary employment has since started or ended.

    An employment with dates starts and ends without being saved again; run this daily
    (a task or a cron job) to keep ``Contact.primary_organization`` in step.

    Returns:
        How many people were looked at.
    """
    employments = Relationship.objects.filter(
        is_primary=True, type__sets_primary_organization=True
    )
    employer = RelationshipParticipant.objects.filter(
        relationship=OuterRef("relationship"),
        role__tree_position=TreePosition.PARENT,
        contact_id=OuterRef("contact__primary_organization"),
    )
    employees = RelationshipParticipant.objects.filter(
        role__tree_position=TreePosition.CHILD, contact__kind=ContactKind.PERSON
    ).values_list("contact_id", "contact__primary_organization")
    # Ended: the person still shows that employer. Started: the person does not show it yet.
    ended = employees.filter(relationship__in=employments.past(on)).filter(Exists(employer))
    started = employees.filter(relationship__in=employments.active(on)).exclude(
        Exists(employer)
    )
    rows = set(ended) | set(started)
    for person_id, organization_id in sorted(rows, key=lambda row: row[0]):
        sync_primary_organization(person_id, released=[organization_id], on=on)
    return len({person_id for person_id, _organization_id in rows})


# Tree queries --------------------------------------------------------------------------------


class TreeNode(NamedTuple):
    """A contact in a subtree or an ancestor chain.

    Nodes are named tuples of plain values: Python's garbage collector stops tracking them, so
    a tree of thousands of nodes does not make the next full collection slower.
    """

    #: The contact.
    contact_id: int
    #: The contact it was reached from: its parent in a subtree, the contact below it in an
    #: ancestor chain; None for the starting contact.
    from_id: int | None
    #: Edges from the starting contact (0 for the starting contact itself).
    depth: int
    #: The contact's role in the relationship that links it to ``from_id``, and its name.
    role_id: int | None
    role_name: str
    #: That relationship, and its type.
    relationship_id: int | None
    type_id: int | None
    #: The path as the query returns it (",1,5,9,"); see :attr:`path`.
    path_text: str
    display_name: str
    sort_name: str
    kind: str
    folder_id: int
    #: Set when ``visible`` said the user may not see the contact: show "Hidden contact".
    hidden: bool = False

    @property
    def parent_id(self):
        """In a subtree: the parent's contact id."""
        return self.from_id

    @property
    def path(self):
        """Contact ids from the starting contact to this one, as a tuple."""
        return tuple(map(int, self.path_text[1:-1].split(",")))


class WalkNode(NamedTuple):
    """A contact reached by :func:`walk`, with its distance in relationships."""

    contact_id: int
    distance: int
    display_name: str
    sort_name: str
    kind: str
    folder_id: int
    hidden: bool = False


def _tables():
    quote = connection.ops.quote_name
    models = {"part": RelationshipParticipant, "rel": Relationship, "role": RelationshipRole,
              "type": RelationshipType, "contact": Contact}
    return {name: quote(model._meta.db_table) for name, model in models.items()}


def _types_sql(types, column):
    """SQL restricting ``column`` (a type id) to ``types``: instances, ids or slugs."""
    if types is None:
        return "", []
    ids = [getattr(t, "pk", t) for t in types if not isinstance(t, str)]
    slugs = [t for t in types if isinstance(t, str)]
    parts, params = [], []
    if ids:
        parts.append(f"{column} IN ({', '.join(['%s'] * len(ids))})")
        params += ids
    if slugs:
        table = _tables()["type"]
        marks = ", ".join(["%s"] * len(slugs))
        parts.append(f"{column} IN (SELECT id FROM {table} WHERE slug IN ({marks}))")
        params += slugs
    return f" AND ({' OR '.join(parts) or '1 = 0'})", params


def _hidden_test(visible):
    if visible is None:
        return None
    if callable(visible):
        return lambda node: not visible(node)
    folders = set(visible)
    return lambda node: node.folder_id not in folders


#: One step along tree edges from ``t.contact_id`` (in the ``near`` position) to the contact at
#: the ``far`` end. The path of contact ids (",1,5,9,") is the cycle guard. The contact's
#: columns travel with each row; the role's come from the small ``tree_roles`` at the end.
TREE_SQL = """
WITH RECURSIVE tree_roles(id, position, kind, name, role_order, type_id, type_order) AS (
    SELECT ro.id, ro.tree_position, ro.allowed_kind, ro.name, ro.sort_order, ty.id, ty.sort_order
    FROM {role} ro JOIN {type} ty ON ty.id = ro.type_id
    WHERE ty.is_hierarchical = %s AND ro.tree_position IN ('parent', 'child'){types}
), tree(contact_id, from_id, depth, role_id, relationship_id, path,
        display_name, sort_name, kind, folder_id) AS (
    SELECT c.id, CAST(NULL AS BIGINT), 0, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT),
           CAST(%s AS TEXT), c.display_name, c.sort_name, c.kind, c.folder_id
    FROM {contact} c WHERE c.id = %s
    UNION ALL
    SELECT far.contact_id, t.contact_id, t.depth + 1, far.role_id, far.relationship_id,
           t.path || CAST(far.contact_id AS TEXT) || ',',
           c.display_name, c.sort_name, c.kind, c.folder_id
    FROM tree t
    JOIN {part} near ON near.contact_id = t.contact_id AND {near_role}
    JOIN {rel} r ON r.id = near.relationship_id{active}
    JOIN {part} far ON far.relationship_id = near.relationship_id AND {far_role}
    JOIN {contact} c ON c.id = far.contact_id AND c.deleted_at IS NULL
    WHERE {depth_below} AND {near_kind}
        AND t.path NOT LIKE '%%,' || CAST(far.contact_id AS TEXT) || ',%%'{exclude}
)
SELECT t.contact_id, t.from_id, t.depth, t.role_id, ro.name, t.relationship_id, ro.type_id,
       t.path, t.display_name, t.sort_name, t.kind, t.folder_id, ro.role_order, ro.type_order
FROM tree t LEFT JOIN tree_roles ro ON ro.id = t.role_id
"""


def _active_sql(include_past, on, include_upcoming=False, alias="r"):
    """SQL and parameters that keep relationships under way on ``on``.

    ``include_past`` also keeps those that ended before; ``include_upcoming`` those that start
    after.
    """
    day = connection.ops.adapt_datefield_value(on or timezone.localdate())
    sql, params = "", []
    if not include_past:
        sql += f" AND ({alias}.end_date IS NULL OR {alias}.end_date >= %s)"
        params.append(day)
    if not include_upcoming:
        sql += f" AND ({alias}.start_date IS NULL OR {alias}.start_date <= %s)"
        params.append(day)
    return sql, params


def _in_tree_roles(column, position):
    """SQL for ``column`` holding the id of a tree role in ``position`` ("parent", "child").

    PostgreSQL plans ``IN (subquery)`` as a semi-join, which makes planning the statement
    take longer than running it (2.4 ms against 0.2 ms for an ancestor chain); an array
    computed once is a plain condition to the planner (0.9 ms).
    """
    roles = f"SELECT id FROM tree_roles WHERE position = '{position}'"
    if connection.vendor == "postgresql":
        return f"{column} = ANY(ARRAY({roles}))"
    return f"{column} IN ({roles})"


def _may_play(kind_column, position):
    """SQL: a contact of this kind may play a tree role in ``position``.

    Checked before looking up the contact's participations: in a subtree of departments and
    employees the people are never parents, so their participations are not looked up (150
    index lookups instead of 5,550 for a company of 4,800 people).
    """
    kinds = f"SELECT kind FROM tree_roles WHERE position = '{position}'"
    if connection.vendor == "postgresql":
        return f"({kind_column} = ANY(ARRAY({kinds})) OR 'any' = ANY(ARRAY({kinds})))"
    return f"({kind_column} IN ({kinds}) OR 'any' IN ({kinds}))"


def _below(column):
    """SQL for ``column < %s`` in a recursive step.

    On SQLite the condition is marked as rarely true: after ANALYZE, the planner otherwise
    expects many rows from the recursive table and builds a Bloom filter over the whole
    participant index at every step (16 ms instead of 0.1 ms for a five-step chain at 60,000
    relationships).
    """
    if connection.vendor == "sqlite":
        return f"likelihood({column} < %s, 0.001)"
    return f"{column} < %s"


def _tree(start, up, types, depth, include_past, visible, on, exclude_relationship,
          include_upcoming=False):
    start_id = getattr(start, "pk", start)
    types_sql, type_params = _types_sql(types, "ty.id")
    active_sql, active_params = _active_sql(include_past, on, include_upcoming)
    exclude_sql, exclude_params = "", []
    if exclude_relationship:
        exclude_sql, exclude_params = " AND near.relationship_id <> %s", [exclude_relationship]
    parent, child = TreePosition.PARENT.value, TreePosition.CHILD.value
    near, far = (child, parent) if up else (parent, child)
    sql = TREE_SQL.format(types=types_sql, active=active_sql, exclude=exclude_sql,
                          near_role=_in_tree_roles("near.role_id", near),
                          far_role=_in_tree_roles("far.role_id", far),
                          near_kind=_may_play("t.kind", near),
                          depth_below=_below("t.depth"), **_tables())
    params = [True, *type_params, f",{start_id},", start_id, *active_params,
              MAX_DEPTH if depth is None else depth, *exclude_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    hidden = _hidden_test(visible)
    person = str(ContactKind.PERSON)
    make = tuple.__new__
    nodes, keys = [], []
    for (contact_id, from_id, level, role_id, role_name, relationship_id, type_id, path,
         display_name, sort_name, kind, folder_id, role_order, type_order) in rows:
        node = make(TreeNode, (contact_id, from_id, level, role_id, role_name or "",
                               relationship_id, type_id, path, display_name, sort_name, kind,
                               folder_id, False))
        if hidden and hidden(node):
            node = node._replace(hidden=True)
        nodes.append(node)
        keys.append((kind == person, type_order or 0, role_order or 0, sort_name, contact_id))
    return nodes, keys


def subtree(root, types=None, depth=None, *, include_past=False, visible=None, on=None,
            include_upcoming=False):
    """The tree below ``root`` along hierarchical relationships, in display order.

    Contacts come out depth first. The children of a contact are its organisations
    (departments, subsidiaries) first, then its people, each grouped by relationship type and
    role order and sorted by name. A contact reached along two paths appears under each
    parent. Contacts in the trash, and what lies below them, are left out; the root is always
    the first node.

    Args:
        root: a Contact or its id; it is the first node, at depth 0.
        types: hierarchical RelationshipTypes (instances, ids or slugs) to follow; None for
            all of them.
        depth: how many edges down to go; None for :data:`MAX_DEPTH`.
        include_past: also follow relationships that have ended.
        include_upcoming: also follow relationships that have not started yet.
        visible: None, a collection of folder ids, or a callable taking a :class:`TreeNode`:
            nodes it does not allow have ``hidden`` set.
        on: the day that decides which relationships are active (default today).

    Returns:
        A list of :class:`TreeNode`.
    """
    nodes, keys = _tree(root, False, types, depth, include_past, visible, on, None,
                        include_upcoming)
    # Depth first, each contact's children in the order of their keys.
    children = {}
    for index, node in enumerate(nodes):
        if node.depth:
            path = node.path_text
            children.setdefault(path[:path.rindex(",", 0, -1) + 1], []).append(index)
    ordered = []
    stack = [index for index, node in enumerate(nodes) if not node.depth]
    while stack:
        node = nodes[stack.pop()]
        ordered.append(node)
        below = children.get(node.path_text)
        if below:
            below.sort(key=keys.__getitem__, reverse=True)
            stack.extend(below)
    return ordered


def ancestors(contact, types=None, depth=None, *, include_past=False, visible=None, on=None,
              exclude_relationship=None, include_upcoming=False):
    """The contacts above ``contact`` along hierarchical relationships, nearest first.

    For a person: their department, its parent organisation and so on up to the top, and
    their manager's chain when "reports to" is followed. Each node's ``from_id`` is the
    contact below it, so several chains (two employers) can be told apart.

    Args:
        contact: a Contact or its id; it is the first node, at depth 0.
        types, depth, include_past, visible, on, include_upcoming: as for :func:`subtree`.
        exclude_relationship: the id of a relationship to leave out (validation uses it to
            look at the tree without the relationship being edited).

    Returns:
        A list of :class:`TreeNode`, by depth, then type and role order, then name.
    """
    nodes, keys = _tree(contact, True, types, depth, include_past, visible, on,
                        exclude_relationship, include_upcoming)
    order = sorted(range(len(nodes)), key=lambda index: (nodes[index].depth, keys[index]))
    return [nodes[index] for index in order]


#: Contacts within reach, over relationships of any type in both directions. UNION (not
#: UNION ALL) keeps one row per (contact, distance): the cycle guard, which bounds the work
#: by depth times the contacts reached instead of by the number of paths. Contacts in the
#: trash are checked once, when a row is expanded, and left out at the end.
WALK_SQL = """
WITH RECURSIVE reach(contact_id, distance) AS (
    SELECT CAST(%s AS BIGINT), 0
    UNION
    SELECT other.contact_id, t.distance + 1
    FROM reach t
    JOIN {contact} tc ON tc.id = t.contact_id AND (tc.deleted_at IS NULL OR t.distance = 0)
    JOIN {part} mine ON mine.contact_id = t.contact_id
    JOIN {rel} r ON r.id = mine.relationship_id{active}{types}
    JOIN {part} other ON other.relationship_id = mine.relationship_id
        AND other.contact_id <> mine.contact_id
    WHERE {distance_below}
)
SELECT c.id, m.distance, c.display_name, c.sort_name, c.kind, c.folder_id
FROM (SELECT contact_id, MIN(distance) AS distance FROM reach GROUP BY contact_id) m
JOIN {contact} c ON c.id = m.contact_id AND (c.deleted_at IS NULL OR m.distance = 0)
ORDER BY m.distance, c.sort_name, c.id
"""


def walk(contact, depth=4, types=None, *, include_past=False, visible=None, on=None,
         include_upcoming=False):
    """The contacts within ``depth`` relationships of ``contact``, each with its distance.

    Every relationship counts as one hop between each pair of its participants, whatever its
    type and direction: an opportunity links its customer, contacts and representatives.
    Contacts in the trash are neither listed nor followed, apart from the starting contact.

    Args:
        contact: a Contact or its id; it is the first node, at distance 0.
        depth: the most hops.
        types: RelationshipTypes (instances, ids or slugs) to follow; None for all.
        include_past, visible, on, include_upcoming: as for :func:`subtree`.

    Returns:
        A list of :class:`WalkNode`, nearest first, then by name.
    """
    start_id = getattr(contact, "pk", contact)
    active_sql, active_params = _active_sql(include_past, on, include_upcoming)
    types_sql, type_params = _types_sql(types, "r.type_id")
    sql = WALK_SQL.format(active=active_sql, types=types_sql,
                          distance_below=_below("t.distance"), **_tables())
    with connection.cursor() as cursor:
        cursor.execute(sql, [start_id, *active_params, *type_params, depth])
        rows = cursor.fetchall()
    hidden = _hidden_test(visible)
    make = tuple.__new__
    nodes = [make(WalkNode, (*row, False)) for row in rows]
    if hidden:
        nodes = [node._replace(hidden=True) if hidden(node) else node for node in nodes]
    return nodes


def load_contacts(nodes, queryset=None):
    """The Contact rows of ``nodes`` in one query, by id.

    Args:
        nodes: TreeNode or WalkNode objects.
        queryset: Contacts to read from, for instance one narrowed by
            ``contact_policy.filter_queryset(...)``; default every contact, trash included.

    Returns:
        A dict of id to Contact; ids the queryset leaves out are missing.
    """
    queryset = Contact.all_objects.all() if queryset is None else queryset
    return queryset.in_bulk({node.contact_id for node in nodes})
