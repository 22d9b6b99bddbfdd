"""模拟提问 scoring on real lessons with the real encoder: meaning, negation, harm, tone, the set."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.staff.evals import load_cases, load_thresholds, run_set
from bot.staff.harm import action_cues, harmful_sentences
from bot.staff.practice import QuestionDeck, practice_for, practice_questions, score_answer

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def relative(shipped):
    return shipped.lessons()["impersonate-relative-guess-who"]


def _embed(shipped):
    return shipped.embeddings.embed_documents_array


def test_the_issue_answers_are_scored_fairly(shipped, relative):
    practice = practice_for(
        relative, "孙子打电话说出了车祸要钱，我该怎么办？", embed=_embed(shipped)
    )
    embed = _embed(shipped)
    natural = score_answer(practice, "您先挂了电话，再给孙子本人打个电话问问。", embed)
    assert natural.passed
    assert natural.score >= 0.5
    harmful = score_answer(practice, "不用挂断…直接转账给他就行。", embed)
    assert not harmful.passed
    assert harmful.score == 0.0
    assert harmful.harmful
    assert "挂" in harmful.harmful[0].why
    negated = score_answer(practice, "不挂断，不打110，不告诉子女。", embed)
    assert not negated.passed


def test_negation_decides_the_cue():
    assert "hang_up" in action_cues("您先把电话挂了")
    assert "hang_up" not in action_cues("不用挂断")
    assert "no_money" in action_cues("一分钱也不要转")
    assert not harmful_sentences("他让您转账，您就挂断，那是骗子。")
    assert not harmful_sentences("聊天记录、转账截图一样都别删。")
    assert [h.why for h in harmful_sentences("把验证码念给他就行。")]
    assert [h.why for h in harmful_sentences("这个电话是真的，您照他说的做。")]


def test_each_question_has_its_own_key_points(shipped, relative):
    items = practice_questions(relative, embed=_embed(shipped))
    assert len({p.question for p in items}) >= 8
    assert len({p.key_points for p in items}) >= 4
    faq = next(p for p in items if p.source == "常见问题")
    assert all(point in faq.reference for point in faq.key_points)
    deck = QuestionDeck(items, random.Random(1))
    drawn = [deck.draw().question for _ in range(len(items))]
    assert len(set(drawn)) == len(items)  # no repeat until every question came up


def test_tone_feedback_names_long_sentences_jargon_and_the_first_step(shipped, relative):
    practice = practice_for(
        relative, "孙子打电话说出了车祸要钱，我该怎么办？", embed=_embed(shipped)
    )
    fb = score_answer(
        practice,
        "根据风控规定，涉及资金往来的情况需要通过官方渠道进行二次验证以确认对方身份真实性。",
        _embed(shipped),
    )
    failed = {t.name for t in fb.tone if not t.ok}
    assert {"句子短", "不说行话", "口气亲切", "第一句就说先做什么"} <= failed
    assert "❌" not in fb.to_markdown()


def test_the_labelled_practice_set_meets_its_gate(shipped):
    cases = load_cases(ROOT / "evals" / "practice.jsonl")
    assert len(cases) >= 80
    assert len({c.lesson for c in cases}) >= 10
    run = run_set(shipped, "practice", cases, load_thresholds(ROOT / "evals")["practice"])
    assert run.failures == []
    m = run.metrics
    assert m["practice_dangerous_fail_rate"] == 1.0
    assert m["practice_good_pass_rate"] >= 0.9
    by = m["practice_score_by_grade"]
    assert by["dangerous"] < by["vague"] < by["good"]
    row = run.rows[0]
    assert row.practice_passed is not None
    assert 0.0 <= row.practice_score <= 1.0
    assert row.harmful is not None
