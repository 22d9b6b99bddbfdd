"""The senior page in real headless Chromium: fits every screen, help without the server, practice.

One app process for the module; the last test stops it (the page must still help). Screenshots go
to artifacts/screenshots/senior-*.png for a person to look at.
"""

from __future__ import annotations

import json

import pytest
from helpers import axe_violations, running_shipped_app, shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

VIEWPORTS = {"portrait": (768, 1024), "landscape": (1280, 800), "phone": (390, 844)}
QUESTION = "有个人打电话说是公安局的 说我卡涉嫌洗钱 要我把钱转到安全账户"
URL_SMS = "【医保局】您的医保卡已冻结，请点击 http://yibao-jiedong.example.com/a 填写银行卡解冻"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("senior")
    limits = {"BOT_RATE_LIMIT_PER_MINUTE": "1000", "BOT_RATE_LIMIT_PER_IP_PER_MINUTE": "100000"}
    with running_shipped_app(tmp, **limits) as urls:
        yield urls


def _page(browser, app, viewport=(768, 1024), font: int | None = None, clock: bool = False):
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN"
    )
    pg = context.new_page()
    if font:
        pg.add_init_script(f"localStorage.setItem('sg-font', '{font}')")
    if clock:
        pg.clock.install()
    pg.goto(app["public"] + "/")
    pg.wait_for_selector("#sg-app[data-ready]", timeout=60_000)
    return pg


@pytest.fixture
def page(browser, app):
    pg = _page(browser, app)
    yield pg
    pg.context.close()


def _ask(pg, question: str) -> str:
    """Type, press 发送, wait for the whole reply (its 有用/没用 row); the reply's text."""
    before = pg.locator("#sg-chat .sg-fb").count()
    pg.fill("#sg-box", question)
    pg.click("#sg-send")
    pg.wait_for_function(
        "n => document.querySelectorAll('#sg-chat .sg-fb').length > n", arg=before, timeout=30_000
    )
    return pg.locator("#sg-chat .sg-bot .sg-text").last.inner_text()


# What the page measures in itself: sizes, colours (against the nearest painted background),
# overlaps, scrolling. Returned as plain data so a failure names the element.
MEASURE = """() => {
  const lum = c => { const v = c.match(/[\\d.]+/g).slice(0, 3).map(x => +x / 255)
      .map(x => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const bgOf = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
      if (c && !/rgba\\(0, 0, 0, 0\\)|transparent/.test(c)) { return c; } } return "rgb(255, 255, 255)"; };
  const shown = e => { const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && !e.closest("[hidden]"); };
  const name = e => (e.innerText || e.getAttribute("aria-label") || e.id || e.tagName).trim().slice(0, 20);
  const app = document.getElementById("sg-app");
  const text = [];
  app.querySelectorAll("*").forEach(e => {
    if (!shown(e) || e.closest("dialog:not([open])")) { return; }
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own && e.tagName !== "TEXTAREA") { return; }
    const s = getComputedStyle(e);
    text.push([name(e), parseFloat(s.fontSize), ratio(s.color, bgOf(e))]);
  });
  const taps = [...app.querySelectorAll("button, a, textarea, input")].filter(shown)
    .map(e => { const r = e.getBoundingClientRect(); return [name(e), r.width, r.height]; });
  const box = document.getElementById("sg-box");
  const ph = getComputedStyle(box, "::placeholder");
  const frame = [...app.querySelectorAll(".sg-top button, #sg-emergency, #sg-chat, #sg-box, #sg-send, .sg-tools button")]
    .filter(shown).map(e => [name(e), e.getBoundingClientRect().toJSON()]);
  const overlaps = [];
  frame.forEach(([a, r], i) => frame.slice(i + 1).forEach(([b, q]) => {
    if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1 && q.top < r.bottom - 1) {
      overlaps.push(a + " / " + b); } }));
  const inView = id => { const r = document.getElementById(id).getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth; };
  const chat = document.getElementById("sg-chat").getBoundingClientRect();
  const last = [...document.querySelectorAll("#sg-chat .sg-bot")].pop().getBoundingClientRect();
  return {text, taps, overlaps,
    placeholder: [parseFloat(ph.fontSize), ratio(ph.color, bgOf(box))],
    scrollX: document.scrollingElement.scrollWidth - innerWidth,
    inputInView: inView("sg-box") && inView("sg-send"),
    newestStartInView: last.top >= chat.top - 1 && last.top + 30 <= chat.bottom,
    chatLabel: document.querySelectorAll("[data-testid='block-label'], .block-label").length};
}"""


