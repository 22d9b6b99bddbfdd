"""The index: incremental ingest, atomic swap, encoder records, damage, Chroma server mode."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, FakeEncoder, free_port, make_settings, write_lesson

from bot.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, KnowledgeError
from bot.search.live import LiveIndex
from bot.search.retrieve import Retriever
from bot.search.store import IndexStore

TINY_IDS = {"tiny-police", "tiny-wechat", "tiny-code"}
POLICE_Q = "有人打电话说我的银行卡涉嫌洗钱，要我把钱转到安全账户"
LOTTERY = dict(
    id="tiny-lottery",
    title="中奖要先交钱的都是骗局",
    topic="lottery-prize",
    alias="我中了大奖要先交手续费",
    reminder="天上不会掉馅饼，中奖要先交钱的都是骗子。",
    line="恭喜您中了一等奖，先交个人所得税才能领奖。",
    flag="没买过彩票却中了奖。",
    step1="不交任何费用。",
    step2="打官方电话核实中奖。",
    faq_q="中奖了要先交税吗？",
    faq_a="真中奖不会让您先交钱。",
)
LOTTERY_Q = "说我中了大奖，要先交手续费才能领"


@pytest.fixture
def settings(tmp_path, tiny_kb):
    return make_settings(tmp_path, knowledge_dir=tiny_kb)


@pytest.fixture
def store(settings):
    """A store over the tiny lessons with the fake encoder: ingest logic needs no real model."""
    return IndexStore(settings, FakeEncoder())


def top_doc(store: IndexStore, query: str) -> str:
    passages = Retriever(LiveIndex(store), store.embeddings).search(query, k=3)
    return passages[0].doc_id


def chunk_counts(store: IndexStore) -> dict[str, int]:
    index = store.open()
    counts: dict[str, int] = {}
    for c in index.chunks:
        counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
    assert counts == {d: r.chunks for d, r in index.lessons.items()}
    return counts


# ---------------------------------------------------------------- incremental ingest


def test_first_ingest_embeds_everything_and_the_second_nothing(store):
    first = store.ingest()
    counts = chunk_counts(store)
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    assert first.embedded_chunks == first.chunks == sum(counts.values())
    assert set(counts) == TINY_IDS

    second = store.ingest()
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert second.embedded_chunks == 0
    assert second.chunks == first.chunks
    assert "unchanged 3 documents" in second.summary()
    assert top_doc(store, POLICE_Q) == "tiny-police"


def test_editing_one_lesson_reembeds_only_its_chunks(store, tiny_kb):
    store.ingest()
    before = store.open()
    write_lesson(tiny_kb, "wechat", reminder="微信的字可以调大，老花眼也看得清清楚楚。")
    report = store.ingest()
    counts = chunk_counts(store)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 2)
    assert report.embedded_chunks == counts["tiny-wechat"]
    assert report.embedded_chunks < report.chunks

    after = store.open()
    assert "老花眼也看得清清楚楚" in after.lessons["tiny-wechat"].section("一句话提醒")
    # Unchanged lessons kept their vectors; the edited lesson's reminder got a new one.
    gen_dir = store.root / after.generation
    old = np.load(store.root / before.generation / "vectors.npy")
    new = np.load(gen_dir / "vectors.npy")
    rows = {c.chunk_id: i for i, c in enumerate(before.chunks)}
    for i, c in enumerate(after.chunks):
        if c.doc_id != "tiny-wechat":
            np.testing.assert_array_equal(new[i], old[rows[c.chunk_id]])
        elif c.section == "一句话提醒":
            expected = store.embeddings.embed_documents_array([c.embed_text()])[0]
            np.testing.assert_allclose(new[i], expected, atol=1e-5)
    assert top_doc(store, "老花眼看不清微信") == "tiny-wechat"


def test_editing_a_sidecar_counts_as_an_update(store, tiny_kb):
    (tiny_kb / "notes.txt").write_text("验证码就是钥匙，谁要都不给，家里人也不给。", "utf-8")
    meta = "id: notes\ntitle: {title}\ntopic: verification-code\nupdated: 2026-11-01\n"
    (tiny_kb / "notes.meta.yaml").write_text(meta.format(title="旧标题"), "utf-8")
    store.ingest()
    (tiny_kb / "notes.meta.yaml").write_text(meta.format(title="验证码是钥匙"), "utf-8")
    report = store.ingest()
    assert (report.updated, report.unchanged) == (1, 3)
    assert report.embedded_chunks == chunk_counts(store)["notes"]
    assert store.open().lessons["notes"].title == "验证码是钥匙"


def test_adding_and_deleting_lessons(store, tiny_kb):
    store.ingest()
    write_lesson(tiny_kb, "code", **LOTTERY)
    added = store.ingest()
    counts = chunk_counts(store)
    assert (added.added, added.updated, added.removed, added.unchanged) == (1, 0, 0, 3)
    assert added.embedded_chunks == counts["tiny-lottery"]
    assert top_doc(store, LOTTERY_Q) == "tiny-lottery"

    (tiny_kb / "tiny-code.md").unlink()
    removed = store.ingest()
    assert (removed.added, removed.updated, removed.removed, removed.unchanged) == (0, 0, 1, 3)
    assert removed.embedded_chunks == 0
    index = store.open()
    assert "tiny-code" not in index.lessons
    assert index.collection.count() == len(index.chunks)
    retriever = Retriever(LiveIndex(store), store.embeddings)
    for query in ["银行客服要验证码能给吗？", "验证码不能告诉任何人", "验证码"]:
        for mode in ("hybrid", "dense", "bm25"):
            found = retriever.search(query, k=10, mode=mode, per_lesson=10)
            assert mode == "bm25" or found, (query, mode)
            assert "tiny-code" not in {p.doc_id for p in found}, (query, mode)
    # No other lesson mentions 验证码, so BM25 now finds nothing at all for it.
    assert retriever.search("验证码", mode="bm25") == []


def test_stale_stored_chunks_are_reembedded(store):
    # As after an upgrade that chunks differently: same file, other chunk texts.
    first = store.ingest()
    chunks_path = store.root / first.generation / "chunks.json"
    chunks = json.loads(chunks_path.read_text("utf-8"))
    for c in chunks:
        if c["doc_id"] == "tiny-code":
            c["text"] = "旧的切分结果。"
    chunks_path.write_text(json.dumps(chunks, ensure_ascii=False), "utf-8")
    report = store.ingest()
    assert report.embedded_chunks == chunk_counts(store)["tiny-code"]
    assert "旧的切分结果。" not in {c.text for c in store.open().chunks}


def test_rebuild_reembeds_everything(store):
    store.ingest()
    report = store.ingest(rebuild=True)
    assert report.embedded_chunks == report.chunks > 0
    assert report.added == 3
    assert top_doc(store, POLICE_Q) == "tiny-police"


def test_a_bad_file_never_stops_the_ingest(store, tiny_kb):
    (tiny_kb / "gbk.md").write_bytes("---\nid: gbk\ntitle: 中文标题\n---\n".encode("gbk"))
    (tiny_kb / "broken.docx").write_bytes(os.urandom(1024))
    (tiny_kb / "broken.meta.yaml").write_text(
        "id: broken\ntitle: 坏\ntopic: fake-police\nupdated: 2026-11-01\n", "utf-8"
    )
    report = store.ingest()
    assert report.added == 3
    assert set(store.open().lessons) == TINY_IDS
    assert any(p.startswith("gbk.md:3: wrong encoding") for p in report.problems)
    assert any(p.startswith("broken.docx:") for p in report.problems)


def test_a_lesson_broken_by_an_edit_keeps_its_last_good_version(store, tiny_kb):
    store.ingest()
    path = tiny_kb / "tiny-police.md"
    good = path.read_text("utf-8")
    path.write_bytes(good.encode("gbk"))  # saved in the wrong encoding by mistake
    report = store.ingest()
    assert report.kept_previous == 1
    assert report.removed == 0
    assert "kept the last good version of 1" in report.summary()
    assert any(p.startswith("tiny-police.md:") and "wrong encoding" in p for p in report.problems)
    assert set(store.open().lessons) == TINY_IDS
    assert top_doc(store, POLICE_Q) == "tiny-police"
    path.unlink()  # deleting it for real does remove it
    report = store.ingest()
    assert report.removed == 1
    assert report.kept_previous == 0
    assert "tiny-police" not in store.open().lessons


def test_ingest_from_a_missing_folder_keeps_the_index(store, tmp_path):
    store.ingest()
    generation = store.current_generation()
    with pytest.raises(KnowledgeError, match="no-such-folder"):
        store.ingest(tmp_path / "no-such-folder")
    assert store.current_generation() == generation
    assert set(store.open().lessons) == TINY_IDS


def test_an_emptied_folder_gives_an_index_that_finds_nothing(store, tiny_kb):
    store.ingest()
    for path in tiny_kb.iterdir():
        path.unlink()
    report = store.ingest()
    assert (report.removed, report.chunks) == (3, 0)
    retriever = Retriever(LiveIndex(store), store.embeddings)
    for mode in ("hybrid", "dense", "bm25"):
        assert retriever.search(POLICE_Q, mode=mode) == []


def test_only_the_live_and_the_previous_generation_are_kept(store, tiny_kb):
    for reminder in [
        "第一版提醒：字可以调大。",
        "第二版提醒：字可以调大。",
        "第三版提醒：字可以调大。",
    ]:
        write_lesson(tiny_kb, "wechat", reminder=reminder)
        report = store.ingest()
    generations = sorted(p.name for p in store.root.iterdir() if p.is_dir() and p.name != "chroma")
    assert len(generations) == 2
    assert report.generation in generations
    collections = [getattr(c, "name", c) for c in store.client.list_collections()]
    assert sorted(collections) == sorted(f"silverguard-{g}" for g in generations)


def test_a_reader_of_the_previous_generation_survives_a_rebuild(store):
    store.ingest()
    old = store.open()
    store.ingest(rebuild=True)
    assert store.current_generation() != old.generation
    # A request that picked up the old generation just before the swap still gets answers.
    hits = old.dense_search(store.embeddings.embed_query_vector(POLICE_Q), 3)
    assert old.chunks[hits[0][0]].doc_id == "tiny-police"


# ---------------------------------------------------------------- store.embeddings, missing, corrupt


def test_index_records_its_encoder_and_refuses_another(store, settings):
    report = store.ingest()
    manifest = json.loads((store.root / report.generation / "manifest.json").read_text("utf-8"))
    assert manifest["encoder"] == store.embeddings.name == store.open().manifest["encoder"]

    other = IndexStore(settings, FakeEncoder(name="st:some-other-model"))
    with pytest.raises(IndexMismatchError) as err:
        other.open()
    assert "python -m bot ingest --rebuild" in str(err.value)
    assert store.embeddings.name in str(err.value)
    assert "st:some-other-model" in str(err.value)

    # Ingesting with the other encoder cannot reuse a single vector.
    switched = other.ingest()
    assert switched.embedded_chunks == switched.chunks == report.chunks
    assert other.open().manifest["encoder"] == "st:some-other-model"


def test_missing_index(settings, encoder):
    store = IndexStore(settings, encoder)
    with pytest.raises(IndexMissingError, match="python -m bot ingest"):
        store.open()
    with pytest.raises(IndexMissingError):
        LiveIndex(store).get()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{not json",
        b"null",
        b"[]",
        b'{"gen": "x"}',
        b'{"generation": "g-gone"}',
    ],
    ids=["empty", "broken", "null", "list", "no-key", "gone"],
)
def test_corrupt_current_is_reported_and_a_plain_ingest_recovers(store, content):
    store.ingest()
    (store.root / "CURRENT").write_bytes(content)
    with pytest.raises(IndexCorruptError):
        store.open()
    report = store.ingest()
    assert report.embedded_chunks == report.chunks
    assert set(store.open().lessons) == TINY_IDS


@pytest.mark.parametrize("content", [b'{"format": 1, ', b"[1, 2]", b"{}"])
def test_corrupt_manifest_is_reported_and_a_plain_ingest_recovers(store, content):
    report = store.ingest()
    (store.root / report.generation / "manifest.json").write_bytes(content)
    with pytest.raises(IndexCorruptError):
        store.open()
    again = store.ingest()
    assert again.embedded_chunks == again.chunks
    assert top_doc(store, POLICE_Q) == "tiny-police"


def test_corrupt_chunks_file_is_reported(store):
    report = store.ingest()
    (store.root / report.generation / "chunks.json").write_text("[{", "utf-8")
    with pytest.raises(IndexCorruptError):
        store.open()


# ---------------------------------------------------------------- killed ingest, live swap

KILLED_INGEST = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from bot.config import Settings, apply_offline_env
    apply_offline_env()
    from bot.search.embeddings import USEEmbeddings
    from bot.search.store import IndexStore

    settings = Settings(_env_file=None, knowledge_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]))
    store = IndexStore(settings, USEEmbeddings(threads=1))

    def progress(done, total):
        print("EMBEDDING", done, total, flush=True)
        time.sleep(300)

    store.ingest(progress=progress)
    print("FINISHED", flush=True)
    """
)


