"""The listing's cells are rendered in Python: the same markup as Wagtail's cell templates."""

import datetime
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.html import parse_html
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.widgets.button import Button, ButtonWithDropdown

from tests.factories import FolderFactory, PersonFactory, folder_user
from wagtail_crm.snippets import cells

pytestmark = pytest.mark.django_db

AWKWARD = ['Ann & "Bo" <b>O\'Neil</b>', "Edit", "42", "More", "", "   "]


def same_html(ours, wagtails):
    assert parse_html(str(ours)) == parse_html(str(wagtails)), f"\n{ours}\n!=\n{wagtails}"


def wagtail_cell(template, column, **context):
    return render_to_string(f"wagtailadmin/tables/{template}", {"column": column, **context})


@pytest.mark.parametrize("classname", [None, "w-text-right"])
@pytest.mark.parametrize(
    "value", [*AWKWARD, None, 7, 1234567, Decimal("12.50"), datetime.date(2026, 11, 25)]
)
def test_text_cells_match_wagtails_template(value, classname):
    column = Column("x", classname=classname)
    shown = column.empty_value_display if value is None or not str(value).strip() else value
    if isinstance(shown, int):
        shown = str(shown)  # Wagtail's Column does not localise whole numbers either
    same_html(cells.text_cell(column, value), wagtail_cell("cell.html", column, value=shown))


@pytest.mark.parametrize("items", [[], ["vip"], ["a & b", "<c>", "d"]])
def test_list_cells_match_wagtails_template(items):
    column = Column("tags")
    same_html(
        cells.list_cell(column, items),
        wagtail_cell("related_objects_cell.html", column, value=items),
    )


def test_link_cells_link_their_value_and_escape_it():
    column = Column("primary_email")
    same_html(
        cells.link_cell(column, "a&b@example.org", "mailto:a&b@example.org"),
        '<td><a href="mailto:a&amp;b@example.org">a&amp;b@example.org</a></td>',
    )
    same_html(cells.link_cell(column, "x", ""), "<td>x</td>")
    same_html(cells.link_cell(column, "", "mailto:"), "<td></td>")


def test_checkbox_cells_match_wagtails_template():
    contact = PersonFactory()
    same_html(
        cells.checkbox_cell("snippet", contact.pk),
        render_to_string(
            "wagtailadmin/bulk_actions/listing_checkbox_cell.html",
            {"instance": contact, "obj_type": "snippet",
             "aria_describedby": f"snippet_{contact.pk}_title"},
        ),
    )


def row_buttons(contact, with_edit=True):
    items = [Button("Inspect", url=f"/admin/crm/people/inspect/{contact.pk}/", icon_name="info")]
    if with_edit:
        items.append(Button("Edit", url=f"/admin/crm/people/edit/{contact.pk}/", icon_name="edit"))
    return [
        ButtonWithDropdown(
            buttons=items,
            icon_name="dots-horizontal",
            attrs={"aria-label": f"More options for '{contact}'"},
        )
    ]


def test_title_cells_match_wagtails_template():
    request = RequestFactory().get("/")
    column = TitleColumn("display_name")
    menus = cells.RowMenus()
    for name in AWKWARD:
        contact = PersonFactory(given_name=name, family_name="")
        buttons = row_buttons(contact)
        url, title_id = f"/admin/crm/people/inspect/{contact.pk}/", f"snippet_{contact.pk}_title"
        shown = contact.display_name if contact.display_name.strip() else column.empty_value_display
        same_html(
            cells.title_cell(column, contact.display_name, url, title_id,
                             menus.render(buttons, contact, {"request": request})),
            wagtail_cell("title_cell.html", column, value=shown, link_url=url,
                         link_attrs={"href": url}, title_id=title_id, buttons=buttons,
                         request=request),
        )


def test_row_menus_render_each_row_as_wagtail_would():
    """Menus rendered once per set of buttons, then filled in, equal rendering each row."""
    request = RequestFactory().get("/")
    menus = cells.RowMenus()
    contacts = [PersonFactory(given_name=name or "Blank", family_name="Row") for name in AWKWARD]
    for index, contact in enumerate(contacts * 2):
        buttons = row_buttons(contact, with_edit=index % 3 != 0)
        same_html(
            menus.render(buttons, contact, {"request": request}),
            cells.RowMenus._render(buttons, {"request": request}),
        )
    # Two sets of buttons (with and without "Edit"), whatever the names and ids.
    assert len(menus.rendered) == 2


def test_row_menus_render_unknown_buttons_one_by_one():
    class Fancy(Button):
        template_name = "wagtailadmin/shared/button.html"

    request = RequestFactory().get("/")
    menus = cells.RowMenus()
    contact = PersonFactory()
    buttons = [Fancy("Call", url=f"/call/{contact.pk}/")]
    same_html(
        menus.render(buttons, contact, {"request": request}),
        cells.RowMenus._render(buttons, {"request": request}),
    )
    assert menus.rendered == {}


def test_listing_rows_offer_edit_only_where_the_user_may_edit(client):
    folder = FolderFactory()
    user = folder_user("contributor", (folder, "contribute"))
    mine = PersonFactory(family_name="Mine", folder=folder, owner=user)
    theirs = PersonFactory(family_name="Theirs", folder=folder)
    client.force_login(user)

    html = client.get("/admin/crm/people/").content.decode()

    assert f'href="/admin/crm/people/edit/{mine.pk}/"' in html
    assert f'href="/admin/crm/people/edit/{theirs.pk}/"' not in html
    assert f"More options for &#x27;{theirs.display_name}&#x27;" in html
    assert f'href="/admin/crm/people/delete/{mine.pk}/"' in html
    assert f'href="/admin/crm/people/delete/{theirs.pk}/"' not in html
    assert "Move to trash" in html


@pytest.mark.parametrize("value", ["", "FR", ["FR", "GB"], "XX"])
def test_quick_selects_match_djangos_select(value):
    from django import forms

    from wagtail_crm.forms.widgets import QuickSelect, QuickSelectMixin

    choices = [("", "All"), ("FR", "France"), ("Islands", [("AX", "Åland <Islands>"),
                                                          ("FO", "Faroe & co")]), ("GB", "UK")]

    class QuickMultiple(QuickSelectMixin, forms.SelectMultiple):
        pass

    widget_classes = [(QuickSelect, forms.Select), (QuickMultiple, forms.SelectMultiple)]
    for quick, django_select in widget_classes:
        attrs = {"id": "id_country", "data-x": 'a"b'}
        same_html(
            quick(choices=choices).render("country", value, attrs),
            django_select(choices=choices).render("country", value, attrs),
        )
