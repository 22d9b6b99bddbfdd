"""Read course files (md/txt/docx/pdf/pptx) into validated lessons, reporting problems by file:line."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.topics import SECTIONS, TOPICS
from bot.records import Lesson, LessonRecord, Problem, Section

SUFFIXES = (".md", ".txt", ".docx", ".pdf", ".pptx")
REQUIRED = ("id", "title", "topic", "updated")
OPTIONAL = ("tags", "aliases", "source", "audience", "verdict")
# The reviewed one-line answer to "是真的吗" about the lesson's case; the first line of a verdict.
VERDICT_MAX_CHARS = 30
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
# Documents are indexed from text; a body shorter than this says nothing a senior can use.
MIN_BODY_CHARS = 20
# A lesson is a few pages. Beyond these a file is refused with the reason, before it stalls
# the desk (a 78 KB .docx of 166k one-character paragraphs took minutes to read).
MAX_TEXT_CHARS = 200_000
MAX_PARAGRAPHS = 5_000
# Extracted text of office/PDF files by content hash: the desk rescans the folder on every page.
PARSED_CACHE_SIZE = 256
# Checks every line a senior may read: given (section, text) pairs, says why each must not reach
# a senior (None when it may). The composition root passes bot.reply.linecheck's checker in, so
# this layer never imports the reply layer; without one, lines are not checked.
LineCheck = Callable[[Sequence[tuple[str, str]]], Sequence[str | None]]


@dataclass(frozen=True)
class KnowledgeScan:
    """What a scan of the knowledge folder found."""

    lessons: tuple[Lesson, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def _atx_headings(body: str) -> dict[int, tuple[int, str]]:
    """{line index: (level, text)} of the top-level `#` headings, as markdown-it reads them.

    A `#` line inside a fenced code block, a list or a quote is not a heading; nor is an
    underlined (setext) line, which course files never mean as one.
    """
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").disable("lheading").parse(body)
    found: dict[int, tuple[int, str]] = {}
    for tok, inline in zip(tokens, tokens[1:], strict=False):
        if tok.type == "heading_open" and tok.level == 0 and tok.map:
            found[tok.map[0]] = (int(tok.tag[1]), inline.content.strip())
    return found


def parse_sections(body: str, first_line: int = 1) -> tuple[Section, ...]:
    """Split Markdown text into heading sections (text before the first heading has heading '')."""
    out: list[Section] = []
    stack: list[tuple[int, str]] = []
    heading, level, start = "", 0, first_line
    buf: list[str] = []

    def flush() -> None:
        text = "\n".join(buf).strip()
        if text or heading:
            out.append(Section(heading, level, tuple(h for _, h in stack), text, start))

    headings = _atx_headings(body)
    for i, line in enumerate(body.splitlines()):
        if i not in headings:
            buf.append(line)
            continue
        flush()
        level, heading = headings[i]
        stack = [(lv, h) for lv, h in stack if lv < level] + [(level, heading)]
        start, buf = first_line + i, []
    flush()
    return tuple(out)


def scan_knowledge(root: Path, check: LineCheck | None = None) -> KnowledgeScan:
    """Read every course file under root; a bad file is reported and skipped, never fatal."""
    root = Path(root)
    if not root.is_dir():
        return KnowledgeScan((), (Problem(str(root), 0, "知识库目录不存在"),))
    lessons: list[Lesson] = []
    problems: list[Problem] = []
    names: dict[str, str] = {}  # lower-cased relative path -> the first file with it
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if path.name.lower() == "readme.md" or path.name.startswith("."):
            continue
        # "x.MD" beside "x.md" is one file on Windows and macOS: the second is not read.
        first = names.setdefault(rel.lower(), rel)
        if first != rel:
            problems.append(Problem(rel, 0, f"same name as {first} ignoring case: rename one"))
            continue
        if path.name.endswith(".meta.yaml"):
            base = path.name[: -len(".meta.yaml")]
            if not any(
                p.is_file()
                for p in [path.with_name(base), *path.parent.glob(base + ".*")]
                if not p.name.endswith(".meta.yaml")
            ):
                problems.append(Problem(rel, 1, "sidecar without a course file", "warning"))
            continue
        if path.suffix.lower() not in SUFFIXES:
            problems.append(Problem(rel, 0, f"unsupported file type {path.suffix!r}", "warning"))
            continue
        lesson, found = read_course_file(path, rel, check)
        problems.extend(found)
        if lesson is not None:
            lessons.append(lesson)
    lessons, dup_problems = _drop_duplicates(lessons)
    problems.extend(dup_problems)
    return KnowledgeScan(tuple(lessons), tuple(problems))


def _drop_duplicates(lessons: list[Lesson]) -> tuple[list[Lesson], list[Problem]]:
    seen: dict[str, Lesson] = {}
    problems = []
    for lesson in lessons:
        first = seen.get(lesson.doc_id)
        if first is None:
            seen[lesson.doc_id] = lesson
        else:
            path, line = lesson.id_at if lesson.id_at[0] else (lesson.source_file, 1)
            problems.append(
                Problem(
                    path,
                    line,
                    f"duplicate id '{lesson.doc_id}' (already used by {first.source_file})",
                )
            )
    return list(seen.values()), problems


def read_course_file(
    path: Path, rel: str, check: LineCheck | None = None
) -> tuple[Lesson | None, list[Problem]]:
    """Read one course file; returns the lesson (None if unusable) and what was wrong with it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(rel, 0, f"unreadable file: {exc.strerror or exc}")]
    suffix = path.suffix.lower()
    if not raw.strip():
        return None, [Problem(rel, 1, "empty file")]
    if suffix in (".md", ".txt"):
        text, problem = _decode(raw, rel)
        if problem:
            return None, [problem]
        if too_large := _too_large(len(text), text.count("\n") + 1, "lines"):
            return None, [Problem(rel, 0, too_large)]
        if suffix == ".md":
            meta, meta_line, body, body_line, problems = _split_front_matter(text, rel)
            if meta is None:
                return None, problems
            digest = hashlib.sha256(raw).hexdigest()
            lesson, problems = _build(
                meta, meta_line, body, body_line, rel, digest, problems, strict=True
            )
            return _checked(lesson, problems, check, meta_line)
        body = text
    else:
        body, reason = extract_text(raw, suffix)
        if reason:
            return None, [Problem(rel, 0, reason)]
    candidates = [
        path.with_name(path.stem + ".meta.yaml"),
        path.with_name(path.name + ".meta.yaml"),
    ]
    sidecar = next((c for c in candidates if c.is_file()), None)
    if sidecar is None:
        return None, [Problem(rel, 0, f"missing metadata sidecar {candidates[0].name}")]
    side_rel = str(Path(rel).with_name(sidecar.name))
    side_text, problem = _decode(sidecar.read_bytes(), side_rel)
    if problem:
        return None, [problem]
    meta, problems = _parse_yaml(side_text, side_rel, 1)
    if meta is None:
        return None, problems
    digest = hashlib.sha256(raw + b"\0" + side_text.encode()).hexdigest()
    where = _LineMap(side_text, 1, side_rel)
    lesson, problems = _build(meta, where, body, 1, rel, digest, problems, strict=False)
    return _checked(lesson, problems, check, where)


