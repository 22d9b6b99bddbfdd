"""Pure safety rules that run before retrieval: input cleaning, personal data, emergencies, scope."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stdnum import luhn
from stdnum.cn import ric

from bot.records import Question

HOTLINES = frozenset({"110", "120", "119", "96110", "12381", "12315", "12345", "12333", "95017"})
# Banks' and carriers' service numbers (95588, 10086, 12306...): public, never redacted.
_SERVICE = re.compile(r"955\d\d|9\d{4}|100\d\d|12\d{3}")

_TAG = re.compile(r"<[^>]{0,200}>")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_MEANINGFUL = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


@dataclass(frozen=True)
class CleanInput:
    """A question made safe to process: no markup or control characters, within the limit."""

    text: str
    truncated: bool
    original_chars: int


def clean_input(raw: str | None, max_chars: int) -> CleanInput:
    """Neutralise HTML and control characters, collapse spaces and cut to max_chars."""
    raw = raw or ""
    text = unicodedata.normalize("NFKC", raw)
    text = html.unescape(_TAG.sub(" ", text))
    text = _TAG.sub(" ", text).replace("<", " ").replace(">", " ")
    text = "".join(
        ch if ch == "\n" or unicodedata.category(ch)[0] != "C" else " "
        for ch in text
        if ch not in _ZERO_WIDTH  # "6222\u200b0212": a hidden break, not a space
    )
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    text = re.sub(r"\n{2,}", "\n", text).strip()
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars]
    return CleanInput(text=text, truncated=truncated, original_chars=len(raw))


def is_junk(text: str) -> bool:
    """True when there is nothing to answer: empty, emoji, punctuation or a single sound."""
    meaningful = _MEANINGFUL.findall(text)
    if len(meaningful) >= 2:
        return False
    return not meaningful or meaningful[0] in "啊哦嗯呃哈喂额唉诶呀"


# ---------------------------------------------------------------- personal data


@dataclass(frozen=True)
class Sensitive:
    """A piece of personal data found in a question."""

    kind: str  # card | id | phone | code | password
    start: int
    end: int


LABELS = {
    "card": "[银行卡号]",
    "id": "[身份证号]",
    "phone": "[手机号]",
    "code": "[验证码]",
    "password": "[密码]",
}

# Detection reads a normalised copy of the text (see _normalise) and redacts the original spans.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u034f")
# Traditional forms of the words that name personal data (驗證碼, 密碼, 簡訊, 說...).
_TRADITIONAL = str.maketrans(
    "驗證碼說裡動態簡訊號銀帳戶這個給聽報條", "验证码说里动态简讯号银账户这个给听报条"
)
_DROP_ZERO_WIDTH = {**_TRADITIONAL, **{ord(c): None for c in _ZERO_WIDTH}}
_NUMERALS = str.maketrans("零〇一二三四五六七八九幺两", "0012345678912")
# What may stand between the digit groups of one number: "6222.0212/3456,7890", one per line.
_SEP = r"[ \t.,/\\\n_·、|-]"
_NUMBER = re.compile(
    r"(?<!\d)\+?\d(?:" + _SEP + r"{0,3}\d)*(?:" + _SEP + r"?[Xx](?![A-Za-z]))?(?!\d)"
)
_NUMERAL_RUN = re.compile(
    r"[零〇一二三四五六七八九幺两0-9](?:" + _SEP + r"{0,3}[零〇一二三四五六七八九幺两0-9]){3,}"
)
_GROUP = re.compile(r"\+?\d+[Xx]?|[Xx]")
_PHONE_DIGITS = re.compile(r"(?:86)?1[3-9]\d{9}")


def _kw(word: str) -> str:
    """A keyword that may have spaces or dots between its characters ("验 证 码")."""
    return r"[ .·*_-]?".join(map(re.escape, word))


_CODE_WORDS = "|".join(
    _kw(w) for w in ("验证码", "验正码", "校验码", "动态码", "短信码", "确认码", "密码")
)
_CODE_DIGITS = r"(\d(?:[ .-]?\d){3,7})(?![\d])"
# Not an amount, a date, a time or an age: "说5000块", "收到2026年".
_NOT_AMOUNT = r"(?!\s*(?:元|块|万|千|百|年|月|日|号|点|岁|分|个|次|天|%|多|余|件|人|[.,]\d))"
_CODE = re.compile(r"(?:" + _CODE_WORDS + r"|code)[^0-9\n]{0,12}?" + _CODE_DIGITS, re.I)
_CODE_AFTER = re.compile(
    r"(?<![\d])(\d(?:[ .-]?\d){3,7})(?![\d])[^0-9\n]{0,6}(?:是验证码|验证码|这个码)"
)
_SMS_NUMBER = re.compile(
    r"(?:短信|简讯|收到|发来)[^0-9\n。！？]{0,8}?"
    + _CODE_DIGITS
    + _NOT_AMOUNT
    + r"|(?:说|念|报)(?:的|是|了|:|：|\s){0,3}"
    + _CODE_DIGITS
    + _NOT_AMOUNT
)
_PASSWORD = re.compile(
    r"(?:" + _kw("密码") + r"|" + _kw("口令") + r"|password)\s*(?:是|为|:|：|=)?\s*"
    r"([A-Za-z0-9!@#$%^&*._-]{4,32})",
    re.I,
)


def _normalise(text: str) -> tuple[str, Sequence[int]]:
    """The text as detection reads it, and for each of its characters the original position.

    NFKC (full-width digits), zero-width characters removed, traditional keywords simplified,
    and Chinese numerals read as digits where four or more stand together ("六二二二…").
    """
    # One translate does it when every character maps to at most one (cleaned input is NFKC
    # already); the slower per-character walk only for text that NFKC would lengthen.
    if unicodedata.is_normalized("NFKC", text):
        norm = text.translate(_DROP_ZERO_WIDTH)
        if len(norm) == len(text):
            where: Sequence[int] = range(len(text))
        else:
            where = [i for i, ch in enumerate(text) if ch not in _ZERO_WIDTH]
    else:
        chars: list[str] = []
        where = []
        for i, ch in enumerate(text):
            if ch in _ZERO_WIDTH:
                continue
            for c in unicodedata.normalize("NFKC", ch).translate(_TRADITIONAL):
                chars.append(c)
                where.append(i)
        norm = "".join(chars)
    norm = _NUMERAL_RUN.sub(lambda m: m.group().translate(_NUMERALS), norm)
    return norm, where


def luhn_ok(digits: str) -> bool:
    """Luhn checksum of a card number (python-stdnum)."""
    return bool(luhn.is_valid(digits))


def id_number_ok(number: str) -> bool:
    """ISO 7064 mod 11-2 check digit of an 18-character Chinese ID number (python-stdnum).

    Only the check digit: an ID with an odd birth date is still somebody's number to redact.
    """
    if not re.fullmatch(r"\d{17}[0-9Xx]", number):
        return False
    return bool(ric.calc_check_digit(number) == number[17].upper())  # it reads number[:17]


@functools.lru_cache(maxsize=4096)
def _kind_of(number: str) -> str | None:
    """The kind of personal data a number is by its checksum or shape (separators removed)."""
    if len(number) not in _KIND_LENGTHS:
        return None
    if len(number) == 18 and id_number_ok(number):
        return "id"
    if not number.isdigit():
        return None
    if _PHONE_DIGITS.fullmatch(number):
        return "phone"
    if 13 <= len(number) <= 19 and luhn_ok(number):
        return "card"
    return None


def find_sensitive(text: str) -> list[Sensitive]:
    """Card numbers (Luhn), ID numbers (checksum), phones, codes and passwords in text.

    Read on a normalised copy (full-width, zero-width, traditional, Chinese numerals), so
    "6222.0212…", "驗證碼" and "六二二二…" are found; the spans are the original text's.
    """
    norm, where = _normalise(text)
    found: list[Sensitive] = []
    taken = bytearray(len(norm))  # 1 where a span was found: an overlap is one find(), in C

    def add(kind: str, start: int, end: int) -> None:
        if taken.find(1, start, end) != -1:
            return
        taken[start:end] = b"\1" * (end - start)
        found.append(Sensitive(kind, where[start], where[end - 1] + 1))

    has_id = False
    for m in _NUMBER.finditer(norm):
        if m.end() - m.start() < 4:
            continue  # "110", "3月": too short to be anybody's number
        groups = _groups(norm, m.start(), m.end())
        if all(g[2] in HOTLINES or _SERVICE.fullmatch(g[2]) for g in groups):
            continue  # "110 96110 12381" is a list of hotlines, not a card number
        # "…零零一直打给我": a numeral at either end may be the start of a word ("一直"), not a
        # digit; the reading that leaves fewest digits unexplained wins.
        items, rests = _partition(groups)
        if rests:
            edge = [
                i
                for i in (m.start(), m.start() + 1, m.end() - 2, m.end() - 1)
                if text[where[i]] in _NUMERAL_CHARS
            ]
            starts = [m.start()] + [i + 1 for i in edge if i < m.start() + 2]
            ends = [m.end()] + [i for i in edge[::-1] if i >= m.end() - 2]
            readings = [_partition(_groups(norm, a, b)) for a in starts for b in ends if b - a >= 4]
            items, rests = min(
                readings, key=lambda r: sum(len(g[2]) for rest in r[1] for g in rest)
            )
        for kind, start, end in items:
            add(kind, start, end)
            has_id |= kind == "id"
        for rest in rests:
            has_id = _fallback(rest, norm, add, has_id)
    # The whole password before the digits in it: "密码 Ab1234cd" must not leave "Ab…cd".
    for m in _PASSWORD.finditer(norm):
        add("password", m.start(1), m.end(1))
    for pattern in (_CODE, _CODE_AFTER, _SMS_NUMBER):
        for m in pattern.finditer(norm):
            group = next(g for g in range(1, (m.lastindex or 1) + 1) if m.group(g))
            if re.sub(r"\D", "", m.group(group)) not in HOTLINES:
                kind = "password" if "密" in m.group(0) and "码" in m.group(0) else "code"
                add(kind, m.start(group), m.end(group))
    return sorted(found, key=lambda s: s.start)


_NUMERAL_CHARS = frozenset("零〇一二三四五六七八九幺两")
_LONGEST = 19  # digits of the longest number of a known kind (a card)
_KIND_LENGTHS = frozenset({11, 13, 14, 15, 16, 17, 18, 19})  # phone, +86 phone, card, ID
Group = tuple[int, int, str]  # start, end, digits (an ID's X kept)


def _groups(norm: str, start: int, end: int) -> list[Group]:
    """The digit groups of norm[start:end], with their positions in norm."""
    return [(g.start(), g.end(), g.group().lstrip("+")) for g in _GROUP.finditer(norm, start, end)]


def _partition(groups: list[Group]) -> tuple[list[tuple[str, int, int]], list[list[Group]]]:
    """(kind, start, end) of the numbers of a known kind in a run of groups, and the groups left.

    The longest run of groups that is such a number, from left to right: "13812345678 6222
    0212 …" is a phone and then a card, not one long number.
    """
    items: list[tuple[str, int, int]] = []
    rests: list[list[Group]] = [[]]
    i = 0
    while i < len(groups):
        # Only as many groups as a number can have digits (a card has at most 19): a run of
        # 50,000 single digits must not cost 50,000 squared joins.
        digits, ends = "", []
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > _LONGEST:
                break
            ends.append((j + 1, digits))
        for j, number in reversed(ends):
            kind = _kind_of(number)
            if kind:
                items.append((kind, groups[i][0], groups[j - 1][1]))
                rests.append([])
                i = j
                break
        else:
            rests[-1].append(groups[i])
            i += 1
    return items, [r for r in rests if r]


def _fallback(
    rest: list[tuple[int, int, str]],
    norm: str,
    add: Callable[[str, int, int], None],
    has_id: bool,
) -> bool:
    """Groups no checksum claimed: a long enough number is still somebody's card or ID."""
    if not rest:
        return has_id
    # One long group is somebody's number whatever stands around it ("110，6222…").
    long_groups = [g for g in rest if len(g[2]) >= 12]
    for start, end, group in long_groups:
        if len(group) in (15, 18) and not has_id:
            add("id", start, end)
            has_id = True
        else:
            add("card", start, end)
    rest = [g for g in rest if len(g[2]) < 12]
    if not rest:
        return has_id
    digits = "".join(g[2] for g in rest)
    # Amounts listed with commas ("5000, 6000, 7000") are not a card: only plain groups count.
    if re.search(r"[,/\n、]", norm[rest[0][0] : rest[-1][1]]):
        return has_id
    if len(digits) in (15, 18) and not has_id:
        # An ID-like number with a wrong check digit is still somebody's number.
        add("id", rest[0][0], rest[-1][1])
        return True
    if len(digits) >= 12:
        add("card", rest[0][0], rest[-1][1])
    return has_id


