"""SilverGuard's Gradio app: the senior chat (/), the staff room (/staff), the content desk (own port).

Run with `python app.py` (or `make run`). bot/ does the work; this module only builds the UI.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot.config import apply_offline_env

apply_offline_env()  # before gradio is imported: it reads its analytics switch at import time

import gradio as gr  # noqa: E402

from bot.config import Settings, load_settings  # noqa: E402
from bot.errors import BotError  # noqa: E402
from bot.reply.assistant import Assistant, build_assistant  # noqa: E402
from bot.web import guard  # noqa: E402
from bot.web.senior import build_senior  # noqa: E402
from bot.web.staff import STAFF_API, build_staff  # noqa: E402

log = logging.getLogger("silverguard.app")

STATIC = Path(__file__).parent / "static"
# The only functions the public port runs (the senior page and the staff room, by Gradio's api
# name; a repeat `name_1` counts as `name`); any other name or fn_index is a 404 (guard.py).
PUBLIC_API = (
    "chat",
    "feedback",
    "respond",
    "handler",
    "emergency",
    "lambda",
    *STAFF_API,
)
UNLIMITED_API = ("emergency", "lambda")  # the red button and 新的对话 are never rate-limited


def css() -> str:
    """The app's style sheet (bot/web/static/silverguard.css)."""
    return (STATIC / "silverguard.css").read_text("utf-8")


def head() -> str:
    """The <head> script: the senior page (bot/web/static/silverguard.js), kept in the browser."""
    return f"<script>\n{(STATIC / 'silverguard.js').read_text('utf-8')}</script>\n"


def build_public(assistant: Assistant, settings: Settings) -> Any:
    """The public app: the senior chat at / and the staff room at /staff. Nothing here writes."""
    with gr.Blocks(title="银龄反诈助手", analytics_enabled=False) as demo:
        build_senior(assistant, settings)

    with demo.route("备课", "/staff", show_in_navbar=False):
        build_staff(assistant, demo)
    return demo


# ---------------------------------------------------------------- content desk


