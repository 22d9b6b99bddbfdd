"""The running app in a real headless Chromium (Debian's), plus its HTTP surface.

Screenshots of each page are saved under artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import time

import httpx
import pytest
from helpers import running_shipped_app, shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "test-desk-pass-42"

NEW_LESSON = """\
---
id: gas-meter-visit
title: 冒充燃气公司上门换燃气表
topic: fake-customer-service
updated: 2026-11-20
aliases: [燃气公司上门说燃气表要换]
---
## 一句话提醒
燃气公司上门换表，先打燃气公司官方电话核实。

## 骗子怎么说
- “您家燃气表到期了，今天必须换新表，交八百元。”

## 怎么识破
1. 上门就催交钱，不给正规收据。

## 正确做法
1. 不开门，先打燃气账单上的官方电话核实。
2. 不在门口交现金。

## 如果已经上当
1. 保留收据和对方样貌，拨打110。

## 讲课要点
1. 讲清上门换燃气表的正规流程。
案例：周阿姨遇到“燃气公司”上门换燃气表要钱。
时长建议：讲解10分钟。

## 常见问题
### 燃气公司上门说要换燃气表，要交钱吗？
先别交钱，打燃气账单上的官方电话问清楚。
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """python app.py on loopback, with its own copy of the knowledge folder and data dir."""
    tmp = tmp_path_factory.mktemp("app")
    env = {"BOT_ADMIN_PASSWORD": PASSWORD, "BOT_RATE_LIMIT_PER_MINUTE": "1000"}
    with running_shipped_app(tmp, **env) as urls:
        yield urls


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 1366}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def _open_chat(pg, app) -> None:
    pg.goto(app["public"] + "/")
    pg.wait_for_selector("#sg-app[data-ready]", timeout=60_000)


def _ask(pg, question: str) -> str:
    before = pg.locator("#sg-chat .sg-fb").count()
    pg.fill("#sg-box", question)
    pg.click("#sg-send")
    pg.wait_for_function(
        "n => document.querySelectorAll('#sg-chat .sg-fb').length > n", arg=before, timeout=30_000
    )
    return pg.locator("#sg-chat .sg-bot").last.inner_text()


# The senior page's sizes, contrast, layout, emergency card and practice: test_senior_page.py.


def test_question_gets_an_answer_with_its_source(app, page):
    _open_chat(page, app)
    shot(page, "01-senior-home")
    text = _ask(page, "有个人打电话说是公安局的 说我卡涉嫌洗钱 要我把钱转到安全账户")
    assert "来自课程：《" in text
    assert "安全账户" in text
    assert "🔊" in text
    shot(page, "02-senior-answer")


# The staff room (plan, practice, drill, term, axe, live lessons): test_staff_browser.py.


def _login(pg, url: str, password: str) -> None:
    pg.goto(url + "/")
    pg.wait_for_selector("input[type=password]", timeout=30_000)
    pg.locator("input:not([type=password])").first.fill("admin")
    pg.locator("input[type=password]").fill(password)
    pg.locator("input[type=password]").press("Enter")


def test_desk_refuses_without_password_and_works_with_it(app, page):
    page.goto(app["desk"] + "/")
    page.wait_for_selector("input[type=password]", timeout=30_000)
    shot(page, "08-desk-login")
    assert page.locator("text=重新索引").count() == 0  # nothing of the desk before login
    _login(page, app["desk"], "wrong-password")
    time.sleep(2)
    assert page.locator("input[type=password]").count() == 1  # still the login form
    assert page.locator("text=重新索引").count() == 0
    _login(page, app["desk"], PASSWORD)
    page.wait_for_selector("text=重新索引", timeout=30_000)
    page.wait_for_selector("text=ai-face-swap-video-call.md", timeout=30_000)
    shot(page, "09-desk-lessons")


def test_upload_then_reindex_makes_the_lesson_answerable(app, page, tmp_path):
    lesson = tmp_path / "gas-meter-visit.md"
    lesson.write_text(NEW_LESSON, "utf-8")
    _login(page, app["desk"], PASSWORD)
    page.wait_for_selector("text=重新索引", timeout=30_000)
    with page.expect_file_chooser() as chooser:
        page.click("button.upload-container")
    chooser.value.set_files(str(lesson))
    page.wait_for_selector("text=gas-meter-visit.md", timeout=20_000)
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_selector("text=已加入", timeout=30_000)
    page.get_by_role("button", name="重新索引").click()
    page.wait_for_selector("text=索引完成", timeout=120_000)
    shot(page, "10-desk-after-reindex")
    assert (app["dir"] / "knowledge" / "gas-meter-visit.md").exists()

    chat = page.context.new_page()
    _open_chat(chat, app)
    text = _ask(chat, "燃气公司的人上门说我家燃气表要换 要交八百块")
    assert "《冒充燃气公司上门换燃气表》" in text


def test_public_http_api_exposes_only_the_chat(app):
    info = httpx.get(app["public"] + "/gradio_api/info", timeout=10).json()
    names = set(info.get("named_endpoints", {})) | set(info.get("unnamed_endpoints", {}))
    assert names <= {"/chat"}, names
    for path in ("/gradio_api/upload", "/gradio_api/info"):
        r = httpx.get(app["desk"] + path, timeout=10)
        assert r.status_code in (401, 403, 405) or "Login" in r.text


def test_chat_streams_over_http(app):
    from gradio_client import Client

    client = Client(app["public"] + "/", verbose=False)
    job = client.submit("我刚把验证码告诉客服了 怎么办", [], api_name="/chat")
    outputs = list(job)
    final = job.result()
    assert len(outputs) >= 2  # pieces arrived before the end
    assert final["done"]
    assert final["emergency"]
    text = final["text"]
    assert text.index("110") < text.index("来自课程")  # the card comes before the guidance
