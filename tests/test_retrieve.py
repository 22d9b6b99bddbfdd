"""Hybrid retrieval on a tiny Chinese corpus: the right lesson for colloquial questions."""

from __future__ import annotations

import json

import pytest
from helpers import TINY, make_settings, write_lesson

from bot.cli import main
from bot.records import Passage
from bot.search.live import LiveIndex
from bot.search.retrieve import Retriever, clean_query
from bot.search.store import IndexStore

EXTRA = {
    "lottery": dict(
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
    ),
    "screen": dict(
        id="tiny-screen",
        title="不要开屏幕共享，不要装远程控制软件",
        topic="screen-sharing",
        alias="对方让我下载会议软件开共享",
        reminder="屏幕共享一开，骗子就能看到您的银行卡和验证码。",
        line="您下载一个会议App，打开屏幕共享，我一步一步教您操作。",
        flag="陌生人让您下载会议软件、打开共享屏幕。",
        step1="马上退出会议，关掉屏幕共享。",
        step2="卸载对方让您装的软件。",
        faq_q="开了屏幕共享怎么办？",
        faq_a="马上关掉，改银行卡密码，打银行电话冻结。",
    ),
}

QUESTIONS = [
    ("公安局的人打电话讲我卡里的钱涉嫌洗钱，叫我转到安全账户", "tiny-police"),
    ("警察说我的卡被人拿去洗钱了，是不是真的", "tiny-police"),
    ("手机上微信的字太小了，老花眼看不清咋弄", "tiny-wechat"),
    ("微信能不能把字弄大一点", "tiny-wechat"),
    ("银行客服打电话问我要手机收到的验证码，能告诉他吗", "tiny-code"),
    ("短信里那几个数字别人要我报给他", "tiny-code"),
    ("说我中了大奖，要先交手续费才能领奖", "tiny-lottery"),
    ("有个人叫我下载会议软件，开那个共享屏幕", "tiny-screen"),
    ("侬好，有人让阿拉开屏幕共享伐", "tiny-screen"),
]
ALL_IDS = {v["id"] for v in TINY.values()} | {v["id"] for v in EXTRA.values()}


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory, encoder):
    """(settings, retriever) over five small lessons, indexed once for this module."""
    root = tmp_path_factory.mktemp("retrieve")
    folder = root / "knowledge"
    folder.mkdir()
    for key in TINY:
        write_lesson(folder, key)
    for values in EXTRA.values():
        write_lesson(folder, "code", **values)
    settings = make_settings(root, knowledge_dir=folder)
    store = IndexStore(settings, encoder)
    assert store.ingest().added == len(ALL_IDS)
    return settings, Retriever(LiveIndex(store), encoder)


@pytest.mark.parametrize(
    ("question", "doc_id"), QUESTIONS, ids=[f"{d}-{i}" for i, (_, d) in enumerate(QUESTIONS)]
)
def test_colloquial_question_finds_its_lesson(tiny_index, question, doc_id):
    _, retriever = tiny_index
    passages = retriever.search(question, k=3)
    assert passages[0].doc_id == doc_id, [(p.doc_id, p.section, p.score) for p in passages]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_every_mode_finds_a_plain_question(tiny_index, mode):
    _, retriever = tiny_index
    assert retriever.search("安全账户 洗钱 转账", mode=mode)[0].doc_id == "tiny-police"


def test_passages_name_their_lesson_topic_and_section(tiny_index):
    _, retriever = tiny_index
    index = retriever.index
    passages = retriever.search("验证码能告诉银行客服吗", k=5)
    assert len(passages) == len({p.doc_id for p in passages}) == 5  # one per lesson by default
    for p in passages:
        lesson = index.lessons[p.doc_id]
        assert (p.title, p.topic) == (lesson.title, lesson.topic)
        chunk = index.chunks[index.by_id[p.chunk_id]]
        assert (chunk.doc_id, chunk.section, chunk.text) == (p.doc_id, p.section, p.text)
        assert p.score > 0


def test_per_lesson_allows_several_passages_of_one_lesson(tiny_index):
    _, retriever = tiny_index
    passages = retriever.search("警察说我涉嫌洗钱要转到安全账户", k=6, per_lesson=3)
    per_doc: dict[str, int] = {}
    for p in passages:
        per_doc[p.doc_id] = per_doc.get(p.doc_id, 0) + 1
    assert max(per_doc.values()) == 3
    assert per_doc["tiny-police"] == 3
    assert len({p.chunk_id for p in passages}) == len(passages)


@pytest.mark.parametrize(
    "query",
    ["", "   \n\t  ", "😀😭🙏👍", "骗" * 100_000, "安全账户？" * 20_000, "\x00\x01 ​"],
    ids=["empty", "whitespace", "emoji", "100k-chars", "100k-repeated", "control"],
)
def test_odd_queries_return_a_list_and_never_raise(tiny_index, query):
    _, retriever = tiny_index
    passages = retriever.search(query, k=3)
    assert isinstance(passages, list)
    assert all(isinstance(p, Passage) for p in passages)
    assert len(passages) <= 3
    if not query.strip():
        assert passages == []


def test_long_queries_are_cut_to_the_limit():
    assert len(clean_query("骗 " * 100_000, 400)) == 400
    assert clean_query("  你好 \n\n 请问  ", 400) == "你好 请问"


def test_search_command_prints_json(tiny_index, capsys):
    settings, _ = tiny_index
    argv = ["--knowledge-dir", str(settings.knowledge_dir), "--data-dir", str(settings.data_dir)]
    assert main([*argv, "search", "警察打电话说我洗钱，要我转到安全账户", "--json", "-k", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert isinstance(rows, list)
    assert 1 <= len(rows) <= 3
    for row in rows:
        assert set(row) == {"doc_id", "title", "topic", "section", "score", "text"}
        assert row["doc_id"] in ALL_IDS
        assert isinstance(row["score"], float)
    assert rows[0]["doc_id"] == "tiny-police"
    assert rows[0]["topic"] == "fake-police"
