"""Chunks: headings first, then whole sentences, with where-from metadata on every chunk."""

from __future__ import annotations

import pytest
from helpers import KNOWLEDGE, write_lesson
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.knowledge.chunking import ALIAS_SECTION, chunk_lesson, pack_sentences, split_sentences
from bot.knowledge.lessons import scan_knowledge

SHIPPED = scan_knowledge(KNOWLEDGE).lessons
SIZES = [60, 120, 240]


def test_split_sentences_keeps_punctuation_and_closing_quotes():
    text = "他说：“您的卡涉嫌洗钱！”我吓坏了。真的吗？别怕；先挂断…\n再打110\n\n好"
    assert split_sentences(text) == [
        "他说：“您的卡涉嫌洗钱！”",
        "我吓坏了。",
        "真的吗？",
        "别怕；",
        "先挂断…",
        "再打110",
        "好",
    ]


def test_split_sentences_of_blank_text_is_empty():
    assert split_sentences("") == []
    assert split_sentences(" \n\n\t ") == []


@pytest.mark.parametrize("max_chars", SIZES)
def test_chunks_are_whole_sentences_and_lose_none(max_chars):
    assert len(SHIPPED) >= 20
    for lesson in SHIPPED:
        chunks = chunk_lesson(lesson, max_chars)
        sections = [s for s in lesson.sections if s.text.strip()]
        for sec in sections:
            path = " > ".join(sec.path) or lesson.title
            lines = [c.text.split("\n") for c in chunks if c.heading_path == path]
            assert lines, (lesson.doc_id, path)
            if len(sec.path) >= 2:  # a FAQ entry: every chunk starts with its question
                assert {first for first, *_ in lines} == {sec.heading}
                lines = [rest for _, *rest in lines]
            # Every chunk is consecutive whole sentences; together they are the section.
            pieces = [sentence for chunk_lines in lines for sentence in chunk_lines]
            assert pieces == split_sentences(sec.text), (lesson.doc_id, path)
        alias = [c.text for c in chunks if c.section == ALIAS_SECTION]
        assert "；".join(alias) == "；".join((*lesson.aliases, *lesson.tags))
        assert len(chunks) == len(alias) + sum(
            len([c for c in chunks if c.heading_path == (" > ".join(s.path) or lesson.title)])
            for s in sections
        )


@pytest.mark.parametrize("max_chars", SIZES)
def test_chunk_size_bound_holds_except_single_long_sentences(max_chars):
    over = []
    for lesson in SHIPPED:
        for c in chunk_lesson(lesson, max_chars):
            lines = c.text.split("\n")
            if " > " in c.heading_path:  # a FAQ chunk: its question comes with every piece
                lines = lines[1:]
            if len(c.text) > max_chars and len(lines) > 1:
                over.append((c.chunk_id, len(c.text)))
    assert over == []


def test_an_over_long_sentence_stays_whole():
    long = "骗子会说" + "很多很多好听的话" * 60 + "。"
    pieces = pack_sentences(["先挂断。", long, "再报警。"], 50)
    assert pieces == ["先挂断。", long, "再报警。"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.text(alphabet="骗子钱卡码。！？；…!?\n ”“）", max_size=40), max_size=12),
    st.integers(min_value=1, max_value=80),
)
def test_pack_sentences_property(texts, max_chars):
    sentences = split_sentences("".join(texts))
    pieces = pack_sentences(sentences, max_chars)
    assert [s for p in pieces for s in p.split("\n")] == sentences
    for piece in pieces:
        assert len(piece) <= max_chars or "\n" not in piece


