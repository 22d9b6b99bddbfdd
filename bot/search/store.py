"""The index: a Chroma collection (explicit embeddings) plus a BM25 index, built aside and swapped.

Layout under settings.index_dir:
    CURRENT              JSON naming the live generation (replaced atomically)
    chroma/              embedded Chroma store (unused with a Chroma server)
    g<stamp>/            one generation: manifest.json, chunks.json, lessons.json, vectors.npy, bm25.npz, bm25_vocab.json
An ingest copies what did not change from the live generation, embeds only changed lessons,
writes a new generation beside it and then flips CURRENT. A killed ingest leaves CURRENT alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, KnowledgeError
from bot.knowledge.chunking import chunk_lesson
from bot.knowledge.lessons import KnowledgeScan, scan_knowledge
from bot.records import Chunk, Lesson, LessonRecord
from bot.search.embeddings import _Encoder
from bot.search.tokenize import tokenize

FORMAT = 2  # 2: BM25 stored as plain arrays (bm25.npz), read without importing bm25s
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


def _record(lesson: Lesson, chunks: int) -> LessonRecord:
    return LessonRecord(
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


def _record_from_json(d: dict) -> LessonRecord:
    return LessonRecord(
        **{**d, "aliases": tuple(d["aliases"]), "sections": tuple(map(tuple, d["sections"]))}
    )


def chroma_client(settings: Settings) -> Any:
    """An embedded Chroma client, or an HTTP client when a server is configured."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(
            host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
        )
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class Index:
    """One opened generation: chunks, lessons, BM25 and its Chroma collection."""

    def __init__(
        self,
        root: Path,
        generation: str,
        collection: Callable[[], Any],
        exact_limit: int = 0,
    ) -> None:
        gen_dir = root / generation
        try:
            self.manifest = json.loads((gen_dir / "manifest.json").read_text("utf-8"))
            raw_chunks = json.loads((gen_dir / "chunks.json").read_text("utf-8"))
            raw_lessons = json.loads((gen_dir / "lessons.json").read_text("utf-8"))
            self.vocab = json.loads((gen_dir / "bm25_vocab.json").read_text("utf-8"))
            with np.load(gen_dir / "bm25.npz") as arrays:
                self._bm25_data = arrays["data"]
                self._bm25_docs = arrays["indices"]
                self._bm25_ptr = arrays["indptr"]
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"index generation {generation} is unreadable: {exc}") from exc
        self.generation = generation
        self._open_collection = collection
        self._collection: Any = None
        self.chunks = [Chunk(**c) for c in raw_chunks]
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.lessons = {d["doc_id"]: _record_from_json(d) for d in raw_lessons}
        # Below exact_limit chunks an exact scan of the stored vectors beats an HNSW query
        # (0.05 ms against ~2 ms for Chroma's query at 328 chunks, measured): Chroma stays the
        # store of record and answers larger or server-side collections.
        self.matrix: np.ndarray | None = None
        if 0 < len(self.chunks) <= exact_limit:
            try:
                matrix = np.load(gen_dir / "vectors.npy")
            except (OSError, ValueError) as exc:
                raise IndexCorruptError(f"vectors of {generation} are unreadable: {exc}") from exc
            if matrix.shape[0] != len(self.chunks):
                raise IndexCorruptError(f"vectors of {generation} do not match its chunks")
            self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)

    @property
    def collection(self) -> Any:
        """The generation's Chroma collection (opened on first use: exact search never needs it)."""
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    @property
    def encoder(self) -> str:
        return str(self.manifest["encoder"])

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros if no query word is known)."""
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        for token in tokenize(query):
            i = self.vocab.get(token)
            if i is not None:
                lo, hi = self._bm25_ptr[i], self._bm25_ptr[i + 1]
                np.add.at(scores, self._bm25_docs[lo:hi], self._bm25_data[lo:hi])
        return scores

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """(chunk position, cosine similarity) of the n nearest chunks, best first."""
        n = min(n, len(self.chunks))
        if n == 0:
            return []
        if self.matrix is not None:
            sims = self.matrix @ vector
            top = np.argpartition(-sims, n - 1)[:n] if n < len(sims) else np.arange(len(sims))
            top = top[np.argsort(-sims[top], kind="stable")]
            return [(int(i), float(sims[i])) for i in top]
        result = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=n, include=["distances"]
        )
        return [
            (self.by_id[cid], 1.0 - float(dist))
            for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)
            if cid in self.by_id
        ]


class IndexStore:
    """Opens, builds and swaps index generations under one directory."""

    def __init__(self, settings: Settings, embeddings: _Encoder) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.root = settings.index_dir
        self._client: Any = None
        self._client_dir: tuple[int, int] | None = None  # the embedded store's (device, inode)

    @property
    def client(self) -> Any:
        if self._client is not None and self._client_dir != self._store_identity():
            # The store's folder was deleted or replaced under us: chromadb's cached System still
            # writes to the old file ("attempt to write a readonly database", chroma#6499).
            self._drop_client()
        if self._client is None:
            try:
                self._client = chroma_client(self.settings)
            except Exception as exc:  # chromadb raises many kinds on a damaged store
                where = self.settings.chroma_host or self.root / "chroma"
                raise IndexCorruptError(f"cannot open the Chroma store at {where}: {exc}") from exc
            self._client_dir = self._store_identity()
        return self._client

    def _store_identity(self) -> tuple[int, int] | None:
        if self.settings.chroma_host:
            return None
        try:
            stat = (self.root / "chroma").stat()
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def _drop_client(self) -> None:
        """Close the Chroma client: chromadb stops its cached System when we were its last user."""
        client, self._client, self._client_dir = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def quarantine(self) -> Path | None:
        """Move a damaged embedded store aside (kept for inspection) so a rebuild can start clean."""
        if self.settings.chroma_host or not self.root.exists():
            return None
        self._drop_client()
        aside = self.root.with_name(f"{self.root.name}.broken-{time.strftime('%Y%m%dT%H%M%S')}")
        self.root.rename(aside)
        return aside

    def check_store(self) -> None:
        """Raise IndexCorruptError when the embedded Chroma database is damaged (stdlib check)."""
        path = self.root / "chroma" / "chroma.sqlite3"
        if self.settings.chroma_host or not path.exists():
            return
        import sqlite3

        try:
            with contextlib.closing(
                sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            ) as db:
                result = db.execute("PRAGMA quick_check").fetchone()
        except sqlite3.Error as exc:
            raise IndexCorruptError(f"the Chroma store {path} is damaged: {exc}") from exc
        if not result or result[0] != "ok":
            raise IndexCorruptError(f"the Chroma store {path} is damaged: {result}")

    def _writable_client(self) -> Any:
        """The client an ingest writes with; a damaged embedded store is set aside for a new one."""
        if self._client is None:
            # Checked before chromadb opens it: a System that failed to start stays cached in
            # chromadb for that path, and every later client there fails too.
            try:
                self.check_store()
            except IndexCorruptError as exc:
                aside = self.root / f"chroma.broken-{time.strftime('%Y%m%dT%H%M%S')}"
                (self.root / "chroma").rename(aside)
                log.warning("%s -- moved it to %s, writing a new store", exc, aside)
        return self.client

    def current_generation(self) -> str | None:
        """The live generation's name, or None when nothing was built yet."""
        try:
            return str(json.loads((self.root / "CURRENT").read_text("utf-8"))["generation"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"{self.root / 'CURRENT'} is unreadable: {exc}") from exc

    def _collection_name(self, generation: str) -> str:
        return f"{self.settings.collection_prefix}-{generation}"

    def open(self) -> Index:
        """Open the live generation; says exactly what to run when that is not possible."""
        generation = self.current_generation()
        if generation is None:
            raise IndexMissingError(f"no index in {self.root}: run `python -m bot ingest`")
        manifest_path = self.root / generation / "manifest.json"
        try:
            encoder = json.loads(manifest_path.read_text("utf-8"))["encoder"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"{manifest_path} is unreadable: {exc}") from exc
        if encoder != self.embeddings.name:
            raise IndexMismatchError(
                f"the index was built with encoder '{encoder}' but '{self.embeddings.name}' is "
                "configured: run `python -m bot ingest --rebuild`"
            )

        def collection() -> Any:
            try:
                return self.client.get_collection(
                    self._collection_name(generation), embedding_function=None
                )
            except Exception as exc:
                raise IndexCorruptError(
                    f"Chroma collection for {generation} is missing: {exc}"
                ) from exc

        exact = 0 if self.settings.chroma_host else self.settings.exact_search_limit
        index = Index(self.root, generation, collection, exact_limit=exact)
        if index.matrix is None:
            index.collection  # noqa: B018 - open it now: a broken store shows at start-up
        return index

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

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
            scan = scan_knowledge(folder)
        with self._lock():
            try:
                live = self.current_generation() or ""
            except IndexCorruptError:
                live = ""
            old = None if rebuild else self._previous_state()
            report = self._build(scan, old, progress, start)
            # Keep the generation being replaced: a running app may still be answering from it.
            self._collect_garbage(keep={report.generation, live})
        return report

    def _previous_state(self) -> tuple[str, dict, list[dict], np.ndarray, list[dict]] | None:
        """(generation, manifest, chunks, vectors, lessons) of the live index if reusable."""
        try:
            generation = self.current_generation()
        except IndexCorruptError:
            return None
        if generation is None:
            return None
        gen_dir = self.root / generation
        try:
            manifest = json.loads((gen_dir / "manifest.json").read_text("utf-8"))
            chunks = json.loads((gen_dir / "chunks.json").read_text("utf-8"))
            vectors = np.load(gen_dir / "vectors.npy")
            lessons = json.loads((gen_dir / "lessons.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            return None
        if manifest.get("encoder") != self.embeddings.name or manifest.get("format") != FORMAT:
            return None
        if manifest.get("chunk_chars") != self.settings.chunk_chars or len(chunks) != len(vectors):
            return None
        return generation, manifest, chunks, vectors, lessons

    def _build(
        self,
        scan: KnowledgeScan,
        old: tuple[str, dict, list[dict], np.ndarray, list[dict]] | None,
        progress: Progress | None,
        start: float,
    ) -> IngestReport:
        old_files: dict[str, dict] = old[1]["files"] if old else {}
        old_rows: dict[str, list[int]] = {}
        if old:
            for i, c in enumerate(old[2]):
                old_rows.setdefault(c["source_file"], []).append(i)

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
                reuse = [old[3][i] for i in old_rows[rel]]
                before = [Chunk(**old[2][i]).embed_text() for i in old_rows[rel]]
                if before != [c.embed_text() for c in lesson_chunks]:
                    # Same file, other chunks (the chunker changed): the old vectors do not fit.
                    reuse = [None] * len(lesson_chunks)
                vectors.extend(reuse)
            else:
                added += prev is None
                updated += prev is not None
                vectors.extend([None] * len(lesson_chunks))
            chunks.extend(lesson_chunks)
            records.append(_record(lesson, len(lesson_chunks)))
            files[rel] = {"sha256": lesson.sha256, "doc_id": lesson.doc_id}
        kept = self._keep_last_good(scan, old, old_rows, chunks, vectors, records, files)
        removed = len(set(old_files) - set(files))

        todo = [i for i, v in enumerate(vectors) if v is None]
        dim = old[3].shape[1] if old is not None and len(old[3]) else 0
        # Embedding spends its time in BLAS, which releases the GIL: the Python-bound work
        # (jieba for BM25, importing and opening Chroma) runs meanwhile on this thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            embedding = pool.submit(self._embed, chunks, todo, progress)
            tokens = [tokenize(c.embed_text()) or [""] for c in chunks]
            _ = self._writable_client()
            fresh = embedding.result()
        width = fresh.shape[1] if len(todo) else (dim or 1)
        matrix = np.zeros((len(chunks), width), dtype=np.float32)
        if len(todo):
            matrix[todo] = fresh
        for i, v in enumerate(vectors):
            if v is not None:
                matrix[i] = v

        generation = "g" + time.strftime("%Y%m%dt%H%M%S") + uuid.uuid4().hex[:6]
        tmp_dir = self.root / f"{generation}.tmp"
        tmp_dir.mkdir(parents=True)
        self._write_chroma(generation, chunks, matrix)
        self._write_bm25(tmp_dir, tokens)
        np.save(tmp_dir / "vectors.npy", matrix)
        _write_json(tmp_dir / "chunks.json", [dataclasses.asdict(c) for c in chunks])
        _write_json(tmp_dir / "lessons.json", [dataclasses.asdict(r) for r in records])
        _write_json(
            tmp_dir / "manifest.json",
            {
                "format": FORMAT,
                "generation": generation,
                "encoder": self.embeddings.name,
                "dim": int(matrix.shape[1]),
                "chunk_chars": self.settings.chunk_chars,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "files": files,
                "problems": [str(p) for p in scan.problems],
            },
        )
        _fsync_dir(tmp_dir)
        os.replace(tmp_dir, self.root / generation)
        _write_json(self.root / "CURRENT", {"generation": generation}, atomic=True)
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
        old: tuple[str, dict, list[dict], np.ndarray, list[dict]] | None,
        old_rows: dict[str, list[int]],
        chunks: list[Chunk],
        vectors: list[np.ndarray | None],
        records: list[LessonRecord],
        files: dict[str, dict],
    ) -> int:
        """Carry over indexed files that now fail validation: a bad edit must not lose a lesson."""
        if old is None:
            return 0
        broken = {p.path for p in scan.errors}
        old_lessons = {d["source_file"]: d for d in old[4]}
        taken = {r.doc_id for r in records}
        kept = 0
        for rel, info in old[1]["files"].items():
            record = old_lessons.get(rel)
            if rel in files or rel not in broken or rel not in old_rows or record is None:
                continue
            if record["doc_id"] in taken:
                continue
            for i in old_rows[rel]:
                chunks.append(Chunk(**old[2][i]))
                vectors.append(old[3][i])
            records.append(_record_from_json(record))
            files[rel] = info
            taken.add(record["doc_id"])
            kept += 1
        return kept

    def _write_chroma(self, generation: str, chunks: list[Chunk], matrix: np.ndarray) -> None:
        collection = self.client.create_collection(
            self._collection_name(generation),
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )
        step = 1000
        for begin in range(0, len(chunks), step):
            part = chunks[begin : begin + step]
            collection.add(
                ids=[c.chunk_id for c in part],
                embeddings=matrix[begin : begin + step],
                documents=[c.text for c in part],
                metadatas=[c.metadata() for c in part],
            )

    def _embed(self, chunks: list[Chunk], todo: list[int], progress: Progress | None) -> np.ndarray:
        """Vectors of the chunks at positions todo, in batches, reporting progress."""
        parts = []
        for begin in range(0, len(todo), 32):
            idx = todo[begin : begin + 32]
            parts.append(
                self.embeddings.embed_documents_array([chunks[i].embed_text() for i in idx])
            )
            if progress:
                progress(begin + len(idx), len(todo))
        return np.vstack(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    def _write_bm25(self, gen_dir: Path, tokens: list[list[str]]) -> None:
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
        _write_json(
            gen_dir / "bm25_vocab.json", {str(k): int(v) for k, v in bm25.vocab_dict.items()}
        )

    def _collect_garbage(self, keep: set[str]) -> None:
        """Drop generations and collections other than the live and the previous one."""
        prefix = f"{self.settings.collection_prefix}-"
        for entry in self.root.iterdir():
            if (
                entry.is_dir()
                and entry.name.startswith("g")
                and entry.name.split(".")[0] not in keep
            ):
                shutil.rmtree(entry, ignore_errors=True)
        try:
            names = [getattr(c, "name", c) for c in self.client.list_collections()]
        except Exception:  # pragma: no cover - a listing failure must not fail an ingest
            return
        for name in names:
            if name.startswith(prefix) and name[len(prefix) :] not in keep:
                with contextlib.suppress(Exception):
                    self.client.delete_collection(name)


def _write_json(path: Path, data: Any, atomic: bool = False) -> None:
    target = path.with_name(path.name + ".new") if atomic else path
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    if atomic:
        os.replace(target, path)
        _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LiveIndex:
    """The live generation, reopened when an ingest (in any process) flips CURRENT."""

    def __init__(self, store: IndexStore) -> None:
        import threading

        self.store = store
        self._lock = threading.Lock()
        self._index: Index | None = None
        self._stamp: int | None = None

    def _current_stamp(self) -> int | None:
        try:
            return (self.store.root / "CURRENT").stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def get(self) -> Index:
        """The index to answer from now (opening or reopening it if needed)."""
        stamp = self._current_stamp()
        index = self._index
        if index is not None and stamp == self._stamp:
            return index
        with self._lock:
            if self._index is None or stamp != self._stamp:
                self._index = self.store.open()
                self._stamp = stamp
            return self._index
