"""Demo contacts at scale: realistic people and organisations, written in bulk and indexed.

Names come from small built-in lists in several languages; phone numbers from ranges kept for
drama and fiction (Ofcom, ACMA, ARCEP, PTS, NANP 555-01xx) that phonenumbers accepts as valid;
email and web domains are reserved ``.example`` names. Output is deterministic for a seed.
"""

import random
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

import phonenumbers
from anyascii import anyascii
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.db.models import Max
from modelsearch.conf import get_app_config
from taggit.models import Tag
from wagtail.search.backends import get_search_backends

from ..models import (
    Address,
    Contact,
    ContactKind,
    ContactMethod,
    ContactMethodType,
    ContactTag,
    CRMSettings,
    Folder,
    OrganizationType,
)
from ..phones import normalize_phone

#: Folders the demo contacts are spread over (created when absent), with their weights.
FOLDERS = {"Customers": 40, "Suppliers": 20, "Sales": 25, "Tech": 15}
TAGS = ("customer", "prospect", "supplier", "partner", "press", "vip", "newsletter",
        "volunteer", "event 2025", "board")
#: Method types by name and scheme, as seeded by migration 0002.
METHOD_TYPES = {"Email": "email", "Phone": "phone", "Mobile": "phone", "Website": "url"}

_NAMES = {
    "en": ("Oliver Amelia George Isla Harry Ava Noah Mia Jack Ivy Leo Grace Arthur Freya Oscar "
           "Lily Charlie Sophie Thomas Emily James Olivia William Chloe Henry Ella Zoë Siobhán "
           "Niamh Seán Aoife Rhys Priya Omar",
           "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
           "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis Hughes O'Brien "
           "Murphy Kelly Campbell Stewart MacDonald Morgan Price Chen Nguyen Singh Ahmed"),
    "fr": ("Léa Chloé Zoë Hélène Élodie Camille Manon Inès Céline Anaïs Louis Gabriel Raphaël "
           "Jules Lucas Hugo Théo Noé François Jérôme Benoît Étienne Gaëlle Mathéo",
           "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
           "Lefèvre Michel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Mercier "
           "Chevalier Lemaître Hébert"),
    "de": ("Jürgen Jörg Günter Uwe Lukas Felix Maximilian Jonas Matthias Stefan Sophie Marie "
           "Hannah Lena Käthe Anja Ute Sabine Birgit Jana",
           "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
           "Koch Bauer Richter Klein Wolf Schröder Neumann Krüger Weiß Jäger Groß Köhler Böhm"),
    "sv": ("Åsa Björn Märta Göran Linnéa Sören Ingrid Astrid Elsa Maja Nils Lars Erik Karin "
           "Agnes Oskar Axel Måns Örjan Ebba",
           "Ångström Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson "
           "Svensson Lindqvist Sjöberg Öberg Åkesson Lindström Bergström Håkansson Löfgren"),
    "pl": ("Łukasz Małgorzata Paweł Michał Agnieszka Katarzyna Wojciech Krzysztof Zofia Jędrzej "
           "Grzegorz Anna Piotr Tomasz Joanna Magdalena Bartłomiej Stanisław Jadwiga Zuzanna",
           "Nowak Wójcik Kowalczyk Woźniak Mazur Krawczyk Kaczmarek Zając Król Wieczorek Wróbel "
           "Dudek Pawlak Walczak Sikora Baran Michalak Szewczyk Kubiak Wilk Lis Stępień"),
    "es": ("José María Lucía Sofía Martín Hugo Álvaro Andrés Inés Begoña Íñigo Nuria Pilar "
           "Raúl Jesús Carmen",
           "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Jiménez Ruiz "
           "Hernández Díaz Muñoz Álvarez Núñez Iglesias Peña"),
    # Japanese names carry their romanisation (for email addresses) after a slash.
    "ja": ("陽翔/haruto 蓮/ren 湊/minato 大翔/hiroto 結衣/yui 陽葵/himari さくら/sakura "
           "美咲/misaki 翔太/shota 健太/kenta 花子/hanako 太郎/taro 葵/aoi 悠真/yuma 凛/rin",
           "田中/tanaka 佐藤/sato 鈴木/suzuki 高橋/takahashi 渡辺/watanabe 伊藤/ito "
           "山本/yamamoto 中村/nakamura 小林/kobayashi 加藤/kato 吉田/yoshida 山田/yamada "
           "佐々木/sasaki 松本/matsumoto 井上/inoue"),
}


