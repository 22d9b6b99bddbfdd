"""The index store: opens the live generation, builds new ones incrementally, swaps them in.

Layout under settings.index_dir:
    CURRENT              JSON naming the live generation (replaced atomically)
    chroma/              embedded Chroma store (unused with a Chroma server)
    g<stamp>/            one generation (see bot.search.generation)
An ingest copies what did not change from the live generation, embeds only changed lessons,
writes a new generation beside it and then flips CURRENT. A killed ingest leaves CURRENT alone.

Over 300 lines on purpose: the incremental build (what to reuse, what to re-embed, which broken
file keeps its last good version) is one decision and reads best in one place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from bot.config import Settings
from bot.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    KnowledgeError,
    is_disk_full,
)
from bot.knowledge.chunking import chunk_lesson
from bot.knowledge.lessons import KnowledgeScan, LineCheck, line_key, record_lines, scan_knowledge
from bot.records import Chunk, LessonRecord
from bot.search.chroma import ChromaStore, disk_full, index_dir_aside
from bot.search.embeddings import Encoder, VectorCache
from bot.search.generation import (
    FORMAT,
    Generation,
    read_generation,
    read_manifest,
    read_vectors,
    write_generation,
    write_json,
)
from bot.search.index import Index
from bot.search.tokenize import tokenize

log = logging.getLogger("bot")
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did."""

    added: int
    updated: int
    removed: int
    unchanged: int
    chunks: int
    embedded_chunks: int
    seconds: float
    generation: str
    problems: tuple[str, ...] = ()
    kept_previous: int = 0  # files that now fail validation, served from their last good version

    def summary(self) -> str:
        kept = (
            f"; kept the last good version of {self.kept_previous} file(s) with errors"
            if self.kept_previous
            else ""
        )
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged} documents; {self.chunks} chunks "
            f"({self.embedded_chunks} embedded) in {self.seconds:.2f} s{kept}"
        )


