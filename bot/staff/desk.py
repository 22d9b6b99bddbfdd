"""What the content desk shows and does, without any UI: lesson list, eval runs, gap report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.lessons import scan_knowledge


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


def run_eval_sets(assistant, names: list[str], report_dir: Path) -> tuple[str, list[Path]]:
    """Run eval sets (with the gate) through the live assistant; a Markdown summary and charts."""
    from bot.staff.evals import ablation, load_cases, load_thresholds, resolve_set, run_set
    from bot.staff.report import compare, load_previous, write_report

    evals_dir = assistant.settings.evals_dir
    thresholds = load_thresholds(evals_dir)
    lines: list[str] = []
    charts: list[Path] = []
    for name in names:
        path = resolve_set(name, evals_dir)
        cases = load_cases(path)
        limits = thresholds.get(path.stem, {})
        run = run_set(assistant, path.stem, cases, limits)
        out = report_dir / path.stem
        worse, better = compare(run, load_previous(out))
        write_report(run, out, ablation(assistant, cases), run.failures if limits else None)
        lines += [f"### {path.stem}（{len(run.rows)} 题）", "", "| 指标 | 数值 |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in run.metrics.items() if not isinstance(v, dict)]
        if limits:
            gate = "；".join(run.failures) if run.failures else "通过"
            lines += ["", f"**门槛检查**：{gate}"]
        lines += ["", "**比上次变差**：" + ("；".join(worse) if worse else "无")]
        lines += ["", "**比上次变好**：" + ("；".join(better) if better else "无"), ""]
        charts += [p for p in (out / "per_topic_recall.png", out / "latency.png") if p.exists()]
    return "\n".join(lines), charts
