"""The Chroma side of the index: one client per store, damage checks, collections per generation."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.errors import DiskFullError, IndexCorruptError, is_disk_full
from bot.records import Chunk

log = logging.getLogger("bot")


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


class ChromaStore:
    """The Chroma client of one index folder (or server): opened lazily, reopened when replaced."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.index_dir
        self._client: Any = None
        self._client_dir: tuple[int, int] | None = None  # the embedded store's (device, inode)

    @property
    def client(self) -> Any:
        if self._client is not None and self._client_dir != self._store_identity():
            # The store's folder was deleted or replaced under us: chromadb's cached System still
            # writes to the old file ("attempt to write a readonly database", chroma#6499).
            self.close()
        if self._client is None:
            try:
                self._client = chroma_client(self.settings)
            except Exception as exc:  # chromadb raises many kinds on a damaged store
                where = self.settings.chroma_host or self.root / "chroma"
                if is_disk_full(exc):
                    raise disk_full(f"cannot open the Chroma store at {where}", exc) from exc
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

    def close(self) -> None:
        """Close the client: chromadb stops its cached System when we were its last user."""
        client, self._client, self._client_dir = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def check(self) -> None:
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
            if is_disk_full(exc):
                raise disk_full(f"cannot check the Chroma store {path}", exc) from exc
            raise IndexCorruptError(f"the Chroma store {path} is damaged: {exc}") from exc
        if not result or result[0] != "ok":
            raise IndexCorruptError(f"the Chroma store {path} is damaged: {result}")

    def stored_count(self, generation: str) -> int | None:
        """How many vectors the embedded store holds for a generation (None: cannot tell).

        Read with the standard library from chromadb's own tables (as check() does), so start-up
        need not import chromadb; a schema this does not know says None, never "empty".
        """
        if self.settings.chroma_host:
            return None
        path = self.root / "chroma" / "chroma.sqlite3"
        if not path.exists():
            return 0
        import sqlite3

        try:
            with contextlib.closing(
                sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            ) as db:
                row = db.execute(
                    "SELECT COUNT(*) FROM embeddings e JOIN segments s ON e.segment_id = s.id "
                    "JOIN collections c ON s.collection = c.id WHERE c.name = ?",
                    (self.collection_name(generation),),
                ).fetchone()
        except sqlite3.Error as exc:
            log.debug("cannot count the Chroma store's vectors: %s", exc)
            return None
        return int(row[0]) if row else 0

    def writable_client(self) -> Any:
        """The client an ingest writes with; a damaged embedded store is set aside for a new one."""
        if self._client is None:
            # Checked before chromadb opens it: a System that failed to start stays cached in
            # chromadb for that path, and every later client there fails too.
            try:
                self.check()
            except IndexCorruptError as exc:
                aside = self.root / f"chroma.broken-{time.strftime('%Y%m%dT%H%M%S')}"
                (self.root / "chroma").rename(aside)
                log.warning("%s -- moved it to %s, writing a new store", exc, aside)
        return self.client

    def collection_name(self, generation: str) -> str:
        return f"{self.settings.collection_prefix}-{generation}"

    def opener(self, generation: str) -> Callable[[], Any]:
        """A function that opens the collection of a generation (IndexCorruptError if missing)."""

        def collection() -> Any:
            try:
                return self.client.get_collection(
                    self.collection_name(generation), embedding_function=None
                )
            except Exception as exc:
                raise IndexCorruptError(
                    f"Chroma collection for {generation} is missing: {exc}"
                ) from exc

        return collection

    def write(self, generation: str, chunks: list[Chunk], matrix: np.ndarray) -> None:
        """Create the collection of a generation with the given vectors (explicit embeddings)."""
        collection = self.client.create_collection(
            self.collection_name(generation),
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

    def drop_all_but(self, keep: set[str]) -> None:
        """Delete the collections of every generation not in keep."""
        prefix = f"{self.settings.collection_prefix}-"
        try:
            names = [getattr(c, "name", c) for c in self.client.list_collections()]
        except Exception:  # pragma: no cover - a listing failure must not fail an ingest
            return
        for name in names:
            if name.startswith(prefix) and name[len(prefix) :] not in keep:
                with contextlib.suppress(Exception):
                    self.client.delete_collection(name)


def disk_full(what: str, exc: BaseException) -> DiskFullError:
    """The error for a full disk, said as that (never as a damaged index)."""
    return DiskFullError(
        f"{what}: the disk is full ({exc}); nothing is damaged and nothing was changed: "
        "free some space, then re-index"
    )


def index_dir_aside(root: Path) -> Path:
    """Where a damaged index folder is moved (kept for inspection)."""
    return root.with_name(f"{root.name}.broken-{time.strftime('%Y%m%dT%H%M%S')}")
