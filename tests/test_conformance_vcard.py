"""Real vCard files from other software, read as a person would check them.

The files live in ../shared/interop-corpus/vcard next to the repository (see SOURCES.md
there); they are under other licences and are not copied into the project. Without that
folder these tests are skipped.
"""

from pathlib import Path

import pytest

from wagtail_crm.interop.records import ContactRecord, RowError
from wagtail_crm.interop.vcard import read_vcards

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "interop-corpus" / "vcard"

if not CORPUS.is_dir():
    pytest.skip(f"no vCard corpus at {CORPUS}", allow_module_level=True)

FILES = sorted(CORPUS.glob("*.vcf"))

#: contacts per file
COUNTS = {
    "aosp_v21_adr_backslash_continuation.vcf": 1,
    "aosp_v21_complicated_qp_softbreak_photo.vcf": 1,
    "aosp_v30_ios613_photo.vcf": 1,
    "aosp_v40_sort_as_cjk.vcf": 1,
    "ezvcard_android_v21_qp_multi.vcf": 6,
    "ezvcard_blackberry_v21_unfolded_photo.vcf": 1,
    "ezvcard_fullcontact_v40.vcf": 1,
    "ezvcard_gmail_v30_all_fields.vcf": 1,
    "ezvcard_gmail_v30_grouped.vcf": 1,
    "ezvcard_iphone_ios5_v30_photo.vcf": 1,
    "ezvcard_macaddressbook_v30_photo.vcf": 1,
    "ezvcard_outlook2003_v21.vcf": 1,
    "ezvcard_outlook_v21_label_qp.vcf": 1,
    "fk_nextcloud_sabre454_v30_bom_png.vcf": 1,
    "fk_outlook_de_v21_photo.vcf": 1,
    "fk_v30_utf16le_bom_empty_ablabel.vcf": 2,
    "rc_apple_addressbook_v30_indented_photo.vcf": 1,
    "rc_thebat_v21_qp_no_charset.vcf": 1,
}

N_TILDE = "\u00d1"

#: per file, per contact: (name shown, emails, phones)
EXPECTED = {
    "aosp_v21_adr_backslash_continuation.vcf": [("bogus", [], [])],
    "aosp_v21_complicated_qp_softbreak_photo.vcf": [(
        "Joe Due",
        ["forrestgump@walladalla.com", "cell@example.com"],
        ["(111) 555-1212", "(404) 555-1212", "0311111111", "0322222222", "0333333333"],
    )],
    "aosp_v30_ios613_photo.vcf": [("Bob Smith", ["bob@smithauto.com"], ["(650) 555-1212"])],
    "aosp_v40_sort_as_cjk.vcf": [("\u5b89\u85e4 \u30ed\u30a4\u30c9", [], [])],
    "ezvcard_android_v21_qp_multi.vcf": [
        ("", ["john.doe@company.com"], []),
        ("", ["jane.doe@company.com"], []),
        (" ".join([N_TILDE] * 5), [], ["123456789"]),
        (" ".join([N_TILDE] * 11), [], ["123456", "234567", "3456789", "45678901"]),
        (" ".join([N_TILDE] * 4), ["bob@company.com", N_TILDE * 14],
         ["123456", "123456", "123456"]),
        (N_TILDE * 4, ["henry@company.com"], ["55556666"]),
    ],
    "ezvcard_blackberry_v21_unfolded_photo.vcf": [("John Doe", [], ["+96123456789"])],
    "ezvcard_gmail_v30_grouped.vcf": [(
        "Mr. John Richter, James Doe Sr.", ["john.doe@ibm.com"], ["905-555-1234", "905-666-1234"]
    )],
    "ezvcard_iphone_ios5_v30_photo.vcf": [(
        "Mr. John Richter James Doe Sr.",
        ["john.doe@ibm.com"],
        ["905-555-1234", "905-666-1234", "905-777-1234", "905-888-1234", "905-999-1234",
         "905-111-1234", "905-222-1234"],
    )],
    "ezvcard_outlook2003_v21.vcf": [(
        "John Doe III",
        ["jdoe@hotmail.com"],
        ["BusinessPhone", "HomePhone", "MobilePhone", "BusinessFaxPhone"],
    )],
    "ezvcard_outlook_v21_label_qp.vcf": [(
        "Mr. John Richter James Doe Sr.", ["john.doe@ibm.cm"], ["(905) 555-1234", "(905) 666-1234"]
    )],
    "fk_outlook_de_v21_photo.vcf": [(
        "Herr Max Anderer Mustermann sen.",
        ["max.mustermann@musterfirma.de"],
        ["+49 (0611) 123456 - 11", "+49 (0611) 123456 - 12", "+49 (0611) 123456 - 14",
         "+49 (0611) 123456 - 13"],
    )],
    "fk_v30_utf16le_bom_empty_ablabel.vcf": [
        ("Folker Kinzel", ["email1@wumms.de", "email2@folker-kinzel.de"], ["0123-45678"]),
        ("KMS Au\u00dfenstelle", ["blabl\u00f6@blub.com"], ["03443-303776", "03443-333440"]),
    ],
    "rc_apple_addressbook_v30_indented_photo.vcf": [("Apple Computer AG", [], [])],
    "rc_thebat_v21_qp_no_charset.vcf": [
        ("Piotr Iksi\u00f1ski", ["piotr.iksinski@somedomain.com"], [])
    ],
}

