"""The index's health at start: a full disk is said as that (nothing moved aside), an emptied
Chroma store is noticed and rebuilt."""

from __future__ import annotations

import errno
import shutil
import sqlite3

import pytest
from helpers import FakeEncoder, make_settings

from bot.errors import DiskFullError, IndexCorruptError, is_disk_full
from bot.search import store as store_module
from bot.search.live import open_live_index
from bot.search.store import IndexStore

ENOSPC = OSError(errno.ENOSPC, "No space left on device")


def make_store(tmp_path, knowledge, **overrides) -> IndexStore:
    return IndexStore(make_settings(tmp_path, knowledge_dir=knowledge, **overrides), FakeEncoder())


def moved_aside(store: IndexStore) -> list[str]:
    parent = store.root.parent
    return sorted(p.name for p in parent.iterdir() if ".broken-" in p.name)


def test_disk_full_is_recognised_through_wrapping():
    assert is_disk_full(ENOSPC)
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    wrapped = IndexCorruptError("cannot open the Chroma store")
    wrapped.__cause__ = ENOSPC  # as `raise ... from exc` leaves it
    assert is_disk_full(wrapped)
    assert not is_disk_full(IndexCorruptError("the Chroma store is damaged: malformed"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_an_ingest_on_a_full_disk_says_so_and_leaves_the_live_index(tmp_path, tiny_kb, monkeypatch):
    store = make_store(tmp_path, tiny_kb)
    first = store.ingest().generation

    def full(*args, **kwargs):
        raise ENOSPC

    monkeypatch.setattr(store_module, "write_generation", full)
    (tiny_kb / "tiny-code.md").write_text(
        (tiny_kb / "tiny-code.md").read_text("utf-8") + "\n补充一句。\n", "utf-8"
    )
    with pytest.raises(DiskFullError, match="disk is full.*nothing is damaged"):
        store.ingest()
    assert store.current_generation() == first
    assert store.open().generation == first


def test_a_full_disk_at_start_is_not_a_damaged_index(tmp_path, tiny_kb, monkeypatch):
    # Chroma answers (no exact scan): opening its store on a full disk fails at start-up.
    store = make_store(tmp_path, tiny_kb, exact_search_limit=0)
    store.ingest()
    store.chroma.close()
    before = sorted(p.name for p in store.root.iterdir())

    def full(settings):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr("bot.search.chroma.chroma_client", full)
    fresh = make_store(tmp_path, tiny_kb, exact_search_limit=0)
    with pytest.raises(DiskFullError, match="disk is full"):
        open_live_index(fresh, build_if_missing=True)
    assert moved_aside(fresh) == []  # nothing quarantined
    assert sorted(p.name for p in fresh.root.iterdir()) == before


def test_an_emptied_chroma_store_is_noticed_and_rebuilt(tmp_path, tiny_kb):
    store = make_store(tmp_path, tiny_kb)
    generation = store.ingest().generation
    chunks = len(store.open().chunks)
    assert store.chroma.stored_count(generation) == chunks
    store.chroma.close()
    shutil.rmtree(store.root / "chroma")  # emptied: exact search alone would not notice

    fresh = make_store(tmp_path, tiny_kb)
    live = open_live_index(fresh, build_if_missing=True)
    rebuilt = live.get()
    assert rebuilt.generation != generation
    assert fresh.chroma.stored_count(rebuilt.generation) == len(rebuilt.chunks) == chunks
    assert rebuilt.collection.count() == chunks


def test_a_collection_emptied_inside_the_store_is_noticed(tmp_path, tiny_kb):
    store = make_store(tmp_path, tiny_kb)
    generation = store.ingest().generation
    store.client.delete_collection(store.chroma.collection_name(generation))
    store.chroma.close()
    with pytest.raises(IndexCorruptError, match="holds 0 of the"):
        store.check_complete(store.open())
    live = open_live_index(make_store(tmp_path, tiny_kb), build_if_missing=True)
    assert live.get().collection.count() == len(live.get().chunks)
