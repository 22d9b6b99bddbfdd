"""The staff room (/staff): class plans and handouts, 模拟提问, 防骗演练, the term schedule.

Read-only: every handler reads `assistant.lessons()` when it runs, so a lesson published at the
desk is listed (and usable) on the next page load or 刷新课程列表, without a restart.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from bot.errors import BotError
from bot.reply.assistant import Assistant

# Staff-page colours that meet WCAG AA on white (the theme's orange buttons and grey tab labels
# do not: axe-core color-contrast). Scoped to the staff page so the senior page keeps its own.
STAFF_CSS = """
#sg-staff button.primary, #sg-staff button.primary:hover {
  background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
#sg-staff button[role=tab] { color: #1f2937; }
#sg-staff button[role=tab][aria-selected=true] { color: #1e3a8a; }
#sg-staff input, #sg-staff textarea { color: #111827; }
#sg-staff input::placeholder, #sg-staff textarea::placeholder { color: #4b5563; opacity: 1; }
"""

# The staff room's functions, by api name (the public port's guard runs only named functions).
STAFF_API = (
    "refresh_lessons",
    "make_plan",
    "new_question",
    "grade_answer",
    "drill_start",
    "drill_choose",
    "drill_next",
    "make_term",
    "export_term",
)


def _file(path: Path | None) -> Any:
    """A download box: shown with its file, hidden while empty (an empty box fails axe-core)."""
    return gr.update(value=str(path) if path else None, visible=path is not None)


def lesson_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """(Chinese title and topic name, doc_id) of every lesson in the live index."""
    from bot.staff.plan import lesson_label

    items = sorted(assistant.lessons().values(), key=lambda r: (r.topic, r.title))
    return [(lesson_label(r), r.doc_id) for r in items]


def build_staff(assistant: Assistant, demo: Any | None = None) -> None:
    """备课室: 课堂教案 + 讲义, 模拟提问, 防骗演练, 学期课程表 — read-only."""
    from bot.staff import drill as drills
    from bot.staff import plan as plans
    from bot.staff import schedule
    from bot.staff.practice import QuestionDeck, practice_questions, score_answer
    from bot.staff.practice_eval import reader

    # One folder for every download, removed when the app exits (not one per click).
    out_dir = Path(tempfile.mkdtemp(prefix="sg-staff-"))
    embed = assistant.embeddings.embed_documents_array

    def refresh_lessons():
        choices = lesson_choices(assistant)
        return gr.update(choices=choices), gr.update(choices=choices)

    def make_plan(doc_ids: list[str] | None, minutes: str):
        lessons = assistant.lessons()
        picked = [lessons[d] for d in (doc_ids or []) if d in lessons]
        if not picked:
            return "请先选一课（最多两课）。", _file(None), _file(None)
        try:
            plan = plans.class_plan(picked, int(minutes), embed)
        except BotError as exc:
            return f"做不了这份教案：{exc}", _file(None), _file(None)
        stem = "-".join(plan.lessons)
        plan_file = out_dir / f"教案-{stem}-{plan.minutes}.html"
        plan_file.write_text(plans.plan_html(plan), "utf-8")
        handout_file = out_dir / f"讲义-{stem}.html"
        handout_file.write_text(plans.handout_html(plan.handout), "utf-8")
        return plan.to_markdown(), _file(plan_file), _file(handout_file)

    def new_question(doc_id: str | None, decks: dict | None):
        decks = dict(decks or {})
        lesson = assistant.lessons().get(doc_id or "")
        if lesson is None:
            return "请先选择一课。", None, "", "", decks
        key = f"{lesson.doc_id}@{lesson.sha256}"  # a republished lesson gets a fresh deck
        if key not in decks:
            decks[key] = QuestionDeck(practice_questions(lesson, reader(assistant), embed))
        practice = decks[key].draw()
        if practice is None:
            return "这一课还没有可练习的问题。", None, "", "", decks
        return f"**老人问**：{practice.question}", practice, "", "", decks

    def grade_answer(practice: Any, answer: str):
        if practice is None:
            return "请先点“出一道题”。"
        if not (answer or "").strip():
            return "请先像对老人讲话一样，写下您的回答。"
        return score_answer(practice, answer, embed).to_markdown()

    def drill_start(doc_id: str | None):
        lesson = assistant.lessons().get(doc_id or "")
        steps = drills.drill(lesson, embed) if lesson else []
        return _drill_view(steps, 0, [], "")

    def drill_choose(steps: list, i: int, answers: list, choice: str | None):
        if not steps or i >= len(steps):
            return _drill_view(steps, i, answers, "")
        step = steps[i]
        if choice is None or choice not in step.choices:
            return _drill_view(steps, i, answers, "请先选一个做法。")
        if len(answers) > i:  # answered already: the first choice counts
            return _drill_view(steps, i, answers, "这一句已经答过了，请点“下一句”。", answered=True)
        answers = [*answers, step.choices.index(choice)]
        right = answers[-1] == step.safe_index
        verdict = "✅ 做得对！" if right else f"⚠️ 这样做会上当。正确做法：{step.right_move}"
        feedback = f"{verdict}\n\n**这句话的破绽**（{step.flag_name}）：{step.red_flag}"
        return _drill_view(steps, i, answers, feedback, answered=True)

    def drill_next(steps: list, i: int, answers: list):
        if steps and len(answers) <= i < len(steps):
            return _drill_view(steps, i, answers, "请先选一个做法，再点“下一句”。")
        return _drill_view(steps, i + 1, answers, "")

    def _drill_view(steps: list, i: int, answers: list, feedback: str, answered: bool = False):
        if not steps:
            empty = gr.update(choices=[], value=None)
            return steps, 0, [], "请先选择一课，再点“开始演练”。", empty, ""
        if i >= len(steps):
            result = drills.score_drill(steps, answers)
            return steps, i, answers, result.to_markdown(), gr.update(choices=[], value=None), ""
        step = steps[i]
        line = f"**第{i + 1}/{len(steps)}句，对方说**：“{step.scammer_line}”\n\n您会怎么做？"
        radio = gr.update(choices=list(step.choices), value=gr.skip() if answered else None)
        return steps, i, answers, line, radio, feedback

    def make_term(year: float | None, month: float | None, day: float | None):
        try:
            classes = schedule.term(
                assistant.lessons(), int(year or 0), int(month or 0), int(day or 9)
            )
        except (BotError, ValueError) as exc:
            return gr.update(), f"排不了课表：{exc}"
        return schedule.to_rows(
            classes
        ), f"已排好{len(classes)}堂课，可以直接在表里改，改完点“导出”。"

    def export_term(rows: Any):
        data = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
        lessons = assistant.lessons()
        try:
            classes = schedule.from_rows(data, lessons)
        except BotError as exc:
            return _file(None), _file(None), f"导出不了：{exc}"
        if not classes:
            return _file(None), _file(None), "表里还没有课，请先点“排课”。"
        stem = f"课程表-{classes[0].date:%Y%m}"
        ics = out_dir / f"{stem}.ics"
        ics.write_text(schedule.to_ics(classes, lessons), "utf-8", newline="")
        page = out_dir / f"{stem}.html"
        page.write_text(schedule.schedule_html(classes, lessons), "utf-8")
        return _file(page), _file(ics), f"已导出{len(classes)}堂课。"

    with gr.Column(elem_id="sg-staff"):
        gr.HTML(f"<style>{STAFF_CSS}</style>", padding=False)
        gr.Markdown(
            "# 备课室\n选课程，做课堂教案和讲义、练习回答老人提问、进行防骗演练、排学期课程表。"
        )
        choices = lesson_choices(assistant)
        refresh = gr.Button("刷新课程列表", size="sm", elem_id="sg-staff-refresh")
        pick = gr.Dropdown(
            choices=choices,
            value=None,
            label="练习用的课程（模拟提问、防骗演练）",
            elem_id="sg-pick",
        )
        with gr.Tab("课堂教案"):
            plan_pick = gr.Dropdown(
                choices=choices,
                value=None,
                multiselect=True,
                max_choices=2,
                label="选一课或两课（按课程名和主题）",
                elem_id="sg-plan-pick",
            )
            minutes = gr.Radio(["30", "45"], value="45", label="课时（分钟）", elem_id="sg-minutes")
            make = gr.Button("生成教案和讲义", variant="primary", elem_id="sg-make-plan")
            plan_md = gr.Markdown(elem_id="sg-plan")
            plan_file = gr.File(label="下载教案（含讲义，浏览器里直接打印）", visible=False)
            handout_file = gr.File(label="下载大字讲义（A4 一页，直接打印）", visible=False)
            make.click(
                make_plan,
                inputs=[plan_pick, minutes],
                outputs=[plan_md, plan_file, handout_file],
                api_visibility="private",
            )
        with gr.Tab("模拟提问"):
            practice_state, decks = gr.State(None), gr.State({})
            new_q = gr.Button("出一道题", elem_id="sg-new-question")
            question = gr.Markdown(elem_id="sg-question")
            reply = gr.Textbox(label="您的回答（像对老人讲话一样）", lines=4, elem_id="sg-reply")
            check = gr.Button("看看讲得怎么样", variant="primary", elem_id="sg-grade")
            feedback = gr.Markdown(elem_id="sg-feedback")
            new_q.click(
                new_question,
                inputs=[pick, decks],
                outputs=[question, practice_state, reply, feedback, decks],
                api_visibility="private",
            )
            check.click(
                grade_answer,
                inputs=[practice_state, reply],
                outputs=[feedback],
                api_visibility="private",
            )
        with gr.Tab("防骗演练"):
            steps_state, idx_state, answers_state = gr.State([]), gr.State(0), gr.State([])
            start = gr.Button("开始演练", elem_id="sg-drill-start")
            line_md = gr.Markdown(elem_id="sg-drill-line")
            options = gr.Radio(choices=[], label="选一个做法", elem_id="sg-drill-options")
            choose = gr.Button("就这么做", variant="primary", elem_id="sg-drill-choose")
            drill_fb = gr.Markdown(elem_id="sg-drill-feedback")
            nxt = gr.Button("下一句", elem_id="sg-drill-next")
            outs = [steps_state, idx_state, answers_state, line_md, options, drill_fb]
            start.click(drill_start, inputs=[pick], outputs=outs, api_visibility="private")
            choose.click(
                drill_choose,
                inputs=[steps_state, idx_state, answers_state, options],
                outputs=outs,
                api_visibility="private",
            )
            nxt.click(
                drill_next,
                inputs=[steps_state, idx_state, answers_state],
                outputs=outs,
                api_visibility="private",
            )
        with gr.Tab("学期课程表"):
            today = dt.date.today()
            with gr.Row():
                year = gr.Number(value=today.year, precision=0, label="开始年份", elem_id="sg-year")
                month = gr.Number(
                    value=today.month, precision=0, minimum=1, maximum=12, label="开始月份",
                    elem_id="sg-month",
                )  # fmt: skip
                day = gr.Number(
                    value=9,
                    precision=0,
                    minimum=1,
                    maximum=31,
                    label="每月几号上课",
                    elem_id="sg-day",
                )
            plan_term = gr.Button("排课", variant="primary", elem_id="sg-make-term")
            note = gr.Markdown(elem_id="sg-term-note")
            table = gr.Dataframe(
                headers=list(schedule.HEADERS),
                datatype=["str", "str", "str"],
                interactive=True,
                label="十二堂课（日期、课题、课程编号都可以改）",
                elem_id="sg-term",
            )
            export = gr.Button("导出课程表和日历", elem_id="sg-export-term")
            term_page = gr.File(label="下载课程表（HTML，直接打印）", visible=False)
            term_ics = gr.File(label="下载日历文件（.ics，可导入手机日历）", visible=False)
            plan_term.click(
                make_term,
                inputs=[year, month, day],
                outputs=[table, note],
                api_visibility="private",
            )
            export.click(
                export_term,
                inputs=[table],
                outputs=[term_page, term_ics, note],
                api_visibility="private",
            )
    refresh.click(refresh_lessons, outputs=[plan_pick, pick], api_visibility="private")
    if demo is not None:
        # every page load reads the live index: a lesson published at the desk is listed
        demo.load(refresh_lessons, outputs=[plan_pick, pick], api_visibility="private")
