"""vCard reading and writing: each quirk of real exporters, bad input, and round trips.

Every fixture is written here for the test; none is copied from another project.
"""

import base64
import datetime

import pytest

from wagtail_crm.interop import vcard
from wagtail_crm.interop.records import (
    AddressRecord,
    ContactRecord,
    Method,
    Photo,
    Related,
    RowError,
    UnreadableFile,
)
from wagtail_crm.interop.vcard import read_vcards, write_vcard, write_vcards

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 3 + b"\xff\xd9"
JPEG_B64 = base64.b64encode(JPEG).decode()


def card(*lines, version="3.0", eol="\r\n"):
    return eol.join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])


def read(data, **kwargs):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return list(read_vcards(data, **kwargs))


def one(data):
    (record,) = read(data)
    assert isinstance(record, ContactRecord), record
    return record


# Versions, line endings, folding


@pytest.mark.parametrize("version", ["2.1", "3.0", "4.0"])
def test_each_version_reads_names_and_methods(version):
    record = one(card("N:Doe;Jane;;Dr.;", "FN:Dr. Jane Doe", "EMAIL:jane@example.com",
                      "TEL:+1 555 0100", version=version))
    assert (record.family_name, record.given_name, record.prefix) == ("Doe", "Jane", "Dr.")
    assert record.formatted_name == "Dr. Jane Doe"
    assert [m.value for m in record.emails] == ["jane@example.com"]
    assert [m.value for m in record.phones] == ["+1 555 0100"]
    assert record.line == 1 and record.warnings == []


@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r", "\r\r\n"])
def test_line_endings(eol):
    records = read(card("FN:One", eol=eol) + card("FN:Two", eol=eol))
    assert [r.formatted_name for r in records] == ["One", "Two"]
    assert [r.line for r in records] == [1, 5]


def test_mixed_line_endings_and_no_newline_at_the_end():
    data = "BEGIN:VCARD\r\nVERSION:3.0\nFN:Mixed\r\nNOTE:a\n b\r\nEND:VCARD"
    record = one(data)
    assert (record.formatted_name, record.notes) == ("Mixed", "ab")


def test_folded_lines_with_space_and_tab():
    record = one(card("NOTE:This is a lo", " ng note wi", "\tth folds", "FN:Fo", " lded"))
    assert record.notes == "This is a long note with folds"
    assert record.formatted_name == "Folded"


def test_fold_inside_a_utf8_character_is_joined_before_decoding():
    record = one(card("FN:Stra", " \u00dfe"))
    assert record.formatted_name == "Stra\u00dfe"


# Quoted-printable and character sets


def test_quoted_printable_soft_breaks_inside_multibyte_sequences():
    data = card(
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=91=C3=",
        "=91ez;Jos=C3=A9;;;",
        "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:line one=0D=0Aline=",
        " two",
        version="2.1",
    )
    record = one(data)
    assert record.family_name == "\u00d1\u00d1ez"
    assert record.given_name == "Jos\u00e9"
    assert record.notes == "line one\nline two"


def test_quoted_printable_soft_break_between_cr_and_lf():
    record = one(card("NOTE;ENCODING=QUOTED-PRINTABLE:a=0D=", "=0Ab", version="2.1"))
    assert record.notes == "a\nb"


@pytest.mark.parametrize(
    ("charset", "encoded", "text"),
    [
        ("UTF-8", "M=C3=BCller", "M\u00fcller"),
        ("ISO-8859-1", "M=FCller", "M\u00fcller"),
        ("Windows-1252", "=80uro M=FCller", "\u20acuro M\u00fcller"),
        ("ISO-8859-2", "Iksi=F1ski", "Iksi\u0144ski"),
        ("KOI8-R", "=E9=D7=C1=CE", "\u0418\u0432\u0430\u043d"),
    ],
)
def test_quoted_printable_with_charset(charset, encoded, text):
    record = one(card(f"FN;CHARSET={charset};ENCODING=QUOTED-PRINTABLE:{encoded}", version="2.1"))
    assert record.formatted_name == text
    assert record.warnings == []


def test_unknown_charset_falls_back_with_a_warning():
    record = one(card("FN;CHARSET=X-MARTIAN;ENCODING=QUOTED-PRINTABLE:M=C3=BCller", version="2.1"))
    assert record.formatted_name == "M\u00fcller"
    assert record.warnings == ["FN: unknown CHARSET=X-MARTIAN; read as UTF-8"]


