from django.db import migrations

DEFAULT_TYPES = [
    # name, scheme, link template, vCard property, vCard TYPE, icon
    ("Email", "email", "mailto:{value}", "EMAIL", "", "mail"),
    ("Phone", "phone", "tel:{e164}", "TEL", "voice", "mobile-alt"),
    ("Mobile", "phone", "tel:{e164}", "TEL", "cell", "mobile-alt"),
    ("Fax", "phone", "", "TEL", "fax", "doc-full"),
    ("Website", "url", "{value}", "URL", "", "link"),
    ("LinkedIn", "url", "{value}", "X-SOCIALPROFILE", "linkedin", "link"),
    ("Mastodon", "handle", "", "X-SOCIALPROFILE", "mastodon", "user"),
    ("Skype", "handle", "skype:{value}?call", "IMPP", "skype", "user"),
]


def seed(apps, schema_editor):
    ContactMethodType = apps.get_model("wagtail_crm", "ContactMethodType")
    Folder = apps.get_model("wagtail_crm", "Folder")
    for order, (name, scheme, link, prop, vtype, icon) in enumerate(DEFAULT_TYPES):
        ContactMethodType.objects.get_or_create(
            name=name,
            defaults={
                "scheme": scheme,
                "link_template": link,
                "vcard_property": prop,
                "vcard_type": vtype,
                "icon": icon,
                "sort_order": order * 10,
            },
        )
    Folder.objects.get_or_create(
        name="Contacts", defaults={"description": "Contacts of the organisation."}
    )


def unseed(apps, schema_editor):
    ContactMethodType = apps.get_model("wagtail_crm", "ContactMethodType")
    ContactMethodType.objects.filter(
        name__in=[row[0] for row in DEFAULT_TYPES], methods__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("wagtail_crm", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
