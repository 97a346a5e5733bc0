"""CSV contacts: reading other programs' layouts, bad input, mappings, preview, round trips."""

import dataclasses
import datetime
import json

import pytest

from wagtail_crm.interop.csv import (
    CsvImport,
    MappingError,
    guess_preset,
    load_mapping,
    parse_date,
    read_csv,
    write_csv,
)
from wagtail_crm.interop.csv_presets import generic_columns
from wagtail_crm.interop.records import (
    AddressRecord,
    ContactRecord,
    Method,
    RowError,
    UnreadableFile,
)


def rows(data, **kwargs):
    return list(read_csv(data, **kwargs).rows())


GOOGLE_LEGACY = (
    b"Name,Given Name,Family Name,Birthday,Group Membership,E-mail 1 - Type,E-mail 1 - Value,"
    b"E-mail 2 - Type,E-mail 2 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,"
    b"Phone 2 - Value,Address 1 - Type,Address 1 - Formatted,Address 1 - Street,"
    b"Address 1 - City,Yomi Name\n"
    b'Ada Lovelace,Ada,Lovelace,1815-12-10,* My Contacts ::: Friends ::: Math,* Home,'
    b'ada@example.com,Work,ada@work.example,Mobile,+44 7700 900123,Work Fax,+44 20 7946 0000,'
    b'Home,"12 St James\nLondon",12 St James,London,\n'
    b",,,,,,,,,,,,,,,,,\n"
    b'"Charles Babbage",Charles,Babbage,,,,"charles@example.com",,,,,,,,,,,\n'
)


def test_google_legacy_layout():
    result = read_csv(GOOGLE_LEGACY)
    assert result.preset == "google" and result.delimiter == ","
    assert result.unmapped == ["Yomi Name"]
    ada, charles = result.rows()
    assert (ada.given_name, ada.family_name, ada.line) == ("Ada", "Lovelace", 2)
    assert ada.birthday == datetime.date(1815, 12, 10)
    assert ada.tags == ["Friends", "Math"]
    assert ada.emails == [Method("ada@example.com", ["home"], "", True),
                          Method("ada@work.example", ["work"])]
    assert ada.phones == [Method("+44 7700 900123", ["cell"]),
                          Method("+44 20 7946 0000", ["work", "fax"])]
    assert ada.addresses == [AddressRecord(street="12 St James", locality="London",
                                           types=["home"])]
    # the multi-line address cell spans lines 2-3; the empty row on line 4 is skipped
    assert charles.line == 5 and charles.emails[0].value == "charles@example.com"
    assert result.skipped == [(4, "empty row")]


def test_google_current_layout_labels():
    data = (b"First Name,Middle Name,Last Name,Labels,E-mail 1 - Label,E-mail 1 - Value,"
            b"Phone 1 - Label,Phone 1 - Value,Organization Name,Organization Title\n"
            b"Grace,B.,Hopper,* myContacts ::: Navy,Work,grace@navy.example,Assistant,"
            b"555-0100,US Navy,Rear Admiral\n")
    assert guess_preset(read_csv(data).headers) == "google"
    (grace,) = rows(data)
    assert grace.additional_names == "B." and grace.tags == ["Navy"]
    assert grace.emails == [Method("grace@navy.example", ["work"])]
    assert grace.phones == [Method("555-0100", [], "Assistant")]
    assert (grace.organization_name, grace.job_title) == ("US Navy", "Rear Admiral")


OUTLOOK = (
    b'"Title","First Name","Last Name","Company","Business Street","Business Street 2",'
    b'"Business City","Business Postal Code","Business Country/Region","Business Phone",'
    b'"Mobile Phone","Primary Phone","Birthday","Categories","E-mail Address","E-mail Type",'
    b'"Notes","Anniversary"\r\n'
    b'"Dr.","John","Smith","International Inc","1 Main St","Suite 5","Springfield","12345",'
    b'"United States","(123) 555-1111",,"(123) 555-0000","5/3/1980","VIP;Press",'
    b'"john@example.com","SMTP","PHP\r\nPerl\r\n",0/0/00\r\n'
    b'"","Jane","Doe","","","","","","","","","","0/0/00","","","","",""\r\n'
)


def test_outlook_layout():
    result = read_csv(OUTLOOK)
    assert result.preset == "outlook"
    john, jane = result.rows()
    assert (john.prefix, john.organization_name) == ("Dr.", "International Inc")
    assert john.birthday == datetime.date(1980, 5, 3)  # Outlook writes m/d/Y
    assert john.tags == ["VIP", "Press"] and john.notes == "PHP\r\nPerl\r\n"
    assert john.addresses == [AddressRecord(
        street="1 Main St", extended="Suite 5", locality="Springfield", postal_code="12345",
        country="United States", types=["work"])]
    assert john.phones == [Method("(123) 555-1111", ["work"]),
                           Method("(123) 555-0000", [], "", True)]
    assert jane.line == 5 and jane.birthday is None and jane.warnings == []
    assert "E-mail Type" in result.unmapped and "Anniversary" in result.unmapped


