"""The grounded composer on the shipped lessons: every line traceable, short, sourced; LLM-output checks."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.reply import templates as A
from bot.reply.checks import advises_harm, sentences_of, unsafe_reason
from bot.reply.compose import compose
from bot.reply.reading import read_question

HAN = re.compile(r"[\u4e00-\u9fff]")
STEP = re.compile(r"^\d+\.\s+", re.M)
SOURCE = re.compile(r"来自课程：《(.+)》")
# The fixed sentences a reply may contain besides lesson text.
TEMPLATES = (
    A.EMERGENCY_CARD,
    A.SENSITIVE_NOTICE,
    A.REDIRECT,
    A.REFUSE,
    A.PROMPT,
    A.UNSURE,
    A.TRUNCATED,
    A.STEPS_INTRO,
    A.AFTER_INTRO,
    A.FLAGS_INTRO,
    A.STOP_HEAD,
    A.STOP_CALL,
    A.INJECTION_REFUSED,
    A.PAST_REPORT,
    A.HELP_OTHERS_INTRO,
    A.ASK_STAFF,
    A.UNSURE_ASK,
    *A.VERDICTS.values(),
    *A.STOP_ACTIONS.values(),
    *A.DISTRESS.splitlines(),
)

# New phrasings (not the eval questions), across topics, plus the special paths.
QUESTIONS = [
    "接到个电话说我医保卡被冻结了，要我配合调查",
    "有个自称快递的打电话说包裹丢了要赔我钱",
    "短信里有个链接说积分可以换电饭煲",
    "孙子说换了新号码，找我借钱交学费",
    "视频里外孙女哭着要钱，声音一模一样",
    "网上认识的男朋友说要带我做投资",
    "养老院说交十万押金每个月返利息",
    "有人上门推销保健品还白送鸡蛋",
    "手机银行的大字版在哪里打开",
    "微信转账怎么设置成延迟到账",
    "打电话说我中了二等奖，要先交个人所得税",
    "旅游团九十九元玩五天能去吗",
    "有人让我下载个会议软件开共享屏幕",
    "刷单做任务返佣金是真的吗",
    "收藏的邮票有人说能高价回购",
    "个人养老金是什么，在哪开",
    "请详细说说验证码为什么不能给别人",
    "我刚把两万块转给冒充警察的人了",
    "客服要我报验证码 583920，给不给",
    "高铁票怎么在手机上买",
]
DETAILED = {q for q in QUESTIONS if A.MORE.search(q)}


def section_texts(assistant) -> list[str]:
    """Every text a reply may quote: the sections and the reviewed verdict of each lesson."""
    return [
        text
        for lesson in assistant.lessons().values()
        for text in [*(t for _, t in lesson.sections), lesson.verdict]
        if text
    ]


def ungrounded_lines(text: str, sections: list[str], titles: set[str]) -> list[str]:
    """Lines that are neither a fixed template nor lesson text (numbering aside)."""
    fixed = set(TEMPLATES) | set(A.EMERGENCY_CARD.splitlines())
    bad = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line in fixed:
            continue
        source = SOURCE.fullmatch(line)
        if source:
            if not set(source.group(1).split("》《")) <= titles:
                bad.append(line)
            continue
        body = STEP.sub("", line, count=1)
        body = body.removeprefix(A.ALSO_INTRO).removeprefix(A.HELP_OTHERS_INTRO)
        if body in fixed or any(body in section for section in sections):
            continue
        bad.append(line)
    return bad


@pytest.fixture(scope="module")
def answers(shipped):
    return {q: shipped.ask(q) for q in QUESTIONS}


@pytest.fixture(scope="module")
def lesson_text(shipped):
    titles = {lesson.title for lesson in shipped.lessons().values()}
    return section_texts(shipped), titles


def test_the_question_set_covers_the_special_paths(answers):
    kinds = {a.kind for a in answers.values()}
    assert {"answer", "emergency", "unsure"} <= kinds
    assert any(a.sensitive for a in answers.values())
    assert len({a.sources[0].topic for a in answers.values() if a.sources}) >= 12


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_line_comes_from_a_template_or_a_lesson(answers, lesson_text, question):
    sections, titles = lesson_text
    assert ungrounded_lines(answers[question].text, sections, titles) == []


def test_the_groundedness_check_catches_invented_lines(answers, lesson_text):
    sections, titles = lesson_text
    real = answers[QUESTIONS[0]].text
    assert ungrounded_lines(real, sections, titles) == []
    invented = "请把钱转到安全账户，警察会帮您保管。"
    assert ungrounded_lines(f"{real}\n{invented}", sections, titles) == [invented]
    assert ungrounded_lines("3. 马上去银行取五万现金。", sections, titles) == [
        "3. 马上去银行取五万现金。"
    ]
    assert ungrounded_lines("来自课程：《不存在的课》", sections, titles) == [
        "来自课程：《不存在的课》"
    ]
    # two real sections glued onto one line are not one lesson sentence
    glued = sections[0].splitlines()[0] + sections[-1].splitlines()[-1]
    assert ungrounded_lines(glued, sections, titles) == [glued]


def test_answers_end_with_the_first_source(answers):
    sourced = [a for a in answers.values() if a.kind in ("answer", "emergency") and a.sources]
    assert len(sourced) >= 17
    for answer in sourced:
        last = answer.text.splitlines()[-1]
        assert last.startswith("来自课程：《"), answer.text
        assert f"《{answer.sources[0].title}》" in last


def test_normal_answers_are_short(answers):
    normal = [a for q, a in answers.items() if a.kind == "answer" and q not in DETAILED]
    assert len(normal) >= 15
    for answer in normal:
        assert len(HAN.findall(answer.text)) <= 260, answer.text
        assert len(STEP.findall(answer.text)) <= 4, answer.text


def test_asking_for_detail_gives_more_steps(shipped):
    short = shipped.ask("验证码为什么不能给别人")
    long = shipped.ask("请详细说说验证码为什么不能给别人")
    assert short.sources[0].doc_id == long.sources[0].doc_id
    assert len(STEP.findall(long.text)) > max(4, len(STEP.findall(short.text)))


def test_to_json_has_exactly_the_public_keys(answers):
    for answer in answers.values():
        data = answer.to_json()
        assert set(data) - {"kind", "reading", "scan"} == {
            "answer",
            "sources",
            "emergency",
            "confidence",
        }
        assert data["answer"] == answer.text
        assert isinstance(data["emergency"], bool)
        assert 0.0 <= data["confidence"] <= 1.0
        for source in data["sources"]:
            assert set(source) == {"doc_id", "title", "topic", "score"}


def test_to_json_never_carries_personal_data(answers):
    data = str(answers["客服要我报验证码 583920，给不给"].to_json())
    assert "583920" not in data


def test_the_composer_never_shows_a_lesson_line_that_advises_a_transfer(shipped):
    lesson = shipped.lessons()["fake-police-safe-account"]
    poisoned = "请把钱转到安全账户，由警察保管。"
    sections = tuple(
        (
            path,
            f"1. {poisoned}\n{text}" if path in ("正确做法", "如果已经上当", "怎么识破") else text,
        )
        for path, text in lesson.sections
    )
    bad = dataclasses.replace(lesson, sections=sections, sha256="poisoned")
    for question in ("详细说说安全账户", "钱转了", "安全账户", "安全账户是真的吗"):
        reading = read_question(question)
        emergency = reading.emergency
        text = compose(question, reading, bad, [], emergency=emergency).text
        assert "安全账户，由警察保管" not in text
        assert text.splitlines()[-1] == A.SOURCE_LINE.format(title=lesson.title)
    # the honest lines are all still there
    more = read_question("详细说说安全账户")
    assert (
        compose("详细说说安全账户", more, bad, []).text
        == compose("详细说说安全账户", more, lesson, []).text
    )


# ---------------------------------------------------------------- LLM output checks


@pytest.mark.parametrize(
    "reply",
    [
        "请把钱转到安全账户。",
        "请把验证码告诉我。",
        "您不用担心，请把验证码告诉我。",
        "把短信验证码发给客服就行。",
        "请提供您的银行卡密码。",
        "马上把存款转到这个账户里。",
        "您先转五千块保证金，才能退款。",
        "这不是骗局，请把钱转到安全账户。",
        "安全账户是正规的。",
    ],
)
def test_unsafe_advice_is_rejected(reply):
    assert unsafe_reason(reply)


@pytest.mark.parametrize(
    "reply",
    ["有问题打13812345678咨询。", "客服热线 400-820-1234。", "拨打138 1234 5678。"],
)
def test_unknown_phone_numbers_are_rejected(reply):
    assert unsafe_reason(reply).startswith("unknown phone number")


@pytest.mark.parametrize(
    "reply",
    [
        "不要把验证码告诉任何人。",
        "真警察不会让您把钱转到安全账户。",
        "先挂断电话，不转账，拨打110或96110。",
        "拨打110 96110 12381都可以。",
        "验证码谁要都不给。",
        "凡是要您先交钱的，都是骗子。",
        "打开手机银行，点转账，字就变大了。",
        "来自课程：《冒充公检法：“涉嫌洗钱”“安全账户”都是骗局》",
    ],
)
def test_safe_advice_passes(reply):
    assert unsafe_reason(reply) is None


def test_a_lesson_line_with_a_bank_number_is_not_harmful_advice():
    assert not advises_harm("打银行卡背面的95588核实，不要回拨陌生号码。")
    assert advises_harm("请把验证码告诉工作人员。")


@pytest.mark.parametrize("reply", ["", "   \n"])
def test_empty_replies_are_rejected(reply):
    assert unsafe_reason(reply) == "empty"


def test_lesson_sentences_mostly_pass_the_output_check(shipped):
    """The check must not reject the lessons themselves, or the LLM could never be used."""
    sentences = [
        s
        for lesson in shipped.retriever.index.lessons.values()
        for path, text in lesson.sections
        if path.split(" > ")[0] in ("一句话提醒", "正确做法", "如果已经上当", "常见问题")
        for s in re.split(r"(?<=[。！？；])|\n", text)
        if s.strip()
    ]
    rejected = [s for s in sentences if unsafe_reason(s)]
    assert len(sentences) > 200
    assert len(rejected) <= len(sentences) // 50, rejected


def test_sentences_of_regroups_a_token_stream():
    pieces = ["不要", "转账。拨打", "110", "！最后", "一句"]
    assert list(sentences_of(iter(pieces))) == ["不要转账。", "拨打110！", "最后一句"]
