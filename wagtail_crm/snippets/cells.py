"""Table cells of the contact listings, rendered without a template per cell.

A listing page has some 50 rows of 6 to 10 columns. Wagtail renders each cell through its own
template, and each row's "more" menu through several nested ones; at that volume the templates
cost more than the database. The cells here produce the same markup as Wagtail's cell templates
with ``format_html``, and :class:`RowMenus` renders a row's menu through Wagtail's own button
templates once per distinct set of buttons, filling in each row's id and name afterwards.
"""

import copy

from django.contrib.admin.utils import quote
from django.forms.utils import flatatt
from django.utils.formats import localize
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from wagtail.admin.ui.tables import Table
from wagtail.admin.widgets.button import Button, ButtonWithDropdown, ListingButton


def cell_html(column, content):
    """A ``<td>`` with the column's class, holding ``content`` (escaped unless safe)."""
    if column.classname:
        return format_html('<td class="{}">{}</td>', column.classname, content)
    return format_html("<td>{}</td>", content)


def display_value(value):
    """``value`` as a template would print it: numbers and dates localised, integers not."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else localize(value)


def text_cell(column, value):
    """Wagtail's ``tables/cell.html``: the value, or the column's text for empty values."""
    if value is None or not str(value).strip():
        return cell_html(column, column.empty_value_display)
    return cell_html(column, display_value(value))


def link_cell(column, value, url):
    """The value, as a link to ``url`` when there is one."""
    if value is None or not str(value).strip():
        return cell_html(column, column.empty_value_display)
    if url:
        return cell_html(column, format_html('<a href="{}">{}</a>', url, display_value(value)))
    return cell_html(column, display_value(value))


def list_cell(column, items):
    """Wagtail's ``tables/related_objects_cell.html``: the items as a list."""
    if not items:
        return cell_html(column, "")
    rows = format_html_join("", "<li>{}</li>", ((item,) for item in items))
    return cell_html(column, format_html("<ul>{}</ul>", rows))


def checkbox_cell(obj_type, pk):
    """Wagtail's bulk-action checkbox of one row (``bulk_actions/listing_checkbox_cell.html``)."""
    return format_html(
        '<td class="bulk-action-checkbox-cell"><input type="checkbox" data-object-id="{}" '
        'data-bulk-action-checkbox class="bulk-action-checkbox" aria-label="{}" '
        'aria-describedby="{}_{}_title" /></td>',
        quote(pk),
        gettext("Select"),
        obj_type,
        quote(pk),
    )


def title_cell(column, value, url, title_id, menu):
    """Wagtail's ``tables/title_cell.html``: the linked name and the row's menu."""
    if value is None or not str(value).strip():
        value = column.empty_value_display
    title = format_html('<span id="{}">{}</span>', title_id, value) if title_id else value
    if url:
        title = format_html('<a href="{}">{}</a>', url, title)
    classname = f"{column.classname} title" if column.classname else "title"
    actions = format_html('<ul class="actions">{}</ul>', menu) if menu else ""
    return format_html(
        '<td class="{}"><div class="title-wrapper">{}</div>{}</td>', classname, title, actions
    )


#: Stand-ins for a row's id and name in a menu rendered once for many rows: letters and
#: digits only, so that HTML escaping leaves them as they are.
PK_MARK = "crmrowpk7f3a"
NAME_MARK = "crmrowname7f3a"
#: Button classes whose markup depends only on what :func:`_shape` reads.
KNOWN_BUTTONS = (Button, ButtonWithDropdown, ListingButton)


class RowMenus:
    """Renders the buttons of a listing's rows, each distinct set of buttons once.

    Rows of a listing mostly have the same buttons (edit, inspect, delete) that differ only by
    the row's id in their URLs and its name in the menu's label. A set of buttons is rendered
    with stand-ins for those, and each row gets a copy with its own values put back. Buttons of
    other classes (added by ``register_snippet_listing_buttons`` hooks) render as usual.
    """

    #: Distinct menus kept per listing request; beyond this, rows are rendered one by one.
    max_cached = 16

    def __init__(self):
        self.rendered = {}

    def render(self, buttons, instance, parent_context):
        if not buttons:
            return ""
        pk, name = str(quote(instance.pk)), str(instance)
        try:
            shape = tuple(_shape(button, pk, name) for button in buttons)
        except _Unknown:
            return self._render(buttons, parent_context)
        html = self.rendered.get(shape)
        if html is None:
            if len(self.rendered) >= self.max_cached:
                return self._render(buttons, parent_context)
            marked = [_marked(button, pk, name) for button in buttons]
            html = self.rendered[shape] = str(self._render(marked, parent_context))
        return mark_safe(html.replace(PK_MARK, pk).replace(NAME_MARK, escape(name)))

    @staticmethod
    def _render(buttons, parent_context):
        return format_html_join(
            "", "<li>{}</li>", ((b.render_html(parent_context),) for b in buttons if b.show)
        )


class _Unknown(Exception):
    """A button whose markup may depend on more than :func:`_shape` reads."""


def _mark_url(url, pk):
    return url.replace(f"/{pk}/", f"/{PK_MARK}/") if url else url


def _mark_attr(value, name):
    if isinstance(value, str) and name:
        return value.replace(name, NAME_MARK)
    return value


def _shape(button, pk, name):
    if type(button) not in KNOWN_BUTTONS:
        raise _Unknown
    children = ()
    if isinstance(button, ButtonWithDropdown):
        children = tuple(_shape(child, pk, name) for child in sorted(button.dropdown_buttons))
    return (
        type(button),
        button.show,
        str(button.label),
        _mark_url(button.url, pk),
        button.classname,
        button.icon_name,
        button.priority,
        tuple(sorted((key, _mark_attr(value, name)) for key, value in button.attrs.items())),
        children,
    )


def _marked(button, pk, name):
    """A copy of ``button`` with the row's id and name replaced by the stand-ins."""
    marked = copy.copy(button)
    marked.url = _mark_url(button.url, pk)
    marked.attrs = {key: _mark_attr(value, name) for key, value in button.attrs.items()}
    if isinstance(button, ButtonWithDropdown):
        marked.dropdown_buttons = [
            _marked(child, pk, name) for child in sorted(button.dropdown_buttons)
        ]
    return marked


class ContactTable(Table):
    """Wagtail's table, whose body the columns render in one pass rather than a template
    tag per cell."""

    template_name = "wagtail_crm/listing/table.html"

    @property
    def body(self):
        return TableBody(self)


class TableBody:
    """The rows of a :class:`ContactTable`, as a component for its template."""

    def __init__(self, table):
        self.table = table

    def render_html(self, parent_context):
        columns = list(self.table.columns.values())
        request = parent_context.get("request")
        rows = []
        for row in self.table.rows:
            context = {"request": request, "table": self.table, "row": row}
            # Each column's render_cell_html() returns HTML, as for Wagtail's template tag.
            html = "".join(column.render_cell_html(row.instance, context) for column in columns)
            rows.append(format_html("<tr{}>{}</tr>", flatatt(row.attrs), mark_safe(html)))
        return mark_safe("".join(rows))