def _wait_for_line(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            seen += line
            if line.startswith(marker):
                return line
            if not line and proc.poll() is not None:
                break
    raise AssertionError(f"no {marker!r} from the ingest process; stdout: {seen!r}")


def test_a_killed_ingest_leaves_the_previous_index_usable(store, settings, tiny_kb):
    first = store.ingest()
    write_lesson(tiny_kb, "code", **LOTTERY)
    write_lesson(tiny_kb, "police", reminder="这一版改过了，但还没有进索引。")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_INGEST, str(tiny_kb), str(settings.data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for_line(proc, "EMBEDDING", timeout=120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    reopened = IndexStore(settings, store.embeddings)
    index = reopened.open()
    assert index.generation == first.generation
    assert set(index.lessons) == TINY_IDS
    assert "还没有进索引" not in index.lessons["tiny-police"].section("一句话提醒")
    assert top_doc(reopened, POLICE_Q) == "tiny-police"

    report = reopened.ingest()
    assert (report.added, report.updated, report.unchanged) == (1, 1, 2)
    assert set(reopened.open().lessons) == TINY_IDS | {"tiny-lottery"}
    assert top_doc(reopened, LOTTERY_Q) == "tiny-lottery"
    assert not [p for p in reopened.root.iterdir() if p.name.endswith(".tmp")]


def test_live_index_follows_an_ingest_by_another_store(settings, tiny_kb, encoder):
    IndexStore(settings, encoder).ingest()
    live = LiveIndex(IndexStore(settings, encoder))
    retriever = Retriever(live, encoder)
    before = live.get()
    assert live.get() is before  # nothing changed: the same opened index

    write_lesson(tiny_kb, "code", **LOTTERY)
    report = IndexStore(settings, encoder).ingest()
    assert live.get().generation == report.generation != before.generation
    assert "tiny-lottery" in live.get().lessons
    assert retriever.search(LOTTERY_Q)[0].doc_id == "tiny-lottery"


FINISHED_INGEST = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from bot.config import Settings, apply_offline_env
    apply_offline_env()
    from bot.search.embeddings import USEEmbeddings
    from bot.search.store import IndexStore

    settings = Settings(_env_file=None, knowledge_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]))
    print(IndexStore(settings, USEEmbeddings(threads=1)).ingest().generation)
    """
)


@pytest.mark.slow
def test_live_index_follows_an_ingest_in_another_process(settings, tiny_kb, encoder):
    # As when staff run `python -m bot ingest` while the app is answering (the real encoder:
    # the other process loads it too).
    store = IndexStore(settings, encoder)
    store.ingest()
    live = LiveIndex(store)
    retriever = Retriever(live, encoder)
    before = live.get().generation
    write_lesson(tiny_kb, "code", **LOTTERY)
    result = subprocess.run(
        [sys.executable, "-c", FINISHED_INGEST, str(tiny_kb), str(settings.data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    generation = result.stdout.strip().splitlines()[-1]
    assert live.get().generation == generation != before
    found = retriever.search(LOTTERY_Q, mode="dense")
    assert found[0].doc_id == "tiny-lottery"


# ---------------------------------------------------------------- Chroma server mode


def _http_client(port: int):
    import chromadb

    return chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=chromadb.Settings(anonymized_telemetry=False)
    )


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on a free loopback port; yields the port."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    log_path = tmp_path / "chroma.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [
                str(chroma),
                "run",
                "--path",
                str(tmp_path / "server"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text("utf-8", "replace")
            try:
                _http_client(port).heartbeat()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_chroma_server_mode(chroma_server, tmp_path, tiny_kb, encoder):
    settings = make_settings(
        tmp_path, knowledge_dir=tiny_kb, chroma_host="127.0.0.1", chroma_port=chroma_server
    )
    store = IndexStore(settings, encoder)
    first = store.ingest()
    assert first.added == 3
    assert top_doc(store, POLICE_Q) == "tiny-police"
    assert not (settings.index_dir / "chroma").exists()  # nothing embedded locally
    names = [getattr(c, "name", c) for c in _http_client(chroma_server).list_collections()]
    assert names == [f"silverguard-{first.generation}"]

    write_lesson(tiny_kb, "code", **LOTTERY)
    second = store.ingest()
    assert (second.added, second.unchanged) == (1, 3)
    assert second.embedded_chunks == chunk_counts(store)["tiny-lottery"]
    assert top_doc(store, LOTTERY_Q) == "tiny-lottery"
    assert (
        _http_client(chroma_server).get_collection(f"silverguard-{second.generation}").count()
        == second.chunks
    )


# ---------------------------------------------------------------- exact scan vs Chroma


def test_exact_scan_and_the_chroma_query_agree(tmp_path, tiny_kb, encoder):
    exact = IndexStore(make_settings(tmp_path, knowledge_dir=tiny_kb), encoder)
    exact.ingest()
    chroma = IndexStore(
        make_settings(tmp_path, knowledge_dir=tiny_kb, exact_search_limit=0), encoder
    )
    by_exact, by_chroma = exact.open(), chroma.open()
    assert by_exact.matrix is not None
    assert by_chroma.matrix is None  # this one asks the Chroma collection
    vector = encoder.embed_query_vector(POLICE_Q)
    got_exact = by_exact.dense_search(vector, 5)
    got_chroma = by_chroma.dense_search(vector, 5)
    assert [pos for pos, _ in got_exact] == [pos for pos, _ in got_chroma]
    for (_, a), (_, b) in zip(got_exact, got_chroma, strict=True):
        assert a == pytest.approx(b, abs=1e-4)
