"""Invisible marks in text and PDFs; no database, no Flask.

A mark is a 32-bit number written twice into a text: as zero-width characters (U+200B for 0, U+200C for 1, between
two word joiners U+2060) after the first line and at the end, and as the pattern of no-break spaces among the text's
first 32 spaces (a 1 is U+00A0). Copying a brief from the page keeps at least one of them in most editors; a PDF
carries it in its document information. Reading a leaked copy finds every mark still in it.
"""

import io
import re

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