def _name_list(text):
    """Split a list of names into (name, lower-case ASCII form for email addresses)."""
    names = []
    for word in text.split():
        name, _slash, ascii_form = word.partition("/")
        ascii_form = "".join(c for c in (ascii_form or anyascii(name)).lower() if c.isalnum())
        names.append((name, ascii_form))
    return names


#: culture: (given names, family names), each a list of (name, ASCII form for emails).
CULTURES = {culture: tuple(_name_list(text) for text in lists) for culture, lists in _NAMES.items()}

ORG_WORDS = ("Northwind Blue-Harbour Greenfield Silverline Redwood Oakridge Brightwater Highgate "
             "Kestrel Ironbridge Lakeside Summit Meridian Aurora Polaris Juniper Étoile Fjäll "
             "Nordlys Bäckström Zephyr Cobalt Halcyon Lumière Tamarind Saffron Granite Willow "
             "Orchard Beacon Harbour Falcon Lynx Cedar Marigold Quarry Vega Atlas Osprey").split()
ORG_TRADES = ("Trading Logistics Consulting Engineering Foods Design Software Analytics "
              "Construction Energy Media Health Motors Textiles Robotics Architects Solicitors "
              "Bakery Publishing Systems Pharma Travel Insurance Interiors Labs").split()
JOB_TITLES = ("Managing Director", "Chief Executive", "Finance Director", "Head of Sales",
              "Account Manager", "Sales Executive", "Office Manager", "Procurement Lead",
              "Operations Manager", "Software Engineer", "IT Manager", "Data Analyst",
              "Marketing Manager", "HR Business Partner", "Project Manager", "Receptionist",
              "Customer Success Manager", "Head of Partnerships", "Product Owner", "Buyer")

# Countries: weight, home culture, company suffixes, street format, streets, and cities as
# (city, region, postcodes, landline range). A range is (format, numbers), the format taking
# the number or its hundreds and units; in a postcode, "#" is a digit and "@" a letter.
_EN_STREETS = ("Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "King Street",
               "Queen Street", "George Street", "Park Road", "Church Street", "Elm Street")