#: files whose photo lost base64 characters in the file itself (read, with a warning)
DAMAGED_PHOTOS = {
    "ezvcard_android_v21_qp_multi.vcf": 4,  # the fifth card's photo: 1,169 base64 characters
    "ezvcard_blackberry_v21_unfolded_photo.vcf": 0,  # 2,234 characters before the padding
}

#: files with a photo in the file (not a link)
PHOTOS = {
    "aosp_v21_complicated_qp_softbreak_photo.vcf", "aosp_v30_ios613_photo.vcf",
    "ezvcard_iphone_ios5_v30_photo.vcf", "ezvcard_macaddressbook_v30_photo.vcf",
    "ezvcard_outlook_v21_label_qp.vcf", "fk_nextcloud_sabre454_v30_bom_png.vcf",
    "fk_outlook_de_v21_photo.vcf", "rc_apple_addressbook_v30_indented_photo.vcf",
    "ezvcard_blackberry_v21_unfolded_photo.vcf", "ezvcard_android_v21_qp_multi.vcf",
}


def shown_name(record):
    names = " ".join(part for part in (record.given_name, record.family_name) if part)
    return record.formatted_name or names or record.organization_name


def read(path):
    return list(read_vcards(path.read_bytes()))


def test_the_corpus_is_the_expected_one():
    assert sorted(path.name for path in FILES) == sorted(COUNTS)


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_file_parses_without_row_errors(path):
    records = read(path)
    errors = [record for record in records if isinstance(record, RowError)]
    assert errors == []
    assert len(records) == COUNTS[path.name]
    assert all(isinstance(record, ContactRecord) for record in records)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_names_emails_and_phones(name):
    records = read(CORPUS / name)
    seen = [(shown_name(r), [m.value for m in r.emails], [m.value for m in r.phones])
            for r in records]
    assert seen == EXPECTED[name]


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_photos(path):
    records = read(path)
    with_photo = [r for r in records if r.photo]
    assert bool(with_photo) == (path.name in PHOTOS)
    for record in with_photo:
        assert record.photo.media_type in ("image/jpeg", "image/png")
        assert len(record.photo.data) > 500
    damaged = [index for index, r in enumerate(records)
               if any("base64 data has lost characters" in w for w in r.warnings)]
    expected = [DAMAGED_PHOTOS[path.name]] if path.name in DAMAGED_PHOTOS else []
    assert damaged == expected


def test_details_a_person_would_check():
    (outlook,) = read(CORPUS / "ezvcard_outlook2003_v21.vcf")
    assert outlook.notes == "This is the note field!!\nSecond line\n\nThird line is empty"
    assert (outlook.organization_name, outlook.department) == ("Company, The", "TheDepartment")

    (aosp,) = read(CORPUS / "aosp_v21_complicated_qp_softbreak_photo.vcf")
    assert "Now's the time for all folk to come to the aid of their country." in aosp.notes

    (packstation,) = read(CORPUS / "aosp_v21_adr_backslash_continuation.vcf")
    assert [a.street for a in packstation.addresses] == [
        "Grindelberg 999", "Hermann v. Brevern\n9999999\nPackstation 999"
    ]

    (iphone,) = read(CORPUS / "ezvcard_iphone_ios5_v30_photo.vcf")
    assert iphone.additional_names == "Richter James"
    assert iphone.phones[-1].label == "AssistantPhone"
    assert str(iphone.birthday) == "2012-06-06"

    (gmail,) = read(CORPUS / "ezvcard_gmail_v30_all_fields.vcf")
    assert [h.types[0] for h in gmail.handles] == [
        "gtalk", "aim", "yahoo", "skype", "qq", "msn", "icq", "xmpp"
    ]
    assert gmail.urls[0].value == "http://www.example1.com"

    (apple,) = read(CORPUS / "rc_apple_addressbook_v30_indented_photo.vcf")
    assert apple.kind == "organization"
    assert apple.addresses[0].locality == "Wallisellen-Z\u00fcrich"

    (cjk,) = read(CORPUS / "aosp_v40_sort_as_cjk.vcf")
    assert (cjk.organization_name, cjk.department) == (
        "\u30b0\u30fc\u30b0\u30eb", "\u691c\u7d22\u90e8\u9580"
    )