def test_thunderbird_layout_embedded_cr_lf_tab_and_company_only():
    header = (b"First Name,Last Name,Display Name,Primary Email,Work Phone,Organization,"
              b"Birth Year,Birth Month,Birth Day,Custom 1,Custom 2,Notes\r\n")
    data = (header + b'Ann,Lee,Ann Lee,ann@example.com,,,1990,2,28,"a\rb","c\td","x\ny"\r\n'
            b',,"Acme Corp",,"(800) 000-0000","Acme Corp",,,,"","",""\r\n'
            b"Bob,Roe,,,,,1990,2,30,,,\r\n")
    result = read_csv(data)
    assert result.preset == "thunderbird"
    ann, acme, bob = result.rows()
    assert ann.birthday == datetime.date(1990, 2, 28)
    assert ann.emails == [Method("ann@example.com", [], "", True)]
    assert ann.custom == {"custom1": "a\rb", "custom2": "c\td"} and ann.notes == "x\ny"
    assert acme.line == 4 and acme.kind == "organization"
    assert acme.organization_name == "Acme Corp" and acme.phones[0].types == ["work"]
    assert bob.line == 5 and bob.birthday is None
    assert bob.warnings == ["Birthday: not a date: 1990-2-30"]


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
    ("utf-16-le", b""), ("utf-16-be", b"\xfe\xff"), ("cp1252", b""),
])
def test_encodings(encoding, bom):
    text = "First Name;Last Name;E-mail Address\r\nRené;Müller;rene@example.com\r\n"
    result = read_csv(bom + text.encode(encoding))
    assert result.delimiter == ";"
    (record,) = result.rows()
    assert (record.given_name, record.family_name) == ("René", "Müller")
    assert result.headers[0] == "First Name"


def test_tab_delimiter_and_quoted_delimiters_in_header():
    data = b'"Name"\tE-mail\tPhone\n"Doe, Jane"\tjane@example.com\t"1;2"\n'
    result = read_csv(data)
    assert result.delimiter == "\t"
    (jane,) = result.rows()
    assert jane.formatted_name == "Doe, Jane" and jane.phones[0].value == "1;2"


def test_semicolon_wins_over_commas_in_cells():
    data = b'Name;Email\n"Doe, Jane";jane@example.com\n'
    assert read_csv(data).delimiter == ";"
    with pytest.raises(UnreadableFile, match="single column"):
        read_csv(data, delimiter=",")


@pytest.mark.parametrize("newline", [b"\r\n", b"\n", b"\r"])
def test_line_endings_and_multiline_cells_count_lines(newline):
    lines = [b"Name,Notes", b'A,"one', b'two"', b"", b'B,"x', b"y", b'z"', b"C,", b"", b""]
    records = rows(newline.join(lines))
    assert [(r.formatted_name, r.line) for r in records] == [("A", 2), ("B", 5), ("C", 8)]
    assert records[1].notes == newline.join([b"x", b"y", b"z"]).decode()


def test_too_many_and_too_few_cells_and_repeated_header():
    data = (b"Name,Email,Phone\n"
            b"A,a@example.com\n"
            b"B,b@example.com,1,EXTRA\n"
            b"C,c@example.com,3,,\n"
            b"Name,Email,Phone\n"
            b"D,d@example.com,4\n")
    result = read_csv(data)
    a, error, c, d = result.rows()
    assert a.phones == [] and a.emails[0].value == "a@example.com"
    assert isinstance(error, RowError) and error.line == 3
    assert "4 cells" in error.reason and "EXTRA" in error.excerpt
    assert c.phones[0].value == "3"  # trailing empty cells are not extra
    assert d.line == 6 and result.skipped == [(5, "repeated header row")]


def test_truncated_quoted_cell_at_end_of_file():
    data = b'Name,Notes\nA,ok\nB,"starts here\nand runs\nto the end\n'
    first, error = rows(data)
    assert first.formatted_name == "A"
    assert isinstance(error, RowError) and error.line == 3
    assert "not closed" in error.reason


