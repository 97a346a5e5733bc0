import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format
from wagtail import hooks
from wagtail.log_actions import log

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    CustomFieldFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    ensure_trash_log_actions,
    folder_user,
    image,
    method_type,
)
from wagtail_crm.models import ContactMethodType, CRMSettings, Organization, Person
from wagtail_crm.panels import ContactPanel, next_anniversary

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def trash_log_actions():
    ensure_trash_log_actions()


def page(client, contact):
    section = "people" if contact.kind == "person" else "organisations"
    response = client.get(f"/admin/crm/{section}/inspect/{contact.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def panel_html(html, name):
    start = html.index(f'id="crm-panel-{name}-section"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def ada(superuser):
    settings = CRMSettings.load()
    settings.click_to_call_template = "https://pbx.example/call?to={digits}"
    settings.phone_display_format = "international"
    settings.save()
    org = OrganizationFactory(organization_name="Analytical Engines")
    person = PersonFactory(
        given_name="Ada", family_name="Lovelace", nickname="Enchantress",
        job_title="Programmer", birthday=datetime.date(1815, 12, 10),
        primary_organization=org, owner=superuser, photo=image(),
        folder=FolderFactory(name="Pioneers"), do_not_email=True,
    )
    person.tags.add("maths", "poetry")
    person.save()
    ContactMethodFactory(contact=person, value="ada@example.org", is_primary=True, label="work")
    ContactMethodFactory(contact=person, value="ada@home.example", label="home")
    ContactMethodFactory(contact=person, type=method_type("Mobile"), value="020 7946 0123")
    AddressFactory(contact=person, street="12 St James's Square", locality="London",
                   postal_code="SW1Y 4LB", country="GB", is_primary=True)
    AddressFactory(contact=person, label="home", street="Ockham Park", locality="Ockham")
    return Person.objects.get(pk=person.pk)


# The page ---------------------------------------------------------------------------


def test_page_has_tabs_with_accessible_markup_and_a_timeline(admin_client, ada):
    html = page(admin_client, ada)
    assert 'role="tablist"' in html
    labels = re.findall(r'id="tab-label-([a-z]+)"', html)
    assert labels == ["summary", "details", "events", "relations"]
    for tab in labels:
        assert f'id="tab-{tab}" class="w-tabs__panel" role="tabpanel"' in html
        assert f'aria-labelledby="tab-label-{tab}"' in html
    # The timeline follows the tabs.
    assert html.index('id="crm-panel-history-section"') > html.index('id="tab-relations"')


def test_sticky_note_is_on_top_and_escaped(admin_client, ada):
    ada.notes = "Call <b>after</b> 5\nAsk about the engine"
    ada.save()
    html = page(admin_client, ada)
    assert "Call &lt;b&gt;after&lt;/b&gt; 5<br>Ask about the engine" in html
    assert html.index("crm-sticky-note") < html.index('role="tablist"')


def test_no_sticky_note_without_notes(admin_client, ada):
    assert "crm-sticky-note" not in page(admin_client, ada)


def test_summary(admin_client, ada, superuser):
    superuser.first_name, superuser.last_name = "Mary", "Somerville"
    superuser.save()
    summary = panel_html(page(admin_client, ada), "summary")
    assert re.search(r'<img [^>]*src="[^"]+\.fill-120x120[^"]*"', summary)
    assert "Ada Lovelace" in summary and "(Enchantress)" in summary
    assert "Programmer" in summary
    org = ada.primary_organization
    assert f'<a href="/admin/crm/organisations/inspect/{org.pk}/">Analytical Engines</a>' in summary
    assert (
        '<a href="mailto:ada@example.org" rel="noopener noreferrer">ada@example.org</a>'
    ) in summary
    assert "ada@home.example" not in summary  # only the primary email
    assert (
        '<a href="https://pbx.example/call?to=442079460123" rel="noopener noreferrer">'
        "+44 20 7946 0123</a>"
    ) in summary
    assert "12 St James&#x27;s Square<br>SW1Y 4LB London<br>United Kingdom" in summary
    assert "maths" in summary and "poetry" in summary
    assert "Pioneers" in summary
    assert "Mary Somerville" in summary


def test_details(admin_client, ada):
    CustomFieldFactory(key="joined", label="Joined", field_type="date")
    CustomFieldFactory(key="member", label="Member", field_type="boolean")
    CustomFieldFactory(key="topics", label="Topics", field_type="multichoice",
                       choices="Maths\nPoetry\nMusic")
    CustomFieldFactory(key="fee", label="Fee", field_type="decimal")
    CustomFieldFactory(key="vat", label="VAT number", target="organization")
    ada.custom = {"joined": "1833-06-05", "member": True, "topics": ["Maths", "Poetry"],
                  "fee": "2.50", "legacy_id": "<L-7>"}
    ada.save()
    html = page(admin_client, ada)

    methods = panel_html(html, "methods")
    assert methods.count("<tr>") == 4  # header and three methods
    assert "ada@home.example" in methods and "home" in methods
    assert methods.count("w-status--primary") == 1
    assert 'href="mailto:ada@home.example"' in methods
    assert "+44 20 7946 0123" in methods

    addresses = panel_html(html, "addresses")
    assert "Ockham Park" in addresses and "12 St James" in addresses

    custom = panel_html(html, "custom")
    joined = date_format(datetime.date(1833, 6, 5))
    assert re.search(rf"<dt>Joined</dt>\s*<dd>{joined}</dd>", custom)
    assert re.search(r"<dt>Member</dt>\s*<dd>Yes</dd>", custom)
    assert re.search(r"<dt>Topics</dt>\s*<dd>Maths, Poetry</dd>", custom)
    assert re.search(r"<dt>Fee</dt>\s*<dd>2.50</dd>", custom)
    assert re.search(r"<dt>legacy_id</dt>\s*<dd>&lt;L-7&gt;</dd>", custom)
    assert "VAT number" not in custom

    more = panel_html(html, "more")
    assert date_format(ada.birthday) in more
    assert "Enchantress" in more
    assert ada.uid in more
    assert re.search(r"Do not email</dt>\s*<dd>yes</dd>", more)


def test_events_show_the_next_birthday(admin_client, ada):
    events = panel_html(page(admin_client, ada), "events")
    today = timezone.localdate()
    upcoming = next_anniversary(ada.birthday, today)
    assert "Birthday" in events
    assert f"in {(upcoming - today).days} day" in events or "Today" in events
    assert "Created" in events and "Updated" in events


def test_next_anniversary():
    today = datetime.date(2025, 3, 1)
    assert next_anniversary(datetime.date(1990, 3, 1), today) == today
    assert next_anniversary(datetime.date(1990, 2, 28), today) == datetime.date(2026, 2, 28)
    assert next_anniversary(datetime.date(2000, 2, 29), datetime.date(2025, 1, 1)) == (
        datetime.date(2025, 2, 28)
    )
    assert next_anniversary(datetime.date(2000, 2, 29), datetime.date(2027, 12, 1)) == (
        datetime.date(2028, 2, 29)
    )


def test_relations_of_a_person(admin_client, ada):
    relations = panel_html(page(admin_client, ada), "organisation")
    org = ada.primary_organization
    assert f'href="/admin/crm/organisations/inspect/{org.pk}/"' in relations


def test_relations_of_a_trashed_organisation_are_not_links(admin_client, ada):
    ada.primary_organization.move_to_trash()
    html = page(admin_client, ada)
    assert "/admin/crm/organisations/inspect/" not in html
    assert "Analytical Engines (in the trash)" in panel_html(html, "organisation")


def test_relations_of_an_organisation_are_paginated(admin_client):
    org = OrganizationFactory(organization_name="Big Co")
    for n in range(25):
        PersonFactory(given_name=f"Worker{n:02d}", family_name="Smith", primary_organization=org)
    PersonFactory(given_name="Gone", family_name="Smith", primary_organization=org).move_to_trash()

    html = page(admin_client, org)
    people = panel_html(html, "organisation")
    assert "25 people have this organisation" in people
    assert people.count("Smith</a>") == 20
    assert "Gone Smith" not in people
    assert "?people_page=2#crm-panel-organisation-section" in people

    html = admin_client.get(
        f"/admin/crm/organisations/inspect/{org.pk}/?people_page=2"
    ).content.decode()
    assert panel_html(html, "organisation").count("Smith</a>") == 5


def test_timeline_lists_log_entries_newest_first_paginated(admin_client, ada, superuser):
    log(ada, "wagtail.create", user=superuser)
    for _n in range(21):
        log(ada, "wagtail.edit", user=superuser)
    log(ada, "wagtail_crm.restore", user=superuser)
    timeline = panel_html(page(admin_client, ada), "history")
    assert timeline.index("Restored from the trash") < timeline.index("Edited")
    assert "Created" not in timeline  # on page 2
    assert "?history_page=2#crm-panel-history-section" in timeline
    assert f'href="/admin/crm/people/history/{ada.pk}/"' in timeline

    html = admin_client.get(f"/admin/crm/people/inspect/{ada.pk}/?history_page=2").content.decode()
    assert "Created" in panel_html(html, "history")


def test_everything_is_escaped(admin_client):
    person = PersonFactory(given_name="<script>alert(1)</script>", family_name="X",
                           job_title="<i>boss</i>")
    scripted = ContactMethodType.objects.create(
        name="Scripted", scheme="handle", link_template="javascript:alert('{value}')"
    )
    ContactMethodFactory(contact=person, type=scripted, value="x", is_primary=True)
    ContactMethodFactory(contact=person, type=method_type("Mastodon"), value='"><b>x</b>')
    html = page(admin_client, person)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<i>boss</i>" not in html
    assert "<b>x</b>" not in html
    assert 'href="javascript' not in html


def test_organisation_page(admin_client):
    org = OrganizationFactory(organization_name="Acme", organization_type="school")
    ContactMethodFactory(contact=org, value="info@acme.example", is_primary=True)
    html = page(admin_client, org)
    summary = panel_html(html, "summary")
    assert "Acme" in summary and "School" in summary
    assert "info@acme.example" in summary
    assert "Birthday" not in panel_html(html, "more")


def test_header_offers_edit_history_and_trash(admin_client, ada):
    html = page(admin_client, ada)
    assert f"/admin/crm/people/edit/{ada.pk}/" in html
    assert f"/admin/crm/people/history/{ada.pk}/" in html
    assert f"/admin/crm/people/delete/{ada.pk}/" in html
    assert "Move to trash" in html


# Queries ----------------------------------------------------------------------------------


def add_rows(contact, org, n):
    for i in range(n):
        ContactMethodFactory(contact=contact, value=f"extra{i}@example.org")
        ContactMethodFactory(contact=contact, type=method_type("Phone"),
                             value=f"020 7946 {1000 + i}")
        AddressFactory(contact=contact, locality=f"Town {i}")
        PersonFactory(primary_organization=org, family_name=f"Member{i}")
    contact.tags.add(*[f"tag{i}" for i in range(n)])
    contact.save()
    for _i in range(n):
        log(contact, "wagtail.edit")


def test_queries_do_not_grow_with_rows(admin_client, ada):
    org = Organization.objects.get(pk=ada.primary_organization_id)
    add_rows(ada, org, 2)
    admin_client.get(f"/admin/crm/people/inspect/{ada.pk}/")  # warm caches (renditions)
    with CaptureQueriesContext(connection) as few:
        page(admin_client, ada)
    with CaptureQueriesContext(connection) as few_org:
        page(admin_client, org)

    add_rows(ada, org, 30)

    def check(contact, limit):
        with CaptureQueriesContext(connection) as many:
            html = page(admin_client, contact)
        assert len(many) <= limit, [q["sql"] for q in many.captured_queries]
        return html

    html = check(ada, len(few))
    assert "extra29@example.org" in html and "Town 29" in html and "tag29" in html
    html = check(org, len(few_org))
    assert "Member29" in html or "33 people" in html


def test_query_count_is_bounded(admin_client, ada, django_assert_max_num_queries):
    org = Organization.objects.get(pk=ada.primary_organization_id)
    add_rows(ada, org, 40)
    admin_client.get(f"/admin/crm/people/inspect/{ada.pk}/")
    with django_assert_max_num_queries(40):
        page(admin_client, ada)
    with django_assert_max_num_queries(40):
        page(admin_client, org)


# The panel registry ----------------------------------------------------------------------


class GreetingPanel(ContactPanel):
    name = "greeting"
    heading = "Greeting"
    tab = "relations"
    order = 5
    template_name = "wagtail_crm/contacts/panels/more.html"

    def is_shown(self, contact, request):
        return contact.is_person


class TimelineNotePanel(ContactPanel):
    name = "timeline_note"
    heading = "Activities"
    tab = "timeline"
    order = 1
    template_name = "wagtail_crm/contacts/panels/more.html"


def test_panels_are_added_through_the_hook(admin_client, ada):
    with hooks.register_temporarily(
        [("register_crm_contact_panel", GreetingPanel),
         ("register_crm_contact_panel", TimelineNotePanel)]
    ):
        html = page(admin_client, ada)
        org_html = page(admin_client, ada.primary_organization)
    relations = html[html.index('id="tab-relations"'):]
    assert relations.index("crm-panel-greeting-section") < relations.index(
        "crm-panel-organisation-section"
    )
    assert html.index("crm-panel-timeline_note-section") < html.index("crm-panel-history-section")
    assert html.index("crm-panel-timeline_note-section") > html.index('id="tab-relations"')
    # is_shown decides per contact.
    assert "crm-panel-greeting-section" not in org_html
    assert "crm-panel-timeline_note-section" in org_html


def test_viewers_see_the_page_without_edit_or_trash(client, ada):
    client.force_login(folder_user("viewer", (ada.folder, "view")))
    html = page(client, ada)
    assert "Ada Lovelace" in html
    assert f"/admin/crm/people/edit/{ada.pk}/" not in html
    assert f"/admin/crm/people/delete/{ada.pk}/" not in html
