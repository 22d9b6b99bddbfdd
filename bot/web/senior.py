"""The senior chat page (/): its markup and data, and the two endpoints the page calls.

The page is our own HTML and JS (bot/web/static/silverguard.js) inside one gr.HTML, so that what
a senior in trouble needs never waits for the server: the emergency card, text size, read-aloud,
the idle notice and 考考我 all run from what was shipped with the page. The page talks to the
server through two Gradio API endpoints: `chat` (streams the reply) and `feedback`.
"""

from __future__ import annotations

import html
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from bot.config import Settings
from bot.errors import BotError
from bot.knowledge.quiz import load_quiz
from bot.reply.assistant import Assistant
from bot.reply.safety import is_emergency
from bot.reply.templates import EMERGENCY_CARD
from bot.staff.feedback import REASONS, record_feedback
from bot.web.ratelimit import RateLimiter

log = logging.getLogger("silverguard.app")

BUSY = "系统有点忙，请稍等一下再问，或者问问网点的工作人员。"
TOO_FAST = "您问得有点快了，请歇一歇，过一分钟再问。"
# Pieces that arrive closer together than this go out as one update: every update is one more
# postprocess and event in Gradio, and the composer's lines all arrive within a millisecond
# (24 -> 31 answers/s under 50 back-to-back clients, README "Load").
STREAM_EVERY_S = 0.1
MAX_HISTORY = 6  # earlier questions the page may send back (the reading uses the last one)
QUICK_QUESTIONS = (
    "AI换脸是怎么回事",
    "公安局打电话说我洗钱",
    "验证码能告诉别人吗",
    "手机银行大字版怎么用",
    "微信怎么打视频电话",
    "保健品讲座能去吗",
    "中奖了要先交钱吗",
    "养老投资高回报能信吗",
)
CARD_PHONES = (("110", "拨打 110 报警"), ("96110", "拨打 96110 反诈专线"))
_MARKUP = re.compile(r"\*\*|__|`")


def plain(text: str) -> str:
    """Reply text as the page shows it: plain text (the page never renders Markdown or links)."""
    return _MARKUP.sub("", text or "").strip()


def _reply(text: str, answer: Any = None, *, done: bool = False) -> dict:
    """One update of the chat endpoint: the reply so far and, at the end, what it came from."""
    out: dict[str, Any] = {"text": plain(text), "done": done}
    if answer is not None:
        source = answer.sources[0] if answer.sources else None
        out.update(
            kind=answer.kind,
            emergency=bool(answer.emergency),
            lesson=source.doc_id if source else "",
            title=source.title if source else "",
        )
        # The message checker's result (level, flagged spans, reasons), when the answer has one.
        scan = answer.to_json().get("scan")
        if scan:
            out["scan"] = scan
    return out


def make_handlers(assistant: Assistant, settings: Settings, limiter: RateLimiter | None = None):
    """The page's two endpoints: chat (a generator of reply updates) and feedback.

    The rate limit normally sits in front of the queue (bot/web/guard.py); `limiter` is the
    in-handler fallback for an app started without the guard.
    """

    def chat(message: str, history: list[str], request: gr.Request) -> Iterator[dict]:
        """Answer one question; `history` holds the senior's earlier questions (newest last)."""
        question = assistant.read(message)
        earlier = [str(h) for h in (history or [])][-MAX_HISTORY:]
        session = getattr(request, "session_hash", None)
        client = session or getattr(getattr(request, "client", None), "host", None) or "local"
        # A senior who says the money has gone is never told to slow down.
        limited = limiter is not None and not limiter.allow(client)
        if limited and not is_emergency(question.whole):
            yield _reply(TOO_FAST, done=True) | {"kind": "throttled"}
            return
        text = ""
        final = None
        shown_at = 0.0  # the first piece (the emergency card, if any) goes out at once
        try:
            for piece in assistant.stream(question, earlier):
                if isinstance(piece, str):
                    text += piece
                    if time.monotonic() - shown_at >= STREAM_EVERY_S:
                        shown_at = time.monotonic()
                        yield _reply(text)
                else:
                    final = piece
                    text = piece.text
        except BotError as exc:
            log.warning("chat failed: %s", exc)
            text, final = BUSY, None
        except Exception:
            log.exception("chat failed")
            text, final = BUSY, None
        yield _reply(text or BUSY, final, done=True)

    def feedback(key: str, question: str, lesson: str, useful: bool, reason: str = "") -> dict:
        """Store one "这个回答有用吗？" answer (the question redacted; nothing about the person)."""
        record_feedback(
            settings.feedback_path,
            assistant.read(question),
            str(lesson or ""),
            bool(useful),
            str(reason or ""),
            key=str(key or "")[:40],
        )
        return {"ok": True}

    return chat, feedback