def test_quoted_printable_without_charset_that_is_not_utf8_reads_as_windows_1252():
    record = one(card("FN;ENCODING=QUOTED-PRINTABLE:Iksi=F1ski", version="2.1"))
    assert record.formatted_name == "Iksi\u00f1ski"


def test_raw_windows_1252_bytes_in_the_file():
    data = card("FN:Fran\u00e7ois M\u00fcller \u20ac", version="2.1").encode("cp1252")
    assert one(data).formatted_name == "Fran\u00e7ois M\u00fcller \u20ac"


def test_charset_on_a_plain_value_in_a_utf8_file_needs_no_second_decoding():
    record = one(card("FN;CHARSET=ISO-8859-1:M\u00fcller", version="2.1"))
    assert record.formatted_name == "M\u00fcller"


def test_charset_on_a_plain_value_in_a_file_that_is_not_utf8():
    # the file is Windows-1252 as a whole, one value says (rightly) that it is UTF-8
    data = (
        card("N:M\u00fcller;Hans;;;", "ORG;CHARSET=UTF-8:\u00c5rhus \u00e6", version="2.1")
        .encode("cp1252")
        .replace("\u00c5rhus \u00e6".encode("cp1252"), "\u00c5rhus \u00e6".encode("utf-8"))
    )
    record = one(data)
    assert record.family_name == "M\u00fcller"
    assert record.organization_name == "\u00c5rhus \u00e6"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_with_and_without_bom(encoding):
    data = (card("FN:Stra\u00dfe") + card("FN:\u5b89\u85e4")).encode(encoding)
    assert [r.formatted_name for r in read(data)] == ["Stra\u00dfe", "\u5b89\u85e4"]


def test_utf8_bom_and_bom_of_a_second_concatenated_file():
    data = "\ufeff" + card("FN:One") + "\ufeff" + card("FN:Two")
    assert [r.formatted_name for r in read(data)] == ["One", "Two"]


# Parameters


def test_bare_21_types_and_pref():
    record = one(card("TEL;CELL;PREF:+49 170 1", "TEL;WORK;FAX:+49 30 2",
                      "EMAIL;PREF;INTERNET:a@example.com", version="2.1"))
    assert record.phones == [
        Method("+49 170 1", ["cell"], "", True),
        Method("+49 30 2", ["work", "fax"], "", False),
    ]
    assert record.emails == [Method("a@example.com", [], "", True)]


def test_type_lists_repeated_and_lower_case_parameters():
    record = one(card("TEL;TYPE=work,voice:1", "TEL;type=CELL;type=VOICE;type=pref:2",
                      "EMAIL;TYPE=INTERNET;TYPE=HOME:b@example.com"))
    assert record.phones == [
        Method("1", ["work", "voice"]), Method("2", ["cell", "voice"], "", True)
    ]
    assert record.emails == [Method("b@example.com", ["home"])]


def test_pref_parameter_of_40():
    record = one(card("EMAIL;PREF=1:a@example.com", "EMAIL;PREF=2:b@example.com", version="4.0"))
    assert [m.is_primary for m in record.emails] == [True, False]


def test_quoted_and_rfc6868_parameter_values():
    record = one(card(
        'N;SORT-AS="Doe;Jane":Doe;Jane;;;',
        'X-SOCIALPROFILE;TYPE="mast:odon";X-USER=a^nb:https://example.social/@jane',
        "IMPP;X-SERVICE-TYPE=^'Sky^'pe^^:skype:jane.doe",
        version="4.0",
    ))
    assert (record.family_name, record.given_name) == ("Doe", "Jane")
    assert record.handles == [
        Method("https://example.social/@jane", ["mast:odon"]),
        Method("jane.doe", ['"sky"pe^']),
    ]


# Groups, labels and escapes


def test_grouped_properties_take_apple_labels():
    record = one(card(
        "item1.TEL:+1 555 0101",
        "item1.X-ABLabel:_$!<Mobile>!$_",
        "item2.EMAIL;type=INTERNET:c@example.com",
        "item2.X-ABLabel:Chess club",
        "ITEM3.X-ABLabel:Branch office",
        "item3.ADR;type=WORK:;;1 Main St;Springfield;;12345;USA",
        "item4.URL:https://example.com",
        "item4.X-ABLabel:",
        "item5.X-ABRELATEDNAMES:Jenny",
        "item5.X-ABLabel:_$!<Mother>!$_",
    ))
    assert record.phones == [Method("+1 555 0101", [], "Mobile")]
    assert record.emails == [Method("c@example.com", [], "Chess club")]
    assert record.addresses[0].label == "Branch office"
    assert record.urls == [Method("https://example.com")]
    assert record.related == [Related("Jenny", ["parent"])]


