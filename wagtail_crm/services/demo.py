"""Demo contacts at scale: realistic people and organisations, written in bulk and indexed.

Names come from small built-in lists in several languages; phone numbers from ranges kept for
drama and fiction (Ofcom, ACMA, ARCEP, PTS, NANP 555-01xx) that phonenumbers accepts as valid;
email and web domains are reserved ``.example`` names. Output is deterministic for a seed.
"""

import random
import re
import time
import uuid
from bisect import bisect
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

import phonenumbers
from anyascii import anyascii
from django.db import connections, router, transaction
from django.db.models import Max
from django.utils import timezone
from modelsearch.conf import get_app_config
from taggit.models import Tag

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
from .search_index import ContactIndexer, index_contacts  # noqa: F401 - index_contacts re-exported

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


class DemoContact:
    """One generated contact, as plain values.

    Attributes:
        fields: Contact field values by attribute name; fields left out keep their defaults,
            and ``id``, ``uid`` and ``primary_organization_id`` are given when writing.
        organization: for a person working at a generated organisation, the position of that
            organisation in creation order; otherwise None.
        methods: ``(type id, value, normalized, label, is_primary, sort_order)`` rows, with
            ``normalized`` as ContactMethod.normalize sets it.
        address: ``(label, street, locality, region, postal_code, country, is_primary)``.
        tags: primary keys of the contact's tags.
    """

    __slots__ = ("fields", "organization", "methods", "address", "tags")

    def __init__(self, fields, organization, methods, address, tags):
        self.fields = fields
        self.organization = organization
        self.methods = methods
        self.address = address
        self.tags = tags


class _Generator:
    """Builds demo contacts (:class:`DemoContact`) from one random stream."""

    def __init__(self, rng, folder_ids, types, tag_ids, home_region):
        self.rng = rng
        self.folders = (folder_ids, list(accumulate(FOLDERS.values())))
        self.types, self.tags = types, tag_ids
        self.home_region = home_region
        self.countries = (list(COUNTRIES), list(accumulate(row[0] for row in COUNTRIES.values())))
        self.cultures = list(CULTURES)
        self.emails = set()
        self.phone_cache = {}
        self.name_cache = {}

    def pick(self, seq):
        return self.rng.choice(seq)

    def weighted(self, choices):
        """One of ``choices`` (items, cumulative weights), as ``rng.choices`` picks one."""
        items, cum_weights = choices
        return items[bisect(cum_weights, self.rng.random() * cum_weights[-1], 0, len(items) - 1)]

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

    def place(self, fields, label, office=None):
        """Give the contact of ``fields`` an address (its organisation's ``office``, or a new one).

        Returns ``(country code, landline range, address)``.
        """
        if office:
            code, landline, source = office
            address = (label, *source[1:])
        else:
            code = self.weighted(self.countries)
            country = COUNTRIES[code]
            city, region, postcodes, landline = self.pick(country[5])
            street = country[3].format(n=self.rng.randint(1, 240), s=self.pick(country[4]))
            postcode = self.fill(self.pick(postcodes))
            if code == "GB":
                postcode += self.fill(" #@@")
            address = (label, street, city, region, postcode, code, True)
        fields["city"], fields["country"] = address[2], code
        return code, landline, address

    def organization(self, position):
        """Return ``(contact, office)``: the organisation and what its people share.

        ``position`` is the organisation's place in creation order.
        """
        rng = self.rng
        fields = {"kind": ContactKind.ORGANIZATION, "folder_id": self.weighted(self.folders)}
        code, landline, address = self.place(fields, "work")
        word, trade = self.pick(ORG_WORDS).replace("-", " "), self.pick(ORG_TRADES)
        roll = rng.random()
        if roll < 0.85:
            fields["organization_type"] = OrganizationType.COMPANY
            name = f"{word} {trade}"
            fields["organization_name"] = f"{name} {self.pick(COUNTRIES[code][2])}"
        else:
            if roll < 0.93:
                fields["organization_type"] = OrganizationType.SCHOOL
                name = f"{fields['city']} {self.pick(('College', 'Academy', 'School of Arts'))}"
            else:
                fields["organization_type"] = OrganizationType.OTHER
                name = f"{word} {self.pick(('Trust', 'Foundation', 'Society'))}"
            fields["organization_name"] = name
        domain = re.sub(r"[^a-z0-9]+", "-", anyascii(name).lower()).strip("-") + ".example"
        rows = []
        self.email(rows, self.pick(("info", "hello", "contact", "office")), domain, "work")
        self.phone(rows, "Phone", "work", code, landline)
        rows.append((self.types["Website"], f"https://www.{domain}", f"https://www.{domain}", ""))
        office = (position, fields["folder_id"], domain, (code, landline, address))
        return self.finish(fields, rows, address), office

    def person(self, offices):
        """Return one person, working at one of ``offices`` (85%) or not."""
        rng = self.rng
        fields = {"kind": ContactKind.PERSON}
        office = self.pick(offices) if offices and rng.random() < 0.85 else None
        organization = None
        if office:
            organization, fields["folder_id"], domain, place = office
            fields["job_title"] = self.pick(JOB_TITLES)
            code, landline, address = self.place(fields, "work", place)
        else:
            fields["folder_id"] = self.weighted(self.folders)
            code, landline, address = self.place(fields, "home")
        culture = COUNTRIES[code][1] if rng.random() < 0.7 else self.pick(self.cultures)
        givens, families = CULTURES[culture]
        (given, given_ascii), (family, family_ascii) = self.pick(givens), self.pick(families)
        fields["given_name"], fields["family_name"] = given, family
        if rng.random() < 0.35:
            fields["birthday"] = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
        fields["do_not_email"] = rng.random() < 0.03
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
        return self.finish(fields, rows, address, organization)

    def names(self, fields):
        """Set ``display_name`` and ``sort_name`` as Contact.compute_names does (it is called)."""
        key = (fields["kind"], fields.get("given_name", ""), fields.get("family_name", ""),
               fields.get("organization_name", ""))
        names = self.name_cache.get(key)
        if names is None:
            contact = Contact(kind=key[0], given_name=key[1], family_name=key[2],
                              organization_name=key[3])
            contact.compute_names()
            names = self.name_cache[key] = (contact.display_name, contact.sort_name)
        fields["display_name"], fields["sort_name"] = names

    def finish(self, fields, rows, address, organization=None):
        """Set names, primaries and tags; return the :class:`DemoContact`."""
        self.names(fields)
        methods, seen = [], set()
        for order, (mtype, value, normalized, label) in enumerate(rows):
            first = mtype.scheme not in seen
            seen.add(mtype.scheme)
            methods.append((mtype.pk, value, normalized, label, first, order))
            if first and mtype.scheme == "email":
                fields["primary_email"] = normalized
            elif first and mtype.scheme == "phone":
                fields["primary_phone"] = normalized
        tags = self.rng.sample(self.tags, self.weighted(_TAG_COUNTS))
        return DemoContact(fields, organization, methods, address, tags)


