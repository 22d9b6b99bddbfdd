"""What the content desk shows and does, without any UI: lesson list, eval runs, gap report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.gaps import GapGroup, group_questions, load_unanswered
from bot.knowledge import scan_knowledge


@dataclass(frozen=True)
class LessonRow:
    """One course file as the content team sees it."""

    source_file: str
    title: str
    topic: str
    updated: str
    chunks: str
    status: str


def lesson_rows(knowledge_dir: Path, indexed: dict[str, int]) -> tuple[list[LessonRow], list[str]]:
    """Every course file with its validation state and indexed chunk count; plus all problems."""
    scan = scan_knowledge(knowledge_dir)
    by_file: dict[str, list[str]] = {}
    for p in scan.problems:
        by_file.setdefault(p.path, []).append(
            ("错误" if p.severity == "error" else "提醒") + f"：{p.reason}"
        )
    rows = [
        LessonRow(
            source_file=lesson.source_file,
            title=lesson.title,
            topic=lesson.topic,
            updated=lesson.updated,
            chunks=str(indexed[lesson.doc_id]) if lesson.doc_id in indexed else "未索引",
            status="；".join(by_file.pop(lesson.source_file, [])) or "正常",
        )
        for lesson in scan.lessons
    ]
    rows += [
        LessonRow(path, "", "", "", "—", "；".join(msgs)) for path, msgs in sorted(by_file.items())
    ]
    return rows, [str(p) for p in scan.problems]


def gap_groups(unanswered: Path, embeddings) -> list[GapGroup]:
    """The unanswered questions grouped by similarity (embeddings: a bot encoder)."""
    rows = load_unanswered(unanswered)
    if not rows:
        return []
    return group_questions(rows, embeddings.embed_documents_array([r["question"] for r in rows]))


def run_eval_sets(assistant, names: list[str], report_dir: Path) -> tuple[str, list[Path]]:
    """Run eval sets through the live assistant; a Markdown summary and the chart files."""
    from bot.evals import EvalRun, ablation, compute_metrics, load_cases, resolve_set, run_cases
    from bot.report import compare, load_previous, write_report

    lines: list[str] = []
    charts: list[Path] = []
    for name in names:
        path = resolve_set(name, assistant.settings.evals_dir)
        cases = load_cases(path)
        rows = run_cases(assistant, cases)
        run = EvalRun(sets=[path.stem], rows=rows, metrics=compute_metrics(rows))
        out = report_dir / path.stem
        worse, better = compare(run, load_previous(out))
        write_report(run, out, ablation(assistant, cases))
        lines += [f"### {path.stem}（{len(rows)} 题）", "", "| 指标 | 数值 |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in run.metrics.items() if not isinstance(v, dict)]
        lines += ["", "**比上次变差**：" + ("；".join(worse) if worse else "无")]
        lines += ["", "**比上次变好**：" + ("；".join(better) if better else "无"), ""]
        charts += [p for p in (out / "per_topic_recall.png", out / "latency.png") if p.exists()]
    return "\n".join(lines), charts
