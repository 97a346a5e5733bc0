"""LDIF contacts: RFC 2849 quirks, directory object classes, secrets, writing, a real slapd."""

import base64
import dataclasses
import shutil
import subprocess

import pytest

from tests.ldap_server import ldap_server  # noqa: F401  (fixture)
from wagtail_crm.interop.ldif import read_ldif, split_dn, write_ldif
from wagtail_crm.interop.records import (
    AddressRecord,
    ContactRecord,
    Method,
    Photo,
    RowError,
    UnreadableFile,
)


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str) else text).decode()


JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 2
NOTES = "First programmer\nand mathematician ✓"

PERSON = f"""version: 1

# a comment that is folded
 onto a second line
dn: cn=Ada Lovelace,ou=People,o=Analytical,dc=example,dc=com
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: inetOrgPerson
cn: Ada Lovelace
cn;lang-fr: Ada Lovelace (fr)
sn: Lovelace
givenName: Ada
displayName: Countess
mail: ada@example.com
mail: ada@analytical.example
telephoneNumber: +44 20 7946 0000
mobile: +44 7700 900123
homePhone: +44 20 7946 0001
facsimileTelephoneNumber: +44 20 7946 0002
pager: 123
title: Analyst
o: Analytical Engines
ou: Research
description:: {b64(NOTES)}
street: 12 St James
l: London
st: Greater London
postalCode: SW1
c: GB
labeledURI: https://ada.example Blog
jpegPhoto:: {b64(JPEG)}
uid: ada
employeeNumber: 42
entryUUID: 0f1e2d3c-0000-4000-8000-000000000001
userPassword:: {b64("{{SSHA}}secret-hash")}
sambaNTPassword: 0123456789ABCDEF
drink: tea

""".encode()


def test_inet_org_person():
    (ada,) = read_ldif(PERSON)
    assert ada.kind == "person" and ada.line == 5
    assert (ada.formatted_name, ada.given_name, ada.family_name) == (
        "Ada Lovelace", "Ada", "Lovelace")
    assert ada.nickname == "Countess"
    assert [m.value for m in ada.emails] == ["ada@example.com", "ada@analytical.example"]
    assert ada.phones == [Method("+44 20 7946 0000", ["work"]),
                          Method("+44 20 7946 0001", ["home"]),
                          Method("+44 7700 900123", ["cell"]),
                          Method("+44 20 7946 0002", ["fax"]), Method("123", ["pager"])]
    assert (ada.job_title, ada.organization_name, ada.department) == (
        "Analyst", "Analytical Engines", "Research")
    assert ada.notes == "First programmer\nand mathematician ✓"
    assert ada.addresses == [AddressRecord(street="12 St James", locality="London",
                                           region="Greater London", postal_code="SW1",
                                           country="GB", types=["work"])]
    assert ada.urls == [Method("https://ada.example", [], "Blog")]
    assert ada.photo == Photo(JPEG, "image/jpeg")
    assert ada.uid == "0f1e2d3c-0000-4000-8000-000000000001"
    assert ada.custom == {
        "ldap_dn": "cn=Ada Lovelace,ou=People,o=Analytical,dc=example,dc=com",
        "ldap_parent_dn": "ou=People,o=Analytical,dc=example,dc=com",
        "ldap_uid": "ada", "employee_number": "42",
    }
    assert "not imported: drink" in ada.warnings


def test_secrets_are_never_kept():
    (ada,) = read_ldif(PERSON)
    text = repr(ada)
    assert "secret-hash" not in text and b64("{SSHA}secret-hash") not in text
    assert "0123456789ABCDEF" not in text and "password" not in text.lower()


def test_folding_crlf_base64_dn_and_options():
    dn = "cn=Zoë Ñandú,dc=example,dc=com"
    data = (f"dn:: {b64(dn)}\r\n"
            "objectclass: inetOrgPerson\r\n"
            "cn:: " + b64("Zoë Ñandú") + "\r\n"
            "sn:: IMORYW5kw7og\r\n"          # " Ñandú " with spaces, base64 as required
            "mail: zoe@exa\r\n"
            " mple.com\r\n"
            "# comment inside an entry\r\n"
            "title;lang-en: Chief\r\n"
            "\r\n\r\n").encode()
    (zoe,) = read_ldif(data)
    assert zoe.formatted_name == "Zoë Ñandú" and zoe.family_name == "Ñandú"
    assert zoe.given_name == "Zoë"  # taken from cn when givenName is missing
    assert zoe.emails == [Method("zoe@example.com")] and zoe.job_title == "Chief"
    assert zoe.custom["ldap_dn"] == dn


