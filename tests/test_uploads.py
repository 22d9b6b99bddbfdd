"""Content-desk uploads: only safe names, real file types and new ids get in; nothing is overwritten."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import textwrap
import zipfile
from pathlib import Path

import pytest
from helpers import LESSON, TINY
from test_knowledge import make_docx, make_pdf, make_pptx

from bot.knowledge.lessons import scan_knowledge
from bot.staff.uploads import MAX_MEMBERS, UploadResult, accept_upload, delete_lesson, safe_name

LIMIT = 5_000_000
BOMB = "压缩炸弹"


def lesson_bytes(key: str = "code", **changes: str) -> bytes:
    """A valid Markdown lesson (a tiny lesson with field changes) as UTF-8 bytes."""
    return textwrap.dedent(LESSON.format(**{**TINY[key], **changes})).encode("utf-8")


def meta_bytes(doc_id: str, title: str = "上传的讲义", topic: str = "fake-police") -> bytes:
    return f"id: {doc_id}\ntitle: {title}\ntopic: {topic}\nupdated: 2026-11-01\n".encode()


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under folder (hidden ones too), by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def rejected(
    folder: Path, files: list[tuple[str, bytes]], max_bytes: int = LIMIT
) -> list[UploadResult]:
    """Upload a batch that must be refused whole: no file accepted, the folder byte-identical."""
    before = snapshot(folder)
    results = accept_upload(folder, files, max_bytes)
    assert results, "every uploaded file gets a result"
    assert not [r for r in results if r.ok], results
    assert snapshot(folder) == before
    return results


def message_for(results: list[UploadResult], name: str) -> str:
    return next(r.message for r in results if r.name == name)


def office_bytes(make, tmp_path: Path, name: str) -> bytes:
    make(tmp_path / name)
    return (tmp_path / name).read_bytes()


# ---------------------------------------------------------------- what gets in


def test_a_new_markdown_lesson_is_accepted_byte_for_byte(tiny_kb):
    data = lesson_bytes(id="new-lesson", title="新课：冒充客服退款")
    [result] = accept_upload(tiny_kb, [("new-lesson.md", data)], LIMIT)
    assert result.ok
    assert "新课：冒充客服退款" in result.message
    assert (tiny_kb / "new-lesson.md").read_bytes() == data
    assert "new-lesson" in {lesson.doc_id for lesson in scan_knowledge(tiny_kb).lessons}
    assert not [p for p in tiny_kb.iterdir() if p.name.startswith(".")], "no temporary files left"


@pytest.mark.parametrize(
    ("make", "name", "sidecar"),
    [
        (make_docx, "handout.docx", "handout.meta.yaml"),
        (make_pptx, "slides.pptx", "slides.pptx.meta.yaml"),
        (make_pdf, "leaflet.pdf", "leaflet.meta.yaml"),
    ],
)
def test_real_office_and_pdf_files_with_a_sidecar_are_accepted(
    tiny_kb, tmp_path, make, name, sidecar
):
    data = office_bytes(make, tmp_path, name)
    doc_id = Path(name).stem  # a lesson is named by its id
    results = accept_upload(tiny_kb, [(name, data), (sidecar, meta_bytes(doc_id))], LIMIT)
    assert [r.ok for r in results] == [True], results
    assert (tiny_kb / name).read_bytes() == data
    assert (tiny_kb / sidecar).is_file()
    lessons = {lesson.doc_id: lesson for lesson in scan_knowledge(tiny_kb).lessons}
    assert lessons[doc_id].source_file == name


def test_a_real_docx_without_its_sidecar_is_rejected(tiny_kb, tmp_path):
    results = rejected(
        tiny_kb, [("handout.docx", office_bytes(make_docx, tmp_path, "handout.docx"))]
    )
    assert "sidecar" in message_for(results, "handout.docx")


def test_a_sidecar_without_its_course_file_is_not_saved(tiny_kb):
    results = rejected(tiny_kb, [("lonely.meta.yaml", meta_bytes("lonely"))])
    assert "没有对应的课程文件" in message_for(results, "lonely.meta.yaml")


def test_a_good_file_gets_in_while_a_bad_one_in_the_same_batch_does_not(tiny_kb):
    good = lesson_bytes(id="good-one")
    results = accept_upload(tiny_kb, [("good-one.md", good), ("bad.pdf", b"just text")], LIMIT)
    assert {r.name: r.ok for r in results} == {"good-one.md": True, "bad.pdf": False}
    assert (tiny_kb / "good-one.md").read_bytes() == good
    assert not (tiny_kb / "bad.pdf").exists()


# ---------------------------------------------------------------- size and type


def test_the_size_limit_is_enforced(tiny_kb):
    data = lesson_bytes(id="big-lesson")
    results = rejected(tiny_kb, [("big-lesson.md", data)], max_bytes=len(data) - 1)
    assert "文件太大" in message_for(results, "big-lesson.md")
    [ok] = accept_upload(tiny_kb, [("big-lesson.md", data)], len(data))
    assert ok.ok


def random_bytes(n: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(n)


def test_the_type_is_checked_by_content_not_by_extension(tiny_kb, tmp_path):
    pdf = office_bytes(make_pdf, tmp_path, "real.pdf")
    docx = office_bytes(make_docx, tmp_path, "real.docx")
    pptx = office_bytes(make_pptx, tmp_path, "real.pptx")
    disguised = {
        "text.pdf": lesson_bytes(id="text-pdf"),  # text named .pdf
        "pdf.docx": pdf,  # a PDF named .docx
        "noise.pptx": random_bytes(4096),  # random bytes named .pptx
        "word.pptx": docx,  # a Word file named .pptx
        "slides.docx": pptx,  # a PowerPoint file named .docx
        "binary.md": random_bytes(2048) + b"\0",  # binary named .md
        "zipped.pdf": docx,  # a zip named .pdf
    }
    # Each with a valid sidecar, so only the content can be the reason.
    files = list(disguised.items()) + [
        (Path(name).stem + ".meta.yaml", meta_bytes(f"disguised-{i}"))
        for i, name in enumerate(disguised)
    ]
    results = rejected(tiny_kb, files)
    for name in disguised:
        message = message_for(results, name)
        assert any(word in message for word in ("内容与扩展名不符", "二进制", "损坏")), (
            name,
            message,
        )


@pytest.mark.parametrize("name", ["script.exe", "page.html", "lesson", "lesson.md.exe", "data.zip"])
def test_unsupported_types_are_rejected(tiny_kb, name):
    results = rejected(tiny_kb, [(name, lesson_bytes(id="unsupported"))])
    assert "不支持的文件类型" in message_for(results, name)


def test_gbk_markdown_is_rejected_with_a_message_about_utf8(tiny_kb):
    data = textwrap.dedent(LESSON.format(**{**TINY["code"], "id": "gbk-lesson"})).encode("gbk")
    results = rejected(tiny_kb, [("gbk-lesson.md", data)])
    assert "UTF-8" in message_for(results, "gbk-lesson.md")


# ---------------------------------------------------------------- archive bombs


def zip_bytes(members: dict[str, bytes], stream: dict[str, int] | None = None) -> bytes:
    """A deflated zip of members; stream names members of that many zero bytes, written in pieces."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, size in (stream or {}).items():
            with archive.open(name, "w") as handle:
                for _ in range(size // 1_000_000):
                    handle.write(bytes(1_000_000))
    return buf.getvalue()


OFFICE_SHELL = {"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}


@pytest.mark.parametrize("inflated", [100_000_000, 10_000_000])
@pytest.mark.parametrize("name", ["bomb.docx", "bomb.pptx"])
def test_a_member_that_inflates_hugely_is_rejected(tiny_kb, name, inflated):
    data = zip_bytes(OFFICE_SHELL, {"word/document.xml": inflated})
    assert len(data) < LIMIT  # small on the wire: the size limit alone would let it through
    sidecar = Path(name).stem + ".meta.yaml"
    results = rejected(tiny_kb, [(name, data), (sidecar, meta_bytes("bomb"))])
    assert BOMB in message_for(results, name)


@pytest.mark.parametrize("name", ["many.docx", "many.pptx"])
def test_an_archive_with_thousands_of_members_is_rejected(tiny_kb, name):
    members = {f"word/media/{i}.xml": b"<x/>" for i in range(MAX_MEMBERS + 1000)}
    data = zip_bytes({**OFFICE_SHELL, "word/document.xml": b"<d/>", **members})
    assert len(data) < LIMIT
    results = rejected(
        tiny_kb, [(name, data), (Path(name).stem + ".meta.yaml", meta_bytes("many"))]
    )
    assert BOMB in message_for(results, name)


def understated(data: bytes, member: str, claimed: int) -> bytes:
    """The zip with member's uncompressed size rewritten to claimed (a bomb that lies)."""
    raw = bytearray(data)
    name = member.encode()
    for signature, size_at, name_len_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        pos = raw.find(signature)
        while pos >= 0:
            length = struct.unpack_from("<H", raw, pos + name_len_at)[0]
            if raw[pos + name_at : pos + name_at + length] == name:
                struct.pack_into("<I", raw, pos + size_at, claimed)
            pos = raw.find(signature, pos + 4)
    return bytes(raw)


def test_a_bomb_that_understates_its_size_is_rejected_without_inflating(tiny_kb, tmp_path):
    real = zipfile.ZipFile(io.BytesIO(office_bytes(make_docx, tmp_path, "real.docx")))
    members = {i.filename: real.read(i.filename) for i in real.infolist()}
    members["word/document.xml"] += b" " * 50_000_000
    bomb = understated(zip_bytes(members), "word/document.xml", 4_000)
    results = rejected(tiny_kb, [("liar.docx", bomb), ("liar.meta.yaml", meta_bytes("liar"))])
    assert "corrupt" in message_for(results, "liar.docx")


def test_a_zip_with_traversal_member_names_is_rejected(tiny_kb):
    data = zip_bytes({"word/document.xml": b"<d/>", "../../evil.sh": b"rm -rf /"})
    results = rejected(tiny_kb, [("sneaky.docx", data), ("sneaky.meta.yaml", meta_bytes("sneaky"))])
    assert "可疑的路径" in message_for(results, "sneaky.docx")


# ---------------------------------------------------------------- names, ids, overwrites

TRAVERSAL = [
    "../evil.md",
    "..\\evil.md",
    "sub/evil.md",
    "sub\\evil.md",
    "/etc/passwd",
    "/tmp/evil.md",
    "C:\\evil.md",
    "..",
    ".hidden.md",
    "evil\x00.md",
    "evil.md\x00.txt",
    "my lesson.md",
    " evil.md",
    "evil.md ",
    "evil.md\n",
    "evil\n.md",
    "%2e%2e%2fevil.md",
    "课程.md",
    "",
]


@pytest.mark.parametrize("name", TRAVERSAL)
def test_unsafe_names_are_rejected_and_nothing_is_written_anywhere(tmp_path, tiny_kb, name):
    outside = snapshot(tmp_path)
    results = rejected(tiny_kb, [(name, lesson_bytes(id="evil-lesson"))])
    assert results[0].message.startswith("文件名不安全")
    assert snapshot(tmp_path) == outside
    assert safe_name(name) is None


def test_a_plain_name_is_safe():
    assert safe_name("fake-police_2.v3.md") == "fake-police_2.v3.md"


def test_an_existing_file_is_never_overwritten(tiny_kb):
    for name, data in [
        ("tiny-code.md", lesson_bytes(id="replacement", title="替换后的课")),
        ("tiny-code.md", lesson_bytes(id="tiny-code", title="同id新版本")),
        ("tiny-code.md", b"garbage"),
    ]:
        results = rejected(tiny_kb, [(name, data)])
        assert "同名文件已存在" in message_for(results, name)


def test_an_existing_sidecar_is_never_overwritten(tiny_kb, tmp_path):
    (tiny_kb / "notes.meta.yaml").write_bytes(meta_bytes("old-notes"))
    data = office_bytes(make_docx, tmp_path, "notes.docx")
    results = rejected(
        tiny_kb, [("notes.meta.yaml", meta_bytes("new-notes")), ("other.docx", data)]
    )
    assert "同名文件已存在" in message_for(results, "notes.meta.yaml")


def test_an_id_already_in_the_knowledge_folder_is_rejected(tiny_kb):
    results = rejected(tiny_kb, [("another-name.md", lesson_bytes(id="tiny-code"))])
    assert "tiny-code" in message_for(results, "another-name.md")
    assert "已被其他课程使用" in message_for(results, "another-name.md")


def test_an_id_used_twice_in_one_batch_gets_in_once(tiny_kb):
    first, second = lesson_bytes(id="twin", title="第一份"), lesson_bytes(id="twin", title="第二份")
    before = snapshot(tiny_kb)
    files = [("twin.md", first), ("twin.txt", second), ("twin.txt.meta.yaml", meta_bytes("twin"))]
    results = accept_upload(tiny_kb, files, LIMIT)
    assert {r.name: r.ok for r in results} == {
        "twin.md": True,
        "twin.txt": False,
        "twin.txt.meta.yaml": False,  # its course file was refused: not saved
    }
    assert "已被其他课程使用" in message_for(results, "twin.txt")
    after = snapshot(tiny_kb)
    assert set(after) - set(before) == {"twin.md"}
    assert (tiny_kb / "twin.md").read_bytes() == first


def test_a_sidecar_id_clashing_with_a_lesson_is_rejected(tiny_kb, tmp_path):
    data = office_bytes(make_docx, tmp_path, "clash.docx")
    results = rejected(
        tiny_kb, [("clash.docx", data), ("clash.meta.yaml", meta_bytes("tiny-police"))]
    )
    assert "已被其他课程使用" in message_for(results, "clash.docx")


def test_the_same_name_twice_in_one_batch_is_not_silently_dropped(tiny_kb):
    first, second = lesson_bytes(id="same"), lesson_bytes(id="same", title="第二份")
    results = accept_upload(tiny_kb, [("same.md", first), ("same.md", second)], LIMIT)
    assert len(results) == 2, "every uploaded file is accounted for"
    assert [r.ok for r in results].count(True) == 1
    assert (tiny_kb / "same.md").read_bytes() == first


def test_a_sidecar_of_a_rejected_file_is_not_saved_with_a_similar_name(tiny_kb, tmp_path):
    # "aa.b.meta.yaml" belongs to "aa.b.docx", not to "aa.docx"
    good = office_bytes(make_docx, tmp_path, "aa.docx")
    files = [
        ("aa.docx", good),
        ("aa.meta.yaml", meta_bytes("aa")),
        ("aa.b.docx", b"not a docx"),
        ("aa.b.meta.yaml", meta_bytes("ab-lesson")),
    ]
    results = accept_upload(tiny_kb, files, LIMIT)
    assert {r.name for r in results if r.ok} == {"aa.docx"}
    assert not (tiny_kb / "aa.b.meta.yaml").exists()
    assert not [p for p in scan_knowledge(tiny_kb).problems if "sidecar" in p.reason]


# ---------------------------------------------------------------- delete


def test_delete_removes_the_course_file_and_its_sidecar(tiny_kb, tmp_path):
    accept_upload(
        tiny_kb,
        [
            ("handout.docx", office_bytes(make_docx, tmp_path, "handout.docx")),
            ("handout.meta.yaml", meta_bytes("handout")),
        ],
        LIMIT,
    )
    assert delete_lesson(tiny_kb, "handout.docx")
    assert not (tiny_kb / "handout.docx").exists()
    assert not (tiny_kb / "handout.meta.yaml").exists()
    assert not delete_lesson(tiny_kb, "handout.docx")


@pytest.mark.parametrize(
    "name",
    [
        "../evil.md",
        "..\\evil.md",
        "sub/evil.md",
        "sub\\evil.md",
        "/etc/passwd",
        "..",
        ".",
        "",
        "evil.md\n",
    ],
)
def test_delete_refuses_traversal_names(tmp_path, tiny_kb, name):
    (tmp_path / "evil.md").write_bytes(lesson_bytes(id="outside"))
    (tiny_kb / "sub").mkdir()
    (tiny_kb / "sub" / "evil.md").write_bytes(lesson_bytes(id="nested"))
    before = snapshot(tmp_path)
    assert delete_lesson(tiny_kb, name) is False
    assert snapshot(tmp_path) == before


def test_delete_refuses_an_absolute_path_to_a_lesson(tiny_kb):
    assert delete_lesson(tiny_kb, str(tiny_kb / "tiny-code.md")) is False
    assert (tiny_kb / "tiny-code.md").is_file()
