"""The frozen records that cross seams: knowledge -> search -> reply -> web/staff."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    """One question read once at the edge of reply/: cleaned, redacted, and what was found in it.

    Built by bot.reply.safety.read_input and passed to retrieval, logging, the gap store, evals
    and the UI, so no other place cleans or redacts a question again.
    """

    original_chars: int  # length of the raw message
    text: str  # cleaned (markup, control characters, spaces) and cut to the limit
    redacted: str  # the whole cleaned message redacted, then cut to the limit
    sensitive: tuple[str, ...] = ()  # kinds of personal data found (never the values)
    truncated: bool = False
    whole: str = field(default="", repr=False)  # the whole cleaned message (rules read it all)
    whole_redacted: str = field(default="", repr=False)  # the whole message, redacted


@dataclass(frozen=True)
class Problem:
    """One finding about a course file; errors keep the file out of the index."""

    path: str
    line: int
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "warning: "
        return f"{self.path}:{self.line}: {tag}{self.reason}"


@dataclass(frozen=True)
class Section:
    """A heading and the text under it, with the heading path above it."""

    heading: str
    level: int
    path: tuple[str, ...]
    text: str
    line: int


@dataclass(frozen=True)
class Lesson:
    """A validated course document."""

    doc_id: str
    title: str
    topic: str
    updated: str
    body: str
    source_file: str
    sha256: str
    tags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    source: str = ""
    audience: str = ""
    body_line: int = 1
    sections: tuple[Section, ...] = field(default=(), compare=False, repr=False)
    # Where the id is written (front matter or sidecar, line), so a duplicate is reported there.
    id_at: tuple[str, int] = field(default=("", 1), compare=False, repr=False)

    def section(self, name: str) -> str:
        """Text of the first section with this heading, or ''."""
        for sec in self.sections:
            if sec.heading == name:
                return sec.text
        return ""


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


@dataclass(frozen=True)
class LessonRecord:
    """A lesson as stored in the index: metadata and its sections by heading path."""

    doc_id: str
    title: str
    topic: str
    updated: str
    source_file: str
    sha256: str
    chunks: int
    aliases: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]  # (heading path, text) in order

    def section(self, name: str) -> str:
        """Text of the top-level section with this heading, or ''."""
        for path, text in self.sections:
            if path == name:
                return text
        return ""

    def subsections(self, name: str) -> list[tuple[str, str]]:
        """(heading, text) of each subsection under a top-level section."""
        prefix = f"{name} > "
        return [(p[len(prefix) :], t) for p, t in self.sections if p.startswith(prefix)]

    @classmethod
    def of(cls, lesson: Lesson, chunks: int) -> LessonRecord:
        """The record of a validated lesson cut into this many chunks."""
        return cls(
            doc_id=lesson.doc_id,
            title=lesson.title,
            topic=lesson.topic,
            updated=lesson.updated,
            source_file=lesson.source_file,
            sha256=lesson.sha256,
            chunks=chunks,
            aliases=lesson.aliases,
            sections=tuple((" > ".join(s.path) or "", s.text) for s in lesson.sections),
        )

    @classmethod
    def from_json(cls, d: dict) -> LessonRecord:
        """The record as read back from an index generation's lessons.json."""
        return cls(
            **{**d, "aliases": tuple(d["aliases"]), "sections": tuple(map(tuple, d["sections"]))}
        )


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, named by its lesson, topic and section."""

    chunk_id: str
    doc_id: str
    title: str
    topic: str
    section: str
    text: str
    score: float
    dense: float
    bm25: float


@dataclass(frozen=True)
class Source:
    """A lesson an answer drew on."""

    doc_id: str
    title: str
    topic: str
    score: float


@dataclass(frozen=True)
class Answer:
    """The reply to a senior, with where it came from and how sure we are."""

    text: str
    sources: tuple[Source, ...] = ()
    emergency: bool = False
    confidence: float = 0.0
    kind: str = "answer"  # answer | emergency | unsure | redirect | refuse | prompt
    sensitive: tuple[str, ...] = ()  # kinds of personal data seen (never the values)
    truncated: bool = False
    used_llm: bool = False
    passages: tuple[Passage, ...] = field(default=(), repr=False)

    def to_json(self) -> dict:
        return {
            "answer": self.text,
            "sources": [s.__dict__ for s in self.sources],
            "emergency": self.emergency,
            "confidence": round(self.confidence, 3),
            "kind": self.kind,
        }
