"""A reading of each question: the senior's stage, what they ask, the things they name.

Computed once per question (from the redacted question text and its encoder vector) and passed
on to the composer, the gap store, the evals and the UI. Two parts, measured separately
(`python -m bot eval`, README "The reading"):

- cue rules with the exact spans they came from (high precision, say *why*);
- a small learned classifier (softmax regression on the encoder's vectors) for stage and ask,
  trained on our own labelled examples (bot/data/reading_examples.jsonl) and shipped as
  bot/data/reading_model.npz, for wording no rule foresaw.

A rule that fires decides, unless the classifier is far surer of something else; where no rule
fires the classifier decides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from bot.records import Reading, Span
from bot.reply.classifier import ASKS, STAGES, ReadingModel
from bot.reply.cues import AT_STAKE, cue_codes, find_cues
from bot.reply.safety import emergency_evidence, is_injection, strip_injection

# ---------------------------------------------------------------- rules

_STAGE_RULES: tuple[tuple[str, str], ...] = (
    # someone else, or long ago: checked first, they block the others in their clause
    (
        "past_or_other",
        r"(?:去年|前年|大前年|几年前|好几年|多年前|很久以前|以前有一次|早些年|年轻的时候|当年|"
        r"上个月|上回|上次|那年)|"
        r"(?:邻居|隔壁|楼下|楼上|对门|朋友|同事|亲戚|老姐妹|老同学|老伙计|小区里|我们小区|"
        r"我姐|我妹|我哥|我弟|我表姐|我表哥|别人|人家|有个老人|有位老人|有个阿姨|有个大爷)"
        r".{0,8}(?:被骗|上当|受骗|遇到|碰到|被人骗|中招|被忽悠|差点被骗)|"
        r"(?:新闻|电视|报纸|抖音上|视频号|听说|据说|听人说|看到有人).{0,12}(?:骗|诈|上当)|"
        r"好奇|随便问问|只是问问",
    ),
    (
        "now",
        r"(?:正在|还在|一直在|刚刚在|此刻|这会儿?|现在(?:正|还|就)?在)[^，,。！？]{0,10}?(?:转|汇|输|"
        r"操作|电话|通话|视频|共享|会议|开会|取钱|取款机|ATM|填|扫|等我|教我|跟我说|和我说|看着|催)|"
        r"(?:正在|还在|现在(?:正|还|就)?在)(?:银行|柜台|ATM|取款机)(?:前|旁|这|边|里|排队)?|"
        r"(?:电话|视频|通话|共享|屏幕|会议|小红点)[^，,。！？]{0,4}(?:没挂|没关|开着|连着|在响|亮着)|"
        r"(?:还|一直)(?:开着|亮着|连着)|(?:别挂|不能挂|不让挂|不要挂|不许挂)|"
        r"(?:弹窗|弹出来|弹了个|跳出来|跳出一个|提示框|风险提示).{0,16}(?:诈骗|风险|确认|继续|提醒|提示|按)|"
        r"(?:银行|柜员|大堂经理|手机银行|app).{0,8}(?:不让我?转|拦着|拦住|提醒我|问我|提示我|"
        r"说有风险|让我等)|确认键|付款键|(?:手|手指).{0,6}(?:按钮|键)上|"
        r"(?:要不要|还要不要|该不该|能不能|还转不转|还继续|要继续|接着)(?:继续)?(?:转|汇|付|操作|输|按)|"
        r"转到一半|输到一半|站在(?:取款机|ATM机?|柜员机|柜台)|"
        r"在(?:取款机|ATM机?|柜员机|银行门口|柜台)(?:前|旁边|这|边)",
    ),
    (
        "done",
        r"(?:点|点开|点了|打开)了?.{0,12}(?:填|输|写)了|(?:填|输入|输)了.{0,10}(?:卡号|密码|验证码|"
        r"身份证|信息|资料|银行卡)|"
        r"(?:装|下载|安装)了.{0,10}(?:app|软件|程序|会议)|(?:刷|录)了.{0,3}脸|"
        r"(?:填|输)了?(?:身份证|银行卡|卡号|密码)[^。！？]{0,12}?(?:我)?(?:填|输)了|"
        r"(?:屏幕共享|共享|远程|会议)[^，,。！？]{0,8}?(?:我)?(?:开了|打开了|装了|装好了)(?!会|的话|怎么|吗)|"
        r"(?:开|打开)了.{0,4}(?:屏幕共享|共享|远程)|已经.{0,10}(?:给|转|汇|打|交|付|说|告诉|念|点|装)",
    ),
    (
        "learning",
        r"(?:怎么|如何|咋|怎样|哪能)(?:用|使用|设置|开通|调|调大|装|下载|注册|登录|绑定|解绑|"
        r"查|操作|开|关|打开|认证|领取|缴|交|办理|申请|切换)|"
        r"(?:是什么|是啥|啥是|什么是|什么叫|啥叫|什么意思|啥意思|怎么回事|咋回事|原理|"
        r"为什么|为啥|怎么骗的|是怎么骗)",
    ),
    (
        "ahead",
        r"(?:让我|叫我|要我|喊我|说要我|要求我|催我|他说|她说|对方说|打电话说|发短信说|"
        r"我想|想要|想去|想买|想投|想试|想办|打算|准备|考虑|要不要|该不该|能不能|可不可以|可以吗|行吗|能去吗|能买吗|能投吗|"
        r"还没|没有?(?:转|给|说|点|装|交))",
    ),
)

_ASK_RULES: tuple[tuple[str, str], ...] = (
    (
        "help_others",
        r"(?:怎么|如何|咋|怎样|哪能)(?:样)?(?:跟|和|给|同|劝|提醒|告诉|教|说服|帮)"
        r".{0,6}(?:我妈|我爸|妈妈|爸爸|老伴|邻居|朋友|老姐妹|父母|老人|他们|她们|大家|别人|"
        r"亲戚|同事|老同学|爷爷|奶奶|外婆|外公|老头|老太)|"
        r"(?:劝劝|劝他|劝她|提醒一下|提醒提醒|转告|告诉大家|给大家讲|教教)|"
        r"(?:他|她|我妈|我爸|老伴|邻居|老姐妹)(?:不听|不信|听不进)",
    ),
    (
        "what_to_do",
        r"怎么办|咋办|咋整|咋弄|哪能办|怎么弄|该怎么做|怎么处理|如何处理|该咋|该做啥|要做什么|"
        r"怎么补救|怎么挽回|追回|追得回|要回来|拿回来|咋个办|怎么搞|如何是好|该如何|要怎么做",
    ),
    (
        "verdict",
        r"是真的吗|真的假的|真的吗|是不是真的|是不是骗|骗子吗|骗局吗|是骗人|会不会是骗|会不会有诈|"
        r"有诈|靠谱吗|靠不靠谱|可靠吗|能信吗|可信吗|能不能信|信得过|可以信|要紧吗|要不要紧|"
        r"有事吗|有没有事|危险吗|安全吗|有风险吗|对吗|对不对|做得对|做的对|没错吧|没做错|"
        r"该不该|要不要|能不能|可不可以|可以吗|行吗|行不行|中不中|好不好|能给吗|能说吗|能去吗|"
        r"能买吗|能投吗|能点吗|能扫吗|能接吗|正规吗|是正规|合法吗|真有这|有这回事|"
        r"(?:真的|是真|假的|对的|可以|好|行|要紧|正规|骗子?)伐|伐[？?]?$|"
        r"(?:继续|接着|还要|还能|还可以).{0,6}吗|吗\s*[？?]*\s*$|吗[，,。！!？?\s]",
    ),
    (
        "how_to",
        r"(?:怎么|如何|咋|怎样|哪能)(?:样)?(?:用|使用|设置|开通|调|调大|装|下载|注册|登录|绑定|"
        r"解绑|查|操作|开|关|打开|认证|领取|缴|交费|办理|申请|切换|转账|改|弄大)|"
        r"在哪(?:里|儿)?(?:设置|开|找|办|查|点)|步骤|教我(?!说)|怎么才能",
    ),
    (
        "explain",
        r"是什么|是啥|啥是|什么是|什么叫|啥叫|什么意思|啥意思|怎么回事|咋回事|原理|为什么|为啥|"
        r"怎么骗|是怎么|凭什么|有什么区别|有啥区别|啥区别|是干嘛|干什么用|有什么用|有啥用",
    ),
)

# About to pay under pressure: "他说不给钱就抓我儿子，那我就转吧", "我这就去银行取钱给他".
_PAYING_NOW = re.compile(
    r"(?:那|那我|我|只好|只能|只得)(?:就|这就|马上|现在就|得|先)(?:去)?(?:银行)?(?:转|汇|打钱|打款|交钱|"
    r"付钱|给他|给她|取钱|取现)(?!.{0,3}(?:吗|呢|不))|"
    r"(?:正在|正|在)去银行(?:.{0,6}(?:路上|取钱|转))?|(?:在|去)(?:银行|取款机).{0,6}(?:取钱|取现).{0,8}(?:给|交)|"
    r"(?:正在|正要|正准备|准备|马上就?|这就)(?:转|汇|交|付|打过去|转过去)|在转账|转过去了?吧|"
    r"(?:现在|马上|这就)(?:就)?去银行(?:取|转|汇)?|点了确认|还显示处理中|正在转我的钱|我只能交了|只好交了"
)
# A live scam with something to lose named: the card, not just the steps.
_AT_STAKE = AT_STAKE
# Someone at home or an official installed it: "孙女给我装了工商银行的App" is not a takeover.
_TRUSTED_HELPER = re.compile(
    r"(?:孙女|孙子|儿子|女儿|外孙|家里人|老伴|民警|警察|柜员|工作人员|大堂经理)[^，,。]{0,4}(?:给我|帮我)"
)
_DISTRESS = re.compile(
    r"不想活|活不下去|没法活|活着没意思|活着还有什么意思|死了算了|不如死了|想死|去死|寻死|"
    r"轻生|跳楼|跳河|跳江|喝药|一了百了|没脸见人|没脸活|没脸见|对不起(?:家里|孩子|儿女|老伴)|"
    r"想不开|自杀|结束(?:自己|生命)|不活了|活够了|没有活路|走投无路|撑不下去"
)
_OFFICIAL = re.compile(
    r"12381|(?:\d{3,4}[- ]?)?96110|国家反诈中心|反诈中心|反诈民警|反诈专线|民警上门|反诈App|"
    r"(?:银行|手机银行|柜员|柜台|app|App|APP).{0,8}(?:弹窗|弹出|提示|提醒|预警).{0,12}"
    r"(?:诈骗|风险|骗局|涉诈|可疑)|(?:弹窗|弹出|提示框).{0,12}(?:诈骗|风险|涉诈)"
)
_OFFICIAL_WARNING_WORDS = re.compile(
    r"预警|提醒|提示|劝阻|弹窗|风险|警惕|谨防|涉诈|可能被骗|正在被骗|诈骗电话|不要转|别转|"
    r"暂停|停止|核实|回访|劝|诈骗分子|被骗"
)
# The "official" caller asks for something no official body asks for: then it is a fake.
_OFFICIAL_DEMAND = re.compile(
    r"(?:让|要|叫|要求)(?:我|您|你)(?:(?!别|不|千万|勿).){0,12}?(?:转|汇|打款|交|付|验证码|密码|下载|安装|共享|"
    r"安全账户|监管账户|卡号|保密)|安全账户|监管账户|资金核查"
)
_COACHED = re.compile(
    r"(?:他|她|对方|那人|客服|警察|警官|民警|领导|老师)(?:教我|让我|叫我|要我|嘱咐我|交代我)"
    r".{0,10}(?:说|讲|回答|告诉)|"
    r"(?:柜员|银行|工作人员|大堂|经理|家里人|儿子|女儿|警察).{0,8}(?:问|问起|问我).{0,12}"
    r"(?:就说|说是|就讲|就回答)|"
    r"就说是(?:给|买|装修|儿子|孙子|女儿|自己|借|还|做生意)|"
    r"(?:不要|别|不能|不许)(?:告诉|跟|和)(?:家人|家里|儿女|子女|儿子|女儿|老伴|银行|柜员|警察)|"
    r"(?:要|得)保密|签了?保密"
)
# A short follow-up that reports the thing was done: "刚刚念了", "我交了", "开了".
_GONE = re.compile(
    r"(?:念|说|报|给|交|转|付|汇|开|装|下载|点|填|输|扫|发)(?:了|过了|完了)|已经(?:念|说|报|给|交|转|付|"
    r"汇|开|装|下载|点|填|输|扫|发)"
)
# A message the senior pasted: a 【签名】, a link, the caller's words in quotes, or a long notice.
_PASTED = re.compile(
    r"【[^【】\n]{2,14}】|https?://|www\.|(?<![\w.])[a-z0-9-]+\.(?:cn|com|top|xyz|cc|vip|net)\b|"
    r"[“\"「][^”\"」]{12,}[”\"」]|回T退订|退订回|尊敬的(?:客户|用户|会员)|【",
    re.I,
)
_STILL_ON = re.compile(r"还开着|还连着|还亮着|没关|没挂|还在")
_CHANNELS = (
    ("video", re.compile(r"视频")),
    ("call", re.compile(r"电话|打来|来电|致电|接到.{0,4}电话|打给我|打我手机|通话|挂了|挂断")),
    (
        "text",
        re.compile(
            r"短信|信息|消息|【[^【】\n]{2,12}】|彩信|微信上说|发来|发给我|链接|网址|https?://"
        ),
    ),
)
_CODE_ASK = re.compile(
    r"(?:验证码|验正码|密码|卡号|身份证|人脸|刷脸).{0,10}(?:能|可以|该|要不要|能不能|给不给|"
    r"告诉|说|报|念|给)|(?:告诉|给|报|念).{0,6}(?:验证码|验正码|密码|卡号)"
)
_DID_RIGHT = re.compile(
    r"(?:挂了|挂断了|挂掉了|没理|没理他|没给|没转|没点|没说|拒绝了|删了|拉黑了|报警了|没去|没买|"
    r"没装|没扫|没告诉).{0,20}(?:对吗|对不对|做得对|做的对|没错吧|是不是对|好不好|行吗|可以吧|"
    r"对伐|是吧|吧)"
)


@dataclass(frozen=True)
class _Compiled:
    stage: tuple[tuple[str, re.Pattern[str]], ...]
    ask: tuple[tuple[str, re.Pattern[str]], ...]


_RULES: _Compiled | None = None


def _rules() -> _Compiled:
    global _RULES
    if _RULES is None:  # compiled on first use, not at import
        _RULES = _Compiled(
            tuple((label, re.compile(p, re.I)) for label, p in _STAGE_RULES),
            tuple((label, re.compile(p, re.I)) for label, p in _ASK_RULES),
        )
    return _RULES


# Someone else lost money ("我妹妹被骗了三万", "隔壁老头把钱投进去了"): their matter, not a live one
# of the senior's own, unless the senior says it happened to them too.
_THIRD_PARTY = re.compile(
    r"(?:邻居|隔壁|楼下|楼上|对门|朋友|同事|亲戚|老姐妹|老同学|同学|舅舅|舅妈|姑姑|姑妈|阿姨|姨妈|"
    r"婆婆|公公|岳母|丈母娘|亲家|妹妹|姐姐|哥哥|弟弟|表[姐妹哥弟叔舅姨]|堂[姐妹哥弟]|我妈|我爸|"
    r"老妈|老爸|我老母亲|我父亲|我母亲|小区里|有个老人|有位老人|人家|别人|他们|她们|楼里|"
    r"好几个人|好多人|不少人|很多人|有人|有的人)"
    r"[^，,。！？\s]{0,10}?(?:被骗|上当|受骗|骗了|骗走|中招|被人骗|忽悠|被哄|被坑|把[^，,。]{0,8}(?:转|投|汇|给)|"
    r"(?:转|投|汇)(?:了|进|给|出))"
)
# "我妈刚给骗子转了三万": someone close, just now: their money is still leaving, it is urgent.
_RECENT = re.compile(r"刚|刚刚|刚才|现在|正在|今天|马上|这会|眼下|还在")
_SELF = re.compile(r"我(?:也|自己)?(?:被骗|上当|受骗|转了|汇了|给了|把)")
_STRONG = ("now", "past_or_other")  # rules that decide; the others only help without a model


def rule_stage(text: str) -> Span | None:
    """The stage the cue rules read in text (with its span), or None when no rule fires."""
    other = _THIRD_PARTY.search(text)
    rest = text[: other.start()] + text[other.end() :] if other else ""
    if other and not _SELF.search(rest) and not _RECENT.search(text):
        return Span("past_or_other", other.start(), other.end(), other.group())
    evidence = emergency_evidence(text)
    if evidence is not None:
        stage, start, end = evidence
        label = "now:emergency" if stage == "now" else "done"
        return Span(label, start, end, text[start:end])
    m = _PAYING_NOW.search(text)
    if m:
        return Span("now:emergency", m.start(), m.end(), m.group())
    found = [
        Span(label, m.start(), m.end(), m.group())
        for label, pattern in _rules().stage
        if (m := pattern.search(text))
    ]
    # Strong evidence first (on the call now, someone else's or an old story), then the rest.
    found = [s for s in found if not (s.label == "done" and _TRUSTED_HELPER.search(text))]
    found.sort(key=lambda s: (s.label not in _STRONG, _PRIORITY.index(s.label)))
    if not found:
        return None
    best = found[0]
    if best.label == "now" and cue_codes(text) & _AT_STAKE:
        return Span("now:emergency", best.start, best.end, best.text)
    return best


def is_strong(span: Span | None) -> bool:
    """True for stage evidence that decides against the classifier (money gone, live, not ours)."""
    return span is not None and span.label.split(":")[0] in ("done", "now", "past_or_other")


_PRIORITY = ("now", "done", "past_or_other", "ahead", "learning")


def rule_ask(text: str) -> Span | None:
    """The ask the cue rules read in text (with its span), or None when no rule fires."""
    for label, pattern in _rules().ask:
        m = pattern.search(text)
        if m:
            return Span(label, m.start(), m.end(), m.group())
    return None


def _span(label: str, pattern: re.Pattern[str], text: str) -> Span | None:
    m = pattern.search(text)
    return Span(label, m.start(), m.end(), m.group()) if m else None


def is_official_warning(text: str) -> Span | None:
    """A genuine warning (12381 SMS, a 96110 call, the bank's anti-fraud pop-up), not a fake one."""
    m = _OFFICIAL.search(text)
    if not m or not _OFFICIAL_WARNING_WORDS.search(text) or _OFFICIAL_DEMAND.search(text):
        return None
    return Span("official_warning", m.start(), m.end(), m.group())


def channel_of(text: str) -> str:
    """How the matter reached the senior: video, call or text ('' when the question does not say)."""
    for name, pattern in _CHANNELS:
        if pattern.search(text):
            return name
    return ""


# ---------------------------------------------------------------- the reading

# The classifier overrules a rule only when it is this sure of another label (log-odds margin,
# chosen on the training split's held-out part; README "The reading").
OVERRULE_MARGIN = 1.0
_FOLLOW_DONE = re.compile(r"(?:可是|可|但是|但|不过)?(?:我)?(?:已经|都|早就?)")


def _combine(
    labels: tuple[str, ...], rule: Span | None, probs: np.ndarray | None, default: str
) -> tuple[str, str]:
    """(label, decided by) from a rule's label and the classifier's probabilities."""
    rule_label = rule.label.split(":")[0] if rule else None
    if probs is None:
        return (rule_label, "rule") if rule_label else (default, "default")
    best = labels[int(np.argmax(probs))]
    if rule_label is None:
        return best, "model"
    if rule_label == best:
        return best, "rule"
    logodds = float(np.log(probs.max() + 1e-9) - np.log(probs[labels.index(rule_label)] + 1e-9))
    return (best, "model") if logodds > OVERRULE_MARGIN else (rule_label, "rule")


def read_question(
    text: str,
    vector: np.ndarray | None = None,
    model: ReadingModel | None = None,
    *,
    earlier: Reading | None = None,
) -> Reading:
    """Read one (redacted) question; `earlier` is the reading of the turn before, if any."""
    genuine = text
    injection = is_injection(text)
    if injection:
        genuine = strip_injection(text)
    body = genuine or text
    cues = find_cues(body)
    spans: list[Span] = []

    stage_rule = rule_stage(body)
    ask_rule = rule_ask(body)
    stage_p = ask_p = None
    if model is not None and vector is not None and len(vector) == model.dim:
        stage_p, ask_p = model.probabilities(vector)
    # A money-gone or live-scam rule always wins: emergency recall must not depend on a model.
    if stage_rule is not None and stage_rule.label in ("done", "now:emergency"):
        stage, stage_by = stage_rule.label.split(":")[0], "rule"
    else:
        weak = stage_rule if stage_p is None or is_strong(stage_rule) else None
        stage, stage_by = _combine(STAGES, weak, stage_p, "ahead")
    ask, ask_by = _combine(ASKS, ask_rule, ask_p, "what_to_do")
    if stage_rule is not None:
        spans.append(stage_rule)
    if ask_rule is not None:
        spans.append(ask_rule)

    distress = _span("distress", _DISTRESS, body)
    official = is_official_warning(body)
    # "民警上门…给我装了反诈App" is the real warning, not a takeover
    if (
        official is not None
        and stage_rule is not None
        and stage_rule.label == "done"
        and emergency_evidence(body) is None
    ):
        spans = [sp for sp in spans if sp is not stage_rule]
        stage_rule = None
        stage, stage_by = _combine(STAGES, None, stage_p, "ahead")
    coached = _span("coached", _COACHED, body)
    for s in (distress, official, coached):
        if s is not None:
            spans.append(s)
    if coached is not None and stage in ("ahead", "learning"):
        stage, stage_by = "now", "rule"  # repeating the scammer's script: it is happening now
    if coached is not None and stage == "now" and cue_codes(body) & (_AT_STAKE | {"bank_staff"}):
        spans.append(Span("now:emergency", coached.start, coached.end, coached.text))
    if official is not None and stage == "done" and stage_by != "rule":
        stage = "now"
    if official is not None and stage == "now" and not _losing(spans):
        pass  # a genuine pop-up mid-transfer: stop now, but no freeze-your-account card

    # A follow-up: "那怎么办" keeps the earlier situation; "可我已经念了" moves it to done.
    if earlier is not None and len(body) <= 24:
        before = earlier.codes & _AT_STAKE
        gone = _GONE.search(body)
        rule_label = stage_rule.label.split(":")[0] if stage_rule is not None else ""
        if gone and (before and rule_label in ("", "now") or rule_label == "done"):
            live = _STILL_ON.search(body)
            label = "now:emergency" if live else "done"
            stage, stage_by = label.split(":")[0], "history"
            spans.append(Span(label, gone.start(), gone.end(), gone.group()))
        elif not is_strong(stage_rule) and earlier.emergency:
            stage, stage_by = earlier.stage, "history"
            spans += [s for s in earlier.spans if s.label in ("done", "now:emergency")]
        if not cues or not (find_cues(body) and set(c.code for c in cues) - {"amount"}):
            cues = tuple(sorted({*cues, *earlier.cues}, key=lambda c: (c.start, c.code)))

    channel = channel_of(body) or (earlier.channel if earlier is not None else "")
    pasted = bool(_PASTED.search(body)) or (
        earlier is not None and earlier.pasted and len(body) <= 24 and ask == "verdict"
    )
    reading = Reading(
        stage=stage,
        ask=ask,
        cues=cues,
        distress=distress is not None,
        official_warning=official is not None,
        coached=coached is not None,
        injection=injection,
        pasted=pasted,
        genuine=genuine if injection else "",
        channel=channel,
        spans=tuple(spans),
        stage_by=stage_by,
        ask_by=ask_by,
    )
    return _with_verdict(reading, body)


def _losing(spans: list[Span]) -> bool:
    return any(s.label == "now:emergency" for s in spans)


def _with_verdict(reading: Reading, text: str) -> Reading:
    """Which kind of verdict the first line gives, when the senior asked for one."""
    kind = ""
    if reading.official_warning:
        kind = "official"
    elif _DID_RIGHT.search(text) and not reading.emergency:
        kind = "did_right"
    elif reading.stage == "now":
        kind = "stop"
    elif _CODE_ASK.search(text):
        kind = "code"
    elif reading.ask == "verdict":
        kind = "scam"
    return replace(reading, verdict_kind=kind)
