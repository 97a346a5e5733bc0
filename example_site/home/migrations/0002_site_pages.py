from django.db import migrations


def create_pages(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("home", "HomePage")
    ContentPage = apps.get_model("home", "ContentPage")
    Locale = apps.get_model("wagtailcore", "Locale")

    Page.objects.filter(depth=2, slug="home", content_type__model="page").delete()
    locale = Locale.objects.first()
    home_ct, _ = ContentType.objects.get_or_create(model="homepage", app_label="home")
    content_ct, _ = ContentType.objects.get_or_create(model="contentpage", app_label="home")
    home = HomePage.objects.create(
        title="Welcome", draft_title="Welcome", slug="home", content_type=home_ct,
        path="00010001", depth=2, numchild=2, url_path="/home/", locale=locale,
        intro="<p>An example Wagtail site with wagtail_crm installed. Sign in to the admin to "
        "work with people and organisations.</p>",
    )
    for number, (title, slug, body) in enumerate(
        [
            ("About us", "about", "<p>Who we are and what we do.</p>"),
            ("Contact", "contact", "<p>How to reach us.</p>"),
        ],
        start=1,
    ):
        ContentPage.objects.create(
            title=title, draft_title=title, slug=slug, content_type=content_ct,
            path="00010001%04d" % number, depth=3, numchild=0, url_path=f"/home/{slug}/",
            locale=locale, body=body,
        )
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "root_page_id": home.id, "site_name": "Example CRM site"},
    )


class Migration(migrations.Migration):
    dependencies = [("home", "0001_initial"), ("wagtailcore", "0098_apitoken")]

    operations = [migrations.RunPython(create_pages, migrations.RunPython.noop)]