def test_escaped_characters_including_invalid_ones_seen_in_the_wild():
    record = one(card(
        r"NOTE:Comma\, semicolon\; backslash\\ newline\nN\Ntwo \"quoted\" C:\Users",
        r"URL:http\://www.example.com",
    ))
    assert record.notes == 'Comma, semicolon; backslash\\ newline\nN\ntwo "quoted" C:\\Users'
    assert record.urls == [Method("http://www.example.com")]


def test_n_with_comma_separated_names_and_escaped_comma():
    record = one(card("N:Doe;John;Richter,James;Mr.,Dr.;Sr.", "FN:John Doe"))
    assert record.additional_names == "Richter James"
    assert record.prefix == "Mr. Dr."
    record = one(card(r"N:Doe;John;Richter\,James;;"))
    assert record.additional_names == "Richter,James"


def test_org_components_and_escaped_semicolon():
    record = one(card("ORG:Acme Inc.;Sales", "N:Doe;Jo;;;"))
    assert (record.organization_name, record.department) == ("Acme Inc.", "Sales")
    record = one(card(r"ORG:Gump Co.;Sales\;Marketing;Fish", "N:Doe;Jo;;;", version="2.1"))
    assert (record.organization_name, record.department) == ("Gump Co.", "Sales;Marketing, Fish")
    record = one(card("ORG:Company, The;", "N:Doe;Jo;;;", version="2.1"))
    assert (record.organization_name, record.department) == ("Company, The", "")


def test_backslash_at_line_end_continues_the_value():
    record = one(card("ADR;HOME:;;Hermann v. Brevern\\", "Packstation 999;Hamburg;;99999;DE",
                      version="2.1"))
    assert record.addresses[0].street == "Hermann v. Brevern\nPackstation 999"
    assert record.addresses[0].locality == "Hamburg"


def test_empty_values_are_not_methods_or_addresses():
    record = one(card("FN:x", "EMAIL;TYPE=HOME:", "TEL;TYPE=HOME,VOICE:", "ADR;TYPE=HOME:;;;;;;"))
    assert (record.emails, record.phones, record.addresses) == ([], [], [])


# Photos


def folded(text, width=74, indent=" "):
    return [indent + text[i:i + width] for i in range(0, len(text), width)]


@pytest.mark.parametrize(
    "lines",
    [
        ["PHOTO;ENCODING=b;TYPE=JPEG:" + JPEG_B64[:40], *folded(JPEG_B64[40:])],
        ["PHOTO;ENCODING=BASE64;TYPE=JPEG:" + JPEG_B64, "", ""],  # one line, blank lines
        ["PHOTO;BASE64:", *folded(JPEG_B64, 76, "  ")],  # Apple: indented by two spaces
        ["PHOTO;ENCODING=BASE64;JPEG:", *folded(JPEG_B64, 72, "    "), ""],  # 2.1 bare type
    ],
    ids=["folded", "one-line-blank-lines", "apple-indented", "21-bare-type"],
)
def test_base64_photos(lines):
    record = one(card("FN:Pic", *lines, "NOTE:after"))
    assert record.photo == Photo(JPEG, "image/jpeg")
    assert record.notes == "after"
    assert record.warnings == []


def test_photo_as_data_uri_in_40():
    record = one(card(f"PHOTO:data:image/png;base64,{JPEG_B64}", version="4.0"))
    assert record.photo == Photo(JPEG, "image/png")


def test_photo_url_is_kept_as_a_warning():
    record = one(card("FN:x", "PHOTO;VALUE=uri:https://example.com/p.jpg", version="4.0"))
    assert record.photo is None
    assert record.warnings == ["PHOTO is a link (https://example.com/p.jpg), not downloaded"]


def test_photo_media_type_is_sniffed_when_not_given():
    record = one(card("PHOTO;ENCODING=b:" + JPEG_B64))
    assert record.photo.media_type == "image/jpeg"


# Dates, nesting, kinds


@pytest.mark.parametrize(
    "value", ["19800322", "1980-03-22", "1980-03-22T00:00:00Z", "19800322T101500"]
)
def test_birthday_forms(value):
    assert one(card(f"BDAY:{value}")).birthday == datetime.date(1980, 3, 22)