def _checked(
    lesson: Lesson | None, problems: list[Problem], check: LineCheck | None, where: _LineMap
) -> tuple[Lesson | None, list[Problem]]:
    """The lesson kept out (None) when a line of it must not reach a senior; one error a line."""
    if lesson is None or check is None:
        return lesson, problems
    lines = lesson_text_lines(lesson)
    found = [
        Problem(lesson.source_file, n, f"harmful line ({reason}): {text[:40]}")
        for (n, _, text), reason in zip(lines, check([(s, t) for _, s, t in lines]), strict=True)
        if reason
    ]
    # The title and the verdict are shown too ("来自课程：《…》", the first line of a verdict).
    for key, value in (("title", lesson.title), ("verdict", lesson.verdict)):
        reason = check([("", value)])[0] if value else None
        if reason:
            found.append(Problem(where.rel, where.line_of(key), f"harmful {key} ({reason})"))
    return (None, problems + found) if found else (lesson, problems)


def lesson_text_lines(lesson: Lesson) -> list[tuple[int, str, str]]:
    """(line number, level-2 section, text) of every non-empty body line, list markers removed."""
    out = []
    section = ""
    headings = _atx_headings(lesson.body)
    for i, line in enumerate(lesson.body.splitlines()):
        level, heading = headings.get(i, (0, ""))
        if level and level <= 2:
            section = heading
        text = heading if level else _MARKER.sub("", line).strip()
        if text:
            out.append((lesson.body_line + i, section, text))
    return out


