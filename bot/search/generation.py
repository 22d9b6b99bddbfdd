"""One index generation on disk: its files, the one reader and the one writer.

A generation g<stamp>/ holds manifest.json, chunks.json, lessons.json, vectors.npy, bm25.npz and
bm25_vocab.json. It is written whole into g<stamp>.tmp/ and renamed into place; nothing in it
changes afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import IndexCorruptError
from bot.records import Chunk, LessonRecord

FORMAT = 2  # 2: BM25 stored as plain arrays (bm25.npz), read without importing bm25s


@dataclass(frozen=True)
class Bm25Arrays:
    """Per-token BM25 weights as a CSC matrix: a query is a few array sums."""

    vocab: dict[str, int]
    data: np.ndarray
    docs: np.ndarray
    ptr: np.ndarray


@dataclass(frozen=True)
class Generation:
    """What one generation holds (vectors and BM25 only when asked for)."""

    name: str
    manifest: dict[str, Any]
    chunks: list[Chunk]
    lessons: list[LessonRecord]
    vectors: np.ndarray | None = None
    bm25: Bm25Arrays | None = None
    # One vector per lesson line (bot.knowledge.lessons.record_lines), by its text; optional.
    line_texts: tuple[str, ...] = ()
    line_vectors: np.ndarray | None = None


def read_manifest(root: Path, name: str) -> dict[str, Any]:
    """The manifest of generation name; IndexCorruptError when it cannot be read."""
    path = root / name / "manifest.json"
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is unreadable: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"{path} is unreadable: not a JSON object")
    return manifest


def read_generation(root: Path, name: str, *, bm25: bool = False) -> Generation:
    """Read generation name (its BM25 arrays too when bm25); IndexCorruptError when damaged."""
    gen_dir = root / name
    try:
        manifest = json.loads((gen_dir / "manifest.json").read_text("utf-8"))
        raw_chunks = json.loads((gen_dir / "chunks.json").read_text("utf-8"))
        raw_lessons = json.loads((gen_dir / "lessons.json").read_text("utf-8"))
        arrays = None
        if bm25:
            vocab = json.loads((gen_dir / "bm25_vocab.json").read_text("utf-8"))
            with np.load(gen_dir / "bm25.npz") as npz:
                arrays = Bm25Arrays(vocab, npz["data"], npz["indices"], npz["indptr"])
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(f"index generation {name} is unreadable: {exc}") from exc
    return Generation(
        name=name,
        manifest=manifest,
        chunks=[Chunk(**c) for c in raw_chunks],
        lessons=[LessonRecord.from_json(d) for d in raw_lessons],
        bm25=arrays,
    )


def read_vectors(root: Path, generation: Generation) -> Generation:
    """The generation with its stored vectors; IndexCorruptError when they do not fit."""
    try:
        matrix = np.load(root / generation.name / "vectors.npy")
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"vectors of {generation.name} are unreadable: {exc}") from exc
    if matrix.shape[0] != len(generation.chunks):
        raise IndexCorruptError(f"vectors of {generation.name} do not match its chunks")
    return dataclasses.replace(generation, vectors=matrix)


def read_lines(root: Path, generation: Generation) -> Generation:
    """The generation with its lesson-line vectors (unchanged when it has none or they are bad)."""
    try:
        texts = json.loads((root / generation.name / "lines.json").read_text("utf-8"))
        matrix = np.load(root / generation.name / "lines.npy")
    except (OSError, ValueError):
        return generation  # an older generation: replies rank lines by cues alone
    if not isinstance(texts, list) or matrix.shape[0] != len(texts):
        return generation
    return dataclasses.replace(generation, line_texts=tuple(texts), line_vectors=matrix)


def write_generation(
    root: Path,
    name: str,
    *,
    chunks: list[Chunk],
    lessons: list[LessonRecord],
    matrix: np.ndarray,
    tokens: list[list[str]],
    manifest: dict[str, Any],
    lines: tuple[list[str], np.ndarray] | None = None,
) -> None:
    """Write generation name beside the live one (fsynced), then move it into place."""
    tmp_dir = root / f"{name}.tmp"
    tmp_dir.mkdir(parents=True)
    _write_bm25(tmp_dir, tokens)
    np.save(tmp_dir / "vectors.npy", matrix)
    if lines is not None:
        write_json(tmp_dir / "lines.json", lines[0])
        np.save(tmp_dir / "lines.npy", lines[1].astype(np.float32))
    write_json(tmp_dir / "chunks.json", [dataclasses.asdict(c) for c in chunks])
    write_json(tmp_dir / "lessons.json", [dataclasses.asdict(r) for r in lessons])
    write_json(
        tmp_dir / "manifest.json",
        {
            "format": FORMAT,
            "generation": name,
            **manifest,
            "dim": int(matrix.shape[1]),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
    )
    fsync_dir(tmp_dir)
    os.replace(tmp_dir, root / name)


def _write_bm25(gen_dir: Path, tokens: list[list[str]]) -> None:
    import bm25s

    corpus = tokens or [[""]]
    bm25 = bm25s.BM25()
    bm25.index(corpus, show_progress=False)
    # Per-token BM25 weights as a CSC matrix: a query is a few array sums, and opening the
    # index needs numpy only (importing bm25s pulls in scipy: ~3 s of cold start).
    scores = bm25.scores
    np.savez(
        gen_dir / "bm25.npz",
        data=scores["data"],
        indices=scores["indices"],
        indptr=scores["indptr"],
    )
    write_json(gen_dir / "bm25_vocab.json", {str(k): int(v) for k, v in bm25.vocab_dict.items()})


def write_json(path: Path, data: Any, atomic: bool = False) -> None:
    """Write JSON and fsync it; atomic: through a .new file renamed over the old one."""
    target = path.with_name(path.name + ".new") if atomic else path
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    if atomic:
        os.replace(target, path)
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """fsync a folder, so a rename in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
