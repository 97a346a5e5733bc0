"""The line level of vCard: cards, unfolding, property heads, escaping and folding.

Nothing here knows what a property means; vcard_read.py maps properties to records.
"""

from __future__ import annotations

import binascii
import codecs
import re

_LINE_BREAKS = re.compile(r"\r+\n?")
_ESCAPE = re.compile(r"\\(.)", re.S)
_CARET = re.compile(r"\^(.)", re.S)
_CARETS = {"n": "\n", "N": "\n", "^": "^", "'": '"'}
#: 3.0 and 4.0 escapes; ``\:`` and ``\"`` are invalid but written by Google and Apple.
_UNESCAPE = {"n": "\n", "N": "\n", "\\": "\\", ",": ",", ";": ";", ":": ":", '"': '"'}
#: vCard 2.1 escapes only the semicolon (and, in practice, the backslash and comma).
_UNESCAPE_21 = {"\\": "\\", ",": ",", ";": ";"}
#: structured values: separators are protected by control characters while splitting
_PROTECT = {**_UNESCAPE, ";": "\x01", ",": "\x02"}
_PROTECT_21 = {**_UNESCAPE_21, ";": "\x01", ",": "\x02"}
_BARE_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
_SKIPPED_TYPES = {"pref", "internet"}
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*")
#: parsed property heads by their text (most files repeat a few dozen heads)
head_cache: dict[str, tuple] = {}


