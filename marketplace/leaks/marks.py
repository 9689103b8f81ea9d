"""Invisible marks in text and PDFs; no database, no Flask.

A mark is a 32-bit number written twice into a text: as zero-width characters (U+200B for 0, U+200C for 1, between
two word joiners U+2060) after the first line and at the end, and as the pattern of no-break spaces among the text's
first 32 spaces (a 1 is U+00A0). Copying a brief from the page keeps at least one of them in most editors; a PDF
carries it in its document information; a PNG in a text chunk and a JPEG in a comment segment (added to the bytes,
the pixels untouched, no re-encoding); a Word, Excel or PowerPoint file in its core properties' identifier, and a
Word file also in the hidden characters of its first run of text. Reading a leaked copy finds every mark still in it.
"""

import io
import re
import struct
import zipfile
import zlib

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError

BITS = 32
ZERO, ONE, EDGE = "\u200b", "\u200c", "\u2060"
NBSP = "\u00a0"
PDF_KEY = "/ArmsLengthMark"
_HIDDEN = re.compile(f"{EDGE}([{ZERO}{ONE}]{{{BITS}}}){EDGE}")


def _bits(mark: int) -> str:
    return format(mark & (2**BITS - 1), f"0{BITS}b")


def hidden(mark: int) -> str:
    return EDGE + "".join(ONE if bit == "1" else ZERO for bit in _bits(mark)) + EDGE


def mark_text(text: str, mark: int) -> str:
    """The text with the mark written in: it reads the same on screen."""
    if not text:
        return text
    bits = _bits(mark)
    out, spaces = [], 0
    for char in text:
        if char == " " and spaces < BITS:
            out.append(NBSP if bits[spaces] == "1" else " ")
            spaces += 1
        else:
            out.append(char)
    marked = "".join(out)
    first, newline, rest = marked.partition("\n")
    return first + hidden(mark) + newline + rest + hidden(mark)


def marks_in_text(text: str) -> set[int]:
    """The marks written as zero-width characters."""
    return {int("".join("1" if c == ONE else "0" for c in bits), 2) for bits in _HIDDEN.findall(text)}


def spacing_mark(text: str) -> int | None:
    """The mark the no-break spaces among the first 32 spaces spell, when the text has any."""
    spaces = [char for char in text if char in (" ", NBSP)][:BITS]
    if len(spaces) < BITS or NBSP not in spaces:
        return None
    return int("".join("1" if char == NBSP else "0" for char in spaces), 2)


def mark_pdf(data: bytes, mark: int) -> bytes:
    """The PDF with the mark in its document information (unchanged bytes when it cannot be read)."""
    try:
        reader = PdfReader(io.BytesIO(data))
        writer = PdfWriter(clone_from=reader)
        writer.add_metadata({PDF_KEY: f"{mark:08x}"})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except (PdfReadError, ValueError, KeyError, OSError):
        return data


def marks_in_pdf(data: bytes) -> set[int]:
    """The marks a PDF carries: in its document information, and in its text."""
    try:
        reader = PdfReader(io.BytesIO(data))
        found = set()
        value = reader.metadata.get(PDF_KEY) if reader.metadata is not None else None
        if value and re.fullmatch(r"[0-9a-f]{8}", str(value)):
            found.add(int(str(value), 16))
        for page in reader.pages[:20]:
            found |= marks_in_text(page.extract_text() or "")
        return found
    except (PdfReadError, ValueError, KeyError, OSError):
        return set()


def close(a: int, b: int, tolerance: int = 2) -> bool:
    """Whether two marks differ in at most `tolerance` bits (a few spaces edited in a copy)."""
    return bin((a ^ b) & (2**BITS - 1)).count("1") <= tolerance


def pdf_text(data: bytes) -> str:
    """The text of a PDF's first 20 pages ("" when it cannot be read)."""
    try:
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages[:20])
    except (PdfReadError, ValueError, KeyError, OSError):
        return ""


# ------------------------------------------------------------------------------------------------ images

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_START = b"\xff\xd8"
IMAGE_KEY = b"ArmsLengthMark"
_IMAGE_MARK = re.compile(rb"ArmsLengthMark[:\x00]([0-9a-f]{8})")