def build_desk(assistant: Assistant, settings: Settings) -> Any:
    """The password-protected content desk (served on its own port)."""
    from bot.staff.desk import lesson_rows, run_eval_sets
    from bot.staff.gaps import gap_report
    from bot.staff.uploads import accept_upload, delete_lesson

    headers = ["文件", "标题", "主题", "更新日期", "已索引块数", "校验结果"]

    def table():
        rows, problems = lesson_rows(
            settings.knowledge_dir, {d: r.chunks for d, r in assistant.lessons().items()}
        )
        data = [[r.source_file, r.title, r.topic, r.updated, r.chunks, r.status] for r in rows]
        files = [r.source_file for r in rows]
        text = "\n".join(f"- `{p}`" for p in problems) or "全部课程文件校验通过。"
        return data, gr.update(choices=files, value=None), text

    def upload(files: list[Any] | None):
        if not files:
            return "请先选择文件。", *table()
        payload = []
        for f in files:
            path = Path(f if isinstance(f, str) else f.name)
            payload.append(
                (Path(getattr(f, "orig_name", None) or path.name).name, path.read_bytes())
            )
        checker = assistant.line_checker
        results = accept_upload(
            settings.knowledge_dir,
            payload,
            settings.upload_max_bytes,
            check=checker.check_lines if checker is not None else None,
        )
        lines = [f"- {'✅' if r.ok else '❌'} {r.name}：{r.message}" for r in results]
        return "\n".join(lines) + "\n\n上传后请点“重新索引”。", *table()

    def remove(name: str | None, sure: bool):
        if not name:
            return "请先选择要删除的文件。", *table()
        if not sure:
            return "请勾选“确认删除”。", *table()
        ok = delete_lesson(settings.knowledge_dir, name)
        return (f"已删除 {name}，请点“重新索引”。" if ok else f"找不到 {name}。"), *table()

    def reindex(progress=gr.Progress()):  # noqa: B008 (the Gradio idiom)
        progress(0, desc="准备中")
        report = assistant.reindex(
            progress=lambda done, total: progress(
                done / max(total, 1), desc=f"向量化 {done}/{total}"
            )
        )
        lines = [f"索引完成：{report.summary()}"] + [f"- `{p}`" for p in report.problems]
        return "\n".join(lines), *table()

    def evaluate(names: list[str]):
        text, charts = run_eval_sets(
            assistant, names or ["retrieval", "answers"], settings.data_dir / "reports"
        )
        return text, [str(c) for c in charts]

    def gaps():
        groups = gap_report(settings.unanswered_path, assistant.embeddings)
        return [[g.count, g.example, g.nearest_topic, g.last_seen] for g in groups]

    with gr.Blocks(title="银龄反诈助手 · 内容管理", analytics_enabled=False) as desk:
        gr.Markdown("# 内容管理台\n上传、删除课程，重新索引，运行评测，查看答不上来的问题。")
        with gr.Tab("课程"):
            grid = gr.Dataframe(headers=headers, interactive=False, wrap=True)
            problems = gr.Markdown()
            refresh = gr.Button("刷新列表")
            files = gr.File(
                label="上传课程文件（md/txt/docx/pdf/pptx，及 .meta.yaml）",
                file_count="multiple",
                file_types=[".md", ".txt", ".docx", ".pdf", ".pptx", ".yaml"],
            )
            up = gr.Button("上传并校验", variant="primary")
            with gr.Row():
                victim = gr.Dropdown(label="要删除的文件", choices=[])
                sure = gr.Checkbox(label="确认删除")
                rm = gr.Button("删除", variant="stop")
            status = gr.Markdown()
            again = gr.Button("重新索引", variant="primary")
            outs = [grid, victim, problems]
            refresh.click(table, outputs=outs, api_visibility="private")
            up.click(upload, inputs=[files], outputs=[status, *outs], api_visibility="private")
            rm.click(
                remove, inputs=[victim, sure], outputs=[status, *outs], api_visibility="private"
            )
            again.click(
                reindex, outputs=[status, *outs], api_visibility="private", concurrency_limit=1
            )
            desk.load(table, outputs=outs, api_visibility="private")
        with gr.Tab("评测"):
            sets = gr.CheckboxGroup(
                ["retrieval", "answers", "unanswerable"],
                value=["retrieval", "answers"],
                label="评测集",
            )
            run = gr.Button("运行评测", variant="primary")
            metrics = gr.Markdown()
            gallery = gr.Gallery(label="图表", columns=2)
            run.click(
                evaluate,
                inputs=[sets],
                outputs=[metrics, gallery],
                api_visibility="private",
                concurrency_limit=1,
            )
        with gr.Tab("答不上来的问题"):
            load_gaps = gr.Button("刷新")
            gap_table = gr.Dataframe(
                headers=["次数", "例句", "最接近的主题", "最近一次"], interactive=False, wrap=True
            )
            load_gaps.click(gaps, outputs=[gap_table], api_visibility="private")
    return desk


# ---------------------------------------------------------------- start


def main() -> None:
    """Start the public app (and the content desk when BOT_ADMIN_PASSWORD is set)."""
    apply_offline_env()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    try:
        assistant = build_assistant(settings)
    except BotError as exc:
        raise SystemExit(f"SilverGuard cannot start: {exc}") from exc
    guard.trust_env(guard.listed(settings.trusted_proxies))
    launch = dict(footer_links=[], quiet=False, show_error=False)
    if settings.admin_password is None or not settings.admin_password.get_secret_value():
        print("内容管理台未启动：请设置 BOT_ADMIN_PASSWORD（管理台只在设置了密码时启动）。")
    else:
        desk = build_desk(assistant, settings)
        desk.queue(default_concurrency_limit=2)
        desk.launch(
            server_name=settings.admin_host,
            server_port=settings.admin_port,
            auth=("admin", settings.admin_password.get_secret_value()),
            auth_message="内容管理台：请输入管理员账号（admin）和密码。",
            prevent_thread_lock=True,
            max_file_size=settings.upload_max_bytes,
            css=css(),
            app_kwargs={"middleware": [guard.desk_middleware(settings)]},
            **launch,
        )
        print(f"内容管理台: http://{settings.admin_host}:{settings.admin_port}/ (user admin)")
    public = build_public(assistant, settings)
    public.queue(default_concurrency_limit=settings.concurrency, max_size=256)
    public.launch(
        server_name=settings.host,
        server_port=settings.port,
        css=css(),
        head=head(),
        max_file_size=0,
        app_kwargs={
            "middleware": [guard.public_middleware(settings, public, PUBLIC_API, UNLIMITED_API)]
        },
        **launch,
    )


if __name__ == "__main__":
    main()