def split_lines(text: str) -> list[str]:
    """Split ``text`` on CRLF, LF, CR and the CR CR LF that some exporters write."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            text = _LINE_BREAKS.sub("\n", text)
    return text.split("\n")


def is_marker(line: str, marker: str) -> bool:
    """Whether ``line`` is ``BEGIN:VCARD`` or ``END:VCARD`` (any case, stray spaces, a BOM)."""
    if line == marker:
        return True
    return line.strip().lstrip("\ufeff").upper() == marker


def iter_cards(lines, *, max_line, max_properties, max_depth):
    """Yield ``(start, texts, numbers, error)`` for each BEGIN:VCARD..END:VCARD.

    ``texts`` are the card's logical lines (unfolded) and ``numbers`` the line where
    each starts, or ``None`` when they are the lines after ``start`` one by one.
    ``error`` is ``None``, or ``(line_number, reason, excerpt)`` when the card cannot
    be read (and ``texts`` is ``None``). Line numbers are 1-based.
    """
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        i += 1
        if line and line[0] in "Bb\ufeff \t" and is_marker(line, "BEGIN:VCARD"):
            i, card = _read_card(lines, i, max_line, max_properties, max_depth)
            yield card


def _read_card(lines, i, max_line, max_properties, max_depth):
    simple = _simple_card(lines, i, max_line, max_properties)
    if simple is not None:
        return simple
    start, n = i, len(lines)
    logical = []  # [line_number, piece, piece...] per property
    cur, size, soft, error = None, 0, False, None
    while i < n:
        line = lines[i]
        i += 1
        marker = ""
        if line and line[0] in "EeBbAa\ufeff" and (
                len(line) < 17 or line[0] in "Aa" or line[-1] in " \t"):
            marker = _marker(line)
        if soft and not marker:
            # quoted-printable soft line break: the next line goes on as it is
            cur[-1] = cur[-1][:-1]
            piece = line
            soft = line.endswith("=")
        elif marker == "end":
            return i, _finish(start, logical, error)
        elif marker == "begin" and not _opens_agent(cur):
            reason = f"line {start}: the card has no END:VCARD before the next BEGIN:VCARD"
            return i - 1, (start, None, None, error or (start, reason, _excerpt(lines, start)))
        elif marker:
            # a 2.1 AGENT: a whole vCard as the value of a property; skipped
            if marker == "agent":
                logical.append([i, line])
            i, too_deep, closed = _skip_nested(lines, i, max_depth)
            if too_deep and not error:
                error = (too_deep, f"line {too_deep}: vCards nested more than {max_depth} deep",
                         lines[too_deep - 1].strip()[:80])
            if not closed:
                break
            cur, soft = None, False
            continue
        elif not line:
            cur = None
            continue
        elif cur is not None and (line[0] == " " or line[0] == "\t"):
            piece = line[1:]
            soft = piece.endswith("=") and _is_quoted_printable(cur[1])
        elif cur is not None and ":" not in line:
            # neither a property nor a fold: the value went on to a new line
            if cur[-1].endswith("\\"):
                cur[-1] = cur[-1][:-1]
            piece = "\n" + line
        else:
            if line[0] == " " or line[0] == "\t":
                line = line.lstrip()
                if not line:
                    continue
            cur, size, piece = [i, line], 0, None
            logical.append(cur)
            soft = line[-1] == "=" and _is_quoted_printable(line)
            if len(logical) > max_properties and not error:
                error = (i, f"line {i}: more than {max_properties} properties in one card",
                         line[:80])
        if piece is not None:
            cur.append(piece)
        size += len(line)
        if size > max_line and not error:
            error = (cur[0], f"line {cur[0]}: a line is longer than {max_line} characters",
                     cur[1][:80])
        if error and logical:
            logical, cur, soft = [], None, False
    last = min(i, n)
    reason = f"line {start}: the card has no END:VCARD (the file ends at line {last})"
    return i, (start, None, None, error or (start, reason, _excerpt(lines, start)))


def _simple_card(lines, i, max_line, max_properties):
    """The common case, read at C speed: no folding, blank lines, soft breaks or nesting."""
    try:
        end = lines.index("END:VCARD", i, i + 200)
    except ValueError:
        return None
    block = lines[i:end]
    text = "\n".join(block)
    if (not text or end - i > max_properties or len(text) > max_line
            or "\n " in text or "\n\t" in text or "=\n" in text or "\n\n" in text
            or "EGIN:" in text or "egin:" in text or text[-1] == "=" or text[0] in " \t"):
        return None
    for line in block:
        if ":" not in line:
            return None
    return end + 1, (i, block, None, None)


def _marker(line):
    """``end``, ``begin`` or ``agent`` (an AGENT:BEGIN:VCARD line), else empty."""
    if len(line) > 16 and line[16:].strip():
        if line[:5].upper() == "AGENT" and line.rstrip().upper().endswith(":BEGIN:VCARD"):
            return "agent"
        return ""
    upper = line.strip().lstrip("\ufeff").upper()
    return "end" if upper == "END:VCARD" else "begin" if upper == "BEGIN:VCARD" else ""


def _opens_agent(cur):
    return cur is not None and cur[1][:5].upper() == "AGENT" and cur[-1].rstrip().endswith(":")


def _skip_nested(lines, i, max_depth):
    """Skip a nested vCard; return (next index, line where it got too deep or 0, closed)."""
    depth, too_deep, n = 2, 0, len(lines)
    if depth > max_depth:
        too_deep = i
    while i < n:
        line = lines[i]
        i += 1
        if line and line[0] in "EeBbAa \t":
            upper = line.strip().upper()
            if upper == "END:VCARD":
                depth -= 1
                if depth == 1:
                    return i, too_deep, True
            elif upper == "BEGIN:VCARD" or upper.endswith(":BEGIN:VCARD"):
                depth += 1
                if depth > max_depth and not too_deep:
                    too_deep = i
    return i, too_deep, False


def _finish(start, logical, error):
    if error:
        return start, None, None, error
    texts = [e[1] if len(e) == 2 else "".join(e[1:]) for e in logical]
    return start, texts, [e[0] for e in logical], None


def _excerpt(lines, start):
    return " | ".join(line.strip() for line in lines[start - 1:start + 2])[:80]


def _is_quoted_printable(text):
    colon = text.find(":")
    return "QUOTED-PRINTABLE" in text[:colon].upper()


def parse_property(text: str):
    """Split a logical line into its head and value.

    Returns:
        ``((group, NAME, params, types, pref), value)`` or ``None`` when there is no
        colon. ``params`` maps upper-cased names to lists of values; ``types`` holds the
        lower-cased TYPE words without ``pref`` and ``internet``; ``pref`` is whether the
        property is marked preferred. Heads are cached: treat them as read-only.
    """
    colon = text.find(":")
    if colon < 0:
        return None
    head = text[:colon]
    if '"' in head:
        # not cached: the text up to the first colon is not the head
        colon = _colon_outside_quotes(text, colon)
        return _parse_head(text[:colon]), text[colon + 1:]
    parsed = head_cache.get(head)
    if parsed is None:
        if len(head_cache) > 10_000:
            head_cache.clear()
        parsed = head_cache[head] = _parse_head(head)
    return parsed, text[colon + 1:]


def _colon_outside_quotes(text, first):
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index
    return first


def _split_outside_quotes(text, separator):
    if '"' not in text:
        return text.split(separator)
    pieces, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _parse_head(head):
    pieces = _split_outside_quotes(head, ";")
    group, _, name = pieces[0].strip().rpartition(".")
    params: dict[str, list[str]] = {}
    for piece in pieces[1:]:
        key, equals, value = piece.strip().partition("=")
        if not equals:
            bare = key.strip()
            if not bare:
                continue
            key = "ENCODING" if bare.upper() in _BARE_ENCODINGS else "TYPE"
            params.setdefault(key, []).append(bare)
            continue
        values = params.setdefault(key.strip().upper(), [])
        for item in _split_outside_quotes(value, ","):
            item = item.strip()
            if len(item) > 1 and item[0] == '"' == item[-1]:
                item = item[1:-1]
            if "^" in item:
                item = _CARET.sub(lambda m: _CARETS.get(m[1], m[0]), item)
            values.append(item)
    words = [word.lower() for word in params.get("TYPE", ()) if word]
    pref = "pref" in words or params.get("PREF", [""])[0].strip() == "1"
    types = [word for word in words if word not in _SKIPPED_TYPES]
    return group, name.strip().upper(), params, types, pref


def unescape(value: str, version: str = "3.0") -> str:
    """Undo backslash escapes (only ``\\;``, ``\\,`` and ``\\\\`` in vCard 2.1)."""
    if "\\" not in value:
        return value
    table = _UNESCAPE_21 if version == "2.1" else _UNESCAPE
    return _ESCAPE.sub(lambda m: table.get(m[1], m[0]), value)


def split_value(value: str, version: str, separator: str = ";", lists: str | None = None):
    """Split a structured value on unescaped ``separator`` and unescape each part.

    Args:
        lists: when given, unescaped commas inside a part (value lists, as in N) are
            replaced by this string; otherwise they are kept.
    """
    if "\\" in value:
        table = _PROTECT_21 if version == "2.1" else _PROTECT
        value = _ESCAPE.sub(lambda m: table.get(m[1], m[0]), value)
    parts = value.split(separator)
    if lists is not None:
        parts = [part.replace(",", lists) for part in parts]
    if "\x01" in value or "\x02" in value:
        parts = [part.replace("\x01", ";").replace("\x02", ",") for part in parts]
    return parts


def original_bytes(text: str, encoding: str) -> bytes:
    """The bytes ``text`` was decoded from, for values whose CHARSET differs from the file's."""
    if text.isascii():
        return text.encode("ascii")
    if encoding == "cp1252":
        return text.encode("cp1252", errors="wagtail_crm.vcard_latin1")
    return text.encode("utf-8")


