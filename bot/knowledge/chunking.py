"""Chinese-aware chunking: Markdown headings first, then whole sentences packed to a size."""

from __future__ import annotations

import re

from bot.records import Chunk, Lesson

# A sentence ends at a run of 。！？；… (with any closing quotes after them) or at a line break.
_SENTENCE = re.compile(r"[^\n]*?[。！？；!?;…]+[”’」』）)\"']*|[^\n]+")
ALIAS_SECTION = "常见说法"


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
