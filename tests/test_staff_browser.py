"""The staff room in a real headless Chromium: every tab, axe-core, the printed handout, live lessons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import KNOWLEDGE, axe_violations, running_shipped_app, shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "test-desk-pass-42"
PT_18 = 24.0  # CSS pixels: 18 pt x 96/72


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("staff")
    env = {"BOT_ADMIN_PASSWORD": PASSWORD, "BOT_RATE_LIMIT_PER_MINUTE": "1000"}
    with running_shipped_app(tmp, **env) as urls:
        yield urls


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def _open(pg, app) -> None:
    pg.goto(app["public"] + "/staff")
    pg.wait_for_selector("text=备课室", timeout=60_000)


def _pick(pg, label: str, option: str) -> None:
    pg.get_by_label(label).click()
    pg.get_by_role("option").filter(has_text=option).first.click()
    pg.keyboard.press("Escape")  # a multiselect list stays open over the buttons


def _assert_no_violations(pg, where: str) -> None:
    violations = axe_violations(pg)
    assert violations == [], f"{where}: " + json.dumps(violations, ensure_ascii=False, indent=1)


def test_plan_practice_drill_and_term_work_and_passaxe_violations(app, page):
    _open(page, app)
    _assert_no_violations(page, "staff room")
    _pick(page, "选一课或两课（按课程名和主题）", "安全账户")
    page.get_by_role("button", name="生成教案和讲义").click()
    page.wait_for_selector("text=开场先问大家", timeout=30_000)
    assert "第1–5分钟" in page.inner_text("#sg-plan")
    shot(page, "05-staff-plan")
    _assert_no_violations(page, "plan")

    page.get_by_role("tab", name="模拟提问").click()
    _pick(page, "练习用的课程（模拟提问、防骗演练）", "安全账户")
    page.get_by_role("button", name="出一道题").click()
    page.wait_for_selector("text=老人问", timeout=20_000)
    page.get_by_label("您的回答（像对老人讲话一样）").fill("不用挂断，直接转账给他就行。")
    page.get_by_role("button", name="看看讲得怎么样").click()
    page.wait_for_selector("text=不合格", timeout=20_000)
    shot(page, "06-staff-practice")
    _assert_no_violations(page, "practice")

    page.get_by_role("tab", name="防骗演练").click()
    page.get_by_role("button", name="开始演练").click()
    page.wait_for_selector("text=第1/6句", timeout=20_000)
    for _ in range(6):
        page.locator("#sg-drill-options label").first.click()
        page.get_by_role("button", name="就这么做").click()
        page.wait_for_selector("text=这句话的破绽", timeout=20_000)
        page.get_by_role("button", name="下一句").click()
    page.wait_for_selector("text=演练结束", timeout=20_000)
    assert "/6 句做对了" in page.inner_text("#sg-drill-line")
    shot(page, "07-staff-drill")
    _assert_no_violations(page, "drill")

    page.get_by_role("tab", name="学期课程表").click()
    page.get_by_role("button", name="排课").click()
    page.wait_for_selector("text=已排好12堂课", timeout=20_000)
    with page.expect_download() as ics:
        page.get_by_role("button", name="导出课程表和日历").click()
        page.wait_for_selector("text=已导出12堂课", timeout=20_000)
        page.locator("a[download$='.ics']").first.click()
    assert ics.value.suggested_filename.endswith(".ics")
    shot(page, "08-staff-term")
    _assert_no_violations(page, "term")


def test_the_handout_prints_on_one_a4_page_at_18pt_or_more(browser, tmp_path):
    from bot.staff.plan import Handout, handout_html

    handout = Handout(
        title="冒充公检法",
        reminder="世上没有“安全账户”，叫您转钱查清白的都是骗子。",
        steps=(
            "听到“洗钱”“通缉”“安全账户”，立刻挂断电话。",
            "自己拨打110问一问，不回拨对方给的号码。",
            "不按语音提示按键，不点对方发来的链接和文件。",
        ),
        hotlines=(("110", "报警"), ("96110", "反诈预警和咨询"), ("银行卡背面的电话", "挂失止付")),
    )
    pg = browser.new_page()
    try:
        pg.set_content(handout_html(handout))
        pg.emulate_media(media="print")
        sizes = pg.evaluate(
            "() => [...document.querySelectorAll('body *')].filter(e => [...e.childNodes]"
            ".some(n => n.nodeType === 3 && n.textContent.trim()))"
            ".map(e => [e.textContent.trim().slice(0, 12), parseFloat(getComputedStyle(e).fontSize)])"
        )
        assert sizes
        small = [s for s in sizes if s[1] < PT_18]
        assert not small, f"text under 18 pt: {small}"
        pdf = tmp_path / "handout.pdf"
        pg.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
        assert _pages(pdf) == 1
    finally:
        pg.close()


def _pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def _login(pg, url: str, password: str) -> None:
    pg.goto(url + "/")
    pg.wait_for_selector("input[type=password]", timeout=30_000)
    pg.locator("input:not([type=password])").first.fill("admin")
    pg.locator("input[type=password]").fill(password)
    pg.locator("input[type=password]").press("Enter")


NEW_LESSON = (KNOWLEDGE / "utility-arrears-cutoff.md").read_text("utf-8")


def test_a_lesson_published_at_the_desk_appears_in_the_staff_room(app, page, tmp_path):
    staff = page.context.new_page()
    _open(staff, app)  # opened before the upload, and not restarted
    lesson = tmp_path / "water-meter-visit.md"
    text = NEW_LESSON.replace("id: utility-arrears-cutoff", "id: water-meter-visit")
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    lesson.write_text(text.replace(title, "title: 冒充自来水公司上门换水表"), "utf-8")
    _login(page, app["desk"], PASSWORD)
    page.wait_for_selector("text=重新索引", timeout=30_000)
    with page.expect_file_chooser() as chooser:
        page.click("button.upload-container")
    chooser.value.set_files(str(lesson))
    page.wait_for_selector("text=water-meter-visit.md", timeout=20_000)
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_selector("text=已加入", timeout=30_000)
    page.get_by_role("button", name="重新索引").click()
    page.wait_for_selector("text=索引完成", timeout=120_000)

    staff.get_by_role("button", name="刷新课程列表").click()
    staff.wait_for_timeout(1000)
    staff.get_by_label("选一课或两课（按课程名和主题）").click()
    staff.get_by_role("option").filter(has_text="冒充自来水公司上门换水表").first.wait_for(
        timeout=20_000
    )
    fresh = page.context.new_page()
    _open(fresh, app)  # a new page load lists it too
    fresh.get_by_label("练习用的课程（模拟提问、防骗演练）").click()
    fresh.get_by_role("option").filter(
        has_text="冒充自来水公司上门换水表（冒充水电燃气催费）"
    ).first.wait_for(timeout=20_000)