_MARKER = re.compile(r"^\s*(?:\d+[.、）)]|[-*•>])\s*")


def _decode(raw: bytes, rel: str) -> tuple[str, Problem | None]:
    if b"\0" in raw[:4096]:
        return "", Problem(rel, 1, "binary content, not a text file")
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            raw.decode("gb18030")
            hint = " (looks like GBK/GB18030: save it as UTF-8)"
        except UnicodeDecodeError:
            pass
        return "", Problem(rel, line, f"wrong encoding: not UTF-8{hint}")


class _LineMap:
    """Finds the line of a front-matter key, so messages point at it."""

    def __init__(self, text: str, first_line: int, rel: str) -> None:
        self.lines = text.splitlines()
        self.first = first_line
        self.rel = rel

    def line_of(self, key: str) -> int:
        for i, line in enumerate(self.lines):
            if re.match(rf"^{re.escape(key)}\s*:", line):
                return self.first + i
        return self.first


def _parse_yaml(text: str, rel: str, first_line: int) -> tuple[dict | None, list[Problem]]:
    try:
        meta = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # An unclosed bracket or quote is noticed lines later (or at the end): point at its start.
        if re.search(r"flow|quoted", getattr(exc, "context", None) or ""):
            mark = getattr(exc, "context_mark", None) or mark
        line = first_line + (mark.line if mark else 0)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem(rel, line, f"invalid YAML: {reason}")]
    if not isinstance(meta, dict):
        return None, [Problem(rel, first_line, "metadata must be a mapping of field: value")]
    return meta, []


def _split_front_matter(
    text: str, rel: str
) -> tuple[dict | None, _LineMap, str, int, list[Problem]]:
    lines = text.splitlines()
    empty = _LineMap("", 1, rel)
    if not lines or lines[0].strip() != "---":
        return None, empty, "", 1, [Problem(rel, 1, "missing YAML front matter (start with ---)")]
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return None, empty, "", 1, [Problem(rel, 1, "front matter is not closed with ---")]
    fm_text = "\n".join(lines[1:end])
    meta, problems = _parse_yaml(fm_text, rel, 2)
    body = "\n".join(lines[end + 1 :])
    return meta, _LineMap(fm_text, 2, rel), body, end + 2, problems


def _as_list(value: object) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    return None


