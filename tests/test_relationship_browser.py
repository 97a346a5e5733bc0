"""Adding a relationship in a real browser: from the contact page, through the type and the
contact chooser, to the saved relationship on both contacts' pages."""

import pytest

from tests.browser import log_in
from tests.factories import OrganizationFactory, PersonFactory, SuperuserFactory
from wagtail_crm.models import Relationship

# The live server reads what the test writes, so the test commits. Like every transactional
# test of the suite it restores the migrations' rows afterwards (serialized_rollback), which
# later tests need.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_add_an_employment_from_the_contact_page(live_server, browser_page):
    page = browser_page
    SuperuserFactory(username="boss", password="secret-pass")
    ada = PersonFactory(given_name="Ada", family_name="Lovelace")
    acme = OrganizationFactory(organization_name="Acme Analytical Engines")
    OrganizationFactory(organization_name="Babbage & Co")
    log_in(page, live_server, "boss", "secret-pass")

    page.goto(f"{live_server.url}/admin/crm/people/inspect/{ada.pk}/")
    page.get_by_role("tab", name="Relations").click()
    page.get_by_role("link", name="Add relationship").click()

    # The type comes first; only types with a role for a person are offered.
    page.get_by_role("link", name="Employee of").click()
    assert "type=employee-of" in page.url

    # Ada is already the employee; choose the employer in the contact chooser.
    page.get_by_role("button", name="Add participant").click()
    new_row = page.locator("#inline_child_participants-1")
    new_row.get_by_role("button", name="Choose a contact").click()
    modal = page.locator(".modal-dialog")
    modal.get_by_role("textbox").fill("Acme")
    modal.get_by_role("link", name="Acme Analytical Engines").click()
    new_row.get_by_role("combobox").select_option(label="Employer")
    page.locator("#id_is_primary").check()
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"{live_server.url}/admin/crm/relationships/")
    assert "Relationship added." in page.content()
    relationship = Relationship.objects.get()
    assert relationship.type.slug == "employee-of" and relationship.is_primary
    assert {p.contact_id: p.role.slug for p in relationship.participants.all()} == {
        ada.pk: "employee", acme.pk: "employer"
    }

    page.goto(f"{live_server.url}/admin/crm/people/inspect/{ada.pk}/")
    page.get_by_role("tab", name="Relations").click()
    panel = page.locator("#crm-panel-relationships-section")
    assert "Acme Analytical Engines" in panel.inner_text()
    assert "(Employer)" in panel.inner_text()
