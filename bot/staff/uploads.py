"""Checks on course files uploaded through the content desk: size, real type, names, ids, bombs."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.lessons import (
    SUFFIXES,
    LineCheck,
    file_id,
    id_mismatch,
    read_course_file,
    scan_knowledge,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")
# A .docx/.pptx is a zip; refuse ones that inflate absurdly (zip bombs).
MAX_UNZIPPED = 60_000_000
MAX_RATIO = 120
MAX_MEMBERS = 2_000


@dataclass(frozen=True)
class UploadResult:
    """What happened to one uploaded file."""

    name: str
    ok: bool
    message: str


def safe_name(raw: str) -> str | None:
    """The file name if it is a plain, safe name (no folders, no traversal), else None."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    # fullmatch: with match, "$" also matches before a trailing newline ("evil.md\n")
    if name != raw or not _NAME.fullmatch(name) or ".." in name:
        return None
    return name


def sniff(name: str, data: bytes) -> str | None:
    """Why the content does not match the file type (None when it does).

    PDF and Office types come from the content (filetype's signatures); the zip-bomb and path
    checks on Office files are ours and run before the archive's type is read.
    """
    import filetype

    suffix = Path(name).suffix.lower()
    if suffix in (".docx", ".pptx"):
        if not data.startswith(b"PK\x03\x04"):
            return "不是有效的 Office 文件（内容与扩展名不符）"
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                infos = archive.infolist()
                total = sum(i.file_size for i in infos)
                if (
                    len(infos) > MAX_MEMBERS
                    or total > MAX_UNZIPPED
                    or total > MAX_RATIO * max(len(data), 1)
                ):
                    return "压缩内容异常巨大（疑似压缩炸弹），已拒收"
                if any(i.filename.startswith("/") or ".." in i.filename for i in infos):
                    return "压缩包里有可疑的路径，已拒收"
                marker = "word/document.xml" if suffix == ".docx" else "ppt/presentation.xml"
                if marker not in {i.filename for i in infos}:
                    return "不是有效的 Office 文件（内容与扩展名不符）"
        except zipfile.BadZipFile:
            return "文件已损坏，无法打开"
        kind = filetype.guess(data)
        if kind is not None and kind.extension not in (suffix[1:], "zip"):
            return "不是有效的 Office 文件（内容与扩展名不符）"
        return None
    if suffix == ".pdf":
        kind = filetype.guess(data.lstrip())
        ok = kind is not None and kind.extension == "pdf"
        return None if ok else "不是有效的 PDF 文件（内容与扩展名不符）"
    if suffix in (".md", ".txt", ".yaml"):
        # Text is not sniffed by signature: a .txt may well start with "BM" or "ID3".
        if b"\0" in data[:8192]:
            return "这是二进制文件，不是文本"
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return "文本不是 UTF-8 编码，请另存为 UTF-8 再上传"
        return None
    return f"不支持的文件类型 {suffix or '(无扩展名)'}"


def accept_upload(
    knowledge_dir: Path,
    files: list[tuple[str, bytes]],
    max_bytes: int,
    check: LineCheck | None = None,
) -> list[UploadResult]:
    """Validate uploaded files together and move the good ones into the knowledge folder.

    A file is accepted only if it is a new name (ignoring case), passes its content checks,
    validates as a lesson named by its id, and its id is not already used. Existing files are
    never overwritten.
    """
    results: list[UploadResult] = []
    staged: dict[str, bytes] = {}
    # Names are compared ignoring case: "x.MD" beside "x.md" is the same file on many disks.
    taken = {p.name.lower() for p in knowledge_dir.iterdir()} if knowledge_dir.is_dir() else set()
    for raw_name, data in files:
        name = safe_name(raw_name)
        if name is None:
            results.append(
                UploadResult(raw_name, False, "文件名不安全（只能用字母、数字、点、横线）")
            )
            continue
        suffix = Path(name).suffix.lower()
        is_sidecar = name.endswith(".meta.yaml")
        if not is_sidecar and suffix not in SUFFIXES:
            results.append(UploadResult(name, False, f"不支持的文件类型 {suffix}"))
        elif len(data) > max_bytes:
            results.append(
                UploadResult(name, False, f"文件太大（上限 {max_bytes // 1_000_000} MB）")
            )
        elif (knowledge_dir / name).exists() or name.lower() in taken:
            results.append(UploadResult(name, False, "同名文件已存在，请先删除旧文件或改名"))
        elif name.lower() in {n.lower() for n in staged}:  # the later copy would replace it
            results.append(UploadResult(name, False, "这一批里有两个同名文件，只收了第一个"))
        elif problem := sniff(name, data):
            results.append(UploadResult(name, False, problem))
        else:
            staged[name] = data
    if not staged:
        return results
    existing_ids = {lesson.doc_id for lesson in scan_knowledge(knowledge_dir).lessons}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        for name, data in staged.items():
            (tmp_dir / name).write_bytes(data)
        # Sidecars that belong to an already-present course file are checked against it.
        for name in staged:
            if name.endswith(".meta.yaml"):
                continue
            # check: the lesson-line checker; a file with a harmful line is refused by file:line
            lesson, problems = read_course_file(tmp_dir / name, name, check)
            errors = [str(p) for p in problems if p.severity == "error"]
            if lesson is None or errors:
                results.append(UploadResult(name, False, "；".join(errors) or "无法读取"))
            elif lesson.doc_id in existing_ids:
                results.append(UploadResult(name, False, f"id '{lesson.doc_id}' 已被其他课程使用"))
            elif lesson.doc_id != file_id(name):
                results.append(
                    UploadResult(
                        name,
                        False,
                        f"课程 id '{lesson.doc_id}' 与文件名不一致：请把文件命名为 "
                        f"{lesson.doc_id}{Path(name).suffix}（{id_mismatch(lesson.doc_id, name)}）",
                    )
                )
            else:
                existing_ids.add(lesson.doc_id)
                # The sidecar names read_course_file reads: "a.b.meta.yaml" is not a.docx's.
                sidecars = {Path(name).stem + ".meta.yaml", name + ".meta.yaml"}
                for part in [name, *[n for n in staged if n in sidecars]]:
                    shutil.copyfile(tmp_dir / part, knowledge_dir / f".{part}.part")
                    (knowledge_dir / f".{part}.part").replace(knowledge_dir / part)
                results.append(UploadResult(name, True, f"已加入：《{lesson.title}》"))
        for name in staged:
            if name.endswith(".meta.yaml") and not (knowledge_dir / name).exists():
                results.append(UploadResult(name, False, "元数据文件没有对应的课程文件，未保存"))
    return results


def delete_lesson(knowledge_dir: Path, source_file: str) -> bool:
    """Remove one course file (and its sidecar) from the knowledge folder; False if absent."""
    name = safe_name(source_file)
    if name is None:
        return False
    path = knowledge_dir / name
    if not path.is_file():
        return False
    path.unlink()
    for sidecar in (path.with_name(path.stem + ".meta.yaml"), path.with_name(name + ".meta.yaml")):
        if sidecar.is_file():
            sidecar.unlink()
    return True