def page_data(assistant: Assistant, settings: Settings) -> dict:
    """Everything the page needs without the server: the card, questions, quiz, settings."""
    lines = [ln.strip() for ln in EMERGENCY_CARD.splitlines() if ln.strip()]
    quiz = [item.__dict__ for item in load_quiz(assistant.lessons())]
    return {
        "card": {
            "heading": lines[0].rstrip("：:"),
            "steps": [re.sub(r"^\d+\.\s*", "", ln) for ln in lines[1:]],
            "phones": [list(p) for p in CARD_PHONES],
        },
        "quiz": quiz,
        "reasons": list(REASONS),
        "idleMinutes": settings.idle_minutes,
    }


def page_html(data: dict) -> str:
    """The senior page's markup (the script fills in messages, the card and the quiz)."""
    quick = "".join(
        f'<button type="button" class="sg-q" data-q="{html.escape(q)}">{html.escape(q)}</button>'
        for q in QUICK_QUESTIONS
    )
    blob = html.escape(json.dumps(data, ensure_ascii=False), quote=True)
    return f"""
<div id="sg-app" lang="zh-CN" data-sg="{blob}">
 <div class="sg-frame">
  <header class="sg-top">
   <h1 class="sg-title">银龄反诈助手</h1>
   <div class="sg-size" role="group" aria-label="字的大小">
    <button type="button" id="sg-smaller" class="sg-btn">字小一点</button>
    <button type="button" id="sg-bigger" class="sg-btn">字大一点</button>
   </div>
  </header>
  <button type="button" id="sg-emergency">我可能被骗了</button>
  <div id="sg-chat" role="log" aria-label="对话记录" tabindex="0">
   <div class="sg-msg sg-bot sg-hello">
    <p>您好！有拿不准的电话、短信、转账，先问问我。可以打字，也可以点下面的问题。</p>
    <div class="sg-quick" role="group" aria-label="常见问题，点一下就问">{quick}</div>
   </div>
  </div>
  <section id="sg-quiz" aria-label="考考我" hidden></section>
  <div id="sg-offline" role="alert" hidden></div>
  <div id="sg-voice" role="status" hidden></div>
  <form id="sg-form" class="sg-ask" autocomplete="off">
   <label for="sg-box" class="sg-hidden">在这里打字提问，按回车发送</label>
   <textarea id="sg-box" rows="2" maxlength="2000"
     placeholder="在这里打字提问，比如：有人让我转账到安全账户"></textarea>
   <button type="submit" id="sg-send">发送</button>
  </form>
  <div class="sg-tools">
   <div class="sg-rate" role="group" aria-label="朗读速度">
    <span class="sg-rate-label" aria-hidden="true">朗读</span>
    <button type="button" class="sg-btn" data-rate="慢" aria-pressed="false">慢</button>
    <button type="button" class="sg-btn" data-rate="正常" aria-pressed="true">正常</button>
    <button type="button" class="sg-btn" data-rate="快" aria-pressed="false">快</button>
   </div>
   <button type="button" id="sg-stop" class="sg-btn" hidden>停止朗读</button>
   <button type="button" id="sg-quiz-open" class="sg-btn">考考我</button>
   <button type="button" id="sg-new" class="sg-btn">新的对话</button>
  </div>
 </div>
 <dialog id="sg-confirm" aria-labelledby="sg-confirm-h">
  <h2 id="sg-confirm-h">要清空这次的对话，重新开始吗？</h2>
  <div class="sg-row">
   <button type="button" class="sg-btn sg-primary" data-do="wipe">清空，重新开始</button>
   <button type="button" class="sg-btn" data-do="keep">不清空</button>
  </div>
 </dialog>
 <dialog id="sg-idle" aria-labelledby="sg-idle-h" aria-describedby="sg-idle-p">
  <h2 id="sg-idle-h">您还在用吗？</h2>
  <p id="sg-idle-p">这台平板大家共用。<span id="sg-idle-left">30</span> 秒后会清空对话，留给下一位。</p>
  <div class="sg-row">
   <button type="button" class="sg-btn sg-primary" data-do="stay">我还要用</button>
   <button type="button" class="sg-btn" data-do="wipe">我用完了，清空</button>
  </div>
 </dialog>
</div>
"""


def build_senior(
    assistant: Assistant, settings: Settings, limiter: RateLimiter | None = None
) -> None:
    """The senior page inside the current Blocks: the markup and its two endpoints."""
    chat, feedback = make_handlers(assistant, settings, limiter)
    gr.HTML(page_html(page_data(assistant, settings)), js_on_load=None, elem_id="sg-root")
    gr.api(chat, api_name="chat", api_visibility="undocumented")
    gr.api(feedback, api_name="feedback", api_visibility="undocumented", queue=False)