def _method_types():
    """The method types the demo uses, by name (created if an admin removed them)."""
    types = {}
    for order, (name, scheme) in enumerate(METHOD_TYPES.items()):
        types[name], _created = ContactMethodType.objects.get_or_create(
            name=name, defaults={"scheme": scheme, "sort_order": order * 10})
        if types[name].scheme != scheme:
            raise ValueError(f"The contact method type {name!r} is not of scheme {scheme!r}.")
    return types


#: The fields (by name) whose columns the writers fill from generated values, in row order.
#: A contact's first three come from the writer, the others from DemoContact.fields.
CONTACT_FIELDS = ("id", "uid", "primary_organization", "kind", "given_name", "family_name",
                  "organization_name", "organization_type", "display_name", "sort_name",
                  "job_title", "birthday", "folder", "primary_email", "primary_phone", "city",
                  "country", "do_not_email")
METHOD_FIELDS = ("contact", "type", "value", "normalized", "label", "is_primary", "sort_order")
ADDRESS_FIELDS = ("contact", "label", "street", "locality", "region", "postal_code", "country",
                  "is_primary")
TAG_FIELDS = ("content_object", "tag")
#: Databases whose rows are written through the DB-API cursor; others go through the models.
DIRECT_VENDORS = ("sqlite", "postgresql")