_NANP = range(100, 200)
_K = range(1000)
COUNTRIES = {
    "GB": (50, "en", ("Ltd", "Ltd", "plc", "LLP"), "{n} {s}",
           ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane",
            "Park Avenue", "Queen's Road", "Albert Street", "The Crescent", "Kings Road"),
           [("London", "", ("EC1A", "N1", "E2", "SE1", "SW1A", "W1D", "WC2H", "NW1"),
             ("020 7946 {:04d}", _K)),
            ("Leeds", "", ("LS1", "LS2", "LS6", "LS11"), ("0113 496 {:04d}", _K)),
            ("Sheffield", "", ("S1", "S2", "S10"), ("0114 496 {:04d}", _K)),
            ("Bristol", "", ("BS1", "BS2", "BS8"), ("0117 496 {:04d}", _K)),
            ("Birmingham", "", ("B1", "B5", "B15"), ("0121 496 {:04d}", _K)),
            ("Edinburgh", "", ("EH1", "EH3", "EH8"), ("0131 496 {:04d}", _K)),
            ("Glasgow", "", ("G1", "G3", "G12"), ("0141 496 {:04d}", _K)),
            ("Manchester", "", ("M1", "M4", "M15"), ("0161 496 {:04d}", _K)),
            ("Newcastle upon Tyne", "", ("NE1", "NE6"), ("0191 498 {:04d}", _K)),
            ("Belfast", "", ("BT1", "BT7"), ("028 9649 {:04d}", range(6000, 7000))),
            ("Cardiff", "", ("CF10", "CF24"), ("029 2018 {:04d}", _K))]),
    "FR": (12, "fr", ("SARL", "SA", "SAS"), "{n} {s}",
           ("rue de la République", "avenue Victor-Hugo", "boulevard Saint-Germain",
            "rue Émile-Zola", "place de l'Hôtel-de-Ville", "quai des Célestins"),
           [("Paris", "", ("75003", "75011", "75015", "75018"), ("01 99 00 {:02d} {:02d}", _K)),
            ("Lyon", "", ("69001", "69003", "69007"), ("04 65 71 {:02d} {:02d}", _K)),
            ("Nantes", "", ("44000", "44100"), ("02 61 91 {:02d} {:02d}", _K)),
            ("Lille", "", ("59000", "59800"), ("03 53 01 {:02d} {:02d}", _K)),
            ("Toulouse", "", ("31000", "31400"), ("05 36 49 {:02d} {:02d}", _K))]),
    "US": (12, "en", ("Inc.", "LLC", "Corp."), "{n} {s}", _EN_STREETS,
           [("New York", "NY", ("10001", "10013", "10027"), ("(212) 555-{:04d}", _NANP)),
            ("Chicago", "IL", ("60601", "60614"), ("(312) 555-{:04d}", _NANP)),
            ("San Francisco", "CA", ("94103", "94110"), ("(415) 555-{:04d}", _NANP)),
            ("Seattle", "WA", ("98101", "98122"), ("(206) 555-{:04d}", _NANP)),
            ("Boston", "MA", ("02108", "02139"), ("(617) 555-{:04d}", _NANP))]),
    "CA": (5, "en", ("Inc.", "Ltd."), "{n} {s}", _EN_STREETS,
           [("Toronto", "ON", ("M5V #@#", "M4C #@#"), ("(416) 555-{:04d}", _NANP)),
            ("Vancouver", "BC", ("V6B #@#",), ("(604) 555-{:04d}", _NANP)),
            ("Montréal", "QC", ("H2X #@#",), ("(514) 555-{:04d}", _NANP))]),
    "AU": (8, "en", ("Pty Ltd",), "{n} {s}", _EN_STREETS,
           [("Sydney", "NSW", ("2000", "2010", "2060"), ("02 5550 {:04d}", _K)),
            ("Melbourne", "VIC", ("3000", "3121"), ("03 7010 {:04d}", _K)),
            ("Brisbane", "QLD", ("4000", "4101"), ("07 5550 {:04d}", _K)),
            ("Perth", "WA", ("6000",), ("08 7010 {:04d}", _K))]),
    "SE": (8, "sv", ("AB",), "{s} {n}",
           ("Storgatan", "Drottninggatan", "Kungsgatan", "Sveavägen", "Götgatan",
            "Östra Hamngatan"),
           [("Stockholm", "", ("111 ##", "113 ##", "118 ##"), ("08-465 004 {:02d}", range(100))),
            ("Göteborg", "", ("411 ##", "413 ##"), ("031-390 06 {:02d}", range(100))),
            ("Malmö", "", ("211 ##", "214 ##"), ("040-628 04 {:02d}", range(100)))]),
}
#: Mobile ranges, where a country has one that phonenumbers accepts.
MOBILES = {
    "US": ("(202) 555-{:04d}", _NANP),
    "CA": ("(613) 555-{:04d}", _NANP),
    "AU": ("0491 570 {:03d}", (6, 110, 156, 157, 158, 159, 313, 737, 993)),
    "SE": ("070-174 06 {:02d}", range(5, 100)),
}
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_TAG_COUNTS = ((0, 1, 2, 3), (30, 70, 90, 100))


@dataclass
class DemoResult:
    """What :func:`create_demo_contacts` wrote, and how long it took."""

    seed: int
    people: int = 0
    organizations: int = 0
    methods: int = 0
    addresses: int = 0
    tags: int = 0
    indexed: int = 0
    create_seconds: float = 0.0
    index_seconds: float = 0.0
    analyze_seconds: float = 0.0
    pks: list = field(default_factory=list, repr=False)