def test_thunderbird_attributes():
    data = ("dn: cn=Tom Bird,mail=tom@example.com\n"
            "objectclass: top\nobjectclass: person\nobjectclass: organizationalPerson\n"
            "objectclass: inetOrgPerson\nobjectclass: mozillaAbPersonAlpha\n"
            "givenName: Tom\nsn: Bird\ncn: Tom Bird\nmozillaNickname: tb\n"
            "mail: tom@example.com\nmozillaSecondEmail: tom@home.example\n"
            "mozillaHomeStreet: 1 Nest Rd\nmozillaHomeStreet2: Flat 2\n"
            "mozillaHomeLocalityName: Oslo\nmozillaHomePostalCode: 0150\n"
            "mozillaHomeCountryName: Norway\nmozillaWorkUrl: https://work.example\n"
            "mozillaHomeUrl: https://home.example\nbirthyear: 1980\nbirthmonth: 02\n"
            "birthday: 29\nmozillaCustom1: blue\n"
            f"mozillaCustom3:: {b64('a' + chr(13) + 'b')}\nmodifytimestamp: 12345\n\n").encode()
    (tom,) = read_ldif(data)
    assert tom.nickname == "tb"
    assert [m.value for m in tom.emails] == ["tom@example.com", "tom@home.example"]
    assert tom.addresses == [AddressRecord(street="1 Nest Rd", extended="Flat 2",
                                           locality="Oslo", postal_code="0150",
                                           country="Norway", types=["home"])]
    assert tom.urls == [Method("https://work.example", ["work"]),
                        Method("https://home.example", ["home"])]
    assert tom.birthday.isoformat() == "1980-02-29"
    assert tom.custom["custom1"] == "blue" and tom.custom["custom3"] == "a\rb"
    assert tom.warnings == []


ORGS = b"""
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example, Inc.
o: EX
description: The company
telephoneNumber: +1 313 555 1817
l: Anytown
postalAddress: Example, Inc. $ 535 W. William St. $ Anytown, MI 48109 $ US

dn: ou=Sales,o=Example\\2C Inc.,dc=example,dc=com
objectClass: organizationalUnit
ou: Sales

dn: ou=Groups,dc=example,dc=com
objectClass: organizationalUnit
ou: Groups

dn: cn=Staff,ou=Groups,dc=example,dc=com
objectClass: groupOfNames
cn: Staff
member: cn=Ada,dc=example,dc=com

dn: cn=Manager,dc=example,dc=com
objectClass: person
cn: Manager
sn: Manager
homePostalAddress: 1 Road $ Town\\24ville
"""


def test_organizations_units_and_groups():
    company, sales, groups, staff, manager = read_ldif(ORGS)
    assert (company.kind, company.organization_name, company.department) == (
        "organization", "Example, Inc.", "")
    assert company.notes == "The company" and company.line == 2
    assert company.addresses == [AddressRecord(locality="Anytown", country="US",
                                               types=["work"])]
    assert "other names: EX" in company.warnings
    assert (sales.kind, sales.organization_name, sales.department) == (
        "organization", "Example, Inc.", "Sales")
    assert sales.custom["ldap_parent_dn"] == "o=Example\\2C Inc.,dc=example,dc=com"
    assert (groups.organization_name, groups.department) == ("Groups", "Groups")
    assert isinstance(staff, RowError) and staff.line == 20
    assert staff.reason == "not a contact entry (objectClass groupOfNames)"
    assert manager.kind == "person" and manager.addresses[0].street == "1 Road\nTown$ville"
    assert manager.addresses[0].types == ["home"]