def _latin1_bytes(error):
    return error.object[error.start:error.end].encode("latin-1", errors="replace"), error.end


codecs.register_error("wagtail_crm.vcard_latin1", _latin1_bytes)


def decode_quoted_printable(value: str, charset: str, file_encoding: str):
    """Decode a quoted-printable value (soft line breaks already joined).

    Returns:
        ``(text, warning)``; the warning is empty unless the charset was unknown or
        the bytes were not valid in it.
    """
    data = binascii.a2b_qp(original_bytes(value, file_encoding))
    warning = ""
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            warning = f"unknown CHARSET={charset}"
            charset = ""
    if not charset:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            warning = f"{warning}; read as Windows-1252" if warning else ""
        else:
            warning = f"{warning}; read as UTF-8" if warning else ""
    else:
        try:
            text = data.decode(charset)
        except UnicodeDecodeError:
            text = data.decode(charset, errors="replace")
            warning = f"bytes that are not valid {charset} were replaced"
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, warning


def decode_base64(value: str) -> tuple[bytes, bool]:
    """Decode base64 spread over lines, indented, URL-safe or with wrong padding.

    Returns:
        ``(data, complete)``: ``complete`` is false when the length was wrong (data
        lost in the file), in which case what can be decoded is returned.

    Raises:
        ValueError: the value holds characters that are not base64.
    """
    data = "".join(value.split())
    body = data.rstrip("=")
    if not _BASE64.fullmatch(body):
        raise ValueError("not base64")
    if "-" in body or "_" in body:
        body = body.replace("-", "+").replace("_", "/")
    missing = len(body) % 4
    if missing == 1:
        body = body[:-1]
    elif missing:
        body += "=" * (4 - missing)
    return binascii.a2b_base64(body), len(data) % 4 == 0 and missing != 1


# Writing

def escape_text(value: str) -> str:
    """Escape a text value for vCard 3.0 and 4.0 (backslash, comma, semicolon, newline)."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace(",", "\\,").replace(";", "\\;")
    )


def format_param(value: str, version: str) -> str:
    """A parameter value: RFC 6868 caret escapes in 4.0, quoted when it holds ``;:,``."""
    if version == "4.0":
        value = value.replace("^", "^^").replace("\r\n", "\n").replace("\n", "^n")
        value = value.replace('"', "^'")
    else:
        value = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    if any(char in value for char in ";:,"):
        return f'"{value}"'
    return value


def fold(line: str) -> str:
    """``line`` folded at 75 octets, never inside a UTF-8 sequence, with CRLF endings."""
    if len(line) <= 75 and (line.isascii() or len(line.encode()) <= 75):
        return line + "\r\n"
    if line.isascii():
        chunks = [line[:75]]
        chunks.extend(" " + line[i:i + 74] for i in range(75, len(line), 74))
        return "\r\n".join(chunks) + "\r\n"
    chunks, current, size = [], [], 0
    for char in line:
        width = 1 if char < "\x80" else 2 if char < "\u0800" else 3 if char < "\U00010000" else 4
        if size + width > 75:
            chunks.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    chunks.append("".join(current))
    return "\r\n".join(chunks) + "\r\n"
