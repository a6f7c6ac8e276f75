"""`wam kb ingest`: upload documents to S3, chunk them, and index them for local retrieval.

S3 keys follow `kb-documents/<kb_id>/<file name>`, the layout a Bedrock Knowledge Base data source
points at; the same files feed the local RediSearch index, so both backends see the same documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from tools.knowledge import LocalKnowledgeBase
from tools.language import detect_language

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".pdf")
CONTENT_TYPES = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}


KB_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # as in agent configs: no path can hide in it


class IngestError(ValueError):
    """A document could not be read; the message names the file."""


def check_kb_id(kb_id: str) -> str:
    """A knowledge-base id is a name, never a path (`../../evil` would escape `kb-documents/`)."""
    if not KB_ID.match(kb_id):
        raise IngestError(
            f"--kb {kb_id!r}: a knowledge-base id is lower-case letters, digits, '-' and '_' "
            "(as in agent configs), starting with a letter or digit"
        )
    return kb_id


@dataclass(frozen=True)
class IngestedDocument:
    source: str
    title: str
    language: str
    chunks: int
    s3_key: str | None


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "title":
            self._in_title = True
        if tag in ("p", "br", "li", "h1", "h2", "h3", "div", "tr"):
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def read_document(path: Path) -> tuple[str, str]:
    """The title and plain text of a txt, md, html or pdf file."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(f"{path}: unsupported type {suffix or '(none)'}; use txt, md, html, pdf")
    try:
        if suffix == ".pdf":
            title, text = _read_pdf(path)
        elif suffix in (".html", ".htm"):
            parser = _TextOfHtml()
            parser.feed(path.read_text(encoding="utf-8"))
            text, title = "".join(parser.parts), parser.title.strip()
        else:
            text = path.read_text(encoding="utf-8")
            heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
            title = heading.group(1).strip() if heading else ""
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise IngestError(f"{path}: cannot read: {error}") from None
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if not text:
        raise IngestError(f"{path}: no text found")
    return title or path.stem.replace("-", " ").replace("_", " "), text


def _read_pdf(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
        title = (reader.metadata.title if reader.metadata else None) or ""
    except OSError:
        raise
    except Exception as error:  # pypdf raises many kinds on a corrupt file
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise IngestError(f"{path}: not a readable PDF: {reason}") from None
    return str(title), text


def chunk_text(text: str, max_chars: int = 700) -> list[str]:
    """Paragraph-aligned chunks of at most `max_chars` (a longer paragraph splits on sentences)."""
    pieces: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            pieces.append(paragraph)
            continue
        sentence_parts = re.split(r"(?<=[.!?])\s+", paragraph)
        pieces.extend(p for p in sentence_parts if p)
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(piece) + 2 > max_chars:
            chunks.append(current)
            current = piece
        else:
            current = f"{current}\n\n{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def document_paths(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise IngestError(f"{path}: no such file or directory")
    return sorted(p for p in path.rglob("*") if p.suffix.lower() in SUPPORTED_SUFFIXES)


def ingest_path(
    path: Path,
    knowledge_base: LocalKnowledgeBase,
    *,
    s3: Any = None,
    bucket: str | None = None,
) -> list[IngestedDocument]:
    """Upload (when `s3` is given), chunk and index every supported document under `path`.

    A document already in the knowledge base (same file stem) has its chunks replaced."""
    check_kb_id(knowledge_base.kb_id)
    documents = []
    for document in document_paths(path):
        title, text = read_document(document)
        source = document.stem
        language = detect_language(text)
        s3_key = None
        if s3 is not None and bucket:
            s3_key = f"kb-documents/{knowledge_base.kb_id}/{document.name}"
            s3.put_object(
                Bucket=bucket,
                Key=s3_key,
                Body=document.read_bytes(),
                ContentType=CONTENT_TYPES[document.suffix.lower()],
                Metadata={"title": title.encode("ascii", "ignore").decode(), "language": language},
            )
        chunks = chunk_text(text)
        knowledge_base.add_chunks(source, title, chunks, language)
        documents.append(IngestedDocument(source, title, language, len(chunks), s3_key))
    return documents
