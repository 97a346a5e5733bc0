"""Bytes to text for contact files whose encoding nobody declared."""

from __future__ import annotations

import codecs

from .records import UnreadableFile

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def detect_encoding(data: bytes) -> tuple[str, int]:
    """Guess the encoding of ``data``.

    Returns:
        ``(encoding, bom_length)``. A byte-order mark wins; UTF-16 without one is
        recognised by its zero bytes; then UTF-8 if the bytes are valid UTF-8;
        otherwise Windows-1252, what Outlook and older phones write.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    sample = data[:4096]
    if len(sample) >= 4:
        even_zeros = sample[0::2].count(0)
        odd_zeros = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_zeros > half * 0.3 and even_zeros < half * 0.05:
            return "utf-16-le", 0
        if even_zeros > half * 0.3 and odd_zeros < half * 0.05:
            return "utf-16-be", 0
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252", 0
    return "utf-8", 0


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode ``data``, detecting the encoding unless one is given.

    Returns:
        ``(text, encoding)``.

    Raises:
        UnreadableFile: the bytes are not text in the detected or given encoding
            (binary garbage, a truncated UTF-16 file).
    """
    bom_length = 0
    if encoding is None:
        encoding, bom_length = detect_encoding(data)
    body = data[bom_length:]
    if encoding == "cp1252":
        # Five bytes are undefined in Windows-1252; Latin-1 maps them to the
        # C1 controls instead of failing, as Windows itself does.
        text = _decode_cp1252(body)
    else:
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                f"The file is not valid {encoding} text (byte {error.start + bom_length})."
            ) from None
    if "\x00" in text:
        raise UnreadableFile("The file holds binary data (NUL characters), not text.")
    return text, encoding


def _latin1_for_undefined(error):
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("wagtail_crm.latin1", _latin1_for_undefined)


def _decode_cp1252(body: bytes) -> str:
    return body.decode("cp1252", errors="wagtail_crm.latin1")