def redact(text: str, found: list[Sensitive] | None = None) -> str:
    """The text with every piece of personal data replaced by a label."""
    found = find_sensitive(text) if found is None else found
    out, last = [], 0
    for item in found:
        out.append(text[last : item.start])
        out.append(LABELS[item.kind])
        last = item.end
    out.append(text[last:])
    return "".join(out)


def read_input(raw: str | None, max_chars: int) -> Question:
    """Read a senior's message once: cleaned, redacted BEFORE it is cut, what personal data it had.

    Every later step (retrieval, logging, the gap store, evals, the UI) uses this value instead
    of cleaning or redacting the message again.
    """
    clean = clean_input(raw, max_chars)
    # The whole message counts: a long story often ends with "我已经把钱转过去了".
    whole = clean_input(raw, clean.original_chars).text if clean.truncated else clean.text
    found = find_sensitive(whole)
    whole_redacted = redact(whole, found)
    return Question(
        original_chars=clean.original_chars,
        text=clean.text,
        # Redact before cutting, so a number split by the length limit is never half-kept.
        redacted=whole_redacted[:max_chars],
        sensitive=tuple(sorted({f.kind for f in found})),
        truncated=clean.truncated,
        whole=whole,
        whole_redacted=whole_redacted,
    )


# ---------------------------------------------------------------- emergencies

