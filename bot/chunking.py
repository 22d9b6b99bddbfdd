"""Chinese-aware chunking: Markdown headings first, then whole sentences packed to a size."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge import Lesson

# A sentence ends at a run of 。！？；… (with any closing quotes after them) or at a line break.
_SENTENCE = re.compile(r"[^\n]*?[。！？；!?;…]+[”’」』）)\"']*|[^\n]+")
ALIAS_SECTION = "常见说法"


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a lesson, carrying where it came from."""

    chunk_id: str
    doc_id: str
    title: str
    topic: str
    section: str
    heading_path: str
    source_file: str
    position: int
    text: str

    def embed_text(self) -> str:
        """What the encoders see: title and section give the passage its context."""
        return f"{self.title}｜{self.section}：{self.text}"

    def metadata(self) -> dict[str, str | int]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "topic": self.topic,
            "section": self.section,
            "heading_path": self.heading_path,
            "source_file": self.source_file,
            "position": self.position,
        }


def split_sentences(text: str) -> list[str]:
    """Split Chinese text into sentences, keeping the punctuation with its sentence."""
    return [s for s in (m.group().strip() for m in _SENTENCE.finditer(text)) if s]


def pack_sentences(sentences: list[str], max_chars: int, sep: str = "\n") -> list[str]:
    """Join consecutive sentences with sep into pieces of at most max_chars; never cut one."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for sentence in sentences:
        if current and size + len(sep) + len(sentence) > max_chars:
            pieces.append(sep.join(current))
            current, size = [], 0
        size += len(sentence) + (len(sep) if current else 0)
        current.append(sentence)
    if current:
        pieces.append(sep.join(current))
    return pieces


def chunk_lesson(lesson: Lesson, max_chars: int = 240) -> list[Chunk]:
    """Chunks of one lesson: one or more per section, plus one for its colloquial aliases."""
    chunks: list[Chunk] = []

    def add(section: str, path: str, text: str) -> None:
        chunks.append(
            Chunk(
                chunk_id=f"{lesson.doc_id}#{len(chunks)}",
                doc_id=lesson.doc_id,
                title=lesson.title,
                topic=lesson.topic,
                section=section,
                heading_path=path,
                source_file=lesson.source_file,
                position=len(chunks),
                text=text,
            )
        )

    for sec in lesson.sections:
        if not sec.text.strip():
            continue
        path = " > ".join(sec.path) or lesson.title
        section = sec.heading or lesson.title
        if len(sec.path) >= 2:
            # A FAQ entry: the question is the best thing to match a senior's question against,
            # so every piece of its answer carries it.
            budget = max(1, max_chars - len(sec.heading) - 1)
            for piece in pack_sentences(split_sentences(sec.text), budget):
                add(section, path, f"{sec.heading}\n{piece}")
            continue
        for piece in pack_sentences(split_sentences(sec.text), max_chars):
            add(section, path, piece)
    for piece in pack_sentences([*lesson.aliases, *lesson.tags], max_chars, sep="；"):
        add(ALIAS_SECTION, ALIAS_SECTION, piece)
    return chunks