@pytest.mark.parametrize("font", [20, 36])
@pytest.mark.parametrize("where", list(VIEWPORTS))
def test_the_page_fits_reads_and_passesaxe_violations(browser, app, where, font):
    pg = _page(browser, app, VIEWPORTS[where], font)
    try:
        assert (
            pg.eval_on_selector("#sg-box", "e => parseFloat(getComputedStyle(e).fontSize)") == font
        )
        _ask(pg, QUESTION)
        m = pg.evaluate(MEASURE)
        small = [t for t in m["text"] if t[1] < 20]
        assert not small, f"text under 20 px: {small[:5]}"
        faint = [t for t in m["text"] if t[2] < 4.5]
        assert not faint, f"contrast under 4.5:1: {faint[:5]}"
        assert m["placeholder"][0] >= 20
        assert m["placeholder"][1] >= 4.5, f"placeholder contrast {m['placeholder'][1]:.2f}"
        tiny = [t for t in m["taps"] if t[1] < 60 or t[2] < 60]
        assert not tiny, f"tap targets under 60x60: {tiny[:5]}"
        assert len(m["taps"]) >= 12
        assert m["scrollX"] <= 0, "the page scrolls sideways"
        assert m["inputInView"], "the question box or 发送 is not on the screen"
        assert m["newestStartInView"], "the start of the newest answer is scrolled away"
        assert not m["overlaps"], m["overlaps"]
        assert m["chatLabel"] == 0  # no floating "对话" label over the text
        shot(pg, f"senior-{where}-{font}px")
        violations = axe_violations(pg)
        assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)
    finally:
        pg.context.close()


def test_quick_questions_sit_in_one_or_two_columns_on_a_phone(browser, app):
    for font in (20, 36):
        pg = _page(browser, app, VIEWPORTS["phone"], font)
        try:
            lefts = pg.eval_on_selector_all(
                ".sg-q", "bs => bs.map(b => Math.round(b.getBoundingClientRect().left))"
            )
            widths = pg.eval_on_selector_all(
                ".sg-q", "bs => bs.map(b => b.getBoundingClientRect().width)"
            )
            assert 1 <= len(set(lefts)) <= 2
            assert min(widths) >= 120  # whole words, not one character a line
            title = pg.eval_on_selector(".sg-title", "e => e.getBoundingClientRect().height")
            assert title < font * 1.1 * 1.3 * 1.5  # 银龄反诈助手 on one line
        finally:
            pg.context.close()


def test_text_size_buttons_have_chinese_names_and_are_remembered(page):
    size = "() => parseFloat(getComputedStyle(document.getElementById('sg-box')).fontSize)"
    assert page.evaluate(size) == 20
    bigger = page.get_by_role("button", name="字大一点")
    taps = 0
    while page.evaluate(size) < 30:
        bigger.click()
        taps += 1
    assert taps <= 3
    while bigger.get_attribute("aria-disabled") != "true":
        bigger.click()
        taps += 1
    assert taps <= 6
    assert page.evaluate(size) >= 36
    page.reload()
    page.wait_for_selector("#sg-app[data-ready]")
    assert page.evaluate(size) >= 36  # remembered on the device
    smaller = page.get_by_role("button", name="字小一点")
    while smaller.get_attribute("aria-disabled") != "true":
        smaller.click()
    assert page.evaluate(size) == 20


def test_the_emergency_card_is_its_own_message_with_call_buttons(page):
    _ask(page, "验证码能告诉别人吗")
    red = page.get_by_role("button", name="我可能被骗了")
    red.click()
    red.click()  # pressed again: shown again, not twice
    assert page.locator("#sg-card").count() == 1
    card = page.locator("#sg-chat > .sg-msg").last
    assert card.get_attribute("id") == "sg-card"
    assert page.locator("#sg-chat .sg-bot #sg-card").count() == 0  # not inside an answer
    heading = card.locator("h2")
    assert "先别慌" in heading.inner_text()
    border = card.evaluate(
        "e => [getComputedStyle(e).borderTopColor, getComputedStyle(e).borderTopWidth]"
    )
    assert border[0] == "rgb(179, 38, 30)"
    assert float(border[1].rstrip("px")) >= 3
    for number in ("110", "96110"):
        call = card.locator(f'a[href="tel:{number}"]')
        box = call.bounding_box()
        assert box["width"] >= 60
        assert box["height"] >= 60
    text = card.inner_text()
    for must in ("冻结", "挂断", "保留"):
        assert must in text
    shot(page, "senior-emergency-card")