_CLAUSE = re.compile(r"[，,。.！!？?；;…\n ]+")
_CLAUSE_TEXT = re.compile(r"[^，,。.！!？?；;…\n ]+")
_MONEY = (
    r"(?:钱|元|块|万|千|百|款|退休金|存款|积蓄|钞票|工资|养老金|押金|税费|保证金|手续费|会员费)"
)
_VERB = r"(?:转|汇|打|付|交|充|垫|存|投|买|给)"
# Money already gone: "转了五万", "钱已经打过去了", "把退休金都打给那个女人了", "存到安全账户里了".
_PAID = re.compile(
    _VERB + r"了.{0,8}?" + _MONEY + r"|"
    r"把.{0,6}?"
    + _MONEY
    + r".{0,6}?"
    + _VERB
    + r".{0,14}?了|"
    + _MONEY
    + r".{0,6}?"
    + _VERB
    + r"(?:过去|出去|进去|走)了|"
    r"(?:转|汇|付|打)(?:账|款)(?:了|过了|完了)|(?:转|汇|付)完(?:账|款|钱)|"
    # "打给我了" / "打到我家里来了" is a phone call, not a payment
    r"(?:转|汇)(?:给|到).{1,14}?了|打(?:给|到)(?!我).{1,14}?了|"
    r"(?:扫|点).{0,10}?(?:付|交|转)了|"
    # "钱都转了", "花了三万", "刷卡付款二十万", "给了他身份证照片和银行卡照片"
    + _MONEY
    + r"(?:都|全|全部|已经|早就?)?"
    + _VERB
    + r"(?:了|过了|完了)|花了.{0,4}?(?:万|千|百|块|元)|(?:正在)?刷(?:了)?卡(?:付款|付了|交了)|"
    r"给了.{0,6}?(?:身份证|银行卡|卡号|密码|验证码)"
)
_LOST = re.compile(
    r"(?:钱|存款|余额|卡里|账户里|账上).{0,6}(?:被转走|转走了|少了|没了|不见了|被骗走|被取走)|把我拉黑|"
    r"刚(?:被)?转走"
)
_SHARED = re.compile(
    r"(?:验证码|验正码|校验码|动态码|密码|卡号|短信里的\d+).{0,16}?"
    r"(?:告诉|给|念|报|发|输|填|说)[^，,。 ]{0,6}了|"
    r"(?:告诉|给|念|报|发|输|填)了.{0,10}?(?:验证码|验正码|密码|卡号)"
)
_CHEATED = re.compile(r"被骗了|上当了|被骗走|受骗了|被人骗了|被骗脱|被骗掉|被骗去|骗走了")
_LIVE = re.compile(
    r"(?:正|正在|还在|开着|一直在|人就在|现在就在).{0,10}?"
    r"(?:屏幕共享|共享屏幕|共享|远程|电话|通话|视频|看我的屏幕|看着|取款机|ATM|教我|催我|等我)|"
    r"(?:屏幕共享|共享屏幕|共享|远程|电话|通话|视频)还?(?:开着|连着)|"
    r"通话中|(?:他|她|对方).{0,3}(?:还在|正在).{0,8}(?:电话|视频|等|看|教|催)|在(?:催|教|等|看着)我"
)
_LIVE_DEMAND = re.compile(
    r"转|打钱|汇|念|报|输|验证码|账户|软件|手机银行|屏幕|下载|装好|警察|客服|孙子|儿子|取款机|ATM|取钱"
)
_BLOCK = re.compile(
    r"没|未|不会|不要|别|还好|幸好|差点|差一点|险些|如果|万一|假如|要是|假设|以后|将来|听说|据说|电视|新闻|"
    r"别人|邻居|朋友|亲戚|同事|有人说|有的人|他自己|她自己|人家|去年|前年|上次|以前|会不会|是不是真的|防|拦住|"
    r"当时|那时|年前|个月前|"
    r"能不能|可不可以|吗$"
)