def _build(
    meta: dict,
    where: _LineMap,
    body: str,
    body_line: int,
    rel: str,
    digest: str,
    problems: list[Problem],
    strict: bool,
) -> tuple[Lesson | None, list[Problem]]:
    errors_before = len([p for p in problems if p.severity == "error"])
    for key in REQUIRED:
        if meta.get(key) in (None, ""):
            problems.append(Problem(where.rel, where.line_of(key), f"missing field '{key}'"))
    for key in meta:
        if key not in REQUIRED and key not in OPTIONAL:
            problems.append(Problem(where.rel, where.line_of(str(key)), f"unknown field '{key}'"))
    doc_id = str(meta.get("id") or "")
    if doc_id and not SLUG.match(doc_id):
        problems.append(
            Problem(where.rel, where.line_of("id"), f"id '{doc_id}' is not a slug (a-z, 0-9, -)")
        )
    elif doc_id and doc_id != file_id(rel):
        problems.append(
            Problem(where.rel, where.line_of("id"), id_mismatch(doc_id, rel), "warning")
        )
    topic = str(meta.get("topic") or "")
    if topic and topic not in TOPICS:
        problems.append(Problem(where.rel, where.line_of("topic"), f"unknown topic '{topic}'"))
    updated = meta.get("updated")
    if updated not in (None, "") and not isinstance(updated, dt.date):
        try:
            dt.date.fromisoformat(str(updated))
        except ValueError:
            problems.append(
                Problem(
                    where.rel, where.line_of("updated"), f"updated '{updated}' is not YYYY-MM-DD"
                )
            )
    lists = {}
    for key in ("tags", "aliases"):
        lists[key] = _as_list(meta.get(key))
        if lists[key] is None:
            problems.append(
                Problem(where.rel, where.line_of(key), f"'{key}' must be a list of text")
            )
    verdict = str(meta.get("verdict") or "").strip()
    if verdict and ("\n" in verdict or len(verdict) > VERDICT_MAX_CHARS):
        problems.append(
            Problem(
                where.rel,
                where.line_of("verdict"),
                f"verdict must be one line of at most {VERDICT_MAX_CHARS} characters",
            )
        )
    elif strict and not verdict:
        problems.append(
            Problem(
                where.rel,
                1,
                "no 'verdict' line (the first line of an answer to '是真的吗' about this lesson)",
                "warning",
            )
        )
    stripped = body.strip()
    if len(re.sub(r"\s", "", stripped)) < MIN_BODY_CHARS:
        problems.append(Problem(rel, body_line, "empty body"))
    sections = parse_sections(body, body_line)
    if strict and stripped:
        present = {s.heading for s in sections if s.level == 2}
        missing = [name for name in SECTIONS if name not in present]
        if missing:
            problems.append(
                Problem(rel, body_line, f"missing section(s): {'、'.join(missing)}", "warning")
            )
    if len([p for p in problems if p.severity == "error"]) > errors_before:
        return None, problems
    lesson = Lesson(
        doc_id=doc_id,
        title=str(meta["title"]).strip(),
        topic=topic,
        updated=str(updated),
        body=body,
        source_file=rel,
        sha256=digest,
        tags=lists["tags"] or (),
        aliases=lists["aliases"] or (),
        source=str(meta.get("source") or ""),
        audience=str(meta.get("audience") or ""),
        verdict=verdict,
        body_line=body_line,
        sections=sections,
        id_at=(where.rel, where.line_of("id")),
    )
    return lesson, problems


def file_id(rel: str) -> str:
    """The id a course file's name gives it: "a/fake-police.md" -> "fake-police"."""
    return Path(rel).name.split(".", 1)[0]


def id_mismatch(doc_id: str, rel: str) -> str:
    """The reason given when a lesson's id is not its file name."""
    suffix = Path(rel).suffix
    return (
        f"id '{doc_id}' does not match the file name '{Path(rel).name}' (name it {doc_id}{suffix})"
    )


class _TooLarge(ValueError):
    """A document over the text or paragraph cap (the message says which)."""


def _too_large(chars: int, paragraphs: int, unit: str = "paragraphs") -> str:
    """Why a document is refused for its size ('' when it is within the caps)."""
    if paragraphs > MAX_PARAGRAPHS:
        return (
            f"too large to index: more than {MAX_PARAGRAPHS:,} {unit} ({paragraphs:,}); "
            "split it into several lessons"
        )
    if chars > MAX_TEXT_CHARS:
        return (
            f"too large to index: more than {MAX_TEXT_CHARS:,} characters of text ({chars:,}); "
            "split it into several lessons"
        )
    return ""


_parsed: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()
_parsed_lock = threading.Lock()


