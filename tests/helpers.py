"""Test helpers shared by the test modules (imported as `helpers`; fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"


def free_port() -> int:
    """A free TCP port on loopback (for the servers tests start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_settings(tmp: Path, **overrides) -> Settings:
    """Settings isolated from the developer's environment and .env file."""
    values = {"knowledge_dir": KNOWLEDGE, "data_dir": tmp / "data", "evals_dir": ROOT / "evals"}
    values.update(overrides)
    return Settings(_env_file=None, **values)


class FakeEncoder:
    """A tiny deterministic encoder for unit tests of index and retrieval logic (no model).

    Each character bigram of a text is hashed into one of `dim` buckets; texts sharing words
    share buckets, so the nearest vector is the most similar text. The real USE encoder stays
    in the integration tests.
    """

    def __init__(self, dim: int = 64, name: str = "fake-bigrams-64") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dim, dtype=np.float32)
        grams = [text[i : i + 2] for i in range(max(1, len(text) - 1))]
        for gram in grams:
            bucket = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "big")
            vector[bucket % self.dim] += 1.0
        return vector / max(float(np.linalg.norm(vector)), 1e-12)

    def embed_query_vector(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.vstack([self._vector(t) for t in texts])

    def clear_query_cache(self) -> None:
        """Nothing is cached."""


LESSON = """\
---
id: {id}
title: {title}
topic: {topic}
updated: 2026-11-01
aliases: [{alias}]
verdict: {verdict}
---
## 一句话提醒
{reminder}

## 骗子怎么说
- “{line}”

## 怎么识破
1. {flag}

## 正确做法
1. {step1}
2. {step2}

## 如果已经上当
1. 马上拨打110报警。

## 讲课要点
1. 讲清楚套路。
案例：王阿姨差点上当。
时长建议：讲解10分钟。

## 常见问题
### {faq_q}
{faq_a}
"""

TINY = {
    "police": dict(
        id="tiny-police",
        title="冒充警察要求转账到安全账户",
        topic="fake-police",
        alias="公安局打电话说我洗钱",
        reminder="公安机关不会让您把钱转到安全账户。",
        line="你的银行卡涉嫌洗钱，要把钱转到安全账户接受审查。",
        flag="让你保密，不许告诉家人。",
        step1="挂断电话，不转账。",
        step2="拨打110核实。",
        faq_q="警察说我涉嫌洗钱是真的吗？",
        faq_a="真警察不会在电话里办案，更不会让您转账。",
    ),
    "wechat": dict(
        id="tiny-wechat",
        title="微信字体调大和关怀模式",
        topic="wechat-basics",
        alias="微信字太小看不清",
        reminder="微信的字可以调大，看着不费眼。",
        line="不适用。",
        flag="无。",
        step1="点我，再点设置，打开关怀模式。",
        step2="在通用里调字体大小。",
        faq_q="微信的字怎么变大？",
        faq_a="打开关怀模式，字和按钮都会变大。",
    ),
    "code": dict(
        id="tiny-code",
        title="验证码不能告诉任何人",
        topic="verification-code",
        alias="验证码能给客服吗",
        reminder="验证码就是钥匙，谁要都不给。",
        line="我是银行客服，请把收到的验证码报给我。",
        flag="索要验证码的都是骗子。",
        step1="不告诉任何人验证码。",
        step2="打银行卡背面的电话核实。",
        faq_q="银行客服要验证码能给吗？",
        faq_a="不能给，银行不会向您要验证码。",
    ),
}
# Every tiny lesson has a reviewed verdict line; by default its one-line reminder.
for _values in TINY.values():
    _values.setdefault("verdict", _values["reminder"])


def write_lesson(folder: Path, key: str, **changes) -> Path:
    """Write one tiny lesson (by key of TINY, with field changes) and return its path."""
    values = {**TINY[key], **changes}
    path = folder / f"{values['id']}.md"
    path.write_text(textwrap.dedent(LESSON.format(**values)), "utf-8")
    return path


@contextlib.contextmanager
def running_app(tmp: Path, knowledge: Path, **env: str) -> Iterator[dict]:
    """python app.py on loopback ports with its own data folder; stopped at the end."""
    port, admin_port = free_port(), free_port()
    full_env = {
        **os.environ,
        "BOT_KNOWLEDGE_DIR": str(knowledge),
        "BOT_DATA_DIR": str(tmp / "data"),
        "BOT_EVALS_DIR": str(ROOT / "evals"),
        "BOT_PORT": str(port),
        "BOT_ADMIN_PORT": str(admin_port),
        **env,
    }
    log = open(tmp / "app.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    desk_host = env.get("BOT_ADMIN_HOST", "127.0.0.1")
    urls = {"public": f"http://127.0.0.1:{port}", "desk": f"http://{desk_host}:{admin_port}"}
    try:
        deadline = time.monotonic() + 300  # a first start builds the index; CI machines are slow
        waiting = [urls["public"]] + ([urls["desk"]] if "BOT_ADMIN_PASSWORD" in env else [])
        while waiting:
            assert proc.poll() is None, (tmp / "app.log").read_text("utf-8")[-3000:]
            assert time.monotonic() < deadline, "the app did not start in time"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(waiting[0] + "/", timeout=2).status_code < 500:
                    waiting.pop(0)
                    continue
            time.sleep(0.5)
        # "stop" ends the app early (a test of the page with its server gone).
        yield {**urls, "dir": tmp, "knowledge": knowledge, "log": tmp / "app.log", "stop": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


# ---------------------------------------------------------------- the browser tests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "artifacts" / "screenshots"


def need(path: Path, what: str) -> None:
    """Fail in CI, skip elsewhere, when a browser-test tool is not installed."""
    import pytest

    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing: `make browser` installs it")
        pytest.skip(f"{what} is not installed (make browser)")


def shot(pg, name: str) -> None:
    """A full-page screenshot in artifacts/screenshots/ for a person to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def axe_violations(pg) -> list[dict]:
    """axe-core's violations on the page (id, help, up to five nodes each)."""
    need(AXE, "axe-core (npm)")
    pg.add_script_tag(path=str(AXE))
    result = pg.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
    )
    return list(result)


@contextlib.contextmanager
def running_shipped_app(tmp: Path, **env: str) -> Iterator[dict]:
    """running_app over its own copy of the shipped knowledge folder."""
    import shutil

    knowledge = tmp / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    with running_app(tmp, knowledge, **env) as urls:
        yield urls
