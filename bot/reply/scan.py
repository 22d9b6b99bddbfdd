"""帮我看看这条消息: a risk reading of one pasted message, each red flag with its exact span.

Built on the cue lexicon (bot/reply/cues.py says what a message *names*); this module decides
what the words around a cue mean (a request, a warning, a done notice) and adds what only a
message has: its 【签名】, its links and numbers checked against the official list
(knowledge/official.yaml), and the combinations that make a scam (an authority who turns to
money, a prize never entered, a loan that needs a fee first).

The level is a weighted sum of distinct flags (rules below); `high` at WEIGHT_HIGH, `medium`
at 1, otherwise `low`. Never "safe": a low reading still says how to check.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.reply.cues import Cue, find_cues
from bot.reply.links import Link, NumberCheck, check_number, find_links, fold
from bot.reply.official import NOTE, Official, Organisation

__all__ = ["Flag", "ScanResult", "check_number", "scan_message", "NumberCheck", "Link"]

WEIGHT_HIGH = 3
RISK_TEXT = {
    "high": "很可能是骗局",
    "medium": "有可疑之处，先核实",
    "low": "没发现常见的骗局特征",
}
ADVICE = (
    "办业务只用官方App或银行卡背面的电话，不点短信里的链接；拿不准就打 96110 或问网点工作人员。"
)

LABELS = {
    "link_lookalike": "仿冒网址",
    "link_unknown": "陌生链接",
    "link_short": "短链接",
    "qr_code": "让您扫码",
    "deadline_threat": "催促或威胁",
    "secrecy": "要求保密",
    "fee_first": "先交钱",
    "safe_account": "安全账户",
    "asks_credentials": "索要验证码、密码或卡号",
    "remote_control": "屏幕共享或下载App",
    "channel_move": "换地方私聊",
    "too_good": "回报好得不真实",
    "prize": "没参加的中奖",
    "authority_money": "自称有身份的人要钱",
    "new_number": "说换了号码",
    "refund_offer": "主动退款理赔",
    "loan_credit": "贷款、征信",
    "asks_money": "要您转账付款",
    "callback_unknown": "让您联系陌生号码",
    "gambling": "赌博平台",
}
EXPLAIN = {
    "link_lookalike": "这个网址借用了{who}的名字，却不是它的官方网址，是典型的钓鱼网站。",
    "link_unknown": "这个网址不是{who}的官方网址，点开填信息可能被盗刷。",
    "link_short": "短链接看不出真正打开哪个网站，可能是钓鱼网站。",
    "qr_code": "陌生消息里的二维码可能是付款码或钓鱼网站，扫了就可能被骗。",
    "deadline_threat": "用冻结、停用、限时来吓人、催人，是不让您停下来核实。",
    "secrecy": "让您瞒着家人和银行，是怕有人提醒您这是骗局。",
    "fee_first": "先交保证金、手续费、解冻费才给钱或办事的，都是骗局。",
    "safe_account": "公检法和银行没有“安全账户”，让您把钱转进去的一定是骗子。",
    "asks_credentials": "验证码、密码、卡号和刷脸是账户的钥匙，正规机构不会向您索要。",
    "remote_control": "屏幕共享、会议软件和陌生App能让对方看到或操控您的手机。",
    "channel_move": "让您加QQ、加微信、换个App私聊，是为了躲开平台的提醒和监管。",
    "too_good": "稳赚不赔、日赚几百、刷单返利，都是先给甜头再骗大钱。",
    "prize": "没参加的抽奖不会中奖，领奖要先交钱或填信息的是骗局。",
    "authority_money": "自称{who}的人开口要钱，要先用原来知道的号码或当面核实。",
    "new_number": "说换了号码的“熟人”，一定要打原来的号码核实是不是本人。",
    "refund_offer": "主动找您退款、理赔、补偿的，多半是冒充客服的骗子。",
    "loan_credit": "征信不能花钱修复，校园贷不用注销，先交费才放款的贷款都是骗局。",
    "asks_money": "对方要您转账付款，先停一停，用原来知道的号码或当面核实。",
    "callback_unknown": "这个号码不在官方号码里，先打卡背面或官网上的号码核实。",
    "gambling": "网络赌博先让您小赢，再让您越投越多，钱取不出来。",
}


@dataclass(frozen=True)
class Flag:
    """One red flag: what it is, the exact span of the message it came from, why it matters."""

    code: str
    label: str
    evidence: str
    start: int
    end: int
    explain: str
    weight: int = 1

    def to_json(self) -> dict[str, object]:
        keys = ("code", "label", "evidence", "start", "end", "explain")
        return {k: getattr(self, k) for k in keys}


@dataclass(frozen=True)
class ScanResult:
    """The risk reading of one message."""

    risk: str  # high | medium | low — never "safe"
    flags: tuple[Flag, ...]
    score: int
    sender: str = ""  # the 【签名】 text
    sender_org: str = ""  # the organisation the message claims to come from
    links: tuple[Link, ...] = ()
    numbers: tuple[NumberCheck, ...] = ()
    domains_note: str = ""  # whose domain each link is, in plain words
    advice: str = ADVICE
    codes: frozenset[str] = field(default_factory=frozenset, compare=False, repr=False)

    @property
    def risk_text(self) -> str:
        return RISK_TEXT[self.risk]

    @property
    def summary(self) -> str:
        """The level first, then whose links they are, then how to check (for the senior)."""
        parts = [f"风险：{self.risk_text}。"]
        if self.domains_note:
            parts.append(self.domains_note)
        parts.append(self.advice)
        return "".join(parts)

    def to_json(self) -> dict[str, object]:
        return {
            "risk": self.risk,
            "risk_text": self.risk_text,
            "score": self.score,
            "flags": [f.to_json() for f in self.flags],
            "sender": self.sender,
            "sender_org": self.sender_org,
            "links": [
                {
                    "text": k.text,
                    "host": k.host,
                    "status": k.status,
                    "owner": k.owner,
                    "imitates": k.imitates,
                    "start": k.start,
                    "end": k.end,
                }
                for k in self.links
            ],  # fmt: skip
            "numbers": [n.to_json() for n in self.numbers],
            "domains_note": self.domains_note,
            "advice": self.advice,
        }


# ---------------------------------------------------------------- the words around a cue

_CLAUSE = re.compile(r"[，,。！？!?；;\n]|\s{2,}")
# A clause that warns about the thing instead of asking for it ("凡是要求转账的都是诈骗").
_WARNING = re.compile(
    r"诈骗|骗子|骗局|谨防|警惕|防骗|防范|凡是|一律|切勿|请勿|千万不要|千万别|不要轻信|"
    r"(?:不会|绝不会|从不|均不会|不得|不存在|没有)(?:以任何|通过|主动|要求|让|向|索要|私下)|"
    r"识破|骗术|提醒您?[:：]"
)
# Right before a cue in its clause: the cue is denied ("切勿告知", "不会冻结", "停止转账").
_NEGATION = re.compile(
    r"(?:不要|不会|不用|不需要?|无需|无须|不必|不得|不能|不可|勿|别|莫|没有|请勿|切勿|千万别|"
    r"严禁|禁止|拒绝|谨防|警惕|小心|以免|避免|防止|从未|从不|绝不|并非|不是|停止|不再|不存在|并无)"
    r"[^，,。！？!?；;\n]{0,5}$"
)
# Right after a cue: "二维码不扫", "链接不点", "验证码不给".
_DENIED_AFTER = re.compile(r"\s?(?:不|别|勿|莫|绝不|从不|一律不)")
# A request: the message asks the reader to do it.
_REQUEST = re.compile(
    r"(?<![申邀提敬])请|需要?|要|必须|务必|立即|马上|尽快|赶紧|赶快|先|帮我|帮忙|给我|麻烦|配合|按照|按要求|"
    r"能不能|可不可以|可以|把|(?:您|你)$"
)
_GIVE = re.compile(
    r"提供|告诉|告知|报给|报一下|报出|念给|念一下|说出|发给|发我|发过来|发一下|发送|回复|上传|"
    r"拍照|拍一下|拍给|截图|填写|填入|填一下|输入|录入|核对|给我|验证一下"
)
_PAY = re.compile(
    r"转账|转帐|转钱|转到|转给|转入|转过来|汇款|汇到|汇给|打钱|打款|打到|打给|付款|付钱|交钱|"
    r"缴纳|缴费|交纳|支付|充值|垫付|存入|存到|转存|[转打](?=\d|[一二两三四五六七八九十几])|交(?=\d|[一二两三四五六七八九十几]|[个笔些点]|押金|保证金)"
)
_BORROW = re.compile(
    r"借(?:点|些|我|一下|几|[一二两三四五六七八九十百千万\d])|周转一下|急用钱|急需|应急"
)
_DONE = re.compile(r"成功|已(?:经)?|原路|到账|退回至|退至|处理完")

# Threats the cue lexicon leaves to the message check (on top of its deadline cues).
_THREAT_STRONG = re.compile(
    r"(?:即将|将会?|自动|会)扣费|百万保障|涉嫌|违规|违法|起诉|传票|强制执行|通缉|逮捕|拘留|坐牢|判刑|"
    r"(?:账户|账号|帐户|银行卡|信用卡|医保卡|社保卡|etc|号码|微信|支付宝)(?:已|将|存在|出现|有)?(?:异常|被盗|风险|违规|冻结|停用|注销|封)"
)
_THREAT_WEAK = re.compile(r"停电|停气|停水|扣费|清零|罚款|影响[^，。！？\n]{0,4}征信|黑名单|限制")
_LOAN_WEAK = frozenset({"信用卡", "分期", "额度", "办卡", "提额"})
_STRONG_DEADLINE = frozenset({"冻结", "停用", "注销", "作废", "失效", "封号"})

_STRONG_FEE = re.compile(r"解冻费|激活费|刷流水|解封费|认证费|通道费|保证金|入会费|验资")
_FREE = re.compile(r"免|(?<![\d.,])0(?:\.0+)?元|零元|全免|不收|无需|无须|不需")

_WIN = frozenset({"中奖", "幸运观众", "幸运用户", "抽中", "奖品", "奖金", "大奖", "领奖", "兑奖"})
_POINTS = frozenset({"积分兑换", "积分清零"})
_TOO_GOOD_STRONG = re.compile(
    r"稳赚|包赚|日赚|躺赚|翻倍|内幕|一本万利|稳赚不赔|高回报|高收益|高息|保本高|零风险|无风险|"
    r"刷单|做任务|点赞[^，。！？\n]{0,4}(?:赚|元|佣金)|日结|抢单|垫付|兼职[^，。！？\n]{0,6}(?:日|元|赚|佣金)|"
    r"月入[^，。！？\n]{0,3}(?:\d|[一二三四五六七八九十几]|过万)|日入|回报率|带单|老师带|荐股|牛股|涨停"
)
_TOO_GOOD_WEAK = frozenset({"返利", "佣金", "提成", "返现", "保本"})
_GAMBLING = re.compile(
    r"博彩|彩金|百家乐|真人娱乐|真人视讯|棋牌|电子游艺|体育投注|首存|首充|存送|注册送|"
    r"(?:彩票|娱乐|游戏)平台|澳门[^，。！？\n]{0,6}(?:赌|娱乐|官网|线上)|威尼斯人|葡京|下注|赔率|"
    r"(?:北京赛车|时时彩|快三|六合彩)"
)
_LOAN_STRONG = re.compile(
    r"无抵押|秒批|秒到|秒下|黑户|不看征信|免审|包过|下款|放款快|备用金|低息|免息|无视征信|"
    r"当天放款|极速放款|代办信用卡|大额信用卡|办理信用卡"
)
_CREDIT_REPAIR = re.compile(
    r"(?:征信|信用)[^，。！？\n]{0,4}(?:修复|洗白|消除|删除|铲除|优化|逾期记录)|"
    r"(?:修复|洗白|消除|删除)[^，。！？\n]{0,4}(?:征信|不良记录|逾期)|"
    r"注销[^，。！？\n]{0,6}(?:校园贷|学生贷|贷款|网贷|账户)|校园贷|学生贷"
)
_POLICE = re.compile(r"公安|警察|民警|警官|派出所|刑警|公检法|检察院|检察官|法院|法官")
_ACCUSED = re.compile(r"涉嫌|洗钱|涉案|通缉|逮捕|拘留|立案|犯罪|传唤")
_ACCUSED_EXPLAIN = "公检法不会打电话、发消息说您涉嫌犯罪，更不会让您配合“核查资金”。"
_REMOTE_WORDS = re.compile(r"屏幕|桌面|控制|协助|手机|画面")
_OFFICIAL_APP = re.compile(
    r"国家反诈中心|反诈|官方|官网|应用商店|应用市场|手机银行|掌上12333|随申办|网上国网|国务院客户端|"
    r"个人所得税|12306|学习强国|电子社保卡|国家医保服务平台"
)
# Of the broad cues, only the persona counts ("客服", not "淘宝"; "柜员", not "银行").
_PERSONA = {"customer_service": ("客服", "售后"), "bank_staff": ("柜员", "大堂经理", "工作人员")}
_EXTRA_AUTHORITY = re.compile(
    r"工作人员|专员|经理|客服|检察官|警官|民警|(?:医保|社保|人社|税务|市场监管|卫健|民政)(?:局|中心)"
)
_CALL = re.compile(
    r"(?:致电|拨打|回电|电话|热线|联系|咨询|来电|客服|加微信|微信号|vx|qq|扣扣|热线)[^\d\n]{0,6}?"
    r"((?:\+|00)?\d[\d\- ]{3,16}\d)"
)
_SIGNATURE = re.compile(
    r"^\s*[【\[]([^【】\[\]\n]{2,24})[】\]]|[【\[]([^【】\[\]\n]{2,24})[】\]]\s*$"
)


@dataclass
class _Context:
    """What one scan knows about its text (built once, used by every rule)."""

    text: str
    folded: str
    cues: tuple[Cue, ...]
    clause_ends: list[int]
    flags: dict[str, Flag] = field(default_factory=dict)
    amplifiers: set[str] = field(default_factory=set)

    def clause(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.clause_ends, pos)
        start = self.clause_ends[i - 1] + 1 if i > 0 else 0
        end = self.clause_ends[i] if i < len(self.clause_ends) else len(self.folded)
        return start, end

    def before(self, start: int, width: int = 10) -> str:
        lo = self.clause(start)[0]
        return self.folded[max(lo, start - width) : start]

    def after(self, end: int, width: int = 10) -> str:
        hi = self.clause(max(end - 1, 0))[1]
        return self.folded[end : min(hi, end + width)]

    def warned(self, start: int, end: int | None = None) -> bool:
        """The clause of this position warns about the thing, or the words around deny it."""
        lo, hi = self.clause(start)
        if _WARNING.search(self.folded, lo, hi) or _NEGATION.search(self.before(start)):
            return True
        return end is not None and bool(_DENIED_AFTER.match(self.after(end, 4)))

    def add(
        self,
        code: str,
        start: int,
        end: int,
        weight: int,
        who: str = "",
        amplifier: bool = False,
        explain: str = "",
    ) -> None:
        """Raise a flag (a stronger find of the same code replaces a weaker one).

        An amplifier ("到期", "信用卡") is named in many genuine notices: it counts only when
        another flag is raised too, and a find that is not an amplifier replaces it.
        """
        if not (0 <= start < end <= len(self.text)):
            return
        current = self.flags.get(code)
        if current is not None and (current.weight, code not in self.amplifiers) >= (
            weight,
            not amplifier,
        ):
            return
        if amplifier:
            self.amplifiers.add(code)
        else:
            self.amplifiers.discard(code)
        explain = explain or EXPLAIN[code].format(who=who or "发消息的机构")
        label = LABELS[code]
        self.flags[code] = Flag(code, label, self.text[start:end], start, end, explain, weight)

    def of(self, *codes: str) -> list[Cue]:
        return [c for c in self.cues if c.code in codes]


def scan_message(text: str, official: Official) -> ScanResult:
    """The risk reading of one message: level, red flags with spans, sender, links and numbers."""
    text = text or ""
    folded = fold(text)
    ends = [m.start() for m in _CLAUSE.finditer(folded)]
    ctx = _Context(text, folded, find_cues(folded), ends)
    sender, org = _sender(folded, official)
    links = find_links(folded, official)
    _link_flags(ctx, links, org)
    numbers = _number_flags(ctx, official, org)
    _cue_flags(ctx)
    _combinations(ctx)
    if set(ctx.flags) <= ctx.amplifiers:
        ctx.flags.clear()  # only words that genuine notices use too
    flags = tuple(sorted(ctx.flags.values(), key=lambda f: (f.start, f.code)))
    score = sum(f.weight for f in flags)
    risk = "high" if score >= WEIGHT_HIGH else "medium" if score >= 1 else "low"
    return ScanResult(
        risk=risk,
        flags=flags,
        score=score,
        sender=sender,
        sender_org=org.name if org else "",
        links=links,
        numbers=numbers,
        domains_note=_domains_note(links, org),
        codes=frozenset(ctx.flags),
    )


def _sender(folded: str, official: Official) -> tuple[str, Organisation | None]:
    m = _SIGNATURE.search(folded[:40]) or _SIGNATURE.search(folded[-40:])
    if m:
        signature = (m.group(1) or m.group(2)).strip()
        return signature, official.sender(signature)
    # no signature: a full name in the opening words ("尊敬的工商银行客户")
    head = folded[:60]
    best: tuple[int, Organisation] | None = None
    for org in official.organisations:
        for name in (org.name, *org.aliases):
            if len(name) >= 3 and name in head and (best is None or len(name) > best[0]):
                best = (len(name), org)
    return "", best[1] if best else None


# Top-level domains that cost almost nothing and that brands seldom use for their notices.
_RISKY_TLD = frozenset(
    {"top", "xyz", "vip", "cc", "icu", "tk", "ml", "ga", "gq", "cf", "pw", "club", "wang", "shop",
     "site", "online", "live", "link", "fun", "ink", "bid", "loan", "win", "men", "ltd", "work",
     "rest", "buzz", "cyou", "sbs", "cfd", "bond", "monster"}
)  # fmt: skip


def _link_flags(ctx: _Context, links: Iterable[Link], org: Organisation | None) -> None:
    for link in links:
        if link.status == "official":
            continue
        if link.status == "lookalike":
            ctx.add("link_lookalike", link.start, link.end, 3, link.imitates)
        elif link.status == "short":
            ctx.add("link_short", link.start, link.end, 1)
        else:
            tld = link.host.rsplit(".", 1)[-1]
            claimed = org is not None and org.kind != "hotline"
            weight = 2 if (link.status == "ip" or tld in _RISKY_TLD or claimed) else 1
            ctx.add(
                "link_unknown", link.start, link.end, weight, org.name if claimed and org else ""
            )


def _number_flags(
    ctx: _Context, official: Official, org: Organisation | None
) -> tuple[NumberCheck, ...]:
    checks = []
    for m in _CALL.finditer(ctx.folded):
        number = m.group(1).strip()
        check = check_number(number, official)
        checks.append(check)
        if check.known or len(check.digits) < 5 or ctx.warned(m.start(1)):
            continue
        claimed = org is not None and org.kind != "hotline"
        weight = 2 if claimed else 1
        if check.pattern in ("international_authority", "lookalike_service"):
            weight = 2
        ctx.add("callback_unknown", m.start(1), m.start(1) + len(number), weight)
    return tuple(checks)


# cue -> (flag, weight) when the cue alone is the flag, unless its clause warns about it
_SIMPLE = {
    "qr_code": ("qr_code", 1),
    "safe_account": ("safe_account", 3),
    "meeting_app": ("remote_control", 1),
    "new_number": ("new_number", 2),
    "channel_move": ("channel_move", 1),
}
_CREDENTIALS = ("code", "password", "card_number", "id_card", "face")


def _cue_flags(ctx: _Context) -> None:
    f = ctx.folded
    for cue in ctx.cues:
        code, s, e, word = cue.code, cue.start, cue.end, cue.text
        if code in _CREDENTIALS:
            if _asks_for(ctx, cue):
                ctx.add("asks_credentials", s, e, 2 if code == "face" else 3)
            continue
        if code == "fee":
            _fee(ctx, cue)
            continue
        if code == "secrecy":
            _secrecy(ctx, cue)
            continue
        if ctx.warned(s, e):
            continue
        if code in _SIMPLE:
            flag, weight = _SIMPLE[code]
            ctx.add(flag, s, e, weight)
        elif code == "screen_share":
            if word not in ("共享", "远程") or _REMOTE_WORDS.search(f, max(0, s - 4), e + 4):
                ctx.add("remote_control", s, e, 3)
        elif code == "download":
            lo, hi = ctx.clause(s)
            if (word.startswith(("下载", "安装", "装")) or word == "apk") and not (
                _OFFICIAL_APP.search(f, lo, hi)
            ):
                ctx.add("remote_control", s, e, 1)
        elif code == "refund":
            lo, hi = ctx.clause(s)
            if not _DONE.search(f, lo, hi):  # "退款已原路退回" is a notice, not an offer
                ctx.add("refund_offer", s, e, 2)
        elif code == "prize":
            if word in _WIN or word in _POINTS:
                ctx.add("prize", s, e, 2 if word in _WIN else 1)
        elif code == "deadline":
            weight = 2 if word in _STRONG_DEADLINE else 1
            ctx.add("deadline_threat", s, e, weight, amplifier=weight == 1)
        elif code == "loan":
            ctx.add("loan_credit", s, e, 1, amplifier=word in _LOAN_WEAK)
        elif code == "high_return" and word in _TOO_GOOD_WEAK:
            ctx.add("too_good", s, e, 1)
    _patterns(ctx)


def _patterns(ctx: _Context) -> None:
    """The flags whose words the cue lexicon does not name (threats, gambling, task scams)."""
    f = ctx.folded
    for regex, code, weight in (
        (_THREAT_STRONG, "deadline_threat", 2),
        (_THREAT_WEAK, "deadline_threat", 1),
        (_TOO_GOOD_STRONG, "too_good", 2),
        (_GAMBLING, "gambling", 3),
        (_LOAN_STRONG, "loan_credit", 2),
        (_CREDIT_REPAIR, "loan_credit", 3),
    ):
        for m in regex.finditer(f):
            if not ctx.warned(m.start()):
                ctx.add(code, m.start(), m.end(), weight)
                break
    for m in _BORROW.finditer(f):
        if not ctx.warned(m.start()):
            ctx.add("asks_money", m.start(), m.end(), 1)
            break
    for m in _PAY.finditer(f):
        if _REQUEST.search(ctx.before(m.start(), 8)) and not ctx.warned(m.start()):
            ctx.add("asks_money", m.start(), m.end(), 1)
            break


def _asks_for(ctx: _Context, cue: Cue) -> bool:
    """The message asks the reader to give this credential (not: keep it to yourself)."""
    lo, hi = ctx.clause(cue.start)
    f = ctx.folded
    if _WARNING.search(f, lo, hi):
        return False
    for m in _GIVE.finditer(f, max(lo, cue.start - 12), min(hi, cue.end + 12)):
        if cue.start <= m.start() < cue.end:
            continue  # "验证" inside 验证码
        if cue.code == "code" and m.group() in ("输入", "填写", "填入", "录入"):
            continue  # a genuine code text says where to type it
        if not _NEGATION.search(ctx.before(m.start(), 8)):
            return True
    return False


def _fee(ctx: _Context, cue: Cue) -> None:
    s, e = cue.start, cue.end
    if ctx.warned(s) or _FREE.search(ctx.before(s, 4)) or _FREE.search(ctx.after(e, 4)):
        return
    if _STRONG_FEE.fullmatch(cue.text):
        ctx.add("fee_first", s, e, 3)
    elif cue.text in ("先交", "先付", "先缴") or _PAY.search(ctx.before(s, 6)):
        ctx.add("fee_first", s, e, 2)
    elif cue.text not in ("流水", "滞纳金", "违约金"):
        ctx.add("fee_first", s, e, 1)


def _secrecy(ctx: _Context, cue: Cue) -> None:
    lo, hi = ctx.clause(cue.start)
    f = ctx.folded
    # "不要告诉他人验证码" protects a credential; "别告诉你儿子" isolates the reader
    credential = any(
        c.code in ("code", "password", "card_number", "id_card") and lo <= c.start < hi
        for c in ctx.cues
    )
    if credential or re.search(r"诈骗|骗", f[lo:hi]):
        return
    ctx.add("secrecy", cue.start, cue.end, 1 if cue.text in ("单独", "秘密") else 2)


def _combinations(ctx: _Context) -> None:
    """Flags that only the combination of two things in one message raises."""
    flags = ctx.flags
    money = flags.get("asks_money")
    money_like = money or flags.get("fee_first") or flags.get("safe_account")
    if money_like is not None:
        who = _authority(ctx)
        if who is not None:
            ctx.add("authority_money", money_like.start, money_like.end, 3, who.text)
        relative = ctx.of("relative")
        if relative and ("new_number" in flags or "secrecy" in flags):
            ctx.add("authority_money", money_like.start, money_like.end, 3, "亲友")
    police = _persona(ctx, _POLICE)
    accused = _ACCUSED.search(ctx.folded)
    if police is not None and accused is not None and not ctx.warned(accused.start()):
        ctx.add("deadline_threat", accused.start(), accused.end(), 3, explain=_ACCUSED_EXPLAIN)
    persona = police or _authority(ctx)
    if persona is not None:
        for code in ("callback_unknown", "channel_move"):
            found = flags.get(code)
            if found is not None and found.weight < 2:
                ctx.add(code, found.start, found.end, 2)
    if "prize" in flags and ("fee_first" in flags or "asks_credentials" in flags):
        # a prize that needs a fee or your details first: upgrade the prize flag
        prize = flags["prize"]
        ctx.add("prize", prize.start, prize.end, 3)
    if (
        money is not None
        and money.weight < 2
        and (
            {"new_number", "channel_move", "too_good", "link_unknown", "link_short", "qr_code"}
            & set(flags)
        )
    ):
        ctx.add("asks_money", money.start, money.end, 2)


def _persona(ctx: _Context, words: re.Pattern[str]) -> Cue | None:
    for cue in ctx.cues:
        if cue.code == "police" and words.fullmatch(cue.text) and not ctx.warned(cue.start):
            return cue
    return None


def _authority(ctx: _Context) -> Cue | None:
    """The person or body the message speaks for, when it is one that must never ask for money."""
    for cue in ctx.cues:
        if ctx.warned(cue.start):
            continue
        if cue.code in ("police", "leader", "teacher", "classmate"):
            return cue
        allowed = _PERSONA.get(cue.code)
        if allowed and any(a in cue.text for a in allowed):
            return cue
    m = _EXTRA_AUTHORITY.search(ctx.folded)
    if m and not ctx.warned(m.start()):
        return Cue("authority", m.start(), m.end(), m.group())
    return None


def _domains_note(links: tuple[Link, ...], org: Organisation | None) -> str:
    if not links:
        return ""
    parts = []
    for link in links:
        if link.status == "official":
            parts.append(f"网址 {link.host} 是{link.owner}的官方网址（{NOTE}）。")
        elif link.status == "lookalike":
            parts.append(f"网址 {link.host} 冒用了{link.imitates}的名字，不是它的官方网址。")
        elif link.status == "short":
            parts.append(f"网址 {link.host} 是短链接，看不出真正打开哪个网站。")
        else:
            who = f"{org.name}的" if org is not None else "我们核对过的"
            parts.append(f"网址 {link.host} 不是{who}官方网址。")
    return "".join(dict.fromkeys(parts))