class _Table:
    """Inserts rows into one model's table through the DB-API cursor.

    A row holds the values of ``names`` (model field names, in that order). Every other column
    gets what a new instance would be inserted with: its default, or ``now`` for ``auto_now``
    and ``auto_now_add`` fields, prepared for the database once. Values of fields whose
    database form differs from the Python value (dates on SQLite, say) go through the field's
    ``get_db_prep_save``, as in the ORM's inserts. PostgreSQL gets the rows with COPY, other
    databases with executemany.
    """

    #: Field types whose Python values (str, int, bool, None) go to the database as they are;
    #: a relation is taken by the type of the field it points to.
    PLAIN = {"AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField",
             "IntegerField", "TextField"}

    def __init__(self, model, names, connection, now):
        opts = model._meta
        given = [opts.get_field(name) for name in names]
        rest = [f for f in opts.concrete_fields if f not in given and not f.primary_key]
        template = model()
        self.constants = tuple(
            f.get_db_prep_save(
                now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else getattr(template, f.attname),
                connection,
            )
            for f in rest
        )
        self.prepared = [
            (i, f) for i, f in enumerate(given)
            if (f.target_field if f.is_relation else f).get_internal_type() not in self.PLAIN
        ]
        self.connection = connection
        qn = connection.ops.quote_name
        table = qn(opts.db_table)
        columns = ", ".join(qn(f.column) for f in given + rest)
        if connection.vendor == "postgresql":
            self.sql = f"COPY {table} ({columns}) FROM STDIN"
        else:
            marks = ", ".join(["%s"] * (len(given) + len(rest)))
            self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"

    def write(self, rows):
        constants = self.constants
        if self.prepared:
            rows = [self.prepare(row) for row in rows]
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "postgresql":
                with cursor.copy(self.sql) as copy:
                    for row in rows:
                        copy.write_row(row + constants)
            else:
                cursor.executemany(self.sql, [row + constants for row in rows])

    def prepare(self, row):
        row = list(row)
        for i, model_field in self.prepared:
            row[i] = model_field.get_db_prep_save(row[i], self.connection)
        return tuple(row)


def _reserve_ids(connection, model, count):
    """``count`` primary keys for new rows of ``model``, kept from other writers until commit.

    PostgreSQL takes them from the table's sequence. SQLite has one writer at a time: an empty
    update of sqlite_sequence takes the write lock for the rest of the transaction, and the
    keys follow the highest ever used, as AUTOINCREMENT gives them (inserting them moves
    sqlite_sequence on).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Primary keys can only be reserved inside a transaction.")
    qn = connection.ops.quote_name
    table, column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [qn(table), column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute("UPDATE sqlite_sequence SET seq = seq WHERE name = %s", [table])
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        cursor.execute(f"SELECT MAX({qn(column)}) FROM {qn(table)}")
        top = max(row[0] if row else 0, cursor.fetchone()[0] or 0)
        return range(top + 1, top + 1 + count)


class _CursorWriter:
    """Writes generated contacts and their rows through the DB-API cursor (see :class:`_Table`).

    Primary keys of all ``count`` contacts are reserved up front, so a person's organisation
    is known before it is written.
    """

    def __init__(self, connection, count, now):
        self.ids = _reserve_ids(connection, Contact, count)
        # Values for the fields a generated contact leaves out: those of a new instance.
        template = Contact()
        fields = [Contact._meta.get_field(name) for name in CONTACT_FIELDS[3:]]
        self.defaults = [(f.attname, getattr(template, f.attname)) for f in fields]
        self.contacts = _Table(Contact, CONTACT_FIELDS, connection, now)
        self.methods = _Table(ContactMethod, METHOD_FIELDS, connection, now)
        self.addresses = _Table(Address, ADDRESS_FIELDS, connection, now)
        self.tags = _Table(ContactTag, TAG_FIELDS, connection, now)

    def pks(self, position, count):
        """The primary keys of ``count`` contacts from creation position ``position`` on."""
        return list(self.ids[position:position + count])

    def rows(self, batch, position, uids):
        """The rows of ``batch``, the contacts of creation positions from ``position`` on."""
        ids, defaults = self.ids, self.defaults
        contacts, methods, addresses, tags = [], [], [], []
        for pk, contact in zip(self.pks(position, len(batch)), batch, strict=True):
            fields = contact.fields
            uid = str(uuid.UUID(int=uids.getrandbits(128), version=4))
            organization = None if contact.organization is None else ids[contact.organization]
            contacts.append((pk, uid, organization,
                             *[fields.get(name, default) for name, default in defaults]))
            methods.extend((pk, *method) for method in contact.methods)
            addresses.append((pk, *contact.address))
            tags.extend((pk, tag) for tag in contact.tags)
        return contacts, methods, addresses, tags

    def insert(self, rows, result):
        """Insert ``rows`` (from :meth:`rows`); return the primary keys of the contacts."""
        contacts, methods, addresses, tags = rows
        self.contacts.write(contacts)
        self.methods.write(methods)
        self.addresses.write(addresses)
        self.tags.write(tags)
        _count(result, methods, addresses, tags)
        return [row[0] for row in contacts]


class _ModelWriter:
    """Writes generated contacts through the models' ``bulk_create``, for other databases."""

    def __init__(self):
        self.ids = []

    def pks(self, position, count):
        """None: primary keys are known once the contacts are inserted."""
        return None

    def rows(self, batch, position, uids):
        """The contacts of ``batch`` with their UIDs, for :meth:`insert`."""
        return batch, [str(uuid.UUID(int=uids.getrandbits(128), version=4)) for _ in batch]

    def insert(self, rows, result):
        """Insert ``rows`` (from :meth:`rows`); return the primary keys of the contacts."""
        batch, uids = rows
        contacts = []
        for contact, uid in zip(batch, uids, strict=True):
            organization = None if contact.organization is None else self.ids[contact.organization]
            contacts.append(Contact(uid=uid, primary_organization_id=organization,
                                    **contact.fields))
        Contact.objects.bulk_create(contacts)
        self.ids.extend(contact.pk for contact in contacts)
        methods, addresses, tags = [], [], []
        method_fields = [ContactMethod._meta.get_field(name).attname for name in METHOD_FIELDS[1:]]
        for row, contact in zip(contacts, batch, strict=True):
            for values in contact.methods:
                method = dict(zip(method_fields, values, strict=True))
                methods.append(ContactMethod(contact_id=row.pk, **method))
            address = dict(zip(ADDRESS_FIELDS[1:], contact.address, strict=True))
            addresses.append(Address(contact_id=row.pk, **address))
            tags.extend(ContactTag(content_object_id=row.pk, tag_id=tag) for tag in contact.tags)
        ContactMethod.objects.bulk_create(methods)
        Address.objects.bulk_create(addresses)
        ContactTag.objects.bulk_create(tags)
        _count(result, methods, addresses, tags)
        return [contact.pk for contact in contacts]