def test_unreadable_files():
    with pytest.raises(UnreadableFile, match="binary"):
        read_csv(b"\x00\x01\x02\x03garbage\x00\xff" * 20)
    with pytest.raises(UnreadableFile, match="binary"):
        read_csv(bytes(range(1, 32)) * 30)
    with pytest.raises(UnreadableFile, match="header"):
        read_csv(b"\r\n\r\n  \n")
    with pytest.raises(UnreadableFile, match="single column"):
        read_csv(b"Shopping list\neggs\nmilk\n")
    with pytest.raises(UnreadableFile, match="larger"):
        read_csv(b"Name,Email\n" + b"a,b@c\n" * 100, max_bytes=100)
    with pytest.raises(UnreadableFile, match="no header row"):
        read_csv(b"jane@example.com,Jane\njoe@example.com,Joe\n")


def test_single_column_of_emails_is_a_contacts_table():
    (record,) = rows(b"Email\njane@example.com\n")
    assert record.emails == [Method("jane@example.com")]


def test_custom_mapping_and_unmapped_columns():
    data = b"Vorname,Nachname,Mail,Handy,Firma,Mitglied seit,Lieblingsfarbe\n" \
           b"Eva,Meier,eva@example.de,0170 123,Beispiel GmbH,2020-01-01,blau\n"
    mapping = {"Vorname": "given_name", "Nachname": "family_name", "Mail": "email:work",
               "Handy": "phone:mobile", "Firma": "organization_name",
               "Mitglied seit": "custom:member_since", "Lieblingsfarbe": "ignore"}
    result = read_csv(data, mapping=mapping)
    assert result.unmapped == ["Lieblingsfarbe"]
    (eva,) = result.rows()
    assert eva.emails == [Method("eva@example.de", ["work"])]
    assert eva.phones == [Method("0170 123", ["cell"])]
    assert eva.custom == {"member_since": "2020-01-01"}


def test_paired_columns_and_address_groups_in_a_mapping():
    data = b"Kind,Val,Adr type,Street,Town\nprivate,+1 555,Billing,1 Road,Oslo\n"
    mapping = {"Kind": "phone#1.label", "Val": "phone#1.value", "Adr type": "address#1.label",
               "Street": "address#1.street", "Town": "address#1.locality"}
    (record,) = rows(data, mapping=mapping)
    assert record.phones == [Method("+1 555", ["private"])]
    assert record.addresses == [AddressRecord(street="1 Road", locality="Oslo",
                                              label="Billing")]


def test_unknown_mapping_target(tmp_path):
    with pytest.raises(MappingError, match="'Mail'.*'e-mail'"):
        read_csv(b"Name,Mail\nA,b@c\n", mapping={"Name": "formatted_name", "Mail": "e-mail"})
    with pytest.raises(MappingError, match="address:home.town"):
        load_mapping({"Town": "address:home.town"})
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps({"columns": {"Mail": "email", "Tel": "phone:work fax"}}))
    assert load_mapping(path) == {"Mail": "email", "Tel": "phone:work fax"}
    path.write_text("{not json")
    with pytest.raises(MappingError, match="Cannot read"):
        load_mapping(path)
    with pytest.raises(MappingError, match="preset"):
        read_csv(b"Name,Mail\nA,b@c\n", preset="excel")


def test_preview_shows_cell_errors():
    data = (b"First Name,Last Name,E-mail Address,Birthday,Business Phone\n"
            b"Ann,Lee,ann.example.com,31/31/2020,n/a\n"
            b"Bob,Roe,bob@example.com,31/12/2020,+1 555\n"
            b"Cy,Ng,cy@example.com,,,EXTRA\n")
    preview = read_csv(data, preset="outlook").preview(n=10)
    (line1, ann), (line2, bob), (line3, cy) = preview
    assert (line1, line2, line3) == (2, 3, 4)
    assert ann["E-mail Address"] == ("ann.example.com", "not an e-mail address: ann.example.com")
    assert ann["Birthday"] == ("31/31/2020", "not a date: 31/31/2020")
    assert ann["Business Phone"] == ("n/a", "not a phone number: n/a")
    assert ann["First Name"] == ("Ann", None)
    assert bob["Birthday"] == ("31/12/2020", None) and bob["E-mail Address"][1] is None
    assert "cells" in cy[""][1]
    assert len(read_csv(data).preview(n=1)) == 1