def test_change_records_and_url_values_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    data = (f"version: 1\n\n"
            f"dn: cn=A,dc=example,dc=com\nchangetype: add\nobjectClass: person\ncn: A\nsn: A\n\n"
            f"dn: cn=B,dc=example,dc=com\nchangetype: modify\nreplace: sn\nsn: B\n-\n\n"
            f"dn: cn=C,dc=example,dc=com\nchangetype: delete\n\n"
            f"dn: cn=D,dc=example,dc=com\nobjectClass: person\ncn: D\n"
            f"description:< file://{secret}\n\n").encode()
    added, modify, delete, url = read_ldif(data)
    assert added.formatted_name == "A"
    assert modify.line == 9 and modify.reason == (
        "change records are not contacts (changetype: modify)")
    assert delete.line == 15 and "delete" in delete.reason
    assert url.line == 21 and "URL" in url.reason and "description" in url.reason
    assert "do not read me" not in repr(url)


def test_invalid_base64_names_line_and_attribute():
    data = (b"dn: cn=A,dc=example,dc=com\nobjectClass: person\ncn: A\nsn: A\n\n"
            b"dn: cn=B,dc=example,dc=com\nobjectClass: person\ncn: B\n"
            b"description:: not*base64!\nsn: B\n\n")
    good, bad = read_ldif(data)
    assert good.formatted_name == "A"
    assert isinstance(bad, RowError) and bad.line == 9
    assert bad.reason == "invalid base64 in attribute 'description'"


def test_malformed_entries():
    data = b"objectClass: person\ncn: no dn\n\ndn: cn=X\nthis line has no colon\n\n"
    no_dn, no_colon = read_ldif(data)
    assert no_dn.line == 1 and "dn:" in no_dn.reason
    assert no_colon.line == 5 and "not an attribute line" in no_colon.reason


def test_unreadable_ldif():
    with pytest.raises(UnreadableFile, match="no LDIF entry"):
        read_ldif(b"Name,Email\nA,b@c\n")
    with pytest.raises(UnreadableFile):
        read_ldif(b"\x00\x01\x02garbage\x00" * 10)
    with pytest.raises(UnreadableFile, match="larger"):
        read_ldif(PERSON, max_bytes=100)


def test_split_dn():
    assert split_dn('cn=Doe\\, Jane,ou="A, B",dc=example') == [
        "cn=Doe\\, Jane", 'ou="A, B"', "dc=example"]


def people():
    return [
        ContactRecord(
            uid="zoe", formatted_name="Zoë D'Arcy, Jr.", given_name="Zoë", family_name="D'Arcy",
            job_title=":colon first", organization_name="Acme, Inc.", department="Sales",
            notes="two\nlines", emails=[Method("zoe@example.com"), Method("z@example.org")],
            phones=[Method("+44 20 7946 0958", ["work"]), Method("+44 7700 900123", ["cell"]),
                    Method("+44 20 7946 0001", ["home"]), Method("+44 20 7946 0002", ["fax"]),
                    Method("123", ["pager"])],
            urls=[Method("https://zoe.example", [], "Blog")],
            addresses=[AddressRecord(street="1 Main St", extended="Floor 2", po_box="PO 5",
                                     locality="Köln", region="NRW", postal_code="50667",
                                     country="Germany", types=["work"])],
            photo=Photo(JPEG, "image/jpeg"), custom={"employee_number": "7"},
        ),
        ContactRecord(uid="lead", formatted_name=" leading space", family_name="<angle",
                      given_name="trailing space "),
        ContactRecord(formatted_name="No Uid", family_name="Uid", given_name="No",
                      job_title="x" * 200),
    ]


def organizations():
    return [
        ContactRecord(kind="organization", organization_name="Acme, Inc.", notes="Makers",
                      emails=[Method("info@acme.example")],
                      phones=[Method("+1 555 0100", ["work"])]),
        ContactRecord(kind="organization", organization_name="Acme, Inc.", department="Sales"),
        ContactRecord(kind="organization", organization_name="Globex", department="R+D"),
    ]


