"""The live index: reopened when an ingest (in any process) flips CURRENT; repaired at start."""

from __future__ import annotations

import logging
import threading

from bot.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, is_disk_full
from bot.search.chroma import disk_full
from bot.search.index import Index
from bot.search.store import IndexStore

log = logging.getLogger("bot")


class LiveIndex:
    """The live generation, reopened when an ingest (in any process) flips CURRENT."""

    def __init__(self, store: IndexStore) -> None:
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


def open_live_index(store: IndexStore, build_if_missing: bool) -> LiveIndex:
    """Open the live index; build it when missing, rebuild it when damaged or built otherwise."""
    live = LiveIndex(store)
    try:
        if store.current_generation() is None:
            if not build_if_missing:
                raise IndexMissingError(f"no index in {store.root}: run `python -m bot ingest`")
            log.info("no index yet: building it from %s", store.settings.knowledge_dir)
            store.ingest()
        store.check_store()  # before chromadb opens a damaged file (see ChromaStore.writable_client)
        index = live.get()  # open now: a broken index is reported at start-up, not at a question
        store.check_complete(index)
        return live
    except (IndexCorruptError, IndexMismatchError) as exc:
        if is_disk_full(exc):  # a full disk is not a damaged index: nothing is moved aside
            raise disk_full(f"cannot open the index in {store.root}", exc) from exc
        if not build_if_missing:
            raise
        log.warning("%s -- rebuilding the index from %s", exc, store.settings.knowledge_dir)
        if isinstance(exc, IndexCorruptError):
            aside = store.quarantine()
            if aside is not None:
                log.warning("the damaged index was moved to %s", aside)
        store.ingest(rebuild=True)
        live = LiveIndex(store)
        live.get()
        return live