def test_birthday_without_a_year_is_a_warning():
    record = one(card("BDAY:--0322", version="4.0"))
    assert record.birthday is None
    assert record.warnings == ["BDAY --0322 has no year; not imported"]


def test_agent_with_a_nested_vcard_is_skipped():
    data = card("FN:Boss", "AGENT:", "BEGIN:VCARD", "VERSION:2.1", "FN:Assistant",
                "TEL:123", "END:VCARD", "TEL:456", version="2.1") + card("FN:Next")
    boss, following = read(data)
    assert boss.formatted_name == "Boss"
    assert [m.value for m in boss.phones] == ["456"]
    assert boss.warnings == ["AGENT (a vCard inside the vCard) skipped"]
    assert following.formatted_name == "Next"


def test_agent_vcard_starting_on_the_agent_line():
    data = card("FN:Boss", "AGENT:BEGIN:VCARD", "FN:Assistant", "END:VCARD", "NOTE:n",
                version="2.1")
    record = one(data)
    assert (record.formatted_name, record.notes) == ("Boss", "n")
    assert record.warnings == ["AGENT (a vCard inside the vCard) skipped"]


def test_soft_break_before_end_still_closes_the_card():
    data = card("FN:x", "NOTE;ENCODING=QUOTED-PRINTABLE:dangling=", version="2.1") + card("FN:y")
    assert [r.formatted_name for r in read(data)] == ["x", "y"]


def test_card_with_only_an_email_is_a_record():
    record = one(card("EMAIL;PREF:only@example.com", "CATEGORIES:My Contacts", version="2.1"))
    assert record.emails == [Method("only@example.com", [], "", True)]
    assert record.tags == ["My Contacts"]


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        (["KIND:org", "FN:Acme", "ORG:Acme"], "organization"),
        (["N:;;;;", "FN:Apple AG", "ORG:Apple AG;", "X-ABShowAs:COMPANY"], "organization"),
        (["ORG:Acme Ltd"], "organization"),
        (["FN:Acme Ltd", "ORG:Acme Ltd"], "organization"),
        (["N:Acme;Ltd;;;", "FN:Acme Ltd", "ORG:Acme Ltd"], "organization"),
        (["N:Doe;Jane;;;", "FN:Jane Doe", "ORG:Acme"], "person"),
        (["FN:Jane Doe", "ORG:Acme"], "person"),
    ],
)
def test_kind(lines, kind):
    assert one(card(*lines, version="4.0")).kind == kind


# Methods


def test_phones_are_kept_as_written_and_uri_prefixes_removed():
    record = one(card("TEL;VALUE=uri;TYPE=cell:tel:+1-555-555-0100",
                      "TEL:+49 (0611) 123456 - 11", "EMAIL:mailto:x@example.com", version="4.0"))
    assert [m.value for m in record.phones] == ["+1-555-555-0100", "+49 (0611) 123456 - 11"]
    assert record.emails[0].value == "x@example.com"


def test_messaging_and_social_handles():
    record = one(card(
        "IMPP;X-SERVICE-TYPE=Skype;TYPE=home:skype:jane.doe",
        "IMPP:xmpp:jane@jabber.example",
        "X-AIM:janeaim",
        "X-JABBER;TYPE=WORK:jane@work.example",
        "X-SKYPE-USERNAME:janesky",
        "X-SOCIALPROFILE;type=twitter;x-user=jane:https://twitter.com/jane",
        "X-SOCIALPROFILE;type=mastodon;x-user=jane@example.social:",
    ))
    assert record.handles == [
        Method("jane.doe", ["skype", "home"]),
        Method("jane@jabber.example", ["xmpp"]),
        Method("janeaim", ["aim"]),
        Method("jane@work.example", ["xmpp", "work"]),
        Method("janesky", ["skype"]),
        Method("https://twitter.com/jane", ["twitter"]),
        Method("jane@example.social", ["mastodon"]),
    ]


def test_unknown_properties_are_summarised_in_one_warning():
    lines = ["FN:x", "X-PHONETIC-FIRST-NAME:Jon", "GEO:1,2", "X-ABDATE:2000-01-01",
             "X-ABDATE:2001-01-01", "PRODID:-//Example//EN", "REV:20200101T000000Z",
             *(f"X-VERY-LONG-VENDOR-PROPERTY-NUMBER-{n}:x" for n in range(12))]
    record = one(card(*lines))
    assert record.warnings == [
        "Not imported: X-PHONETIC-FIRST-NAME, GEO, X-ABDATE (2), X-VERY-LONG-VENDOR-P... (12)"
    ]


