"""Small real fixtures: real encoder, real Chroma in tmp dirs, real files."""

from __future__ import annotations

import os
import socket
import textwrap
from pathlib import Path

import pytest

from bot.config import Settings, apply_offline_env

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"

apply_offline_env()


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


@pytest.fixture(autouse=True)
def _no_bot_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("BOT_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def encoder():
    """The real default encoder (USE), loaded once for the session."""
    from bot.search.embeddings import USEEmbeddings

    enc = USEEmbeddings(threads=2)
    enc.embed_documents_array(["预热"])
    return enc


@pytest.fixture(scope="session")
def shipped(tmp_path_factory, encoder):
    """An Assistant over the shipped knowledge base, indexed once in a tmp dir."""
    from bot.reply.assistant import build_assistant

    settings = make_settings(tmp_path_factory.mktemp("shipped"))
    return build_assistant(settings, embeddings=encoder)


LESSON = """\
---
id: {id}
title: {title}
topic: {topic}
updated: 2026-11-01
aliases: [{alias}]
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


def write_lesson(folder: Path, key: str, **changes) -> Path:
    """Write one tiny lesson (by key of TINY, with field changes) and return its path."""
    values = {**TINY[key], **changes}
    path = folder / f"{values['id']}.md"
    path.write_text(textwrap.dedent(LESSON.format(**values)), "utf-8")
    return path


@pytest.fixture
def tiny_kb(tmp_path):
    """A knowledge folder with three small lessons."""
    folder = tmp_path / "knowledge"
    folder.mkdir()
    for key in TINY:
        write_lesson(folder, key)
    return folder
