"""Installing the CRM into a new Wagtail project needs only INSTALLED_APPS entries and migrate.

This builds a fresh project from Wagtail's own project template (not example_site), adds the three
entries that README.md and docs/site-builders.md document, migrates it, and uses the CRM admin.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

DOCUMENTED_SETTINGS = textwrap.dedent(
    """

    # wagtail_crm, as documented in README.md
    INSTALLED_APPS += [
        app
        for app in ("wagtail_crm", "wagtail.contrib.settings", "django_countries")
        if app not in INSTALLED_APPS
    ]
    """
)

USE_THE_ADMIN = textwrap.dedent(
    """
    import django
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from wagtail_crm.models import ContactMethodType, Folder, Person

    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(user)
    menu = client.get("/admin/").content.decode()
    assert "CRM" in menu, "no CRM menu"
    assert ContactMethodType.objects.filter(name="Email").exists(), "types not seeded"
    response = client.post(
        "/admin/crm/people/add/",
        {
            "given_name": "Grace",
            "family_name": "Hopper",
            "folder": Folder.get_default().pk,
            "methods-TOTAL_FORMS": "0", "methods-INITIAL_FORMS": "0",
            "methods-MIN_NUM_FORMS": "0", "methods-MAX_NUM_FORMS": "1000",
            "addresses-TOTAL_FORMS": "0", "addresses-INITIAL_FORMS": "0",
            "addresses-MIN_NUM_FORMS": "0", "addresses-MAX_NUM_FORMS": "1000",
        },
    )
    assert Person.objects.filter(family_name="Hopper").exists(), response.content[:2000]
    listing = client.get("/admin/crm/people/").content.decode()
    assert "Grace Hopper" in listing
    print("CRM admin works")
    """
)


def run(args, cwd, env):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_new_wagtail_project_gets_the_crm_with_installed_apps_and_migrate(tmp_path: Path):
    python = sys.executable
    wagtail = str(Path(python).with_name("wagtail"))
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    run([wagtail, "start", "newsite"], cwd=tmp_path, env=env)
    project = tmp_path / "newsite"
    base = project / "newsite" / "settings" / "base.py"
    base.write_text(base.read_text() + DOCUMENTED_SETTINGS)

    env["DJANGO_SETTINGS_MODULE"] = "newsite.settings.dev"
    run([python, "manage.py", "migrate", "--noinput"], cwd=project, env=env)
    checks = run([python, "manage.py", "check"], cwd=project, env=env)
    assert "no issues" in checks
    script = project / "use_admin.py"
    script.write_text(USE_THE_ADMIN)
    env["PYTHONPATH"] = str(project)
    assert "CRM admin works" in run([python, str(script)], cwd=project, env=env)