def extract_text(raw: bytes, suffix: str) -> tuple[str, str]:
    """(text, "") of a .docx/.pdf/.pptx file, or ("", why not); cached by content hash."""
    key = (suffix, hashlib.sha256(raw).hexdigest())
    with _parsed_lock:
        if key in _parsed:
            _parsed.move_to_end(key)
            return _parsed[key]
    try:
        result = (_extract_binary(raw, suffix), "")
    except _TooLarge as exc:
        result = ("", str(exc))
    except Exception as exc:  # corrupt office/pdf files raise many library-specific errors
        result = ("", f"corrupt or unreadable {suffix[1:]} file: {exc}")
    with _parsed_lock:
        _parsed[key] = result
        while len(_parsed) > PARSED_CACHE_SIZE:
            _parsed.popitem(last=False)
    return result


class _Budget:
    """Counts paragraphs and characters as a document is read; raises _TooLarge past a cap."""

    def __init__(self) -> None:
        self.chars = self.paragraphs = 0

    def add(self, text: str) -> str:
        self.paragraphs += 1
        self.chars += len(text)
        if reason := _too_large(self.chars, self.paragraphs):
            raise _TooLarge(reason)
        return text


def _extract_binary(raw: bytes, suffix: str) -> str:
    """Text of a .docx/.pdf/.pptx file, with headings turned into Markdown headings."""
    budget = _Budget()
    if suffix == ".docx":
        import docx
        from docx.oxml.ns import qn
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(raw))
        body = document.element.body
        # Counted on the XML first: building 166k paragraph objects is what takes minutes.
        count = sum(1 for _ in body.iter(qn("w:p")))
        if reason := _too_large(0, count):
            raise _TooLarge(reason)
        parts = []
        for element in body.iterchildren(qn("w:p")):
            para = Paragraph(element, document._body)
            style = (para.style.name if para.style is not None else "") or ""
            m = re.match(r"Heading (\d)", style)
            text = budget.add(para.text.strip())
            if text:
                parts.append(f"{'#' * int(m.group(1))} {text}" if m else text)
        return "\n".join(parts)
    if suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(raw))
        return "\n".join(budget.add((page.extract_text() or "").strip()) for page in reader.pages)
    if suffix == ".pptx":
        from pptx import Presentation

        parts = []
        for slide in Presentation(io.BytesIO(raw)).slides:
            title_shape = slide.shapes.title
            if title_shape is not None and title_shape.has_text_frame and title_shape.text.strip():
                parts.append(f"## {title_shape.text.strip()}")
            for shape in slide.shapes:
                # shapes.title returns a new proxy each time: compare ids, not identity.
                is_title = title_shape is not None and shape.shape_id == title_shape.shape_id
                if is_title or not shape.has_text_frame:
                    continue
                parts.extend(
                    budget.add(t.strip()) for t in shape.text_frame.text.splitlines() if t.strip()
                )
        return "\n".join(parts)
    raise ValueError(f"unsupported type {suffix}")


# Sections whose items a reply may show one by one (and the index embeds one by one).
LINE_SECTIONS = ("正确做法", "如果已经上当", "怎么识破")


def line_key(text: str) -> str:
    """A lesson line as the encoder reads it: NFKC, without list marks and end punctuation."""
    return unicodedata.normalize("NFKC", text).strip(" -*•、，,。：:")


def record_lines(record: LessonRecord) -> list[tuple[str, int, str]]:
    """(section, position, text) of each item of the lesson's line sections, in lesson order."""
    return [
        (name, i, item)
        for name in LINE_SECTIONS
        for i, item in enumerate(iter_section_items(record.section(name)))
    ]


def iter_section_items(text: str) -> Iterable[str]:
    """Items of a numbered or bulleted list section, markers removed."""
    for line in text.splitlines():
        m = re.match(r"^\s*(?:\d+[.、）)]|[-*•])\s*(.+)$", line)
        if m:
            yield m.group(1).strip()
