"""Negation-aware reading of a trainee's sentences: the safe moves they name, the harm they advise.

"先挂断" names `hang_up`; "不用挂断" names no move and is harmful (it keeps the senior on the
line). Harm is read per clause, with the warnings, reported speech ("他让您转账") and past
events ("已经转了") that make a money word safe; bot.reply.checks.advises_harm is asked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.reply.checks import advises_harm

_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_CLAUSE = re.compile(r"[，,：:…]+")  # not 、: "不会叫您转钱、要验证码" is one warning
# Words starting with 不 that do not negate what follows.
_NOT_NEGATION = re.compile(r"不管|不论|不好意思|不然|不对劲|不放心|不明白|不清楚|不认识|不一样")
_NEG = r"(?:不|别|没|勿|莫|甭|千万别|绝不|不要|不能|不用|不必|无需|一分钱也不|一分也不)"

# Safe moves: (code, pattern). A negator in front of a positive move cancels it; a negated
# money or code verb is itself the safe move.
_MOVES: tuple[tuple[str, str], ...] = (
    ("hang_up", r"挂断|挂掉|挂了|挂上|挂电话|电话挂|别接|不接|不理|不回|拉黑|关掉"),
    (
        "verify",
        r"自己(?:再)?(?:打|拨|问|去|联系|查|核实)|本人|亲自|官方|"
        r"110|96110|95\d{3}|背面|存好的号码|打回家|打给(?:孙子|儿子|女儿|孩子|家里)|"
        r"给(?:孙子|儿子|女儿|孩子|他|她)(?:本人)?打(?:个)?电话",
    ),
    (
        "family",
        r"(?:告诉|问问|跟|和|同|给|叫|找|商量)[^，。]{0,3}(?:子女|家人|儿子|女儿|孩子|儿女|家里人|"
        r"老伴|孙子|孙女|亲人|晚辈)|(?:子女|家人|儿女|家里人|孩子)商量",
    ),
    ("official", r"报警|派出所|柜台|网点|银行工作人员|柜员"),
    ("stop", r"停止|停下|止付|冻结|改密码|挂失"),
    ("scam", r"骗子|骗局|诈骗|是骗|假的|不是真的|冒充"),
)
_NEGATED_MOVES: tuple[tuple[str, str], ...] = (
    ("no_money", rf"{_NEG}[^，。]{{0,6}}(?:转|汇|打钱|打款|付|交钱|交费|缴|给钱|掏钱|借)"),
    (
        "no_code",
        rf"(?:验证码|密码|短信码|动态码)[^，。]{{0,6}}{_NEG}|{_NEG}[^，。]{{0,6}}(?:验证码|密码)",
    ),
    ("no_click", rf"{_NEG}[^，。]{{0,3}}(?:点|扫|下载|安装|装|按|共享|开视频|开会议)"),
    ("no_callback", rf"{_NEG}[^，。]{{0,4}}回拨"),
)

# Harm: (pattern, why). Each is tested on a clause; _SAFE_CONTEXT on its sentence cancels it.
_HARM: tuple[tuple[str, str], ...] = (
    (
        r"(?:转账|转钱|转款|汇款|汇钱|打钱|打款|转过去|转给|汇给|转到|汇到|转进|交钱|付钱|付款|缴费|交费|"
        r"保证金|手续费|先转|转一[小部点]|转个|转点|先(?:交|付|缴|汇)|先打(?:钱|款|过去|给)|把钱(?:交|转|汇|打)|"
        r"钱(?:交|转|汇)(?:了|过去|给))",
        "叫老人转钱（任何“先转一点”都会被骗光）",
    ),
    (
        r"(?:验证码|密码|短信码|动态码|卡号|身份证号)[^，。]{0,6}(?:告诉|给|念|报|发|说|提供|输|填)|"
        r"(?:告诉|念给|报给|发给|说给|提供)[^，。]{0,4}(?:验证码|密码|卡号)",
        "叫老人说出验证码或密码",
    ),
    (
        r"是真的|是真警察|真的是(?:公安|警察|银行|法院|检察院|孙子|儿子)|确实是|是正规|是官方的|"
        r"可以相信|可以信|能信|靠谱|可信|靠得住|信得过",
        "说骗子的话是真的",
    ),
    (
        r"(?:先|小|多|再|跟着)投|投一点|投点|买一点|跟着(?:买|投|炒)|放心(?:用|投|买|交|转|办|吃|借)|"
        r"赶紧(?:办|买|交|投|订|借|报名)|名额有限|(?:借|贷)(?:出来|一笔|点钱)",
        "叫老人投钱、借钱或掏钱买东西",
    ),
    (
        r"(?:可以|就能|能|就|也能)(?:把)?[^，。]{0,4}药(?:停|不吃|减)|停(?:了|掉)?(?:降压|降糖|西)?药|"
        r"不用(?:再)?吃药|当药吃|代替(?:药|吃药)",
        "叫老人停药、拿保健品当药",
    ),
    (
        r"(?:按|照|听)(?:着)?(?:他|她|对方|人家)(?:说的|讲的|的话|的)|配合(?:他|她|对方|调查|民警调查)",
        "叫老人照骗子说的做",
    ),
    (
        r"(?:不用|别|不要|不能|先别|无需|没必要|不必|不)(?:急着)?挂",
        "叫老人别挂电话（骗子就靠不让挂）",
    ),
    (
        r"(?:不用|别|不要|不必|没必要|不能|不)(?:告诉|跟|和|让|惊动|麻烦)[^，。]{0,3}"
        r"(?:子女|家人|儿女|孩子|家里人|老伴|银行|警察|柜员|工作人员)|"
        r"(?:不用|别|不要|不必|没必要)(?:急着|着急|去|再|给|跟)?(?:核实|问问|报警|报110|打110|银行|"
        r"去银行|派出所|家人|子女)",
        "叫老人瞒着家人、银行或不去核实",
    ),
    (
        r"(?:点开|点一下|点进去|打开|扫|点)[^，。]{0,6}(?:链接|二维码|网址)|开(?:启|通|个)?屏幕共享|共享屏幕|"
        r"加(?:上)?(?:他|她|对方)(?:的|个)?(?:微信|QQ)|扫码|"
        r"下载[^，。]{0,6}(?:app|App|APP|软件|会议)",
        "叫老人点链接、扫码或共享屏幕",
    ),
    (
        r"(?:96110|12381|110|反诈中心|反诈专线)[^。]{0,10}(?:不要接|别接|不用接|不接|拉黑|不理|别理|不用理)",
        "叫老人别接官方的反诈预警电话",
    ),
    (
        r"(?:关掉|关了|关闭|解除)[^，。]{0,4}(?:安全锁|保护|提醒|防护|预警|延时)|"
        r"(?:安全锁|保护|预警)[^，。]{0,3}(?:关|解除)|限额[^，。]{0,3}调高|调高[^，。]{0,3}限额",
        "叫老人关掉账户保护、调高限额",
    ),
    (
        r"(?:按|用|打)(?:他|她|对方)(?:给|留|发)的(?:号码|电话)|回拨(?:过去|对方|他)",
        "叫老人回拨骗子给的号码",
    ),
)
# Reported speech, warnings, conditions and past events: the money word is not advice.
_SAFE_CONTEXT = re.compile(
    r"骗|假|冒充|诈|(?:他|她|对方|人家|骗子|谁)[^，。]{0,2}(?:要|让|叫|喊|催|说|逼|求)|"
    r"(?:让|叫|要|喊|催|逼)(?:您|你|老人|家里|孩子)|给(?:家里|子女|孩子|孙子|儿子|女儿)|"
    r"只要|凡是|一旦|如果|要是|万一|已经|之前|以前|吗|？|\?"
)
_NEGATED_BEFORE = re.compile(_NEG + r"[^，。]{0,4}$")


# Plausible wrong moves (what real victims did): checking the caller with the caller's own
# details. Not harmful on their face, but an answer that teaches them does not pass.
_WRONG = re.compile(
    r"(?:核实|问清|问问|对一对|查一查|记下)[^，。]{0,6}(?:警号|工号|证件号|编号|他的电话|对方的电话|单位)|"
    r"(?:警号|工号)[^，。]{0,4}(?:对得上|没问题)|(?:他|她|对方)的(?:电话|号码)记下|"
    r"(?:他|她|对方)(?:给|留|发)的(?:电话|号码)[^，。]{0,8}(?:打回去|回拨|再打)|再听(?:他|她|对方)"
)


def wrong_moves(text: str) -> list[HarmfulSentence]:
    """Sentences that check the caller through the caller (警号, 工号, the number he gave)."""
    out = []
    for s in sentences(text):
        m = _WRONG.search(s)
        if m and not _NEGATED_BEFORE.search(s[: m.start()]):
            why = "用对方给的信息核实，等于问骗子自己：要挂断后自己打官方电话"
            out.append(HarmfulSentence(s, why))
    return out


@dataclass(frozen=True)
class HarmfulSentence:
    """A sentence that would harm a senior, and why."""

    sentence: str
    why: str


def sentences(text: str) -> list[str]:
    """The sentences of a text (cut at 。！？；, new lines), stripped, empty ones out."""
    return [s.strip() for s in _SENTENCE.findall(text or "") if s.strip(" 。！？!?；;")]


def _clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE.split(sentence) if c.strip()]


def _clean(clause: str) -> str:
    return _NOT_NEGATION.sub("　", clause)


# Moves that say *what to do*; naming the scam alone credits no key point.
CREDIT_CUES = frozenset(
    {
        "hang_up",
        "verify",
        "family",
        "official",
        "stop",
        "no_money",
        "no_code",
        "no_click",
        "no_callback",
    }
)


def action_cues(text: str) -> frozenset[str]:
    """The safe moves a text names, negation-aware ("不用挂断" names none, "不转账" names no_money)."""
    found: set[str] = set()
    for clause in _clauses(text):
        clause = _clean(clause)
        for code, pattern in _NEGATED_MOVES:
            if re.search(pattern, clause):
                found.add(code)
        for code, pattern in _MOVES:
            for m in re.finditer(pattern, clause):
                if code != "scam" and _NEGATED_BEFORE.search(clause[: m.start()]):
                    continue
                found.add(code)
    return frozenset(found)


# A money word followed by these is a noun or a past event, not advice ("转账截图", "转账到账时间").
_MONEY_NOUN_AFTER = (
    "前", "之前", "以前", "了", "过", "截图", "记录", "凭证", "用途", "到账", "限额", "时间",
    "设置", "功能", "页面", "按钮", "的时候", "时",
)  # fmt: skip
# Rules whose pattern carries its own negator ("不用挂", "不要接96110").
_OWN_NEGATOR = ("叫老人别挂", "叫老人瞒着", "叫老人别接")
_COMPLY = re.compile(r"(?:按|照|听)(?:着)?(?:他|她|对方|人家)(?:说的|讲的|的话|的)")


def _harm_in(sentence: str) -> str | None:
    safe_sentence = bool(_SAFE_CONTEXT.search(_COMPLY.sub("　", sentence)))
    for clause in _clauses(sentence):
        clause = _clean(clause)
        for pattern, why in _HARM:
            for m in re.finditer(pattern, clause):
                before, after = clause[: m.start()], clause[m.end() :]
                money = why.startswith("叫老人转钱")
                urged = m.group().startswith("先") or before.endswith(("先", "就", "赶紧", "马上"))
                if money and after.startswith(_MONEY_NOUN_AFTER) and not urged:
                    continue
                # the stay-on-the-line / keep-it-secret rules carry their own negator
                own_negator = why.startswith(_OWN_NEGATOR)
                # a warning anywhere in the clause ("交费从来不转给个人", "一律不交")
                if not own_negator and re.search(_NEG, clause):
                    continue
                if not own_negator and (_NEGATED_BEFORE.search(before) or safe_sentence):
                    continue
                if own_negator and re.search(r"骗|假|冒充", sentence):
                    continue  # "骗子会叫您别挂电话" describes the trick
                if why == "说骗子的话是真的" and re.search(r"不一定|不是|未必|哪|怎么", before):
                    continue
                return why
    return None


def harmful_sentences(text: str) -> list[HarmfulSentence]:
    """The sentences of a trainee's answer that would harm a senior, each with why."""
    out = []
    for s in sentences(text):
        why = _harm_in(s)
        if (
            why is None
            and advises_harm(s)
            and not _SAFE_CONTEXT.search(s)
            and not re.search(_NEG, s)
        ):
            why = "叫老人转钱或说出验证码"
        if why:
            out.append(HarmfulSentence(s, why))
    return out