def test_what_a_senior_pastes_stays_text_and_no_bubble_has_a_link(page):
    raw = URL_SMS + " **粗体** <b>标签</b>"
    reply = _ask(page, raw)
    assert reply
    user = page.locator("#sg-chat .sg-user .sg-text").last.inner_text()
    assert user == raw  # as typed: no Markdown, no HTML
    links = page.eval_on_selector_all(
        "#sg-chat a", "as => as.map(a => a.getAttribute('href')).filter(h => !h.startsWith('tel:'))"
    )
    assert links == []
    assert page.locator("#sg-chat b").count() == 0
    # The message check: the level first, the message with numbered marks, a reason for each.
    check = page.locator("#sg-chat .sg-bot").last.locator(".sg-scan")
    assert check.count() == 1
    assert check.locator(":scope > *").first.get_attribute("class") == "sg-level"
    assert check.locator(".sg-level").inner_text().startswith("这条消息：")
    marked = check.locator(".sg-scan-msg")
    assert "①" in marked.inner_text()
    assert "http://yibao-jiedong.example.com/a" in marked.inner_text()  # shown, not a link
    assert marked.locator("mark").count() >= 2
    assert check.locator(".sg-reasons li").count() >= 2
    shot(page, "senior-pasted-link")


def test_a_pasted_message_check_reads_at_36px_on_a_phone(browser, app):
    pg = _page(browser, app, VIEWPORTS["phone"], 36)
    try:
        _ask(pg, URL_SMS)
        check = pg.locator("#sg-chat .sg-scan").last
        check.scroll_into_view_if_needed()
        m = pg.evaluate(MEASURE)
        assert m["scrollX"] <= 0
        assert all(t[1] >= 20 for t in m["text"])
        assert all(t[2] >= 4.5 for t in m["text"]), [t for t in m["text"] if t[2] < 4.5][:5]
        shot(pg, "senior-phone-36px-message-check")
    finally:
        pg.context.close()


def test_enter_sends_and_shift_enter_makes_a_new_line(page):
    box = page.locator("#sg-box")
    box.click()
    page.keyboard.type("验证码")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("能给别人吗")
    assert box.input_value() == "验证码\n能给别人吗"
    page.keyboard.press("Enter")
    page.wait_for_selector("#sg-chat .sg-fb", timeout=30_000)
    assert page.locator("#sg-chat .sg-user").count() == 1
    assert box.input_value() == ""


def test_focus_rings_are_thick_and_visible(page):
    page.locator("#sg-box").focus()
    page.keyboard.press("Tab")  # to 发送, by keyboard: :focus-visible applies
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.id, s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; }"
    )
    assert ring[0] == "sg-send"
    assert ring[1] != "none"
    assert ring[2] >= 3
    assert ring[3] == "rgb(11, 61, 110)"  # #0b3d6e on white: 11.3:1


def test_accessible_names_are_chinese(page):
    assert page.get_by_role("textbox", name="在这里打字提问").count() == 1
    assert page.get_by_role("log", name="对话记录").count() == 1
    assert page.get_by_role("button", name="发送").count() == 1
    names = page.eval_on_selector_all(
        "#sg-app button, #sg-app textarea",
        "es => es.filter(e => e.offsetParent).map(e => e.getAttribute('aria-label') || e.innerText"
        " || (e.labels && e.labels[0] && e.labels[0].innerText) || '')",
    )
    assert names
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in n) for n in names), names


def test_waiting_shows_the_question_at_once_and_a_kind_slow_notice(page):
    held = []
    page.route("**/gradio_api/call/chat/*", lambda route: held.append(route))
    page.fill("#sg-box", "中奖了要先交钱吗")
    page.click("#sg-send")
    assert page.locator("#sg-chat .sg-user").last.inner_text() == "中奖了要先交钱吗"
    assert "正在帮您查" in page.locator("#sg-chat .sg-bot").last.inner_text()
    assert page.locator("#sg-send").is_disabled()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#sg-chat .sg-bot')].pop().innerText.includes('还在帮您查')",
        timeout=10_000,
    )
    assert held, "the reply request never left"
    held[0].continue_()
    page.wait_for_selector("#sg-chat .sg-fb", timeout=30_000)
    assert page.locator("#sg-send").is_enabled()


