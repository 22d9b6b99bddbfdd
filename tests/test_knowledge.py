"""Course files in every format, and validation messages as file:line: reason."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import KNOWLEDGE, LESSON, ROOT, TINY, make_settings, write_lesson

from bot.cli import main
from bot.knowledge.lessons import parse_sections, scan_knowledge
from bot.search.live import LiveIndex
from bot.search.retrieve import Retriever
from bot.search.store import IndexStore

GOOD = {"tiny-police", "tiny-wechat", "tiny-code"}


def sidecar(folder: Path, name: str, doc_id: str, title: str, topic: str = "fake-police") -> Path:
    """Write a metadata sidecar next to a non-Markdown course file."""
    path = folder / name
    path.write_text(f"id: {doc_id}\ntitle: {title}\ntopic: {topic}\nupdated: 2026-11-01\n", "utf-8")
    return path


def make_docx(path: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_paragraph("这是一份给老年朋友的讲义。")
    doc.add_heading("一句话提醒", level=2)
    doc.add_paragraph("公安机关不会让您把钱转到安全账户。接到这种电话马上挂断。")
    doc.add_heading("正确做法", level=2)
    doc.add_paragraph("挂断电话，拨打110核实。")
    doc.add_paragraph("不转账，不告诉任何人验证码。")
    doc.save(str(path))


def make_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(
        0,
        8,
        "Anquan zhanghu shi pianju! Jingcha bu hui rang nin zhuanzhang.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0,
        8,
        "Gua duan dianhua, bo da 110 hezhi; bu yao gaosu yanzhengma.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.output(str(path))


def make_pptx(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = "怎么识破"
    slide.placeholders[1].text = "让您保密、不许告诉家人的，都是骗子。\n索要验证码的都是骗子。"
    slide = prs.slides.add_slide(prs.slide_layouts[6])  # blank: no title placeholder
    box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(2))
    box.text_frame.text = "遇到可疑电话，先挂断，再找家人商量。"
    prs.save(str(path))


def by_id(folder: Path) -> dict:
    scan = scan_knowledge(folder)
    return {lesson.doc_id: lesson for lesson in scan.lessons}


# ---------------------------------------------------------------- formats


def test_markdown_front_matter_fields_and_sections(tiny_kb):
    scan = scan_knowledge(tiny_kb)
    assert scan.problems == ()
    lessons = {lesson.doc_id: lesson for lesson in scan.lessons}
    assert set(lessons) == GOOD
    police = lessons["tiny-police"]
    assert police.title == "冒充警察要求转账到安全账户"
    assert police.topic == "fake-police"
    assert police.updated == "2026-11-01"
    assert police.aliases == ("公安局打电话说我洗钱",)
    assert police.source_file == "tiny-police.md"
    assert police.body_line == 9  # the line after the closing ---
    assert police.section("一句话提醒") == "公安机关不会让您把钱转到安全账户。"
    faq = [s for s in police.sections if s.level == 3]
    assert [(s.path, s.line) for s in faq] == [(("常见问题", "警察说我涉嫌洗钱是真的吗？"), 31)]
    assert {lesson.source_file for lesson in scan.lessons} == {f"{d}.md" for d in GOOD}


def test_txt_with_sidecar(tiny_kb):
    (tiny_kb / "notes.txt").write_text(
        "验证码就是钥匙，谁要都不给。\n银行不会向您要验证码。\n", "utf-8"
    )
    sidecar(tiny_kb, "notes.meta.yaml", "txt-lesson", "文本课：验证码", "verification-code")
    lesson = by_id(tiny_kb)["txt-lesson"]
    assert lesson.source_file == "notes.txt"
    assert lesson.title == "文本课：验证码"
    assert lesson.topic == "verification-code"
    assert "银行不会向您要验证码" in lesson.body


def test_docx_with_sidecar_keeps_headings(tiny_kb):
    make_docx(tiny_kb / "handout.docx")
    sidecar(tiny_kb, "handout.meta.yaml", "docx-lesson", "Word讲义")
    lesson = by_id(tiny_kb)["docx-lesson"]
    assert lesson.source_file == "handout.docx"
    assert lesson.section("一句话提醒").startswith("公安机关不会让您把钱转到安全账户")
    assert "不转账，不告诉任何人验证码。" in lesson.section("正确做法")
    assert "这是一份给老年朋友的讲义。" in lesson.body


def test_pdf_with_sidecar(tiny_kb):
    make_pdf(tiny_kb / "leaflet.pdf")
    sidecar(tiny_kb, "leaflet.pdf.meta.yaml", "pdf-lesson", "PDF传单")
    lesson = by_id(tiny_kb)["pdf-lesson"]
    assert lesson.source_file == "leaflet.pdf"
    assert "Anquan zhanghu shi pianju!" in lesson.body
    assert "bo da 110 hezhi" in lesson.body


@pytest.mark.parametrize("meta_name", ["slides.meta.yaml", "slides.pptx.meta.yaml"])
def test_pptx_with_either_sidecar_name(tiny_kb, meta_name):
    make_pptx(tiny_kb / "slides.pptx")
    sidecar(tiny_kb, meta_name, "pptx-lesson", "幻灯片：识破骗子")
    scan = scan_knowledge(tiny_kb)
    assert scan.errors == []
    assert [p for p in scan.problems if "sidecar" in p.reason] == []
    lesson = {x.doc_id: x for x in scan.lessons}["pptx-lesson"]
    assert lesson.source_file == "slides.pptx"
    # The slide title becomes the heading, and is not repeated as body text.
    assert lesson.section("怎么识破").splitlines() == [
        "让您保密、不许告诉家人的，都是骗子。",
        "索要验证码的都是骗子。",
        "遇到可疑电话，先挂断，再找家人商量。",
    ]


def test_sidecar_edit_changes_the_content_hash(tiny_kb):
    (tiny_kb / "notes.txt").write_text("验证码就是钥匙，谁要都不给，家里人也不给。", "utf-8")
    sidecar(tiny_kb, "notes.meta.yaml", "txt-lesson", "旧标题")
    before = by_id(tiny_kb)["txt-lesson"].sha256
    sidecar(tiny_kb, "notes.meta.yaml", "txt-lesson", "新标题")
    after = by_id(tiny_kb)["txt-lesson"]
    assert after.title == "新标题"
    assert after.sha256 != before


# ---------------------------------------------------------------- validation


def _lesson_text(key: str = "code", **changes) -> str:
    return textwrap.dedent(LESSON.format(**{**TINY[key], **changes}))


def _insert_after(text: str, prefix: str, line: str) -> str:
    lines = text.splitlines(keepends=True)
    at = next(i for i, x in enumerate(lines) if x.startswith(prefix)) + 1
    return "".join([*lines[:at], line + "\n", *lines[at:]])


def bad_missing_field(folder: Path) -> None:
    text = _lesson_text(id="no-topic")
    (folder / "no-topic.md").write_text(text.replace("topic: verification-code\n", ""), "utf-8")


def bad_unknown_field(folder: Path) -> None:
    text = _insert_after(_lesson_text(id="extra-field"), "updated:", "colour: red")
    (folder / "extra-field.md").write_text(text, "utf-8")


def bad_unknown_topic(folder: Path) -> None:
    write_lesson(folder, "code", id="odd-topic", topic="crypto-mining")


def bad_not_a_slug(folder: Path) -> None:
    write_lesson(folder, "code", id="Not_A_Slug")


def bad_date(folder: Path) -> None:
    text = _lesson_text(id="bad-date").replace("updated: 2026-11-01", "updated: last week")
    (folder / "bad-date.md").write_text(text, "utf-8")


def bad_duplicate_id(folder: Path) -> None:
    # Sorted after tiny-police.md, so this copy is the duplicate.
    (folder / "zz-copy.md").write_text(_lesson_text("police", title="另一份"), "utf-8")


def bad_duplicate_id_in_sidecar(folder: Path) -> None:
    (folder / "zz-dup.txt").write_text("验证码就是钥匙，谁要都不给，家里人也不给。", "utf-8")
    sidecar(folder, "zz-dup.meta.yaml", "tiny-code", "重复的课")


def bad_empty_body(folder: Path) -> None:
    head = "---\nid: empty-body\ntitle: 空课\ntopic: fake-police\nupdated: 2026-11-01\n---\n"
    (folder / "empty-body.md").write_text(head + "\n\n  \n", "utf-8")


def bad_yaml(folder: Path) -> None:
    text = _lesson_text(id="bad-yaml").replace(
        "title: 验证码不能告诉任何人", "title: 验证码: 不能说"
    )
    (folder / "bad-yaml.md").write_text(text, "utf-8")


def bad_yaml_bracket(folder: Path) -> None:
    # YAML notices the missing ] only on the next line; the message must point at line 3.
    text = _lesson_text(id="bracket").replace("title: 验证码不能告诉任何人", "title: [验证码")
    (folder / "bracket.md").write_text(text, "utf-8")


def bad_yaml_quote(folder: Path) -> None:
    text = _lesson_text(id="quote").replace("title: 验证码不能告诉任何人", 'title: "验证码')
    (folder / "quote.md").write_text(text, "utf-8")


def bad_no_front_matter(folder: Path) -> None:
    (folder / "plain.md").write_text("## 一句话提醒\n验证码就是钥匙，谁要都不给。\n", "utf-8")


def bad_unclosed_front_matter(folder: Path) -> None:
    (folder / "open.md").write_text(_lesson_text(id="open").replace("\n---\n", "\n", 1), "utf-8")


def bad_gbk(folder: Path) -> None:
    (folder / "gbk.md").write_bytes(_lesson_text(id="gbk-lesson").encode("gbk"))


def bad_binary_md(folder: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 4
    (folder / "photo.md").write_bytes(png)


def bad_empty_file(folder: Path) -> None:
    (folder / "blank.md").write_bytes(b"")


def bad_corrupt_docx(folder: Path) -> None:
    (folder / "broken.docx").write_bytes(os.urandom(2048))
    sidecar(folder, "broken.meta.yaml", "broken-docx", "坏文件")


def bad_missing_sidecar(folder: Path) -> None:
    (folder / "orphan.txt").write_text("验证码就是钥匙，谁要都不给，家里人也不给。", "utf-8")


def bad_sidecar_yaml(folder: Path) -> None:
    (folder / "side.txt").write_text("验证码就是钥匙，谁要都不给，家里人也不给。", "utf-8")
    (folder / "side.meta.yaml").write_text("id: side\ntitle: [没有关上\n", "utf-8")


def bad_sidecar_unknown_field(folder: Path) -> None:
    (folder / "side2.txt").write_text("验证码就是钥匙，谁要都不给，家里人也不给。", "utf-8")
    sidecar(folder, "side2.meta.yaml", "side-two", "旁注")
    with open(folder / "side2.meta.yaml", "a", encoding="utf-8") as handle:
        handle.write("speaker: 王老师\n")


def bad_sidecar_empty_body(folder: Path) -> None:
    (folder / "short.txt").write_text("\n短。\n", "utf-8")
    sidecar(folder, "short.meta.yaml", "short-txt", "太短")


# (writer, expected "file:line" (line None: any), words the reason must contain)
BAD_FILES = {
    "missing field": (bad_missing_field, "no-topic.md:2", "missing field 'topic'"),
    "unknown field": (bad_unknown_field, "extra-field.md:6", "unknown field 'colour'"),
    "unknown topic": (bad_unknown_topic, "odd-topic.md:4", "unknown topic 'crypto-mining'"),
    "id not a slug": (bad_not_a_slug, "Not_A_Slug.md:2", "not a slug"),
    "bad date": (bad_date, "bad-date.md:5", "YYYY-MM-DD"),
    "duplicate id": (bad_duplicate_id, "zz-copy.md:2", "duplicate id 'tiny-police'"),
    "duplicate id in sidecar": (
        bad_duplicate_id_in_sidecar,
        "zz-dup.meta.yaml:1",
        "duplicate id 'tiny-code'",
    ),
    "empty body": (bad_empty_body, "empty-body.md:7", "empty body"),
    "invalid YAML": (bad_yaml, "bad-yaml.md:3", "invalid YAML"),
    "unclosed bracket": (bad_yaml_bracket, "bracket.md:3", "invalid YAML"),
    "unclosed quote": (bad_yaml_quote, "quote.md:3", "invalid YAML"),
    "no front matter": (bad_no_front_matter, "plain.md:1", "front matter"),
    "unclosed front matter": (bad_unclosed_front_matter, "open.md:1", "not closed"),
    "wrong encoding": (bad_gbk, "gbk.md:3", "GBK"),
    "binary as md": (bad_binary_md, "photo.md:1", "binary"),
    "empty file": (bad_empty_file, "blank.md:1", "empty file"),
    "corrupt docx": (bad_corrupt_docx, "broken.docx:None", "corrupt"),
    "missing sidecar": (bad_missing_sidecar, "orphan.txt:None", "missing metadata sidecar"),
    "sidecar YAML": (bad_sidecar_yaml, "side.meta.yaml:2", "invalid YAML"),
    "sidecar field": (bad_sidecar_unknown_field, "side2.meta.yaml:5", "unknown field 'speaker'"),
    "sidecar empty body": (bad_sidecar_empty_body, "short.txt:1", "empty body"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_bad_file_is_reported_at_its_line_and_skipped(tiny_kb, case):
    writer, where, reason = BAD_FILES[case]
    writer(tiny_kb)
    scan = scan_knowledge(tiny_kb)
    assert len(scan.errors) == 1, [str(p) for p in scan.problems]
    message = str(scan.errors[0])
    path, line = where.rsplit(":", 1)
    line_pattern = r"\d+" if line == "None" else line
    assert re.match(rf"^{re.escape(path)}:{line_pattern}: ", message), message
    assert reason in message
    assert {lesson.doc_id for lesson in scan.lessons} == GOOD
    assert {lesson.source_file for lesson in scan.lessons} == {f"{d}.md" for d in GOOD}


def test_duplicate_keeps_the_first_file(tiny_kb):
    bad_duplicate_id(tiny_kb)
    scan = scan_knowledge(tiny_kb)
    police = {x.doc_id: x for x in scan.lessons}["tiny-police"]
    assert police.source_file == "tiny-police.md"
    assert "already used by tiny-police.md" in str(scan.errors[0])


def test_every_bad_file_at_once_never_stops_the_good_ones(tiny_kb):
    for writer, _, _ in BAD_FILES.values():
        writer(tiny_kb)
    make_docx(tiny_kb / "handout.docx")
    sidecar(tiny_kb, "handout.meta.yaml", "docx-lesson", "Word讲义")
    scan = scan_knowledge(tiny_kb)
    assert {x.doc_id for x in scan.lessons} == GOOD | {"docx-lesson"}
    assert len(scan.errors) == len(BAD_FILES)


def test_warnings_do_not_count_as_errors(tiny_kb):
    (tiny_kb / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 legacy word file")
    sidecar(tiny_kb, "gone.meta.yaml", "gone", "没有正文文件")
    short = _lesson_text(id="few-sections").split("## 讲课要点")[0]
    (tiny_kb / "few-sections.md").write_text(short, "utf-8")
    scan = scan_knowledge(tiny_kb)
    assert scan.errors == []
    found = {str(p) for p in scan.problems}
    assert any(m.startswith("old.doc:") and "unsupported" in m for m in found), found
    assert any(m.startswith("gone.meta.yaml:1: warning:") for m in found), found
    assert any(m.startswith("few-sections.md:9: warning: missing section") for m in found), found
    assert "few-sections" in {x.doc_id for x in scan.lessons}


def test_missing_folder_is_reported():
    scan = scan_knowledge(ROOT / "no-such-folder")
    assert scan.lessons == ()
    assert len(scan.errors) == 1


# ---------------------------------------------------------------- python -m bot check


def test_check_command_exits_1_and_prints_file_line_reason(tiny_kb):
    bad_unknown_topic(tiny_kb)
    bad_gbk(tiny_kb)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--knowledge-dir", str(tiny_kb), "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "odd-topic.md:4: unknown topic 'crypto-mining'" in result.stderr
    assert "gbk.md:3: wrong encoding" in result.stderr
    assert "3 lessons OK, 2 errors" in result.stdout


def test_check_command_passes_on_the_shipped_knowledge(capsys):
    assert main(["--knowledge-dir", str(KNOWLEDGE), "check"]) == 0
    out = capsys.readouterr()
    lessons = len(scan_knowledge(KNOWLEDGE).lessons)
    assert lessons >= 20
    assert f"{lessons} lessons OK, 0 errors" in out.out
    assert out.err == ""


# ---------------------------------------------------------------- into the index


def test_every_format_reaches_the_index(tiny_kb, tmp_path, encoder):
    make_docx(tiny_kb / "handout.docx")
    sidecar(tiny_kb, "handout.meta.yaml", "handout", "Word讲义")
    make_pdf(tiny_kb / "leaflet.pdf")
    sidecar(tiny_kb, "leaflet.pdf.meta.yaml", "leaflet", "PDF传单")
    make_pptx(tiny_kb / "slides.pptx")
    sidecar(tiny_kb, "slides.meta.yaml", "slides", "幻灯片：识破骗子")
    (tiny_kb / "notes.txt").write_text("存折密码只有自己知道，连子女也不要告诉。", "utf-8")
    sidecar(tiny_kb, "notes.txt.meta.yaml", "notes", "文本课", "verification-code")
    store = IndexStore(make_settings(tmp_path, knowledge_dir=tiny_kb), encoder)
    report = store.ingest()
    assert report.problems == ()
    index = store.open()
    sources = {c.doc_id: c.source_file for c in index.chunks}
    assert sources == {
        "tiny-police": "tiny-police.md",
        "tiny-wechat": "tiny-wechat.md",
        "tiny-code": "tiny-code.md",
        "handout": "handout.docx",
        "leaflet": "leaflet.pdf",
        "slides": "slides.pptx",
        "notes": "notes.txt",
    }
    retriever = Retriever(LiveIndex(store), encoder)
    for query, doc_id, section in [
        ("可疑的事先商量", "slides", "怎么识破"),
        ("anquan zhanghu pianju", "leaflet", "PDF传单"),
        ("给老年朋友的讲义", "handout", "Word讲义"),
        ("存折密码", "notes", "文本课"),
    ]:
        found = retriever.search(query, k=3, mode="bm25")
        assert (found[0].doc_id, found[0].section) == (doc_id, section), query


def test_a_hash_line_inside_a_code_block_is_not_a_heading():
    body = "## 正确做法\n1. 挂断。\n```\n# 这不是标题\n```\n## 常见问题\n### 能转吗？\n不能。\n"
    sections = parse_sections(body)
    assert [(s.level, s.heading) for s in sections] == [
        (2, "正确做法"),
        (2, "常见问题"),
        (3, "能转吗？"),
    ]
    assert "# 这不是标题" in sections[0].text
