"""Employments that start or end set or clear people's organisations: the daily command and task."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from tests.factories import OrganizationFactory, PersonFactory, relate
from wagtail_crm.models import Contact
from wagtail_crm.tasks import refresh_primary_organizations_task

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
TOMORROW = TODAY + datetime.timedelta(days=1)


def employed_until(end_date):
    person, organization = PersonFactory(), OrganizationFactory()
    relate("employee-of", employee=person, employer=organization,
           fields={"is_primary": True, "end_date": end_date})
    assert Contact.objects.get(pk=person.pk).primary_organization_id == organization.pk
    return person


def test_the_command_clears_employments_ended_since_they_were_saved():
    ended, current = employed_until(TODAY), employed_until(None)
    out = io.StringIO()

    call_command("crm_refresh_relationships", "--on", TOMORROW.isoformat(), stdout=out)

    assert "Checked 1 people" in out.getvalue()
    assert Contact.objects.get(pk=ended.pk).primary_organization is None
    assert Contact.objects.get(pk=current.pk).primary_organization is not None


def test_the_command_sets_employments_started_since_they_were_saved():
    person, organization = PersonFactory(), OrganizationFactory()
    relate("employee-of", employee=person, employer=organization,
           fields={"is_primary": True, "start_date": TOMORROW})
    assert Contact.objects.get(pk=person.pk).primary_organization is None

    call_command("crm_refresh_relationships", "--on", TOMORROW.isoformat(), stdout=io.StringIO())

    assert Contact.objects.get(pk=person.pk).primary_organization_id == organization.pk


def test_the_command_refuses_a_malformed_day():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("crm_refresh_relationships", "--on", "25/11/2026")


def test_the_task_does_the_same_with_json_arguments():
    ended = employed_until(TODAY)

    result = refresh_primary_organizations_task.enqueue(on=TOMORROW.isoformat())

    assert result.return_value == 1
    assert Contact.objects.get(pk=ended.pk).primary_organization is None