class _Generator:
    """Builds unsaved contacts and their rows from one random stream."""

    def __init__(self, rng, folders, types, tags, home_region):
        self.rng = rng
        self.folders = ([f.pk for f in folders.values()], list(accumulate(FOLDERS.values())))
        self.types, self.tags = types, tags
        self.home_region = home_region
        self.countries = (list(COUNTRIES), list(accumulate(row[0] for row in COUNTRIES.values())))
        self.cultures = list(CULTURES)
        self.emails = set()
        self.phone_cache = {}

    def pick(self, seq):
        return seq[self.rng.randrange(len(seq))]

    def weighted(self, choices):
        items, cum_weights = choices
        return self.rng.choices(items, cum_weights=cum_weights)[0]

    def fill(self, pattern):
        return "".join(
            str(self.rng.randrange(10)) if ch == "#" else self.pick(_LETTERS) if ch == "@" else ch
            for ch in pattern
        )

    def phone(self, rows, kind, label, region, number_range):
        """Add a phone method; values are normalised exactly as ContactMethod.normalize does."""
        fmt, numbers = number_range
        number = self.pick(numbers)
        national = fmt.format(*divmod(number, 100)) if fmt.count("{") == 2 else fmt.format(number)
        key = (national, region)
        if key not in self.phone_cache:
            e164 = normalize_phone(national, region)
            if region == self.home_region:
                value = national
            else:
                value = phonenumbers.format_number(
                    phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
                )
            self.phone_cache[key] = (value, e164)
        value, e164 = self.phone_cache[key]
        rows.append((self.types[kind], value, e164, label))

    def email(self, rows, local, domain, label):
        address = f"{local}@{domain}"
        n = 1
        while address.lower() in self.emails:
            n += 1
            address = f"{local}{n}@{domain}"
        self.emails.add(address.lower())
        rows.append((self.types["Email"], address, address.lower(), label))

    def place(self, contact, label, office=None):
        """Give ``contact`` an address (its organisation's ``office``, or a new one).

        Returns ``(country code, landline range, address)``.
        """
        if office:
            code, landline, source = office
            address = Address(label=label, street=source.street, locality=source.locality,
                              region=source.region, postal_code=source.postal_code,
                              country=code, is_primary=True)
        else:
            code = self.weighted(self.countries)
            country = COUNTRIES[code]
            city, region, postcodes, landline = self.pick(country[5])
            street = country[3].format(n=self.rng.randint(1, 240), s=self.pick(country[4]))
            postcode = self.fill(self.pick(postcodes))
            if code == "GB":
                postcode += self.fill(" #@@")
            address = Address(label=label, street=street, locality=city, region=region,
                              postal_code=postcode, country=code, is_primary=True)
        contact.city, contact.country = address.locality, code
        return code, landline, address

    def organization(self):
        """Return ``(row, office)``: the row for :func:`_write` and what its people share."""
        rng = self.rng
        contact = Contact(kind=ContactKind.ORGANIZATION,
                          folder_id=self.weighted(self.folders))
        code, landline, address = self.place(contact, "work")
        word, trade = self.pick(ORG_WORDS).replace("-", " "), self.pick(ORG_TRADES)
        roll = rng.random()
        if roll < 0.85:
            contact.organization_type = OrganizationType.COMPANY
            name = f"{word} {trade}"
            contact.organization_name = f"{name} {self.pick(COUNTRIES[code][2])}"
        else:
            if roll < 0.93:
                contact.organization_type = OrganizationType.SCHOOL
                name = f"{contact.city} {self.pick(('College', 'Academy', 'School of Arts'))}"
            else:
                contact.organization_type = OrganizationType.OTHER
                name = f"{word} {self.pick(('Trust', 'Foundation', 'Society'))}"
            contact.organization_name = name
        domain = re.sub(r"[^a-z0-9]+", "-", anyascii(name).lower()).strip("-") + ".example"
        rows = []
        self.email(rows, self.pick(("info", "hello", "contact", "office")), domain, "work")
        self.phone(rows, "Phone", "work", code, landline)
        rows.append((self.types["Website"], f"https://www.{domain}", f"https://www.{domain}", ""))
        return self.finish(contact, rows, address), (contact, domain, (code, landline, address))

    def person(self, offices):
        """Return the row of one person, working at one of ``offices`` (85%) or not."""
        rng = self.rng
        contact = Contact(kind=ContactKind.PERSON)
        office = self.pick(offices) if offices and rng.random() < 0.85 else None
        if office:
            org, domain, place = office
            contact.primary_organization_id, contact.folder_id = org.pk, org.folder_id
            contact.job_title = self.pick(JOB_TITLES)
            code, landline, address = self.place(contact, "work", place)
        else:
            contact.folder_id = self.weighted(self.folders)
            code, landline, address = self.place(contact, "home")
        culture = COUNTRIES[code][1] if rng.random() < 0.7 else self.pick(self.cultures)
        givens, families = CULTURES[culture]
        (given, given_ascii), (family, family_ascii) = self.pick(givens), self.pick(families)
        contact.given_name, contact.family_name = given, family
        if rng.random() < 0.35:
            contact.birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
        contact.do_not_email = rng.random() < 0.03
        local = f"{given_ascii}.{family_ascii}"
        rows = []
        if office:
            self.email(rows, local, domain, "work")
        if not office or rng.random() < 0.4:
            self.email(rows, local, self.pick(("example.com", "example.org", "example.net")),
                       "home")
        self.phone(rows, "Phone", "work" if office else "home", code, landline)
        if rng.random() < 0.6:
            if code in MOBILES:
                self.phone(rows, "Mobile", "mobile", code, MOBILES[code])
            else:
                self.phone(rows, "Phone", "home", code, landline)
        return self.finish(contact, rows, address)

    def finish(self, contact, rows, address):
        """Set names, primaries and tags; return (contact, methods, address, tags)."""
        contact.compute_names()
        methods, seen = [], set()
        for order, (mtype, value, normalized, label) in enumerate(rows):
            first = mtype.scheme not in seen
            seen.add(mtype.scheme)
            methods.append(ContactMethod(type_id=mtype.pk, value=value, normalized=normalized,
                                         label=label, is_primary=first, sort_order=order))
            if first and mtype.scheme == "email":
                contact.primary_email = normalized
            elif first and mtype.scheme == "phone":
                contact.primary_phone = normalized
        count = self.weighted(_TAG_COUNTS)
        return contact, methods, address, self.rng.sample(self.tags, count)