def _count(result, methods, addresses, tags):
    result.methods += len(methods)
    result.addresses += len(addresses)
    result.tags += len(tags)


class _Load:
    """Writes batches of generated contacts and, with an ``indexer``, their index entries.

    Index entries go to the indexer's direct writers, with texts computed from the generated
    values rather than read back. A batch's rows and index texts are prepared before waiting
    for the previous batch's index entries, which PostgreSQL builds meanwhile (see
    :class:`~wagtail_crm.services.search_index.PostgresEntries`). The time spent on the index
    is added to ``result.index_seconds``.
    """

    def __init__(self, writer, indexer, schemes, result, uids):
        self.writer, self.indexer, self.schemes = writer, indexer, schemes
        self.result, self.uids = result, uids
        #: Display names of the contacts written, by creation position.
        self.names = []

    def write(self, batch, position):
        """Write ``batch``, the contacts of creation positions from ``position`` on."""
        result, indexer = self.result, self.indexer
        self.names.extend(contact.fields["display_name"] for contact in batch)
        rows = self.writer.rows(batch, position, self.uids)
        pks = self.writer.pks(position, len(batch))
        items = None
        if indexer:
            started = time.perf_counter()
            items = None if pks is None else self.index_items(batch, pks)
            indexer.wait()
            result.index_seconds += time.perf_counter() - started
        pks = self.writer.insert(rows, result)
        result.pks.extend(pks)
        if indexer:
            started = time.perf_counter()
            indexer.write(self.index_items(batch, pks) if items is None else items)
            result.indexed += len(batch)
            result.index_seconds += time.perf_counter() - started

    def index_items(self, batch, pks):
        """``(pk, texts)`` pairs of ``batch`` for ContactIndexer.write.

        Methods are taken primary first, then in their order, as ContactMethod's Meta.ordering
        gives them; demo contacts have no custom field values.
        """
        texts, schemes, names = self.indexer.texts, self.schemes, self.names
        items = []
        for pk, contact in zip(pks, batch, strict=True):
            fields = contact.fields
            methods = [(schemes[m[0]], m[1], m[2])
                       for m in sorted(contact.methods, key=lambda m: (not m[4], m[5]))]
            organization = "" if contact.organization is None else names[contact.organization]
            columns = {name: fields.get(name, "") for name in texts.columns}
            items.append((pk, texts.texts(fields["kind"], columns, methods, organization, {})))
        return items

    def report(self, progress, message):
        if progress:
            progress(message)
            if self.indexer:
                progress(f"{self.result.indexed} indexed")