def test_every_chunk_carries_its_metadata():
    seen_ids = set()
    for lesson in SHIPPED:
        chunks = chunk_lesson(lesson, 240)
        assert chunks, lesson.doc_id
        headings = {s.heading for s in lesson.sections} | {ALIAS_SECTION}
        for position, c in enumerate(chunks):
            assert c.doc_id == lesson.doc_id
            assert c.title == lesson.title
            assert c.topic == lesson.topic
            assert c.source_file == lesson.source_file
            assert c.position == position
            assert c.section in headings
            assert c.heading_path.split(" > ")[-1] == c.section
            assert c.text.strip()
            assert c.chunk_id not in seen_ids
            seen_ids.add(c.chunk_id)
            meta = c.metadata()
            assert {"doc_id", "title", "topic", "section", "source_file", "position"} <= set(meta)
            # Chroma accepts only scalar metadata.
            assert all(isinstance(v, str | int) for v in meta.values())
            assert c.title in c.embed_text()
            assert c.section in c.embed_text()


def test_faq_chunks_include_their_question():
    faq_chunks = 0
    for lesson in SHIPPED:
        questions = [s for s in lesson.sections if s.path[:1] == ("常见问题",) and s.level == 3]
        assert questions, lesson.doc_id
        chunks = chunk_lesson(lesson, 240)
        for q in questions:
            mine = [c for c in chunks if c.heading_path == f"常见问题 > {q.heading}"]
            assert mine, (lesson.doc_id, q.heading)
            for c in mine:
                assert c.section == q.heading
                assert c.text.startswith(q.heading + "\n")
            faq_chunks += 1
    assert faq_chunks >= 2 * len(SHIPPED)


def test_every_piece_of_a_long_faq_answer_carries_the_question(tiny_kb):
    answer = "真警察不会在电话里办案。" * 20
    write_lesson(tiny_kb, "police", faq_a=answer)
    lesson = next(x for x in scan_knowledge(tiny_kb).lessons if x.doc_id == "tiny-police")
    question = "警察说我涉嫌洗钱是真的吗？"
    faq = [c for c in chunk_lesson(lesson, 80) if c.section == question]
    assert len(faq) > 2
    assert all(c.text.startswith(question + "\n") and len(c.text) <= 80 for c in faq)
    assert "".join(c.text.split("\n", 1)[1].replace("\n", "") for c in faq) == answer


def test_alias_chunk_lists_colloquial_questions(tiny_kb):
    lesson = next(x for x in scan_knowledge(tiny_kb).lessons if x.doc_id == "tiny-police")
    alias = [c for c in chunk_lesson(lesson) if c.section == ALIAS_SECTION]
    assert [c.text for c in alias] == ["公安局打电话说我洗钱"]


def test_many_aliases_are_split_between_whole_aliases(tiny_kb):
    aliases = [f"第{i}种问法：警察打电话说我的银行卡涉嫌洗钱怎么办" for i in range(12)]
    write_lesson(tiny_kb, "police", alias=", ".join(aliases))
    lesson = next(x for x in scan_knowledge(tiny_kb).lessons if x.doc_id == "tiny-police")
    assert lesson.aliases == tuple(aliases)
    alias = [c.text for c in chunk_lesson(lesson, 100) if c.section == ALIAS_SECTION]
    assert len(alias) > 1
    assert all(len(text) <= 100 for text in alias)
    assert [a for text in alias for a in text.split("；")] == aliases


def test_lesson_without_headings_is_chunked_under_its_title(tiny_kb):
    text = "验证码就是钥匙，谁要都不给。" * 30
    (tiny_kb / "notes.txt").write_text(text, "utf-8")
    (tiny_kb / "notes.meta.yaml").write_text(
        "id: notes\ntitle: 验证码课\ntopic: verification-code\nupdated: 2026-11-01\n", "utf-8"
    )
    lesson = next(x for x in scan_knowledge(tiny_kb).lessons if x.doc_id == "notes")
    chunks = chunk_lesson(lesson, 100)
    assert len(chunks) > 1
    assert {(c.section, c.heading_path) for c in chunks} == {("验证码课", "验证码课")}
    assert "".join(c.text.replace("\n", "") for c in chunks) == text