def _method_types():
    """The method types the demo uses, by name (created if an admin removed them)."""
    types = {}
    for order, (name, scheme) in enumerate(METHOD_TYPES.items()):
        types[name], _created = ContactMethodType.objects.get_or_create(
            name=name, defaults={"scheme": scheme, "sort_order": order * 10})
        if types[name].scheme != scheme:
            raise ValueError(f"The contact method type {name!r} is not of scheme {scheme!r}.")
    return types


def _write(batch, result, uids):
    """Insert one batch of generated contacts with their methods, address and tags."""
    contacts = [row[0] for row in batch]
    for contact in contacts:
        contact.uid = str(uuid.UUID(int=uids.getrandbits(128), version=4))
    with transaction.atomic():
        Contact.objects.bulk_create(contacts)
        methods, addresses, tagged = [], [], []
        for contact, contact_methods, address, tags in batch:
            for method in contact_methods:
                method.contact_id = contact.pk
            address.contact_id = contact.pk
            methods.extend(contact_methods)
            addresses.append(address)
            tagged.extend(ContactTag(content_object_id=contact.pk, tag_id=tag.pk) for tag in tags)
        ContactMethod.objects.bulk_create(methods)
        Address.objects.bulk_create(addresses)
        ContactTag.objects.bulk_create(tagged)
    result.methods += len(methods)
    result.addresses += len(addresses)
    result.tags += len(tagged)
    result.pks.extend(contact.pk for contact in contacts)