def test_custom_values_uid_and_related():
    record = one(card(
        "UID:urn:uuid:0b9e6b8e-6e0b-4a43-9a8e-1f1b1a3e3c11",
        "X-CRM-MEMBER-NO:A-17",
        "x-crm-shoe-size:44",
        "RELATED;TYPE=spouse:urn:uuid:8e2d5a4f-0000-4000-8000-000000000001",
        "RELATED;TYPE=friend;VALUE=text:Sam\\, the neighbour",
        version="4.0",
    ))
    assert record.uid == "0b9e6b8e-6e0b-4a43-9a8e-1f1b1a3e3c11"
    assert record.custom == {"member_no": "A-17", "shoe_size": "44"}
    assert record.related == [
        Related("urn:uuid:8e2d5a4f-0000-4000-8000-000000000001", ["spouse"]),
        Related("Sam, the neighbour", ["friend"]),
    ]


def test_categories_become_tags():
    record = one(card(r"CATEGORIES:Customers,VIP\, gold, Customers ,Press"))
    assert record.tags == ["Customers", "VIP, gold", "Press"]


# Bad input


def test_empty_file():
    with pytest.raises(UnreadableFile, match="The file is empty."):
        read_vcards(b"  \r\n ")


def test_text_file_that_is_not_a_vcard():
    with pytest.raises(UnreadableFile, match="has no BEGIN:VCARD line: it is not a vCard"):
        read_vcards(b"Name,Email\nJane,jane@example.com\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes(range(256)) * 8, "binary data"),
        (b"\x89PNG\r\n\x1a\n\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c" * 20, "binary data"),
    ],
)
def test_binary_garbage(data, message):
    with pytest.raises(UnreadableFile, match=message):
        read_vcards(data)


def test_file_larger_than_max_bytes():
    data = card("FN:x").encode()
    assert len(read(data, max_bytes=len(data))) == 1
    with pytest.raises(UnreadableFile, match="larger than 10 bytes"):
        read_vcards(data, max_bytes=10)


def test_truncated_file_gives_a_row_error_for_the_last_card():
    data = card("FN:One") + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Two\r\nTEL:12"
    first, second = read(data)
    assert first.formatted_name == "One"
    assert second == RowError(
        line=5,
        reason="line 5: the card has no END:VCARD (the file ends at line 8)",
        excerpt="BEGIN:VCARD | VERSION:3.0 | FN:Two",
    )


def test_unterminated_card_followed_by_another_card():
    data = "BEGIN:VCARD\nVERSION:3.0\nFN:Lost\n" + card("FN:Found", eol="\n")
    lost, found = read(data)
    assert lost.line == 1
    assert lost.reason == "line 1: the card has no END:VCARD before the next BEGIN:VCARD"
    assert (found.formatted_name, found.line) == ("Found", 4)


def test_invalid_base64_photo_is_a_row_error_and_reading_goes_on():
    data = card("FN:One") + card("FN:Two", "NOTE:x", "PHOTO;ENCODING=b:not*base64!") + card("FN:3")
    one_, two, three = read(data)
    assert two == RowError(line=5, reason="line 9: PHOTO is not valid base64",
                           excerpt="PHOTO;ENCODING=b:not*base64!")
    assert (one_.formatted_name, three.formatted_name) == ("One", "3")


def test_base64_with_lost_characters_is_read_with_a_warning():
    record = one(card("PHOTO;ENCODING=b:" + JPEG_B64[:-6] + JPEG_B64[-4:]))
    assert record.photo is not None
    assert record.warnings == [
        "PHOTO: the base64 data has lost characters; the image may be damaged"
    ]


def test_line_longer_than_the_limit(monkeypatch):
    monkeypatch.setattr(vcard, "MAX_LINE_CHARS", 100)
    data = card("FN:Long", "NOTE:" + "x" * 60, " " + "y" * 60) + card("FN:Short")
    long, short = read(data)
    assert long == RowError(line=1, reason="line 4: a line is longer than 100 characters",
                            excerpt="NOTE:" + "x" * 60)
    assert short.formatted_name == "Short"


