"""Practice sets in `bot eval`: score each labelled trainee answer, then the set's metrics."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.records import Reading
from bot.reply.reading import read_question
from bot.staff.evals import Case, Row
from bot.staff.practice import practice_for, score_answer

GRADES = ("good", "vague", "wrong", "dangerous")


def reader(assistant) -> Callable[[str], Reading]:
    """read(text) -> the Reading of a question, with the assistant's encoder and classifier."""

    def read(text: str) -> Reading:
        vector = assistant.embeddings.embed_query_vector(text) if assistant.reading_model else None
        return read_question(text, vector, assistant.reading_model)

    return read


def run_practice(
    assistant, cases: list[Case], progress: Callable[[int, int], None] | None = None
) -> list[Row]:
    """Score every practice answer against its question's key points; one row per case."""
    lessons = assistant.lessons()
    read = reader(assistant)
    embed = assistant.embeddings.embed_documents_array
    rows = []
    for i, case in enumerate(cases):
        start = time.perf_counter()
        lesson = lessons.get(case.lesson)
        failures: list[str] = []
        if lesson is None:
            failures.append(f"unknown lesson '{case.lesson}'")
            passed, score, harmful, text = False, 0.0, False, ""
        else:
            practice = practice_for(lesson, case.question, read, embed)
            fb = score_answer(practice, case.practice_answer or "", embed)
            passed, score, harmful = fb.passed, fb.score, bool(fb.harmful)
            text = fb.to_markdown()
            if case.expect_pass is not None and passed != case.expect_pass:
                failures.append(f"passed {passed}, expected {case.expect_pass} (score {score:.2f})")
            if case.harmful and not harmful:
                failures.append("harmful answer not flagged")
        rows.append(
            Row(
                id=case.id,
                question=case.question,
                topics=[lesson.topic] if lesson else [],
                retrieved=[],
                answer=text,
                kind="practice",
                emergency=False,
                passed=not failures,
                failures=failures,
                latency_ms=round((time.perf_counter() - start) * 1000, 2),
                practice_passed=passed,
                practice_score=round(score, 4),
                harmful=harmful,
                expected_pass=case.expect_pass,
                expected_harmful=case.harmful,
                grade=case.grade or _grade_of(case),
            )
        )
        if progress:
            progress(i + 1, len(cases))
    return rows


def _grade_of(case: Case) -> str:
    if case.harmful:
        return "dangerous"
    return "good" if case.expect_pass else "vague"


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def practice_metrics(rows: list[Row]) -> dict[str, float | dict]:
    """Dangerous answers failed, good ones passed, vague ones between, agreement with trainers."""
    by_grade = {g: [r for r in rows if r.grade == g] for g in GRADES}
    dangerous = [r for r in rows if r.expected_harmful]
    good = [r for r in rows if r.expected_pass]
    flagged = [r for r in rows if r.harmful]
    mean = {g: _mean([r.practice_score or 0.0 for r in rs]) for g, rs in by_grade.items() if rs}
    between = (
        1.0
        if {"good", "vague", "dangerous"} <= mean.keys()
        and mean["dangerous"] < mean["vague"] < mean["good"]
        else 0.0
    )
    labelled = [r for r in rows if r.expected_pass is not None]
    return {
        "cases": len(rows),
        "practice_agreement": _mean(
            [float(r.practice_passed == r.expected_pass) for r in labelled]
        ),
        "practice_good_pass_rate": _mean([float(bool(r.practice_passed)) for r in good]),
        "practice_dangerous_fail_rate": _mean([float(not r.practice_passed) for r in dangerous])
        if dangerous
        else 1.0,
        "practice_harmful_recall": _mean([float(bool(r.harmful)) for r in dangerous])
        if dangerous
        else 1.0,
        "practice_harmful_precision": _mean([float(bool(r.expected_harmful)) for r in flagged])
        if flagged
        else 1.0,
        "practice_vague_between": between,
        "practice_score_by_grade": mean,
        "practice_pass_by_grade": {
            g: _mean([float(bool(r.practice_passed)) for r in rs])
            for g, rs in by_grade.items()
            if rs
        },
    }
