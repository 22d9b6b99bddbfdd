"""Small real fixtures: real encoder, real Chroma in tmp dirs, real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import TINY, make_settings, write_lesson

from bot.config import apply_offline_env

apply_offline_env()


@pytest.fixture(scope="session")
def vector_cache_dir(tmp_path_factory):
    """One cache of embedded texts for the whole run: every fresh index of the same lessons
    (there are many: each app the tests start builds its own) reuses the vectors."""
    return tmp_path_factory.mktemp("vectors")


@pytest.fixture(autouse=True)
def _no_bot_env(monkeypatch, vector_cache_dir):
    for key in list(os.environ):
        if key.startswith("BOT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BOT_VECTOR_CACHE_DIR", str(vector_cache_dir))


@pytest.fixture(scope="session")
def encoder():
    """The real default encoder (USE), loaded once for the session."""
    from bot.search.embeddings import USEEmbeddings

    enc = USEEmbeddings(threads=2)
    enc.embed_documents_array(["预热"])
    return enc


@pytest.fixture(scope="session")
def shipped(tmp_path_factory, encoder, vector_cache_dir):
    """An Assistant over the shipped knowledge base, indexed once in a tmp dir."""
    from bot.reply.assistant import build_assistant

    settings = make_settings(tmp_path_factory.mktemp("shipped"), vector_cache_dir=vector_cache_dir)
    return build_assistant(settings, embeddings=encoder)


@pytest.fixture
def tiny_kb(tmp_path):
    """A knowledge folder with three small lessons."""
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for key in TINY:
        write_lesson(folder, key)
    return folder


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for every browser test (pages get their own contexts)."""
    from helpers import CHROMIUM, CHROMIUM_ARGS, need

    need(Path(CHROMIUM), "Debian chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