def emergency_evidence(text: str) -> tuple[str, int, int] | None:
    """("done" | "now", start, end) of the clause that shows money, a code or control going now.

    "done": money, a code or card details already gone, or "被骗了"; "now": a live scam (on the
    call, screen shared, at the ATM) with a demand nearby. None when nothing is going.
    """
    # "电话还没挂" reads as a live call; padded to the same length so spans stay in place.
    text = re.sub(
        r"(?:电话|视频|通话|共享)?还?没(?:有)?挂(?:断)?",
        lambda m: "通话中".ljust(len(m.group()), "中")[: max(3, len(m.group()))],
        text,
    )
    clauses = [(m.start(), m.end(), m.group()) for m in _CLAUSE_TEXT.finditer(text)]
    for i, (start, end, clause) in enumerate(clauses):
        lost = _LOST.search(clause)
        # "钱全没了" names what is gone with 没: the block words are read around it.
        if _BLOCK.search(_LOST.sub("", clause) if lost else clause):
            continue
        if lost or _PAID.search(clause) or _SHARED.search(clause):
            return "done", start, end
        if _CHEATED.search(clause):
            return "done", start, end
        if _LIVE.search(clause):
            near = " ".join(c for _, _, c in clauses[max(0, i - 1) : i + 3])
            if _LIVE_DEMAND.search(near):
                return "now", start, end
    return None