def test_write_ldif_format():
    text = "".join(write_ldif(people() + organizations(), base_dn="dc=example,dc=com"))
    lines = text.splitlines()
    assert lines[0] == "version: 1"
    assert all(len(line) <= 76 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # the photo and the long title fold
    assert f"cn:: {b64(chr(32) + 'leading space')}" in lines
    assert f"givenName:: {b64('trailing space ')}" in lines
    assert f"sn:: {b64('<angle')}" in lines and f"title:: {b64(':colon first')}" in lines
    assert f"description:: {b64('two' + chr(10) + 'lines')}" in lines
    assert "userPassword" not in text
    dns = [line[4:] for line in lines if line.startswith("dn: ")]
    assert dns[:2] == ["ou=people,dc=example,dc=com", "uid=zoe,ou=people,dc=example,dc=com"]
    assert dns.index("o=Acme\\, Inc.,dc=example,dc=com") < dns.index(
        "ou=Sales,o=Acme\\, Inc.,dc=example,dc=com")
    assert dns.index("o=Globex,dc=example,dc=com") < dns.index(
        "ou=R\\+D,o=Globex,dc=example,dc=com")


def carried(record):
    """The fields LDIF carries, in a comparable form."""
    return dataclasses.replace(
        record, line=0, warnings=[], custom={k: v for k, v in record.custom.items()
                                             if not k.startswith("ldap_")},
        emails=sorted(m.value for m in record.emails),
        phones=sorted((m.value, tuple(m.types)) for m in record.phones),
        formatted_name=record.formatted_name.strip(), given_name=record.given_name.strip(),
    )


#: entries the writer adds: the people container and the parent of a department whose
#: organisation is not among the records
ADDED = ("ou=people,dc=example,dc=com", "o=globex,dc=example,dc=com", "dc=example,dc=com")


def read_back(data):
    return [r for r in read_ldif(data) if r.custom.get("ldap_dn", "").lower() not in ADDED]


def test_write_ldif_round_trip():
    records = people() + organizations()
    back = read_back("".join(write_ldif(records, base_dn="dc=example,dc=com")).encode("ascii"))
    assert not [r for r in back if isinstance(r, RowError)]
    expected = [dataclasses.replace(r) for r in records]
    expected[2].uid = back[2].uid  # derived from the name and first e-mail
    assert len(back[2].uid) == 36
    assert [carried(r) for r in back] == [carried(r) for r in expected]


def test_write_ldif_uids_are_stable_and_unique():
    twins = [ContactRecord(formatted_name="Twin", family_name="Twin") for _ in range(2)]
    first = "".join(write_ldif(twins, base_dn="o=x"))
    assert first == "".join(write_ldif(twins, base_dn="o=x"))
    uids = [r.uid for r in read_ldif(first.encode()) if r.kind == "person"]
    assert len(set(uids)) == 2 and uids[1] == uids[0] + "-2"


@pytest.mark.skipif(not shutil.which("ldapadd"), reason="ldap-utils is not installed")
def test_written_ldif_loads_into_openldap(ldap_server, tmp_path):  # noqa: F811
    records = people() + organizations()
    path = tmp_path / "export.ldif"
    path.write_text("".join(write_ldif(records, base_dn=ldap_server.base_dn,
                                       include_base=True)), encoding="ascii")
    added = subprocess.run(["ldapadd", *ldap_server.auth(), "-f", str(path)],
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stderr
    found = subprocess.run(
        ["ldapsearch", *ldap_server.auth(), "-LLL", "-b", ldap_server.base_dn,
         "(|(objectClass=inetOrgPerson)(objectClass=organization)"
         "(objectClass=organizationalUnit))"],
        capture_output=True, timeout=60,
    )
    assert found.returncode == 0, found.stderr
    back = read_back(found.stdout)
    assert not [r for r in back if isinstance(r, RowError)]
    by_name = {(r.kind, r.formatted_name.strip() or r.organization_name, r.department): r
               for r in back}
    assert len(by_name) == len(records) == len(back)
    zoe = by_name[("person", "Zoë D'Arcy, Jr.", "Sales")]
    assert carried(zoe) == carried(records[0])
    assert by_name[("organization", "Globex", "R+D")].custom["ldap_parent_dn"].lower() == (
        "o=globex,dc=example,dc=com")


def test_version_line_directly_followed_by_an_entry():
    data = b"version: 1\ndn: cn=A,dc=example,dc=com\nobjectClass: person\ncn: A\nsn: A"
    (record,) = read_ldif(data)
    assert record.formatted_name == "A" and record.line == 2
