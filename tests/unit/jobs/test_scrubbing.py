"""Identifying metadata removed from a confidential job's files (marketplace.jobs.scrubbing), on real files made
here with the same libraries an author's tools use."""

import io
import zipfile

import pytest
from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from marketplace.downloads import display_name
from marketplace.jobs.scrubbing import UnreadableFile, scrub

AUTHOR = "Maya Lindqvist, Northwind AI"


def pdf_by_maya(with_annotation: bool = False) -> bytes:
    writer = PdfWriter()
    page = writer.add_blank_page(300, 300)
    writer.add_metadata({"/Author": AUTHOR, "/Creator": "Northwind AI Word", "/Title": "Eval guidelines"})
    writer._root_object[NameObject("/Metadata")] = writer._add_object(DictionaryObject())
    if with_annotation:
        note = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Text"),
                NameObject("/T"): TextStringObject("Maya Lindqvist"),
                NameObject("/Rect"): writer._add_object(DictionaryObject()),
            }
        )
        page[NameObject("/Annots")] = ArrayObject([writer._add_object(note)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_loses_its_author_creator_and_xmp_and_the_lab_is_told():
    result = scrub(pdf_by_maya(), "guidelines.pdf")

    assert b"Maya" not in result.data and b"Northwind" not in result.data
    assert PdfReader(io.BytesIO(result.data)).metadata is None
    assert len(PdfReader(io.BytesIO(result.data)).pages) == 1
    assert f"PDF Author “{AUTHOR}”" in result.note and "PDF XMP metadata" in result.note


def test_a_pdf_annotations_author_is_removed():
    result = scrub(pdf_by_maya(with_annotation=True), "guidelines.pdf")
    assert b"Maya" not in result.data
    assert "annotation author “Maya Lindqvist”" in result.note


def test_a_jpeg_loses_its_exif_camera_owner_and_position():
    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x013B] = "Maya Lindqvist"  # Artist
    exif[0x010F] = "Northwind Camera Co"  # Make
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    assert b"Maya" in out.getvalue()

    result = scrub(out.getvalue(), "frame.jpg")

    assert b"Maya" not in result.data and b"Northwind" not in result.data
    assert not Image.open(io.BytesIO(result.data)).getexif()
    assert "EXIF (2 fields" in result.note


def test_a_png_loses_its_text_chunks():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", AUTHOR)
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG", pnginfo=info)

    result = scrub(out.getvalue(), "sample.png")

    assert b"Maya" not in result.data
    assert "PNG text (Author)" in result.note
    assert Image.open(io.BytesIO(result.data)).size == (4, 4)


def test_an_office_file_loses_its_creator_editor_and_company():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as docx:
        docx.writestr("word/document.xml", "<w:document>guidelines</w:document>")
        docx.writestr(
            "docProps/core.xml",
            "<cp:coreProperties><dc:creator>Maya Lindqvist</dc:creator>"
            "<cp:lastModifiedBy>Maya</cp:lastModifiedBy></cp:coreProperties>",
        )
        docx.writestr("docProps/app.xml", "<Properties><Company>Northwind AI</Company></Properties>")

    result = scrub(out.getvalue(), "guidelines.docx")

    assert b"Maya" not in result.data and b"Northwind" not in result.data
    with zipfile.ZipFile(io.BytesIO(result.data)) as cleaned:
        assert cleaned.read("word/document.xml") == b"<w:document>guidelines</w:document>"
    assert "document creator" in result.note and "document Company" in result.note


def test_a_file_of_another_kind_is_kept_and_said_unchecked():
    result = scrub(b"a,b\n1,2\n", "sample.csv")
    assert result.data == b"a,b\n1,2\n" and not result.checked
    assert "Not checked" in result.note


def test_a_clean_file_says_nothing_was_found():
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    assert scrub(out.getvalue(), "plain.png").note == "Checked: no identifying metadata found."


def test_a_file_that_is_not_what_it_says_is_refused():
    with pytest.raises(UnreadableFile, match="could not be read"):
        scrub(b"%PDF-1.7 this is not a pdf at all", "fake.pdf")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2067report\u2069.pdf", "report.pdf"),
        ("a\u200bb.txt", "ab.txt"),
        ("tab\tname.csv", "tabname.csv"),
        ("plain.pdf", "plain.pdf"),
        ("C:\\Users\\maya\\brief.pdf", "brief.pdf"),
        ("../../etc/passwd", "passwd"),
        ('..."quoted".txt', "quoted.txt"),
        ("", "file"),
    ],
)
def test_file_names_lose_their_folders_and_what_could_disguise_them(name, shown):
    assert display_name(name) == shown