class IndexStore:
    """Opens, builds and swaps index generations under one directory."""

    def __init__(
        self, settings: Settings, embeddings: Encoder, check: LineCheck | None = None
    ) -> None:
        """check: the lesson-line checker; a lesson with a line it refuses is not indexed."""
        self.settings = settings
        self.embeddings = embeddings
        self.check = check
        self.root = settings.index_dir
        self.chroma = ChromaStore(settings)

    @property
    def client(self) -> Any:
        """The Chroma client of this store."""
        return self.chroma.client

    def check_store(self) -> None:
        """Raise IndexCorruptError when the embedded Chroma database is damaged."""
        self.chroma.check()

    def check_complete(self, index: Index) -> None:
        """Raise IndexCorruptError when the Chroma store lacks the live generation's vectors.

        An emptied or replaced chroma/ folder is otherwise unnoticed while exact search answers
        from the stored vectors, and found only when a larger collection needs Chroma.
        """
        stored = self.chroma.stored_count(index.generation)
        if stored is not None and stored != len(index.chunks):
            raise IndexCorruptError(
                f"the Chroma store holds {stored} of the {len(index.chunks)} chunks of "
                f"{index.generation} (emptied or replaced)"
            )

    def quarantine(self) -> Path | None:
        """Move a damaged embedded store aside (kept for inspection) so a rebuild can start clean."""
        if self.settings.chroma_host or not self.root.exists():
            return None
        self.chroma.close()
        aside = index_dir_aside(self.root)
        self.root.rename(aside)
        return aside

    def current_generation(self) -> str | None:
        """The live generation's name, or None when nothing was built yet."""
        try:
            return str(json.loads((self.root / "CURRENT").read_text("utf-8"))["generation"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"{self.root / 'CURRENT'} is unreadable: {exc}") from exc

    def open(self) -> Index:
        """Open the live generation; says exactly what to run when that is not possible."""
        generation = self.current_generation()
        if generation is None:
            raise IndexMissingError(f"no index in {self.root}: run `python -m bot ingest`")
        manifest = read_manifest(self.root, generation)
        encoder = manifest.get("encoder")
        if encoder is None:
            raise IndexCorruptError(
                f"{self.root / generation / 'manifest.json'} is unreadable: no encoder"
            )
        if encoder != self.embeddings.name:
            raise IndexMismatchError(
                f"the index was built with encoder '{encoder}' but '{self.embeddings.name}' is "
                "configured: run `python -m bot ingest --rebuild`"
            )
        exact = 0 if self.settings.chroma_host else self.settings.exact_search_limit
        index = Index(self.root, generation, self.chroma.opener(generation), exact_limit=exact)
        if index.matrix is None:
            index.collection  # noqa: B018 - open it now: a broken store shows at start-up
        return index

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One ingest at a time over this folder, across processes."""
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(self.root / ".lock"):
            yield

    def ingest(
        self,
        knowledge_dir: Path | None = None,
        *,
        rebuild: bool = False,
        progress: Progress | None = None,
        scan: KnowledgeScan | None = None,
    ) -> IngestReport:
        """Bring the index up to date with the knowledge folder, re-embedding only what changed."""
        start = time.perf_counter()
        if scan is None:
            folder = Path(knowledge_dir or self.settings.knowledge_dir)
            if not folder.is_dir():
                # An empty scan would remove every lesson from the index.
                raise KnowledgeError(f"knowledge folder {folder} does not exist")
            scan = scan_knowledge(folder, self.check)
        try:
            with self._lock():
                try:
                    live = self.current_generation() or ""
                except IndexCorruptError:
                    live = ""
                old = None if rebuild else self._previous_state()
                report = self._build(scan, old, progress, start)
                # Keep the generation being replaced: a running app may still be answering from it.
                self._collect_garbage(keep={report.generation, live})
        except Exception as exc:
            # CURRENT flips last: a build cut short by a full disk leaves the live index as it was.
            if is_disk_full(exc) and not isinstance(exc, KnowledgeError):
                raise disk_full(f"cannot write the index in {self.root}", exc) from exc
            raise
        return report

    def _previous_state(self) -> Generation | None:
        """The live generation with its vectors, if an ingest can reuse them."""
        try:
            generation = self.current_generation()
            if generation is None:
                return None
            old = read_vectors(self.root, read_generation(self.root, generation))
        except IndexCorruptError:
            return None
        manifest = old.manifest
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            return None
        if manifest.get("encoder") != self.embeddings.name or manifest.get("format") != FORMAT:
            return None
        if manifest.get("chunk_chars") != self.settings.chunk_chars:
            return None
        return old

    def _build(
        self,
        scan: KnowledgeScan,
        old: Generation | None,
        progress: Progress | None,
        start: float,
    ) -> IngestReport:
        old_files: dict[str, dict] = old.manifest["files"] if old else {}
        old_rows: dict[str, list[int]] = {}
        if old:
            for i, c in enumerate(old.chunks):
                old_rows.setdefault(c.source_file, []).append(i)

        chunks: list[Chunk] = []
        vectors: list[np.ndarray | None] = []
        records: list[LessonRecord] = []
        files: dict[str, dict] = {}
        added = updated = unchanged = 0
        for lesson in scan.lessons:
            rel = lesson.source_file
            prev = old_files.get(rel)
            lesson_chunks = chunk_lesson(lesson, self.settings.chunk_chars)
            if prev and prev["sha256"] == lesson.sha256 and old and rel in old_rows:
                unchanged += 1
                assert old is not None
                assert old.vectors is not None
                reuse = [old.vectors[i] for i in old_rows[rel]]
                before = [old.chunks[i].embed_text() for i in old_rows[rel]]
                if before != [c.embed_text() for c in lesson_chunks]:
                    # Same file, other chunks (the chunker changed): the old vectors do not fit.
                    reuse = [None] * len(lesson_chunks)
                vectors.extend(reuse)
            else:
                added += prev is None
                updated += prev is not None
                vectors.extend([None] * len(lesson_chunks))
            chunks.extend(lesson_chunks)
            records.append(LessonRecord.of(lesson, len(lesson_chunks)))
            files[rel] = {"sha256": lesson.sha256, "doc_id": lesson.doc_id}
        kept = self._keep_last_good(scan, old, old_rows, chunks, vectors, records, files)
        removed = len(set(old_files) - set(files))

        todo = [i for i, v in enumerate(vectors) if v is None]
        dim = (
            old.vectors.shape[1]
            if old is not None and old.vectors is not None and len(old.vectors)
            else 0
        )
        # Embedding spends its time in BLAS, which releases the GIL: the Python-bound work
        # (jieba for BM25, importing and opening Chroma) runs meanwhile on this thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            embedding = pool.submit(self._embed, chunks, todo, progress)
            tokens = [tokenize(c.embed_text()) or [""] for c in chunks]
            _ = self.chroma.writable_client()
            fresh = embedding.result()
        width = fresh.shape[1] if len(todo) else (dim or 1)
        matrix = np.zeros((len(chunks), width), dtype=np.float32)
        if len(todo):
            matrix[todo] = fresh
        for i, v in enumerate(vectors):
            if v is not None:
                matrix[i] = v

        lines = self._line_vectors(records, old)
        generation = "g" + time.strftime("%Y%m%dt%H%M%S") + uuid.uuid4().hex[:6]
        self.chroma.write(generation, chunks, matrix)
        write_generation(
            self.root,
            generation,
            chunks=chunks,
            lessons=records,
            matrix=matrix,
            tokens=tokens,
            lines=lines,
            manifest={
                "encoder": self.embeddings.name,
                "chunk_chars": self.settings.chunk_chars,
                "files": files,
                "problems": [str(p) for p in scan.problems],
            },
        )
        write_json(self.root / "CURRENT", {"generation": generation}, atomic=True)
        return IngestReport(
            added=added,
            updated=updated,
            removed=removed,
            unchanged=unchanged,
            chunks=len(chunks),
            embedded_chunks=len(todo),
            seconds=time.perf_counter() - start,
            generation=generation,
            problems=tuple(str(p) for p in scan.problems),
            kept_previous=kept,
        )

    @staticmethod
    def _keep_last_good(
        scan: KnowledgeScan,
        old: Generation | None,
        old_rows: dict[str, list[int]],
        chunks: list[Chunk],
        vectors: list[np.ndarray | None],
        records: list[LessonRecord],
        files: dict[str, dict],
    ) -> int:
        """Carry over indexed files that now fail validation: a bad edit must not lose a lesson."""
        if old is None or old.vectors is None:
            return 0
        broken = {p.path for p in scan.errors}
        old_lessons = {r.source_file: r for r in old.lessons}
        taken = {r.doc_id for r in records}
        kept = 0
        for rel, info in old.manifest["files"].items():
            record = old_lessons.get(rel)
            if rel in files or rel not in broken or rel not in old_rows or record is None:
                continue
            if record.doc_id in taken:
                continue
            for i in old_rows[rel]:
                chunks.append(old.chunks[i])
                vectors.append(old.vectors[i])
            records.append(record)
            files[rel] = info
            taken.add(record.doc_id)
            kept += 1
        return kept

    def _line_vectors(
        self, records: list[LessonRecord], old: Generation | None
    ) -> tuple[list[str], np.ndarray]:
        """One vector per lesson line (for choosing a reply's lines), from the shared line cache."""
        texts = list(dict.fromkeys(t for r in records for _, _, t in record_lines(r)))
        if not texts:
            return [], np.zeros((0, 1), dtype=np.float32)
        cache = VectorCache(self.settings.vector_cache(self.embeddings.name), self.embeddings.name)
        matrix = cache.vectors([line_key(t) for t in texts], self.embeddings.embed_documents_array)
        return texts, matrix.astype(np.float32)

    def _embed(self, chunks: list[Chunk], todo: list[int], progress: Progress | None) -> np.ndarray:
        """Vectors of the chunks at positions todo (from the cache, or embedded in batches)."""
        if not todo:
            return np.zeros((0, 1), dtype=np.float32)

        def embed(texts: list[str]) -> np.ndarray:
            parts = []
            for begin in range(0, len(texts), 32):
                parts.append(self.embeddings.embed_documents_array(texts[begin : begin + 32]))
                if progress:
                    progress(min(begin + 32, len(texts)), len(texts))
            return np.vstack(parts)

        cache = VectorCache(self.settings.vector_cache(self.embeddings.name), self.embeddings.name)
        vectors = cache.vectors([chunks[i].embed_text() for i in todo], embed)
        if progress:
            progress(len(todo), len(todo))
        return vectors

    def _collect_garbage(self, keep: set[str]) -> None:
        """Drop generations and collections other than the live and the previous one."""
        for entry in self.root.iterdir():
            if (
                entry.is_dir()
                and entry.name.startswith("g")
                and entry.name.split(".")[0] not in keep
            ):
                shutil.rmtree(entry, ignore_errors=True)
        self.chroma.drop_all_but(keep)
