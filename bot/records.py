"""The frozen records that cross seams: knowledge -> search -> reply -> web/staff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    verdict: str = ""  # the reviewed one-line answer to "是真的吗" (front matter `verdict:`)
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
    verdict: str = ""

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
            verdict=lesson.verdict,
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
    reading: Reading | None = field(default=None, repr=False)
    # The message check of a pasted message (bot.reply.scan.ScanResult), else None.
    scan: Any = field(default=None, repr=False)

    def to_json(self) -> dict:
        """The answer as plain data (`python -m bot ask --json`)."""
        out = {
            "answer": self.text,
            "sources": [s.__dict__ for s in self.sources],
            "emergency": self.emergency,
            "confidence": round(self.confidence, 3),
            "kind": self.kind,
        }
        if self.reading is not None:
            out["reading"] = self.reading.to_json()
        if self.scan is not None:
            out["scan"] = self.scan.to_json()
        return out


# ---------------------------------------------------------------- the reading of a question


@dataclass(frozen=True)
class Cue:
    """One thing named in a text: its code and the span [start, end) it came from."""

    code: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Span:
    """Where in the question a part of the reading came from."""

    label: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Reading:
    """What the senior's question says about their situation and what they want to know."""

    stage: str
    ask: str
    cues: tuple[Cue, ...] = ()
    distress: bool = False
    official_warning: bool = False
    coached: bool = False
    injection: bool = False
    pasted: bool = False  # the senior pasted a message (an SMS, a WeChat text, a caller's words)
    genuine: str = ""  # the question without an injected order ("" when nothing is left)
    channel: str = ""  # "call" | "text" | "video" | "" — how the scam reached the senior
    verdict_kind: str = ""  # scam | code | did_right | stop | official | legit | ""
    spans: tuple[Span, ...] = ()  # the evidence for stage, ask and the flags
    stage_by: str = "model"  # "rule" | "model" | "history"
    ask_by: str = "model"
    scores: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    @property
    def emergency(self) -> bool:
        """The card leads the reply: a rule saw money, a code or control going or gone.

        Rules only (never the classifier alone): a card shown by mistake frightens, one missed
        costs savings, and both must be explainable by the words that triggered it.
        """
        return self.stage in ("done", "now") and any(
            s.label in ("done", "now:emergency") for s in self.spans
        )

    @property
    def codes(self) -> frozenset[str]:
        """The cue codes named in the question."""
        return frozenset(c.code for c in self.cues)

    def to_json(self) -> dict:
        """The reading as plain data (for --json, the eval report and the gap store)."""
        return {
            "stage": self.stage,
            "ask": self.ask,
            "cues": sorted(self.codes),
            "distress": self.distress,
            "official_warning": self.official_warning,
            "coached": self.coached,
            "injection": self.injection,
            "pasted": self.pasted,
            "channel": self.channel,
            "stage_by": self.stage_by,
            "ask_by": self.ask_by,
            "spans": [[s.label, s.start, s.end, s.text] for s in self.spans],
        }