def create_demo_contacts(count, *, seed=None, batch_size=2000, index=True, analyze=True,
                         progress=None):
    """Create ``count`` demo contacts, about one organisation for every eight people.

    Args:
        count: how many contacts (people and organisations together) to create.
        seed: seed of the random stream; the same seed gives the same contacts. A random seed
            is chosen (and returned in the result) when None.
        batch_size: contacts per bulk insert, each batch in its own transaction.
        index: add the new contacts to the search index (see :func:`index_contacts`).
        analyze: refresh the query planner's statistics of the tables written (see
            :func:`analyze_tables`).
        progress: optional callable receiving a short message after each batch.

    Returns:
        A :class:`DemoResult` with the counts, the seed and the elapsed seconds.
    """
    seed = random.randrange(2**31) if seed is None else seed
    result = DemoResult(seed=seed)
    started = time.perf_counter()
    folders = {name: Folder.objects.get_or_create(name=name)[0] for name in FOLDERS}
    tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
    generator = _Generator(random.Random(seed), folders, _method_types(), tags,
                           CRMSettings.get_phone_region().upper())
    # UIDs come from their own stream, also keyed by the highest existing id, so that a
    # second run with the same seed adds contacts instead of colliding with the first.
    base = Contact.all_objects.aggregate(top=Max("pk"))["top"] or 0
    uids = random.Random(f"{seed}:{base}")
    org_count = (count + 4) // 9
    offices = []
    for start in range(0, org_count, batch_size):
        batch = [generator.organization() for _ in range(min(batch_size, org_count - start))]
        _write([row for row, _office in batch], result, uids)
        offices.extend(office for _row, office in batch)
        result.organizations += len(batch)
        if progress:
            progress(f"{result.organizations} organisations")
    people = count - org_count
    for start in range(0, people, batch_size):
        batch = [generator.person(offices) for _ in range(min(batch_size, people - start))]
        _write(batch, result, uids)
        result.people += len(batch)
        if progress:
            progress(f"{result.people} people")
    result.create_seconds = time.perf_counter() - started
    if index:
        started = time.perf_counter()
        result.indexed = index_contacts(result.pks, batch_size=batch_size, progress=progress)
        result.index_seconds = time.perf_counter() - started
    if analyze:
        started = time.perf_counter()
        models = [Contact, ContactMethod, Address, ContactTag]
        analyze_tables(models + [get_app_config().get_model("IndexEntry")] if index else models)
        result.analyze_seconds = time.perf_counter() - started
    return result


def analyze_tables(models):
    """Refresh the query planner's statistics of the tables of ``models`` after a bulk load.

    SQLite never does it by itself, and without statistics its planner may run a full-text
    search once per row of the index (minutes at 100,000 contacts instead of milliseconds).
    On PostgreSQL, outside a transaction, VACUUM also sets the visibility map that lets a
    count use an index-only scan, as autovacuum would do some time after the load. Other
    databases are left alone.

    Args:
        models: the models whose tables were written.
    """
    if connection.vendor not in ("sqlite", "postgresql"):
        return
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in models:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {table}")


def index_contacts(pks, *, batch_size=2000, progress=None):
    """Add contacts to every auto-updated Wagtail search backend, in bulk.

    Bulk inserts skip the save signals that normally index a contact, so this does it in
    batches, reading the contacts with ``Contact.get_indexed_objects()``. Each backend gets
    them through ``add_bulk``, except modelsearch's PostgreSQL backend: see
    :func:`_add_to_postgres_index`.

    Args:
        pks: primary keys of the contacts to index.
        batch_size: contacts per batch.
        progress: optional callable receiving a short message after each batch.

    Returns:
        The number of contacts indexed.
    """
    pks = list(pks)
    backends = list(get_search_backends(with_auto_update=True))
    postgres_indexes = [index for index in map(_postgres_index, backends) if index]
    queryset = Contact.get_indexed_objects().order_by("pk")
    computed = _computed_search_fields(Contact)
    done = 0
    for start in range(0, len(pks), batch_size):
        objects = []
        for obj in queryset.filter(pk__in=pks[start:start + batch_size]):
            if obj.get_indexed_instance() is not None:
                _pin_values(obj, computed)
                objects.append(obj)
        for backend in backends:
            index = _postgres_index(backend)
            if index:
                _add_to_postgres_index(index, Contact, objects)
            else:
                backend.add_bulk(Contact, objects)
        done += len(objects)
        if progress:
            progress(f"{done} indexed")
    for index in postgres_indexes:
        # What add_items does after every batch, done once.
        index._refresh_title_norms()
    return done


def _computed_search_fields(model):
    """Names of the search fields of ``model`` that are methods rather than model fields."""
    names = set()
    for search_field in model.get_search_fields():
        try:
            search_field.get_field(model)
        except FieldDoesNotExist:
            names.add(search_field.field_name)
    return names


