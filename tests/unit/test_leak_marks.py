"""Invisible marks: written into a text they read the same, and are read back whole from the hidden characters, or
from the spacing when the hidden characters were stripped; a PDF carries its mark in its document information."""

import io

from pypdf import PdfWriter

from marketplace.leaks import marks

BRIEF = (
    "Draw tight boxes around people, forklifts, pallets, totes and spills in frames from shelf-height robot cameras.\n"
    "Frames are 1280 by 720, often motion-blurred; occluded objects are boxed if more than 30% is visible, and every "
    "edge case in the attached guidelines is followed to the letter by every labeler on the project."
)


def visible(text: str) -> str:
    return text.replace(marks.NBSP, " ").replace(marks.ZERO, "").replace(marks.ONE, "").replace(marks.EDGE, "")


def test_a_marked_text_reads_the_same_and_gives_its_mark_back():
    marked = marks.mark_text(BRIEF, 0xA5F00F5A)
    assert marked != BRIEF and visible(marked) == BRIEF
    assert marks.marks_in_text(marked) == {0xA5F00F5A}
    assert marks.spacing_mark(marked) == 0xA5F00F5A


def test_the_spacing_keeps_the_mark_when_the_hidden_characters_are_stripped_and_tolerates_a_few_edits():
    marked = marks.mark_text(BRIEF, 0x0F0F1234)
    stripped = marked.replace(marks.ZERO, "").replace(marks.ONE, "").replace(marks.EDGE, "")
    assert marks.marks_in_text(stripped) == set()
    assert marks.spacing_mark(stripped) == 0x0F0F1234
    edited = stripped.replace(marks.NBSP, " ", 1)  # one no-break space lost
    assert marks.spacing_mark(edited) != 0x0F0F1234 and marks.close(marks.spacing_mark(edited), 0x0F0F1234)
    assert not marks.close(0x0F0F1234, 0x0F0F1234 ^ 0b111)
    assert marks.spacing_mark(BRIEF) is None  # an unmarked text has no mark at all


def test_a_pdf_carries_its_mark():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    marked = marks.mark_pdf(out.getvalue(), 0x12345678)
    assert marks.marks_in_pdf(marked) == {0x12345678}
    assert marks.marks_in_pdf(out.getvalue()) == set()
    assert marks.mark_pdf(b"not a pdf", 1) == b"not a pdf" and marks.marks_in_pdf(b"not a pdf") == set()


def test_an_image_keeps_its_pixels_and_carries_the_mark():
    from PIL import Image

    for fmt in ("PNG", "JPEG"):
        out = io.BytesIO()
        Image.new("RGB", (16, 9), (30, 90, 160)).save(out, format=fmt)
        original = out.getvalue()
        marked = marks.mark_file(original, 0x0BADF00D, f"image/{fmt.lower()}")
        assert marked != original
        before, after = Image.open(io.BytesIO(original)), Image.open(io.BytesIO(marked))
        after.load()
        assert after.format == fmt and after.tobytes() == before.tobytes()  # not re-encoded
        assert marks.read_file(marked)[0] == {0x0BADF00D}
        assert marks.read_file(original)[0] == set()


def test_an_office_file_stays_a_readable_package_and_carries_the_mark():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("docProps/core.xml", '<cp:coreProperties xmlns:cp="urn:cp"></cp:coreProperties>')
        package.writestr("word/document.xml", "<w:document><w:t>Box every forklift.</w:t></w:document>")
    marked = marks.mark_office(out.getvalue(), 0x00C0FFEE)
    with zipfile.ZipFile(io.BytesIO(marked)) as package:
        assert package.testzip() is None
        assert "armslength:00c0ffee" in package.read("docProps/core.xml").decode()
    found, text = marks.read_file(marked)
    assert found == {0x00C0FFEE} and visible(text) == "Box every forklift."
    assert marks.mark_office(b"PK not really a zip", 1) == b"PK not really a zip"