def is_emergency(text: str) -> bool:
    """True when money, a code or control has already gone to a scammer, or a scam is live now."""
    return emergency_evidence(text) is not None


# ---------------------------------------------------------------- scope

_FRAUD_CONTEXT = re.compile(
    r"骗|诈|转账|汇款|打钱|验证码|链接|客服|公安|警察|中奖|返利|回购|群里|老师|有人|对方|陌生|电话里|"
    r"短信|他说|她说|让我|叫我|要我|靠谱|安全|冒充|推荐我|拉我|理财|收益|利息|保本|高息|送|免费|"
    r"打电话|来电|打来|上门|保健品|讲座|偏方|神药|特效"
)
_OUT_OF_SCOPE = re.compile(
    r"天气|下雨|下雪|气温|几度|台风|冷不冷|热不热|刮风|"
    r"(?:哪只|哪个|什么|推荐|买什么).{0,6}(?:股票|基金|币)|(?:股票|基金).{0,6}(?:涨|跌|买|推荐)|"
    r"比特币|炒币|"
    r"(?:头疼|头痛|发烧|咳嗽|感冒|血压|血糖|糖尿病|心脏|胃疼|失眠|腰疼|关节|膝盖)"
    r".{0,12}(?:吃什么药|药|怎么治|加药|看什么科|要紧|能不能吃|能吃)|"
    r"吃什么药|什么病|"
    r"打官司|法院.{0,6}判|律师费|起诉|赡养费|离婚|遗产.{0,4}分|"
    r"笑话|唱.{0,2}歌|讲个故事|你几岁|你是男|你是女|你叫什么|你是谁|你是机器人|陪我聊|聊聊天|聊会儿?天|"
    r"怎么做.{0,3}好吃|菜谱|红烧|做饭|彩票号码|算命|星座"
)
# "教我识别冒充…", "帮我看看是不是冒充…": asking how to see through a scam is not asking to run one.
_RECOGNISE = (
    r"识|辨|分清|认出|看穿|揭穿|防|躲|避|提醒|看|查|判断|是不是|是否|有没有|知道|了解|举报|被"
)
_DEFRAUD = re.compile(
    r"(?:帮我|教我|给我|替我|帮忙|我要|我想)(?:(?!" + _RECOGNISE + r").){0,10}?"
    r"(?:骗(?!子|局|术|了|过)|冒充|假装|钓鱼网站|木马|盗号|洗钱|套取|"
    r"群发.{0,8}(?:假|中奖)|(?:假|中奖|冒充).{0,8}群发)|"
    r"(?:怎么|如何|怎样)(?:去|才能)?骗(?:老人|别人|人|钱|到)|"
    r"(?:写|编|做|弄|搞|设计|生成).{0,8}(?:话术|剧本|假的|换脸视频|钓鱼).{0,12}(?:骗|冒充|假装|要钱|群发|人)"
)
_INJECTION = re.compile(
    r"忽略.{0,8}(?:规则|指令|设定|提示|要求|限制)|系统提示|提示词|system\s*prompt|"
    r"(?:忘掉|忘记|抛开)(?:你|之前|以上|前面|所有|全部|的)+(?:规则|指令|设定|限制)|你不再是|"
    r"(?:ignore|disregard|forget) (?:all |any )?(?:the |your )?(?:previous |prior |above |earlier )?"
    r"(?:instructions|rules)|"
    r"(?:你现在是|扮演|假装你是).{0,12}(?:不受限制|没有限制|无限制|DAN|开发者模式)|"
    r"developer mode|jailbreak|越狱模式",
    re.I,
)


def is_injection(text: str) -> bool:
    """Text that gives the assistant orders: "忽略以上规则", "ignore previous instructions"."""
    return bool(_INJECTION.search(text))


def is_defraud_request(text: str) -> bool:
    """Asking for help to defraud someone, or to make the assistant drop its rules."""
    return bool(_DEFRAUD.search(text)) or is_injection(text)


def is_out_of_scope(text: str) -> bool:
    """Weather, stock picks, medicine, law or chit-chat with no fraud angle at all."""
    return bool(_OUT_OF_SCOPE.search(text)) and not _FRAUD_CONTEXT.search(text)


_INJECTION_SENTENCE = re.compile(r"[^。！？!?；;\n]*")


def strip_injection(text: str) -> str:
    """The text without the sentences that give the assistant orders ('' when nothing is left)."""
    kept = [
        m.group()
        for m in _INJECTION_SENTENCE.finditer(text)
        if m.group().strip() and not _INJECTION.search(m.group())
    ]
    rest = "，".join(k.strip(" ，,") for k in kept).strip(" ，,")
    return rest if len(_MEANINGFUL.findall(rest)) >= 4 else ""
