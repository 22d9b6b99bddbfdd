"""Faults: a killed ingest, a damaged index, a failing LLM, re-indexing under load, the public surface.

Everything runs on 127.0.0.1 with bounded loops and timeouts; the processes are real
(`python -m bot ...`, `python app.py`), killed or damaged the way an operator would see it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from helpers import (
    KNOWLEDGE,
    ROOT,
    TINY,
    make_settings,
    running_app,
    running_shipped_app,
    write_lesson,
)

from benchmarks.synthetic import write_corpus
from bot.knowledge.lessons import scan_knowledge
from bot.reply.assistant import build_assistant
from bot.search.store import IndexStore

POLICE_Q = "有人打电话说是公安局的，说我的银行卡涉嫌洗钱，要我把钱转到安全账户，我该怎么办"
TINY_IDS = {v["id"] for v in TINY.values()}
POLICE_FILE = "fake-police-safe-account.md"
REMINDER = "世上没有“安全账户”，叫您转钱查清白的都是骗子。"
EDITED = "改过的一版：所谓安全账户都是骗子的账户，一分钱也不要转。"
BUSY = "系统有点忙"
TOO_FAST = "歇一歇"
GAS = dict(
    id="faults-gas-meter",
    title="冒充燃气公司上门换燃气表",
    topic="fake-customer-service",
    alias="燃气公司上门说燃气表要换",
    reminder="燃气公司上门换燃气表，先打燃气公司官方电话核实。",
    line="您家燃气表到期了，今天必须换新表，交八百元。",
    flag="上门就催交钱，不给正规收据。",
    step1="不开门，先打燃气账单上的官方电话核实。",
    step2="不在门口交现金。",
    faq_q="燃气公司上门说要换燃气表，要交钱吗？",
    faq_a="先别交钱，打燃气账单上的官方电话问清楚。",
)
GAS_Q = "燃气公司的人上门说我家燃气表要换 要交八百块"

# A fresh process that starts the assistant the way app.py does, asks once, says what it serves.
RESTART = textwrap.dedent(
    """
    import json, logging, sys
    from pathlib import Path
    from bot.config import Settings, apply_offline_env
    apply_offline_env()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    from bot.reply.assistant import build_assistant

    settings = Settings(_env_file=None, knowledge_dir=Path(sys.argv[1]), data_dir=Path(sys.argv[2]))
    assistant = build_assistant(settings)
    answer = assistant.ask(sys.argv[3])
    index = assistant.retriever.index
    print(json.dumps({
        "generation": index.generation,
        "lessons": sorted(index.lessons),
        "chunk_lessons": sorted({c.doc_id for c in index.chunks}),
        "chunks": len(index.chunks),
        "vectors": None if index.matrix is None else int(index.matrix.shape[0]),
        "top": answer.sources[0].doc_id if answer.sources else None,
        "text": answer.text,
    }, ensure_ascii=False))
    """
)


def _python(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def _bot(knowledge: Path, data: Path, *argv: str) -> list[str]:
    return ["-m", "bot", "--knowledge-dir", str(knowledge), "--data-dir", str(data), *argv]


def _restart(knowledge: Path, data: Path, cwd: Path, question: str = POLICE_Q) -> dict:
    """Start a fresh assistant process on the folders; what it serves (asserts a clean start)."""
    result = _python(["-c", RESTART, str(knowledge), str(data), question], cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])
    served["log"] = result.stderr
    return served


def _eval_questions() -> list[str]:
    lines = (ROOT / "evals" / "retrieval.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


# ---------------------------------------------------------------- an ingest killed mid-way


def _wait_until_embedding(proc: subprocess.Popen, timeout: float) -> tuple[int, int]:
    """Read the ingest's progress bar (stderr) until some but not all chunks are embedded."""
    deadline = time.monotonic() + timeout
    seen = b""
    fd = proc.stderr.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            data = os.read(fd, 4096)
            seen += data
            for done, total in re.findall(rb"(\d+)/(\d+) \[", seen):
                if 0 < int(done) < int(total):
                    return int(done), int(total)
            if not data and proc.poll() is not None:
                break
    raise AssertionError(f"the ingest was never caught embedding; stderr: {seen[-2000:]!r}")


