"""Course documents: capped by text size and paragraph count, parsed once per content, named by id."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from helpers import write_lesson
from test_knowledge import make_docx, sidecar
from test_uploads import LIMIT, lesson_bytes, meta_bytes

from bot.knowledge import lessons
from bot.knowledge.lessons import MAX_PARAGRAPHS, read_course_file, scan_knowledge
from bot.staff.uploads import accept_upload


def many_paragraph_docx(tmp_path: Path, paragraphs: int) -> bytes:
    """A small .docx whose body is this many one-character paragraphs (78 KB for 166k)."""
    make_docx(tmp_path / "base.docx")
    source = zipfile.ZipFile(tmp_path / "base.docx")
    xml = source.read("word/document.xml").decode()
    head, _, tail = xml.partition("<w:body>")
    body = "<w:p><w:r><w:t>骗</w:t></w:r></w:p>" * paragraphs
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = (
                    head + "<w:body>" + body + tail.split("</w:body>")[0] + "</w:body>"
                ).encode()
                data += xml.split("</w:body>", 1)[1].encode()
            target.writestr(item.filename, data)
    return out.getvalue()


def test_a_docx_of_166k_tiny_paragraphs_is_refused_quickly_with_the_reason(tmp_path):
    data = many_paragraph_docx(tmp_path, 166_000)
    assert len(data) < 200_000
    (tmp_path / "flood.docx").write_bytes(data)
    sidecar(tmp_path, "flood.meta.yaml", "flood", "一万段")
    start = time.perf_counter()
    lesson, problems = read_course_file(tmp_path / "flood.docx", "flood.docx")
    assert time.perf_counter() - start < 15
    assert lesson is None
    assert "more than 5,000 paragraphs (166," in problems[0].reason
    assert "split it" in problems[0].reason


def test_the_desk_refuses_the_same_docx_with_the_reason(tiny_kb, tmp_path):
    data = many_paragraph_docx(tmp_path, MAX_PARAGRAPHS + 1)
    results = accept_upload(
        tiny_kb, [("flood.docx", data), ("flood.meta.yaml", meta_bytes("flood"))], LIMIT
    )
    assert not any(r.ok for r in results)
    assert "paragraphs" in results[0].message
    assert not (tiny_kb / "flood.docx").exists()


def test_text_beyond_the_character_cap_is_refused(tmp_path):
    (tmp_path / "long.txt").write_text("验证码就是钥匙，谁要都不给。" * 20_000, "utf-8")
    sidecar(tmp_path, "long.meta.yaml", "long", "太长")
    lesson, problems = read_course_file(tmp_path / "long.txt", "long.txt")
    assert lesson is None
    assert "characters of text" in problems[0].reason


def test_an_office_file_is_parsed_once_per_content(tiny_kb, monkeypatch):
    make_docx(tiny_kb / "handout.docx")
    sidecar(tiny_kb, "handout.meta.yaml", "handout", "Word讲义")
    first = {x.doc_id: x for x in scan_knowledge(tiny_kb).lessons}["handout"]

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    import docx

    monkeypatch.setattr(docx, "Document", no_parsing)
    again = {x.doc_id: x for x in scan_knowledge(tiny_kb).lessons}["handout"]
    assert again.body == first.body
    # A changed file is a new content hash: parsed again (here: refused by the stub).
    (tiny_kb / "handout.docx").write_bytes((tiny_kb / "handout.docx").read_bytes() + b"\0")
    scan = scan_knowledge(tiny_kb)
    assert "handout" not in {x.doc_id for x in scan.lessons}
    assert any("parsed again" in p.reason for p in scan.problems)


def test_the_parse_cache_is_bounded():
    for i in range(lessons.PARSED_CACHE_SIZE + 10):
        lessons.extract_text(f"not an office file {i}".encode(), ".docx")
    assert len(lessons._parsed) <= lessons.PARSED_CACHE_SIZE


# ---------------------------------------------------------------- names


def test_an_id_that_is_not_the_file_name_is_reported(tiny_kb):
    write_lesson(tiny_kb, "code", id="other-name")
    (tiny_kb / "other-name.md").rename(tiny_kb / "code-two.md")
    problems = [str(p) for p in scan_knowledge(tiny_kb).problems]
    assert any(
        "code-two.md:2" in p and "does not match the file name 'code-two.md'" in p for p in problems
    )


def test_names_differing_only_in_case_are_one_name(tiny_kb):
    upper = tiny_kb / "tiny-code.MD"
    upper.write_bytes((tiny_kb / "tiny-code.md").read_bytes())
    scan = scan_knowledge(tiny_kb)
    errors = [str(p) for p in scan.errors]
    assert any("same name as" in e for e in errors), errors
    assert [x.source_file.lower() for x in scan.lessons].count("tiny-code.md") == 1


@pytest.mark.parametrize("name", ["tiny-code.MD", "Tiny-Code.md"])
def test_the_desk_refuses_a_name_that_exists_in_another_case(tiny_kb, name):
    results = accept_upload(tiny_kb, [(name, lesson_bytes(id="tiny-code"))], LIMIT)
    assert not results[0].ok
    assert "同名文件已存在" in results[0].message
    assert not (tiny_kb / name).exists()


def test_the_desk_refuses_a_lesson_not_named_by_its_id(tiny_kb):
    results = accept_upload(tiny_kb, [("my-upload.md", lesson_bytes(id="fresh-lesson"))], LIMIT)
    assert not results[0].ok
    assert "fresh-lesson.md" in results[0].message
    ok = accept_upload(tiny_kb, [("fresh-lesson.md", lesson_bytes(id="fresh-lesson"))], LIMIT)
    assert ok[0].ok