def test_photo_larger_than_the_limit(monkeypatch):
    monkeypatch.setattr(vcard, "MAX_PHOTO_BYTES", 100)
    (error,) = read(card("FN:Big", "PHOTO;ENCODING=b:" + JPEG_B64))
    assert error.reason == "line 4: PHOTO is larger than 100 bytes"


def test_too_many_properties(monkeypatch):
    monkeypatch.setattr(vcard, "MAX_PROPERTIES", 5)
    (error,) = read(card(*(f"TEL:{n}" for n in range(10))))
    assert error.reason == "line 7: more than 5 properties in one card"


def test_nesting_too_deep():
    nested = ["AGENT:", "BEGIN:VCARD", "AGENT:", "BEGIN:VCARD", "AGENT:", "BEGIN:VCARD",
              "FN:deep", "END:VCARD", "END:VCARD", "END:VCARD"]
    error, following = read(card("FN:Top", *nested, version="2.1") + card("FN:Next"))
    assert error == RowError(line=1, reason="line 9: vCards nested more than 3 deep",
                             excerpt="BEGIN:VCARD")
    assert following.formatted_name == "Next"


def test_every_card_is_accounted_for():
    data = (card("FN:a") + "garbage between cards\r\n" + card("FN:b", "PHOTO;ENCODING=b:!!")
            + card("FN:c") + "BEGIN:VCARD\r\nFN:d\r\n")
    results = read(data)
    assert [type(r).__name__ for r in results] == [
        "ContactRecord", "RowError", "ContactRecord", "RowError"
    ]


# Writing


def full_record(**overrides):
    values = dict(
        kind="person",
        uid="0b9e6b8e-6e0b-4a43-9a8e-1f1b1a3e3c11",
        formatted_name="Dr. Zo\u00eb M\u00fcller-\u00c5str\u00f6m, Jr.",
        prefix="Dr.",
        given_name="Zo\u00eb",
        additional_names="Anna Maria",
        family_name="M\u00fcller-\u00c5str\u00f6m",
        suffix="Jr.",
        nickname="Zo",
        organization_name="Acme; Widgets, Inc.",
        department="R&D \\ Labs",
        job_title="Head of \u201cthings\u201d",
        birthday=datetime.date(1980, 3, 22),
        notes="Line one, with comma; semicolon\nLine two \\ backslash\n\u65e5\u672c\u8a9e "
              + "long text " * 12 + "end",
        emails=[Method("zoe@example.com", ["work"], "", True), Method("z@home.example", ["home"])],
        phones=[Method("+49 170 1234567", ["cell"], "Mobile, private"),
                Method("+49 30 1", ["work", "fax"])],
        urls=[Method("https://example.com/a,b;c", ["work"])],
        handles=[Method("zoe.m", ["skype"]),
                 Method("@zoe@example.social", ["mastodon"], "Fedi")],
        addresses=[AddressRecord("PO 1", "Floor 3", "Hauptstra\u00dfe 5;\nHinterhaus", "Berlin",
                                 "", "10115", "Germany", ["work"], "HQ", True)],
        tags=["VIP, gold", "Customers"],
        photo=Photo(JPEG, "image/jpeg"),
        custom={"member_no": "A-17", "favourite_colour": "blue, green"},
    )
    values.update(overrides)
    return ContactRecord(**values)