def _pin_values(obj, names):
    """Replace the methods ``names`` of ``obj`` by their values, computed once.

    The database backends read every search field once per index column (three times on
    SQLite, five on PostgreSQL, and twice more for a field that is both searched and
    autocompleted), so a method such as ``method_values`` would run up to ten times.
    """
    for name in names:
        method = getattr(obj, name, None)
        if callable(method):
            value = method()
            setattr(obj, name, lambda value=value: value)


def _postgres_index(backend):
    """The index of modelsearch's PostgreSQL backend for contacts, or None for other backends."""
    try:
        from modelsearch.backends.database.postgres.postgres import PostgresIndex
    except ImportError:  # psycopg is not installed: no PostgreSQL backend.
        return None
    index = backend.get_index_for_model(Contact)
    return index if isinstance(index, PostgresIndex) else None


def _add_to_postgres_index(index, model, objects):
    """Write the index entries of ``objects`` as ``index.add_items`` would, in one statement.

    ``add_items`` compiles a Django expression for every text of every object, which costs
    about 2.5 ms a contact; here the texts come from the backend's own ``ObjectIndexer`` and
    PostgreSQL builds the vectors from arrays. Vectors are concatenated per field as the
    backend does; empty texts give empty vectors, which concatenate to the same result as the
    backend's leaving them out. tests/test_demo_data.py compares both ways row by row.
    """
    from modelsearch.backends.database.postgres.postgres import IndexEntry, ObjectIndexer
    from modelsearch.index import AutocompleteField, SearchField
    from modelsearch.utils import get_content_type_pk

    backend = index.backend
    # Objects whose fields give the same weights share one INSERT (related fields may vary).
    shapes = {}
    for obj in objects:
        indexer = ObjectIndexer(obj, backend)
        columns = {"title": [], "autocomplete": [], "body": []}
        for search_field in indexer.search_fields:
            for indexed, weight, text in indexer.prepare_field(obj, search_field):
                if isinstance(indexed, AutocompleteField):
                    columns["autocomplete"].append((weight, text.strip()))
                elif isinstance(indexed, SearchField):
                    column = "title" if indexed.field_name == "title" else "body"
                    columns[column].append((weight, text.strip()))
        shape = tuple(tuple(weight for weight, _text in texts) for texts in columns.values())
        row = [
            indexer.id,
            " ".join(text for _weight, text in columns["title"] if text),
            " ".join(text for _weight, text in columns["body"] if text),
            *(text for texts in columns.values() for _weight, text in texts),
        ]
        shapes.setdefault(shape, []).append(row)
    content_type = get_content_type_pk(model)
    configs = (backend.config, backend.autocomplete_config, backend.config)
    with index.write_connection.cursor() as cursor:
        for shape, rows in shapes.items():
            names, vectors, params = [], [], [content_type]
            for column, weights, config in zip(("t", "a", "b"), shape, configs, strict=True):
                parts = []
                for position, weight in enumerate(weights):
                    names.append(f"{column}{position}")
                    regconfig = "%s::regconfig, " if config else ""
                    params.extend([config] if config else [])
                    parts.append(f"setweight(to_tsvector({regconfig}COALESCE(r.{names[-1]}, '')),"
                                 f" '{weight}')")
                vectors.append(" || ".join(parts) or "''::tsvector")
            names = ["object_id", "title_text", "body_text", *names]
            params.extend(list(values) for values in zip(*rows, strict=True))
            cursor.execute(
                f"INSERT INTO {IndexEntry._meta.db_table} (content_type_id, object_id, title, "
                f"autocomplete, body, title_norm, title_text, body_text) "
                f"SELECT %s, r.object_id, {vectors[0]}, {vectors[1]}, {vectors[2]}, 1.0, "
                f"r.title_text, r.body_text "
                f"FROM unnest({', '.join(['%s::text[]'] * len(names))}) AS r({', '.join(names)}) "
                f"ON CONFLICT (content_type_id, object_id) DO UPDATE SET "
                f"title = EXCLUDED.title, title_norm = 1.0, autocomplete = EXCLUDED.autocomplete, "
                f"body = EXCLUDED.body, title_text = EXCLUDED.title_text, "
                f"body_text = EXCLUDED.body_text",
                params,
            )
