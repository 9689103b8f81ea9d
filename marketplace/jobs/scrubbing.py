"""Removing what identifies a lab from the files attached to its confidential jobs.

A confidential job hides the lab behind a codename until the award; a file's own metadata would name it anyway
(a PDF's /Author "Maya Lindqvist, Northwind AI", a photo's camera owner and GPS position, a Word file's company).
Before such a file is stored, the metadata is removed and what was removed is kept to show the lab:

- PDF: the document information (/Author, /Creator, /Producer, /Title, ...), the XMP metadata stream, page-level
  metadata and annotation authors (pypdf rewrites the pages into a new file).
- JPEG, PNG, WebP, TIFF, GIF: EXIF (camera, owner, GPS), IPTC, XMP and text chunks (Pillow saves the pixels only).
- Word, Excel and PowerPoint (OOXML): docProps/core.xml and docProps/app.xml (creator, last editor, company,
  manager) are replaced by empty ones.
Other files are stored as they are, and the lab is told they were not checked. A file that cannot be read as its
type says is refused with a message, rather than passed on unchecked.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, cast

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from pypdf.generic import NameObject

# Bidi overrides and isolates, marks, and other controls: "invoice\u202efdp.exe" must not show as "invoiceexe.pdf".
_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "GIF"}
_OOXML = (".docx", ".xlsx", ".pptx", ".docm", ".xlsm", ".pptm")
_EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
    b'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"/>'
)
_EMPTY_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
    b'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"/>'
)
_PAGE_METADATA = ("/Metadata", "/PieceInfo", "/LastModified")


class UnreadableFile(ValueError):
    """The file is not what its type says, so its metadata cannot be checked."""


@dataclass
class Scrubbed:
    data: bytes
    removed: list[str] = field(default_factory=list)
    checked: bool = True

    @property
    def note(self) -> str:
        """What the lab is shown beside the file."""
        if not self.checked:
            return "Not checked for identifying metadata (not a PDF, image or Office file)."
        if not self.removed:
            return "Checked: no identifying metadata found."
        return "Removed: " + "; ".join(self.removed) + "."


def scrub(data: bytes, filename: str) -> Scrubbed:
    """The file with its identifying metadata removed, and a list of what was removed."""
    lowered = filename.lower()
    if data.startswith(b"%PDF-"):
        return _scrub_pdf(data)
    if lowered.endswith(_OOXML) and data.startswith(b"PK"):
        return _scrub_office(data)
    image = _open_image(data)
    if image is not None:
        return _scrub_image(image)
    return Scrubbed(data, checked=False)


def _scrub_pdf(data: bytes) -> Scrubbed:
    try:
        reader = PdfReader(io.BytesIO(data))
        info: dict = reader.metadata or {}
        removed = [f"PDF {key.lstrip('/')} “{_short(value)}”" for key, value in info.items() if value]
        if "/Metadata" in cast(dict, reader.trailer["/Root"]):
            removed.append("PDF XMP metadata")
        writer = PdfWriter()
        for page in reader.pages:
            for key in _PAGE_METADATA:
                if key in page:
                    del page[NameObject(key)]
                    removed.append(f"page {key.lstrip('/')}")
            for annotation in page.get("/Annots") or []:
                annotation = annotation.get_object()
                if "/T" in annotation:
                    removed.append(f"annotation author “{_short(annotation['/T'])}”")
                    del annotation[NameObject("/T")]
            writer.add_page(page)
        writer.metadata = None
        out = io.BytesIO()
        writer.write(out)
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise UnreadableFile(
            "This PDF could not be read, so its metadata cannot be removed: save it again and upload the new copy."
        ) from error
    return Scrubbed(out.getvalue(), list(dict.fromkeys(removed)))


def _open_image(data: bytes) -> Image.Image | None:
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return image if image.format in _IMAGE_FORMATS else None


def _scrub_image(image: Image.Image) -> Scrubbed:
    removed = []
    exif = image.getexif()
    if exif:
        removed.append(f"EXIF ({len(exif)} fields, camera, owner and position among them)")
    for key in ("xmp", "XML:com.adobe.xmp"):
        if image.info.get(key):
            removed.append("XMP metadata")
            break
    if image.info.get("photoshop") or image.info.get("iptc"):
        removed.append("IPTC / Photoshop data")
    texts: list[Any] = [
        key
        for key, value in image.info.items()
        if isinstance(value, str) and cast(str, key).lower() not in ("xmp", "xml:com.adobe.xmp")
    ]
    if image.format == "PNG" and texts:
        removed.append("PNG text (" + ", ".join(sorted(texts)) + ")")
    if image.info.get("comment"):
        removed.append("image comment")
    out = io.BytesIO()
    try:
        image.load()
        # Only the pixels (and the frame layout of an animation) are written: no exif=, no pnginfo=, no xmp=.
        options = {"save_all": True} if getattr(image, "n_frames", 1) > 1 else {}
        image.save(out, format=image.format, **options)
    except (OSError, ValueError) as error:
        raise UnreadableFile("This image could not be read, so its metadata cannot be removed.") from error
    return Scrubbed(out.getvalue(), removed)


def _scrub_office(data: bytes) -> Scrubbed:
    removed = []
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for item in source.infolist():
                content = source.read(item.filename)
                if item.filename == "docProps/core.xml":
                    removed += [f"document {tag}" for tag in _filled_tags(content)]
                    content = _EMPTY_CORE
                elif item.filename == "docProps/app.xml":
                    removed += [
                        f"document {tag}"
                        for tag in _filled_tags(content)
                        if tag in ("Company", "Manager", "Template", "HyperlinkBase")
                    ]
                    content = _EMPTY_APP
                copy.writestr(item, content)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise UnreadableFile("This Office file could not be read, so its metadata cannot be removed.") from error
    return Scrubbed(out.getvalue(), list(dict.fromkeys(removed)))


def _filled_tags(xml: bytes) -> list[str]:
    """The names of the XML elements that hold text: dc:creator, cp:lastModifiedBy, Company..."""
    return [match.decode().split(":")[-1] for match in re.findall(rb"<([A-Za-z:]+)(?:\s[^>]*)?>[^<]+</\1>", xml)]


def _short(value) -> str:
    text = str(value).strip()
    return text if len(text) <= 60 else text[:57] + "…"