@contextmanager
def _sqlite_cache(connection, kib=65536):
    """On SQLite, let the connection cache at least ``kib`` KiB of pages until the block ends.

    The contact table's indexes (uid, names, emails) are written in random order; with SQLite's
    default cache of 2 MiB most of their pages would be read again from the file for every
    batch. The connection's own setting is restored afterwards; nothing is stored in the file.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute("PRAGMA page_size")
        page_size = cursor.fetchone()[0]
        current = -previous if previous < 0 else previous * page_size // 1024
        if current < kib:
            cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        if current < kib:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def create_demo_contacts(count, *, seed=None, batch_size=2000, index=True, analyze=True,
                         progress=None):
    """Create ``count`` demo contacts, about one organisation for every eight people.

    Contacts, their rows and their search index entries are written in one transaction, a
    batch at a time. On SQLite and PostgreSQL the rows go through the DB-API cursor (see
    :class:`_Table`), elsewhere through the models' ``bulk_create``. The index entries of the
    database search backends are written from the generated values (see
    :class:`~wagtail_crm.services.search_index.ContactIndexer`); other search backends get the
    contacts after the transaction.

    Args:
        count: how many contacts (people and organisations together) to create.
        seed: seed of the random stream; the same seed gives the same contacts. A random seed
            is chosen (and returned in the result) when None.
        batch_size: contacts per bulk insert.
        index: add the new contacts to the search index.
        analyze: refresh the query planner's statistics of the tables written (see
            :func:`analyze_tables`).
        progress: optional callable receiving a short message after each batch.

    Returns:
        A :class:`DemoResult` with the counts, the seed and the elapsed seconds (the time spent
        on the search index is counted in ``index_seconds`` only).
    """
    seed = random.randrange(2**31) if seed is None else seed
    result = DemoResult(seed=seed)
    started = time.perf_counter()
    connection = connections[router.db_for_write(Contact)]
    indexer = ContactIndexer() if index else None
    direct = bool(indexer and indexer.writers)
    # Read before the transaction: it tolerates a database error, which would abort one.
    home_region = CRMSettings.get_phone_region().upper()
    with (
        _sqlite_cache(connection),
        transaction.atomic(using=connection.alias),
        indexer if direct else nullcontext(),
    ):
        folders = [Folder.objects.get_or_create(name=name)[0].pk for name in FOLDERS]
        tags = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
        types = _method_types()
        schemes = {mtype.pk: mtype.scheme for mtype in types.values()}
        generator = _Generator(random.Random(seed), folders, types, tags, home_region)
        # UIDs come from their own stream, also keyed by the highest existing id, so that a
        # second run with the same seed adds contacts instead of colliding with the first.
        base = Contact.all_objects.aggregate(top=Max("pk"))["top"] or 0
        uids = random.Random(f"{seed}:{base}")
        if connection.vendor in DIRECT_VENDORS:
            writer = _CursorWriter(connection, count, timezone.now())
        else:
            writer = _ModelWriter()
        load = _Load(writer, indexer if direct else None, schemes, result, uids)
        org_count = (count + 4) // 9
        offices = []
        for start in range(0, org_count, batch_size):
            batch = [generator.organization(start + i)
                     for i in range(min(batch_size, org_count - start))]
            offices.extend(office for _contact, office in batch)
            load.write([contact for contact, _office in batch], start)
            result.organizations += len(batch)
            load.report(progress, f"{result.organizations} organisations")
        people = count - org_count
        for start in range(0, people, batch_size):
            batch = [generator.person(offices) for _ in range(min(batch_size, people - start))]
            load.write(batch, org_count + start)
            result.people += len(batch)
            load.report(progress, f"{result.people} people")
        if direct:
            indexing = time.perf_counter()
            indexer.finish()
            result.index_seconds += time.perf_counter() - indexing
    result.create_seconds = time.perf_counter() - started - result.index_seconds
    if indexer and indexer.others:
        indexing = time.perf_counter()
        indexer.add_to_others(result.pks, batch_size=batch_size)
        result.indexed = len(result.pks)
        result.index_seconds += time.perf_counter() - indexing
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
    connection = connections[router.db_for_write(Contact)]
    if connection.vendor not in ("sqlite", "postgresql"):
        return
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        for model in models:
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {table}")