def octets(text):
    return [len(line.encode()) for line in text.split("\r\n")]


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_written_lines_are_folded_at_75_octets_with_crlf(version):
    text = write_vcard(full_record(), version)
    assert text.startswith(f"BEGIN:VCARD\r\nVERSION:{version}\r\n")
    assert text.endswith("END:VCARD\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert max(octets(text)) <= 75
    text.encode("utf-8").decode("utf-8")  # no line ends inside a character
    for line in text.split("\r\n"):
        line.encode("utf-8")


def test_fold_never_splits_a_utf8_character():
    text = write_vcard(ContactRecord(formatted_name="\u00e9" * 100 + "\U0001f600" * 30))
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_round_trip(version):
    record = full_record(related=[Related("urn:uuid:8e2d5a4f-0000-4000-8000-000000000001",
                                          ["spouse"]), Related("Sam; the, neighbour", ["friend"])])
    text = write_vcard(record, version)
    back = one(text)
    back.line = 0
    if version == "3.0":
        record.related = []  # RELATED is a vCard 4.0 property
    assert back == record


def test_escaping_per_version():
    record = ContactRecord(formatted_name="a,b;c\\d\ne", notes="x", uid="not a uuid",
                           urls=[Method("https://example.com/?a=1,2")],
                           handles=[Method("j", ["skype", 'ho"me'])])
    v3 = write_vcard(record, "3.0")
    v4 = write_vcard(record, "4.0")
    for text in (v3, v4):
        assert "FN:a\\,b\\;c\\\\d\\ne\r\n" in text
    assert "UID:not a uuid\r\n" in v3
    assert "UID;VALUE=text:not a uuid\r\n" in v4
    assert "URL:https://example.com/?a=1\\,2\r\n" in v3
    assert "URL:https://example.com/?a=1,2\r\n" in v4
    assert "IMPP;X-SERVICE-TYPE=skype;TYPE=HO'ME:skype:j\r\n" in v3
    assert "IMPP;X-SERVICE-TYPE=skype;TYPE=ho^'me:skype:j\r\n" in v4


def test_version_specific_properties():
    record = full_record(kind="organization", formatted_name="", organization_name="Acme",
                         given_name="", family_name="", prefix="", suffix="",
                         additional_names="",
                         related=[Related("Bob", ["co-worker"])])
    v3, v4 = write_vcard(record, "3.0"), write_vcard(record, "4.0")
    assert "KIND:org\r\n" in v4 and "KIND" not in v3
    assert "X-ABShowAs:COMPANY\r\n" in v3 and "X-ABShowAs" not in v4
    assert "FN:Acme\r\n" in v3 and "N:;;;;\r\n" in v3 and "\r\nN:" not in v4
    assert "UID:urn:uuid:0b9e6b8e-6e0b-4a43-9a8e-1f1b1a3e3c11\r\n" in v4
    assert "UID:0b9e6b8e-6e0b-4a43-9a8e-1f1b1a3e3c11\r\n" in v3
    assert "BDAY:19800322\r\n" in v4 and "BDAY:1980-03-22\r\n" in v3
    assert "EMAIL;TYPE=work;PREF=1:zoe@example.com" in v4
    assert "EMAIL;TYPE=INTERNET,WORK,PREF:zoe@example.com" in v3
    assert "RELATED;TYPE=co-worker;VALUE=text:Bob\r\n" in v4 and "RELATED" not in v3
    assert "PHOTO:data:image/jpeg;base64,/9j/" in v4
    assert "PHOTO;ENCODING=b;TYPE=JPEG:/9j/" in v3
    assert "X-CRM-MEMBER-NO:A-17\r\n" in v3 and "X-CRM-FAVOURITE-COLOUR:blue\\, green" in v3
    assert "item1.TEL;TYPE=CELL:+49 170 1234567\r\nitem1.X-ABLabel:Mobile\\, private" in v3
    for text in (v3, v4):
        assert one(text).kind == "organization"


def test_fn_is_always_written():
    assert "FN:Jane Doe\r\n" in write_vcard(ContactRecord(given_name="Jane", family_name="Doe"))
    assert "FN:x@example.com\r\n" in write_vcard(ContactRecord(emails=[Method("x@example.com")]))
    assert "\r\nFN:\r\n" in write_vcard(ContactRecord())


def test_write_vcards_streams_one_card_per_chunk():
    chunks = list(write_vcards([ContactRecord(formatted_name=n) for n in "abc"], "3.0"))
    assert len(chunks) == 3
    assert [r.formatted_name for r in read("".join(chunks))] == ["a", "b", "c"]


def test_unsupported_version():
    with pytest.raises(ValueError, match="vCard version"):
        write_vcard(ContactRecord(), "2.1")


def test_written_30_parses_with_vobject():
    vobject = pytest.importorskip("vobject")
    parsed = vobject.readOne(write_vcard(full_record(), "3.0"))
    assert parsed.fn.value == "Dr. Zo\u00eb M\u00fcller-\u00c5str\u00f6m, Jr."
    assert parsed.n.value.family == "M\u00fcller-\u00c5str\u00f6m"
    assert parsed.org.value == ["Acme; Widgets, Inc.", "R&D \\ Labs"]
    assert parsed.note.value.startswith("Line one, with comma; semicolon\nLine two \\ backslash")
    assert sorted(e.value for e in parsed.email_list) == ["z@home.example", "zoe@example.com"]
    assert parsed.photo.value == JPEG
    assert parsed.adr.value.street == "Hauptstra\u00dfe 5;\nHinterhaus"
