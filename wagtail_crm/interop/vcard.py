"""vCard 2.1, 3.0 and 4.0: read files into ContactRecords, write records as vCards.

Reading is lenient in the ways real exporters need (see docs/architecture.md, "vCard")
and strict about size: the bounds below turn a card that exceeds them into a RowError.

Custom values travel as X-CRM-<KEY> properties: ``record.custom["member_no"]`` is written
as ``X-CRM-MEMBER-NO`` (key upper-cased, underscores and other characters that cannot be
in a property name as dashes), and ``X-CRM-MEMBER-NO`` is read back under ``member_no``
(lower-cased, dashes as underscores).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .records import ContactRecord, RowError, UnreadableFile
from .text import decode
from .vcard_lines import iter_cards, split_lines
from .vcard_read import CardError, CardReader
from .vcard_write import write_vcard, write_vcards

__all__ = ["read_vcards", "write_vcard", "write_vcards"]

#: Longest logical line (after unfolding), in characters: room for a base64 photo of
#: MAX_PHOTO_BYTES (4 characters per 3 bytes).
MAX_LINE_CHARS = 7_000_000
#: Largest photo, in decoded bytes.
MAX_PHOTO_BYTES = 5_000_000
#: Most properties (logical lines) in one card.
MAX_PROPERTIES = 5_000
#: Deepest nesting of vCards in vCards (2.1 AGENT), counting the outer card.
MAX_NESTING = 3

_BEGIN = re.compile(r"(?:^|[\r\n])[ \t\ufeff]*BEGIN:VCARD[ \t]*(?:$|[\r\n])", re.I)


def read_vcards(
    data: bytes, *, max_bytes: int | None = None
) -> Iterator[ContactRecord | RowError]:
    """Read every card of a vCard file.

    Args:
        data: the file's bytes, in any encoding ``text.decode`` recognises.
        max_bytes: refuse larger files.

    Returns:
        An iterator with one ContactRecord, or one RowError for a card that cannot be
        read, per BEGIN:VCARD..END:VCARD, in file order.

    Raises:
        UnreadableFile: the input is empty, too large, binary, not text or holds no
            BEGIN:VCARD line. Raised by this call, before iterating.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableFile(f"The file is larger than {max_bytes:,} bytes.")
    if not data.strip():
        raise UnreadableFile("The file is empty.")
    text, encoding = decode(data)
    if not _BEGIN.search(text):
        sample = text[:4096]
        controls = sum(1 for char in sample if char < " " and char not in "\t\r\n")
        if controls > len(sample) * 0.02:
            raise UnreadableFile("The file holds binary data, not text.")
        raise UnreadableFile("The file has no BEGIN:VCARD line: it is not a vCard file.")
    return _read(split_lines(text), encoding)


def _read(lines, encoding):
    cards = iter_cards(
        lines, max_line=MAX_LINE_CHARS, max_properties=MAX_PROPERTIES, max_depth=MAX_NESTING
    )
    for start, texts, numbers, error in cards:
        if error:
            yield RowError(line=start, reason=error[1], excerpt=error[2])
            continue
        try:
            yield CardReader(start, encoding, MAX_PHOTO_BYTES).read(texts, numbers)
        except CardError as failure:
            yield RowError(line=start, reason=failure.reason, excerpt=failure.excerpt)