def test_a_lost_connection_says_so_in_chinese_and_keeps_the_question(page):
    page.route("**/gradio_api/**", lambda route: route.abort())
    page.fill("#sg-box", "保健品讲座能去吗")
    page.click("#sg-send")
    page.wait_for_selector("#sg-offline:not([hidden])", timeout=10_000)
    note = page.locator("#sg-offline")
    assert "连不上" in note.inner_text()
    assert float(note.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 22
    assert page.locator("#sg-box").input_value() == "保健品讲座能去吗"
    assert page.locator("#sg-send").is_enabled()
    assert page.locator(".toast-wrap:visible").count() == 0
    page.get_by_role("button", name="我可能被骗了").click()
    assert page.locator("#sg-card").is_visible()
    shot(page, "senior-offline")


def test_a_refusal_at_the_door_is_said_calmly_and_the_question_kept(page):
    too_fast = {"detail": "您问得有点快了，请歇一歇，过一分钟再问。", "kind": "too_fast"}
    page.route(
        "**/gradio_api/call/chat",
        lambda route: route.fulfill(
            status=429, content_type="application/json", body=json.dumps(too_fast)
        ),
    )
    page.fill("#sg-box", "保健品讲座能去吗")
    page.click("#sg-send")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#sg-chat .sg-bot')].pop().innerText.includes('歇一歇')",
        timeout=10_000,
    )
    assert page.locator("#sg-box").input_value() == "保健品讲座能去吗"
    assert page.locator("#sg-send").is_enabled()
    assert page.locator("#sg-offline").is_hidden()  # the server is there: not "连不上"


def test_feedback_is_stored_redacted_with_the_lesson(page, app):
    _ask(page, "我手机号13812345678 有人说公安局要我把钱转到安全账户")
    page.locator("#sg-chat .sg-fb").last.get_by_role("button", name="没用").click()
    page.get_by_role("button", name="太长了").click()
    page.wait_for_selector("text=谢谢您告诉我们")
    path = app["dir"] / "data" / "feedback.jsonl"
    from bot.staff.feedback import read_feedback

    for _ in range(50):
        rows = read_feedback(path)
        if rows and rows[-1].reason:
            break
        page.wait_for_timeout(100)
    row = rows[-1]
    assert row.useful is False
    assert row.reason == "太长了"
    assert row.lesson == "fake-police-safe-account"
    assert "13812345678" not in row.question
    assert "13812345678" not in path.read_text("utf-8")
    assert len(rows) == 1 or rows[-2].key != row.key  # 没用 then its reason: one answer
    _ask(page, "验证码能告诉别人吗")
    page.locator("#sg-chat .sg-fb").last.get_by_role("button", name="有用").click()
    page.wait_for_selector("text=谢谢您告诉我们")
    for _ in range(50):
        if any(r.useful for r in read_feedback(path)):
            break
        page.wait_for_timeout(100)
    assert any(r.useful and r.lesson == "verification-code-password" for r in read_feedback(path))


def test_a_practice_round_of_five_completes_with_a_friendly_score(page):
    page.get_by_role("button", name="考考我").click()
    seen_real = 0
    for i in range(5):
        page.wait_for_selector(f"text=第 {i + 1} 题（共 5 题）")
        choice = "是骗局" if i % 2 == 0 else "不是骗局"
        page.get_by_role("button", name=choice, exact=True).click()
        fb = page.locator(".sg-quiz-fb")
        assert fb.locator(".sg-verdict").inner_text()
        assert len(fb.inner_text()) > 15  # the reason
        seen_real += "这不是骗局" in fb.locator(".sg-verdict").inner_text()
        if i == 0:
            shot(page, "senior-quiz")
        page.locator(".sg-quiz-next").click()
    assert 1 <= seen_real <= 2  # genuine messages are mixed in
    score = page.locator(".sg-score").inner_text()
    assert "您答对了" in score
    assert "共 5 题" in score
    page.get_by_role("button", name="回到对话").click()
    assert page.locator("#sg-chat").is_visible()