def mark_png(data: bytes, mark: int) -> bytes:
    """A tEXt chunk with the mark, just before the image's end (IEND); unchanged bytes when it is no PNG."""
    end = data.rfind(b"IEND")
    if not data.startswith(PNG_SIGNATURE) or end < 4:
        return data
    body = b"tEXt" + IMAGE_KEY + b"\x00" + f"{mark:08x}".encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    return data[: end - 4] + chunk + data[end - 4 :]


def mark_jpeg(data: bytes, mark: int) -> bytes:
    """A comment segment (COM) with the mark right after the start of the image; unchanged when it is no JPEG."""
    if not data.startswith(JPEG_START):
        return data
    text = IMAGE_KEY + b":" + f"{mark:08x}".encode()
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + data[2:]


# ------------------------------------------------------------------------------------------------ Office files

_CORE = "docProps/core.xml"
_WORD = "word/document.xml"
_IDENTIFIER = re.compile(r"<dc:identifier>armslength:([0-9a-f]{8})</dc:identifier>")


def _rewrite_zip(data: bytes, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, change(item.filename, source.read(item.filename)))
    return out.getvalue()


def _mark_core(xml: str, mark: int) -> str:
    xml = _IDENTIFIER.sub("", xml)
    if 'xmlns:dc="http://purl.org/dc/elements/1.1/"' not in xml:
        xml = xml.replace("<cp:coreProperties ", '<cp:coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" ', 1)
    identifier = f"<dc:identifier>armslength:{mark:08x}</dc:identifier>"
    if xml.rstrip().endswith("/>"):  # an empty element: open it
        return re.sub(r"\s*/>\s*$", f">{identifier}</cp:coreProperties>", xml.rstrip())
    return xml.replace("</cp:coreProperties>", identifier + "</cp:coreProperties>", 1)


def mark_office(data: bytes, mark: int) -> bytes:
    """The mark in the core properties' identifier, and in a Word file's first run of text; unchanged bytes when it
    is not an Office file that can be read."""

    def change(name: str, content: bytes) -> bytes:
        if name == _CORE:
            return _mark_core(content.decode("utf-8"), mark).encode("utf-8")
        if name == _WORD:
            first_run = r"(<w:t(?: [^>]*)?>)([^<]*)(</w:t>)"
            text = re.sub(first_run, lambda m: m[1] + m[2] + hidden(mark) + m[3], content.decode("utf-8"), count=1)
            return text.encode("utf-8")
        return content

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            if _CORE not in package.namelist():
                return data
        return _rewrite_zip(data, change)
    except (zipfile.BadZipFile, UnicodeDecodeError, KeyError, OSError, ValueError):
        return data


def _office_marks_and_text(data: bytes) -> tuple[set[int], str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            names = package.namelist()
            core = package.read(_CORE).decode("utf-8", "replace") if _CORE in names else ""
            word = package.read(_WORD).decode("utf-8", "replace") if _WORD in names else ""
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return set(), ""
    text = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", word))
    return {int(value, 16) for value in _IDENTIFIER.findall(core)} | marks_in_text(text), text


# ------------------------------------------------------------------------------------------------ any file


def mark_file(data: bytes, mark: int, kind: str) -> bytes | None:
    """The file with the mark written in, by its content type; None for a kind that carries no mark."""
    if kind == "application/pdf":
        return mark_pdf(data, mark)
    if kind == "image/png":
        return mark_png(data, mark)
    if kind == "image/jpeg":
        return mark_jpeg(data, mark)
    if kind.startswith("application/vnd.openxmlformats-officedocument."):
        return mark_office(data, mark)
    return None


def read_file(data: bytes) -> tuple[set[int], str]:
    """The marks a leaked file carries, found by what its bytes are (not its name), and its text."""
    if data.startswith(b"%PDF"):
        return marks_in_pdf(data), pdf_text(data)
    if data.startswith(PNG_SIGNATURE) or data.startswith(JPEG_START):
        return {int(value, 16) for value in _IMAGE_MARK.findall(data)}, ""
    if data.startswith(b"PK"):
        return _office_marks_and_text(data)
    text = data.decode("utf-8", "replace")
    return marks_in_text(text), text