@pytest.mark.parametrize("text,dayfirst,expected", [
    ("2020-03-04", True, datetime.date(2020, 3, 4)),
    ("20200304", True, datetime.date(2020, 3, 4)),
    ("2020/3/4", True, datetime.date(2020, 3, 4)),
    ("03/04/2020", True, datetime.date(2020, 4, 3)),
    ("03/04/2020", False, datetime.date(2020, 3, 4)),
    ("13/04/2020", False, datetime.date(2020, 4, 13)),
    ("04/13/2020", True, datetime.date(2020, 4, 13)),
    ("4.3.1999", True, datetime.date(1999, 3, 4)),
    ("5/3/80", False, datetime.date(1980, 5, 3)),
    ("March 4, 2020", True, datetime.date(2020, 3, 4)),
    ("Sept 4th, 2020", True, datetime.date(2020, 9, 4)),
    ("4 March 2020", False, datetime.date(2020, 3, 4)),
    ("0/0/00", True, None),
    ("", True, None),
])
def test_parse_date(text, dayfirst, expected):
    assert parse_date(text, dayfirst) == expected


@pytest.mark.parametrize("text", ["31/31/2020", "2020-02-30", "yesterday", "Smarch 4, 2020"])
def test_parse_date_errors(text):
    with pytest.raises(ValueError, match=f"not a date: {text}"):
        parse_date(text)


TRICKY = [
    "=1+1", "@SUM(A1:A2)", "-5", "+44 20 7946 0958", "'quoted", "\tindented", "plain",
    "comma, semicolon; \"quotes\"", "Zoë Ñandú 東京",
]


def sample_records():
    return [
        ContactRecord(
            uid="urn:uuid:1", formatted_name="=1+1", prefix="Dr.", given_name="Zoë",
            additional_names="'quoted", family_name="comma, semicolon; \"quotes\"",
            suffix="-5", nickname="@SUM(A1:A2)", organization_name="Ñandú, Inc.",
            department="R&D", job_title="+Lead", birthday=datetime.date(1990, 2, 3),
            notes="line one\nline two\r\n=not a formula", tags=["VIP", "東京 office"],
            emails=[Method("zoe@example.com", ["work"], "", True),
                    Method("zoe@home.example", ["home"], "Private box")],
            phones=[Method("+44 20 7946 0958", ["work", "fax"]), Method("-5", ["cell"]),
                    Method("0170 123", [], "Assistant")],
            urls=[Method("https://example.com", [], "Blog")],
            handles=[Method("@zoe", ["x-mastodon"])],
            addresses=[AddressRecord(street="1 Main St\nBuilding B", extended="=Floor 2",
                                     po_box="PO 5", locality="Köln", region="NRW",
                                     postal_code="50667", country="DE", types=["work"],
                                     is_primary=True),
                       AddressRecord(street="Home 1", locality="Bonn", label="Summer house")],
            custom={"member_since": "2020-01-01", "shoe": "+42"},
        ),
        ContactRecord(kind="organization", organization_name="@Acme", notes="\tfirst"),
        ContactRecord(given_name="Solo"),
    ]


def strip_positions(record):
    return dataclasses.replace(record, line=0, warnings=[])


def test_write_csv_round_trip_is_lossless():
    records = sample_records()
    text = "".join(write_csv(records, columns=["member_since", "custom:shoe"]))
    assert text.startswith("UID,Kind,Display Name,")
    assert "'=1+1" in text and "'+44 20 7946 0958" in text and "''quoted" in text
    assert ",'@SUM(A1:A2)," in text and "'-5" in text
    result = read_csv(text.encode("utf-8"))
    assert result.preset == "generic" and result.unmapped == []
    back = list(result.rows())
    assert [strip_positions(r) for r in back] == records
    assert [r.line for r in back] == [2, 6, 7]  # three line breaks inside the first row


def test_write_csv_header_is_what_generic_reads():
    header = next(iter(write_csv([]))).splitlines()[0].split(",")
    assert header == list(generic_columns())
    assert guess_preset(header) == "generic"
    with_bom = ("\ufeff" + "".join(write_csv(sample_records()))).encode("utf-8")
    assert len(list(read_csv(with_bom).rows())) == 3


def test_write_csv_streams_in_chunks():
    records = (ContactRecord(given_name=f"N{i}") for i in range(1200))
    chunks = list(write_csv(records))
    assert len(chunks) > 2
    assert "".join(chunks).count("\r\n") == 1201


def test_csv_import_is_a_plain_object():
    result = read_csv(b"Name,Email\nA,a@example.com\n")
    assert isinstance(result, CsvImport)
    assert (result.encoding, result.headers) == ("utf-8", ["Name", "Email"])
    assert result.mapping == {"Name": "formatted_name", "Email": "email"}


def test_oversized_cell_is_a_row_error():
    data = b"Name,Notes\nA," + b"x" * 200_000 + b"\nB,short\n"
    error, b = rows(data)
    assert isinstance(error, RowError) and error.line == 2 and "field larger" in error.reason
    assert b.formatted_name == "B" and b.line == 3