def test_new_chat_asks_before_wiping(page):
    _ask(page, "验证码能告诉别人吗")
    page.get_by_role("button", name="新的对话").click()
    dialog = page.get_by_role("dialog")
    assert "清空" in dialog.inner_text()
    page.get_by_role("button", name="不清空").click()
    assert page.locator("#sg-chat .sg-user").count() == 1
    page.get_by_role("button", name="新的对话").click()
    page.get_by_role("button", name="清空，重新开始").click()
    assert page.locator("#sg-chat .sg-user").count() == 0
    assert page.locator(".sg-q").count() == 8  # the greeting and quick questions stay


def test_an_idle_shared_tablet_asks_then_starts_fresh(browser, app):
    pg = _page(browser, app, clock=True)
    try:
        _ask(pg, "公安局打电话说我洗钱")
        pg.clock.run_for("04:50")
        assert not pg.locator("#sg-idle").is_visible()
        pg.clock.run_for("00:15")
        assert pg.locator("#sg-idle").is_visible()
        left = int(pg.locator("#sg-idle-left").inner_text())
        assert left >= 20
        pg.get_by_role("button", name="我还要用").click()
        assert pg.locator("#sg-chat .sg-user").count() == 1  # kept
        pg.clock.run_for("05:10")
        assert pg.locator("#sg-idle").is_visible()
        shot(pg, "senior-idle")
        pg.clock.run_for("00:31")
        assert not pg.locator("#sg-idle").is_visible()
        assert pg.locator("#sg-chat .sg-user").count() == 0  # the next person sees nothing
    finally:
        pg.context.close()


def test_read_aloud_says_when_there_is_no_chinese_voice_and_remembers_the_speed(page):
    _ask(page, "验证码能告诉别人吗")
    page.evaluate("() => { speechSynthesis.getVoices = () => []; }")  # a device without voices
    page.get_by_role("button", name="朗读这条回答").last.click()
    note = page.locator("#sg-voice")
    assert note.is_visible()
    assert "没有中文朗读的声音" in note.inner_text()
    page.get_by_role("button", name="慢", exact=True).click()
    page.reload()
    page.wait_for_selector("#sg-app[data-ready]")
    assert page.get_by_role("button", name="慢", exact=True).get_attribute("aria-pressed") == "true"
    assert page.get_by_role("button", name="正常").get_attribute("aria-pressed") == "false"


def test_read_aloud_has_a_stop_button(browser, app):
    pg = _page(browser, app)
    try:
        pg.evaluate(
            """() => { const calls = window.__said = [];
            speechSynthesis.getVoices = () => [{lang: 'zh-CN', name: 'fake'}];
            speechSynthesis.speak = u => calls.push([u.text, u.rate]);
            speechSynthesis.cancel = () => calls.push(['cancel']); }"""
        )
        pg.get_by_role("button", name="慢", exact=True).click()
        _ask(pg, "验证码能告诉别人吗")
        pg.get_by_role("button", name="朗读这条回答").last.click()
        said = pg.evaluate("() => window.__said.filter(c => c.length === 2)")
        assert said
        assert said[-1][1] == pytest.approx(0.7)
        stop = pg.get_by_role("button", name="停止朗读")
        assert stop.is_visible()
        stop.click()
        assert not stop.is_visible()
    finally:
        pg.context.close()


def test_with_the_server_stopped_the_red_button_still_helps(browser, app):
    """Last in the module: it stops the app."""
    pg = _page(browser, app, VIEWPORTS["portrait"])
    try:
        proc = app["stop"]
        proc.terminate()
        proc.wait(timeout=15)
        pg.get_by_role("button", name="我可能被骗了").click()
        card = pg.locator("#sg-card")
        assert card.is_visible()
        assert card.locator('a[href="tel:110"]').is_visible()
        assert card.locator('a[href="tel:96110"]').is_visible()
        pg.fill("#sg-box", "我已经转了五万了")
        pg.click("#sg-send")
        pg.wait_for_selector("#sg-offline:not([hidden])", timeout=15_000)
        assert pg.locator("#sg-box").input_value() == "我已经转了五万了"
        assert pg.locator("#sg-card").is_visible()
        shot(pg, "senior-server-stopped")
    finally:
        pg.context.close()