@pytest.mark.slow
def test_an_ingest_killed_while_embedding_loses_no_lesson(tmp_path, encoder):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = make_settings(tmp_path, knowledge_dir=knowledge)
    first = IndexStore(settings, encoder).ingest()
    before = set(IndexStore(settings, encoder).open().lessons)
    assert len(before) >= 20

    police = knowledge / POLICE_FILE
    police.write_text(police.read_text("utf-8").replace(REMINDER, EDITED), "utf-8")
    # New lessons too, so that the ingest embeds for several seconds and can be caught at it.
    added = write_corpus(list(scan_knowledge(knowledge).lessons)[:8], knowledge, copies=1)
    proc = subprocess.Popen(
        [sys.executable, *_bot(knowledge, settings.data_dir, "ingest")],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        done, total = _wait_until_embedding(proc, timeout=180)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert 0 < done < total

    served = _restart(knowledge, settings.data_dir, tmp_path)
    assert served["generation"] == first.generation  # the killed ingest never flipped CURRENT
    assert set(served["lessons"]) == before
    assert served["chunk_lessons"] == served["lessons"]
    assert served["vectors"] == served["chunks"]
    assert served["top"] == "fake-police-safe-account"
    assert served["text"].startswith(REMINDER)

    again = _python(_bot(knowledge, settings.data_dir, "ingest", "--quiet"), tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"added {added}, updated 1, removed 0" in again.stdout
    index = IndexStore(settings, encoder).open()
    assert before < set(index.lessons)
    assert len(index.lessons) == len(before) + added
    assert EDITED in index.lessons["fake-police-safe-account"].section("一句话提醒")
    assert not [p for p in settings.index_dir.iterdir() if p.name.endswith(".tmp")]
    served = _restart(knowledge, settings.data_dir, tmp_path)
    assert served["generation"] == index.generation
    assert served["text"].startswith(EDITED)


# ---------------------------------------------------------------- a damaged index folder

DAMAGES = {
    # damage: what a fresh start logs before it answers again
    "garbage-in-current": "rebuilding the index from",
    "generation-deleted": "rebuilding the index from",
    "sqlite-truncated": "rebuilding the index from",
    "sqlite-garbage": "rebuilding the index from",
    "index-folder-deleted": "no index yet: building it from",
}


def _damage(index_dir: Path, damage: str) -> None:
    generation = json.loads((index_dir / "CURRENT").read_text("utf-8"))["generation"]
    sqlite = index_dir / "chroma" / "chroma.sqlite3"
    if damage == "garbage-in-current":
        (index_dir / "CURRENT").write_bytes(b"\x00\xff{generation: ???")
    elif damage == "generation-deleted":
        shutil.rmtree(index_dir / generation)
    elif damage == "sqlite-truncated":
        assert sqlite.stat().st_size > 8192
        with open(sqlite, "r+b") as handle:
            handle.truncate(8192)
    elif damage == "sqlite-garbage":
        sqlite.write_bytes(bytes(range(256)) * 256)
    else:
        shutil.rmtree(index_dir)


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_index_is_rebuilt_at_start_with_a_clear_message(
    tmp_path, tiny_kb, encoder, damage
):
    settings = make_settings(tmp_path, knowledge_dir=tiny_kb)
    first = IndexStore(settings, encoder).ingest()
    _damage(settings.index_dir, damage)

    served = _restart(tiny_kb, settings.data_dir, tmp_path)
    assert DAMAGES[damage] in served["log"]
    assert str(tiny_kb) in served["log"]
    assert served["generation"] != first.generation
    assert set(served["lessons"]) == TINY_IDS
    assert served["top"] == "tiny-police"
    # the source line names the lesson (and a second one when a line of it was added)
    assert f"《{TINY['police']['title']}》" in served["text"].splitlines()[-1]

    # `python -m bot search` on a freshly damaged folder works, or says why in one line.
    _damage(settings.index_dir, damage)
    search = _python(_bot(tiny_kb, settings.data_dir, "search", POLICE_Q, "--json"), tmp_path)
    assert "Traceback" not in search.stderr
    if search.returncode == 0:
        assert json.loads(search.stdout)[0]["doc_id"] == "tiny-police"
    else:
        assert search.stderr.startswith("error: ")
        assert len(search.stderr.strip().splitlines()) == 1


def test_an_index_folder_deleted_under_a_running_process_is_rebuilt_by_its_next_ingest(
    tmp_path, tiny_kb, encoder
):
    # chromadb caches one System per path: without closing it, writing to the new folder
    # fails with "attempt to write a readonly database" (chroma#6499).
    settings = make_settings(tmp_path, knowledge_dir=tiny_kb)
    assistant = build_assistant(settings, embeddings=encoder)
    shutil.rmtree(settings.index_dir)
    report = assistant.store.ingest()
    assert report.embedded_chunks == report.chunks
    assert assistant.ask(POLICE_Q).sources[0].doc_id == "tiny-police"
    name = f"{settings.collection_prefix}-{report.generation}"
    assert assistant.store.client.get_collection(name).count() == report.chunks


@pytest.mark.slow
def test_a_damaged_chroma_database_is_set_aside_by_the_next_ingest(tmp_path, tiny_kb, encoder):
    # As when staff run `python -m bot ingest` (or the desk re-indexes) over a damaged store.
    settings = make_settings(tmp_path, knowledge_dir=tiny_kb)
    IndexStore(settings, encoder).ingest()
    _damage(settings.index_dir, "sqlite-garbage")
    write_lesson(tiny_kb, "police", reminder="改过的提醒：安全账户都是假的。")
    result = _python(_bot(tiny_kb, settings.data_dir, "ingest", "--quiet"), tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "is damaged" in result.stderr
    assert "added 0, updated 1, removed 0, unchanged 2" in result.stdout
    assert [p.name for p in settings.index_dir.glob("chroma.broken-*")]
    served = _restart(tiny_kb, settings.data_dir, tmp_path)
    assert "rebuilding" not in served["log"]  # the new store is sound
    assert served["text"].startswith("改过的提醒")


# ---------------------------------------------------------------- an LLM endpoint misbehaving

LLM_TIMEOUT_S = 2.0


class BrokenLLM:
    """An OpenAI-compatible endpoint on 127.0.0.1 that fails in the way it is told."""

    def __init__(self) -> None:
        self.mode = "http-500"
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # as vLLM and uvicorn: a stream is chunked

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests += 1
                if fake.mode == "http-500":
                    self.reply(500, "application/json", b'{"error": {"message": "boom"}}')
                elif fake.mode == "not-json":
                    self.reply(200, "application/json", b"<html>502 Bad Gateway</html>")
                else:
                    self.stream()

            def reply(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def stream(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                good = {"choices": [{"index": 0, "delta": {"content": "真警察不会"}}]}
                events = [f"data: {json.dumps(good, ensure_ascii=False)}\n\n".encode()]
                if fake.mode == "garbage-stream":
                    events.append(b"data: {not json at all\n\n")
                for event in events:
                    self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                    self.wfile.flush()
                # "broken-stream" (and after the garbage): the server dies mid-reply, no last chunk.
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def broken_llm():
    fake = BrokenLLM()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def llm_data(tmp_path_factory, encoder):
    """Tiny lessons indexed once for the LLM fault tests."""
    root = tmp_path_factory.mktemp("faults-llm")
    knowledge = root / "knowledge"
    knowledge.mkdir()
    for key in TINY:
        write_lesson(knowledge, key)
    IndexStore(make_settings(root, knowledge_dir=knowledge), encoder).ingest()
    return root, knowledge


@pytest.mark.parametrize("mode", ["http-500", "not-json", "broken-stream", "garbage-stream"])
def test_a_failing_llm_endpoint_gives_the_grounded_answer_in_time(
    llm_data, broken_llm, encoder, mode
):
    root, knowledge = llm_data
    broken_llm.mode = mode
    broken_llm.requests = 0
    settings = make_settings(
        root,
        knowledge_dir=knowledge,
        llm="openai",
        llm_base_url=broken_llm.base_url,
        llm_timeout_s=LLM_TIMEOUT_S,
    )
    assistant = build_assistant(settings, embeddings=encoder)
    start = time.perf_counter()
    answer = assistant.ask(POLICE_Q)
    assert time.perf_counter() - start < LLM_TIMEOUT_S + 1.5
    assert broken_llm.requests == 1  # asked once, no retries
    assert answer.used_llm is False
    assert answer.kind == "answer"
    assert answer.sources[0].doc_id == "tiny-police"
    # exactly the grounded composer's reply: the same assistant with no LLM configured
    grounded = dataclasses.replace(assistant, chat_model=None).ask(POLICE_Q)
    assert answer.text == grounded.text


# ---------------------------------------------------------------- re-indexing while answering


@pytest.mark.slow
def test_twenty_sessions_keep_answering_through_an_ingest_and_a_rebuild(tmp_path, encoder):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = make_settings(tmp_path, knowledge_dir=knowledge)
    assistant = build_assistant(settings, embeddings=encoder)
    questions = _eval_questions()
    stop = threading.Event()
    failures: list[tuple[str, str]] = []
    answered = [0] * 20
    generations: set[str] = set()

    def session(i: int) -> None:
        rng = random.Random(i)
        while not stop.is_set() and answered[i] < 5000:
            question = rng.choice(questions)
            try:
                answer = assistant.ask(question)
                generations.add(assistant.retriever.index.generation)
            except Exception as exc:
                failures.append((question, repr(exc)))
                continue
            finally:
                answered[i] += 1
            if not answer.text.strip():
                failures.append((question, "empty answer"))

    def reindex() -> list[str]:
        police = knowledge / POLICE_FILE
        police.write_text(police.read_text("utf-8").replace(REMINDER, EDITED), "utf-8")
        edited = assistant.store.ingest()
        rebuilt = assistant.store.ingest(rebuild=True)
        return [edited.generation, rebuilt.generation]

    threads = [threading.Thread(target=session, args=(i,), daemon=True) for i in range(20)]
    for t in threads:
        t.start()
    try:
        time.sleep(1)
        with ThreadPoolExecutor(max_workers=1) as pool:
            during = sum(answered)
            new = pool.submit(reindex).result(timeout=600)
            during = sum(answered) - during
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert during >= 20  # the sessions really were answering while the index changed
    assert min(answered) > 0
    assert new[0] in generations or new[1] in generations
    assert assistant.retriever.index.generation == new[1]
    assert assistant.ask(POLICE_Q).text.startswith(EDITED)


# ---------------------------------------------------------------- the running app over HTTP

PASSWORD = "faults-desk-pass-7"


def chat(client: httpx.Client, url: str, question: str, session: str) -> str:
    """One question over Gradio's REST API (/chat), the reply's final text."""
    body = {"data": [question, []], "session_hash": session}
    posted = client.post(f"{url}/gradio_api/call/chat", json=body)
    posted.raise_for_status()
    event = ""
    with client.stream("GET", f"{url}/gradio_api/call/chat/{posted.json()['event_id']}") as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                assert event == "complete", line
                return str(json.loads(line[5:])[0]["text"])  # one update: text, done, ...
    raise AssertionError("the stream ended without a reply")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app over a copy of the shipped lessons, with the desk and a limit no test reaches."""
    tmp = tmp_path_factory.mktemp("faults-app")
    env = {
        "BOT_ADMIN_PASSWORD": PASSWORD,
        "BOT_RATE_LIMIT_PER_MINUTE": "1000000",
        # every test client shares loopback: lift the per-address ceiling and queue share too
        "BOT_RATE_LIMIT_PER_IP_PER_MINUTE": "1000000",
        "BOT_QUEUE_PER_IP": "256",
    }
    with running_shipped_app(tmp, **env) as urls:
        yield urls


@pytest.mark.slow
def test_twenty_http_clients_get_answers_while_another_process_reindexes(app):
    questions = _eval_questions()
    stop = threading.Event()
    failures: list[tuple[str, str]] = []
    answered = [0] * 20

    def client_loop(i: int) -> None:
        rng, session = random.Random(100 + i), uuid.uuid4().hex
        with httpx.Client(timeout=60, trust_env=False) as client:
            while not stop.is_set() and answered[i] < 2000:
                question = rng.choice(questions)
                try:
                    text = chat(client, app["public"], question, session)
                    if not text.strip() or BUSY in text or TOO_FAST in text:
                        failures.append((question, text[:80]))
                except Exception as exc:
                    failures.append((question, repr(exc)))
                answered[i] += 1

    knowledge, data = app["knowledge"], app["dir"] / "data"
    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(20)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        police = knowledge / POLICE_FILE
        police.write_text(police.read_text("utf-8").replace(REMINDER, EDITED), "utf-8")
        write_lesson(knowledge, "police", **GAS)
        during = sum(answered)
        edited = _python(_bot(knowledge, data, "ingest", "--quiet"), app["dir"], timeout=400)
        rebuilt = _python(_bot(knowledge, data, "ingest", "--rebuild", "--quiet"), app["dir"], 400)
        during = sum(answered) - during
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=90)
    assert edited.returncode == 0, edited.stderr[-3000:]
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert "added 1, updated 1" in edited.stdout
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert during >= 20
    assert min(answered) > 0
    # The app now serves the new generation (LiveIndex follows CURRENT).
    with httpx.Client(timeout=60, trust_env=False) as client:
        assert "《冒充燃气公司上门换燃气表》" in chat(client, app["public"], GAS_Q, "after")
        assert chat(client, app["public"], POLICE_Q, "after").startswith(EDITED)


DESK_FUNCTIONS = ("reindex", "upload", "remove", "evaluate", "gaps", "table", "again", "run")


@pytest.mark.slow
def test_the_public_port_reaches_no_desk_function(app):
    info = httpx.get(app["public"] + "/gradio_api/info", timeout=10).json()
    names = set(info.get("named_endpoints", {})) | set(info.get("unnamed_endpoints", {}))
    assert names <= {"/chat"}, names
    config = httpx.get(app["public"] + "/config", timeout=10)
    assert config.status_code == 200
    for label in ("重新索引", "上传并校验", "运行评测", "内容管理台", "确认删除"):
        assert label not in config.text
    for name in DESK_FUNCTIONS:
        r = httpx.post(f"{app['public']}/gradio_api/call/{name}", json={"data": []}, timeout=10)
        assert r.status_code >= 400, (name, r.status_code, r.text[:200])
        assert "event_id" not in r.text
    beyond = len(config.json()["dependencies"])
    body = {"data": [], "fn_index": beyond, "session_hash": "faults", "trigger_id": None}
    r = httpx.post(app["public"] + "/gradio_api/queue/join", json=body, timeout=10)
    assert r.status_code >= 400
    assert "event_id" not in r.text


@pytest.mark.slow
def test_the_desk_answers_no_api_call_without_login(app):
    desk = app["desk"]
    for path in ("/config", "/gradio_api/info"):
        assert httpx.get(desk + path, timeout=10).status_code in (401, 403), path
    for name in DESK_FUNCTIONS:
        r = httpx.post(f"{desk}/gradio_api/call/{name}", json={"data": []}, timeout=10)
        assert r.status_code in (401, 403), (name, r.status_code)
    for fn_index in range(4):
        body = {"data": [], "fn_index": fn_index, "session_hash": "faults", "trigger_id": None}
        r = httpx.post(desk + "/gradio_api/queue/join", json=body, timeout=10)
        assert r.status_code in (401, 403), (fn_index, r.status_code)
    files = {"files": ("evil.md", b"---\nid: evil\n---\n", "text/markdown")}
    assert httpx.post(desk + "/gradio_api/upload", files=files, timeout=10).status_code in (
        401,
        403,
    )
    assert not (app["knowledge"] / "evil.md").exists()
    # A wrong password does not log in; the right one does (so the 401s above mean something).
    with httpx.Client(timeout=10, trust_env=False) as client:
        bad = client.post(desk + "/login", data={"username": "admin", "password": "wrong"})
        assert bad.status_code in (400, 401, 403)
        assert client.get(desk + "/config").status_code in (401, 403)
        good = client.post(desk + "/login", data={"username": "admin", "password": PASSWORD})
        assert good.status_code == 200
        assert client.get(desk + "/config").status_code == 200


@pytest.mark.slow
def test_the_public_chat_limits_each_client_with_a_friendly_message(tmp_path, tiny_kb):
    with (
        running_app(tmp_path, tiny_kb, BOT_RATE_LIMIT_PER_MINUTE="3") as urls,
        httpx.Client(timeout=60, trust_env=False) as client,
    ):
        replies = [chat(client, urls["public"], POLICE_Q, "limited") for _ in range(3)]
        body = {"data": [POLICE_Q, []], "session_hash": "limited"}
        refused = client.post(f"{urls['public']}/gradio_api/call/chat", json=body)
    assert all("来自课程" in r for r in replies)
    # the fourth is refused before the queue (bot/web/guard.py), with the calm message
    assert refused.status_code == 429
    assert TOO_FAST in refused.json()["detail"]


# ---------------------------------------------------------------- the load script


@pytest.mark.slow
def test_the_load_script_drives_therunning_app(app):
    script = str(ROOT / "scripts" / "loadtest.py")
    args = [script, "--url", app["public"], "--sessions", "4", "--duration", "3", "--json"]
    result = _python(args, ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["requests"] > 0
    assert summary["errors"] == 0
    assert 0 < summary["latency_ms"]["p50"] <= summary["latency_ms"]["p95"]
    assert summary["throughput_rps"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("url", ["http://192.0.2.1:7860", "http://example.com", "ftp://127.0.0.1"])
def test_the_load_script_refuses_anything_but_loopback(url):
    script = str(ROOT / "scripts" / "loadtest.py")
    result = _python([script, "--url", url, "--duration", "1"], ROOT, timeout=60)
    assert result.returncode != 0
    assert "refusing" in result.stderr
