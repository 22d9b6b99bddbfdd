"""帮我看看这条消息: a risk reading of one pasted message, each red flag with its exact span.

Built on the cue lexicon (bot/reply/cues.py says what a message *names*); this module decides
what the words around a cue mean (a request, a warning, a done notice) and adds what only a
message has: its 【签名】, its links and numbers checked against the official list
(knowledge/official.yaml), the phrasing of bot/reply/scan_words.py, and the combinations that
make a scam (an authority who turns to money, a prize that needs a fee, a refund that needs a
transfer).

The level is the sum of the weights of the distinct flags: `high` from WEIGHT_HIGH, `medium`
from 1, otherwise `low`; never "safe": a low reading still says how to check. A weight-3 flag is
high alone (a safe account, a look-alike domain, a request for a code); weaker ones need
company, and the combinations below raise a flag's weight only when both parts are present.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.reply import scan_words as w
from bot.reply.cues import Cue, find_cues
from bot.reply.links import Link, NumberCheck, check_number, find_links, fold
from bot.reply.official import NOTE, Official, Organisation
from bot.reply.scan_words import ADVICE, EXPLAIN, LABELS, RISK_TEXT

__all__ = ["Flag", "Link", "NumberCheck", "ScanResult", "check_number", "scan_message"]

WEIGHT_HIGH = 3


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
    topic: str = ""  # the course topic the message is about, from what it names ("" if none)

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
            "topic": self.topic,
        }


@dataclass
class _Context:
    """What one scan knows about its text (built once, used by every rule)."""

    text: str
    folded: str
    cues: tuple[Cue, ...]
    clause_ends: list[int]
    flags: dict[str, Flag] = field(default_factory=dict)
    amplifiers: set[str] = field(default_factory=set)
    personas: list[tuple[str, int, int, str]] = field(default_factory=list)  # kind, span, text
    signature: tuple[int, int] = (0, 0)  # the 【签名】 span: the sender, not a persona

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
        f = self.folded
        if w.WARNING.search(f, lo, hi) or w.PROHIBITION.match(f, lo):
            return True
        colon = w.COLON.search(f, lo, start)
        if colon and w.PROHIBITION.match(f, colon.end()):
            return True
        before = w.QUESTION_FORMS.sub(lambda m: "_" * len(m.group()), self.before(start))
        if w.NEGATION.search(before):
            return True
        return end is not None and bool(w.DENIED_AFTER.match(self.after(end, 4)))

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

        An amplifier ("到期", "限时") is named in many genuine notices: it counts only when
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

    def raise_to(self, code: str, weight: int, explain: str = "") -> None:
        """Give an existing flag at least this weight (a combination made it worse)."""
        flag = self.flags.get(code)
        if flag is not None and flag.weight < weight and code not in self.amplifiers:
            self.amplifiers.discard(code)
            self.flags[code] = Flag(
                code, flag.label, flag.evidence, flag.start, flag.end,
                explain or flag.explain, weight,
            )  # fmt: skip

    def strong(self, code: str) -> bool:
        """The flag is raised by more than an amplifier."""
        return code in self.flags and code not in self.amplifiers


def scan_message(text: str, official: Official) -> ScanResult:
    """The risk reading of one message: level, red flags with spans, sender, links and numbers."""
    text = text or ""
    folded = fold(text)
    ends = [m.start() for m in w.CLAUSE.finditer(folded)]
    ctx = _Context(text, folded, find_cues(folded), ends)
    sender, org, ctx.signature = _sender(folded, official)
    links = find_links(folded, official)
    _link_flags(ctx, links, org)
    numbers = _number_flags(ctx, official, org)
    _cue_flags(ctx)
    _phrase_flags(ctx)
    _money_flags(ctx)
    _find_personas(ctx)
    _combinations(ctx)
    if set(ctx.flags) <= ctx.amplifiers:
        ctx.flags.clear()  # only words that genuine notices use too
    flags = tuple(sorted(ctx.flags.values(), key=lambda f: (f.start, f.code)))
    # amplifiers ("到期", "限时", "信用卡") add at most 1 together: three weak words are no scam
    amplified = sum(f.weight for f in flags if f.code in ctx.amplifiers)
    score = sum(f.weight for f in flags if f.code not in ctx.amplifiers) + min(amplified, 1)
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
        topic=topic_of(frozenset(c.code for c in ctx.cues)),
    )


# Cue -> course topic, most telling first: a message naming 征信 is about fake loans even when it
# also names a bank; one naming a parcel and a refund is about fake customer service.
_TOPIC_BY_CUE = (
    ("credit_repair", "fake-loans"),
    ("loan", "fake-loans"),
    ("utility", "utility-arrears"),
    ("safe_account", "fake-police"),
    ("police", "fake-police"),
    ("etc", "phishing-sms"),
    ("medical_insurance", "social-security"),
    ("social_security", "social-security"),
    ("screen_share", "screen-sharing"),
    ("meeting_app", "screen-sharing"),
    ("parcel", "fake-customer-service"),
    ("refund", "fake-customer-service"),
    ("customer_service", "fake-customer-service"),
    ("prize", "lottery-prize"),
    ("new_number", "impersonate-relative"),
    ("leader", "impersonate-relative"),
    ("teacher", "impersonate-relative"),
    ("classmate", "impersonate-relative"),
    ("video_call", "ai-face-swap"),
    ("voice", "ai-face-swap"),
    ("high_return", "pension-investment"),
    ("code", "verification-code"),
    ("password", "verification-code"),
    ("relative", "impersonate-relative"),
    ("link", "phishing-sms"),
    ("qr_code", "phishing-sms"),
)


def topic_of(codes: frozenset[str]) -> str:
    """The course topic a message names most tellingly ("" when it names none of them)."""
    return next((topic for code, topic in _TOPIC_BY_CUE if code in codes), "")


def _sender(folded: str, official: Official) -> tuple[str, Organisation | None, tuple[int, int]]:
    m = w.SIGNATURE.search(folded[:40]) or w.SIGNATURE.search(folded, max(0, len(folded) - 40))
    if m:
        signature = (m.group(1) or m.group(2)).strip()
        return signature, official.sender(signature), (m.start(), m.end())
    # no signature: a full name in the opening words ("尊敬的工商银行客户")
    return "", official.sender(folded[:60], min_len=3), (0, 0)


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
            weight = 2 if (link.status == "ip" or tld in w.RISKY_TLD or claimed) else 1
            who = org.name if claimed and org else ""
            ctx.add("link_unknown", link.start, link.end, weight, who)


def _number_flags(
    ctx: _Context, official: Official, org: Organisation | None
) -> tuple[NumberCheck, ...]:
    checks = []
    for m in w.CALL.finditer(ctx.folded):
        number = m.group(1).strip()
        check = check_number(number, official)
        checks.append(check)
        if check.known or len(check.digits) < 5 or ctx.warned(m.start(1)):
            continue
        claimed = org is not None and org.kind != "hotline"
        spoofed = check.pattern in ("international_authority", "lookalike_service")
        weight = 2 if claimed or spoofed else 1
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
    cues = list(ctx.cues)
    cues += [Cue("code", m.start(), m.end(), m.group()) for m in w.CODE_WORDS.finditer(f)]
    for cue in cues:
        code, s, e, word = cue.code, cue.start, cue.end, cue.text
        if code in _CREDENTIALS:
            if _asks_for(ctx, cue):
                ctx.add("asks_credentials", s, e, 2 if code == "face" else 3)
            continue
        if code == "fee":
            _fee(ctx, s, e, word)
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
            if word not in ("共享", "远程") or w.REMOTE_WORDS.search(f, max(0, s - 4), e + 4):
                ctx.add("remote_control", s, e, 3)
        elif code == "download":
            lo, hi = ctx.clause(s)
            if (word.startswith(("下载", "安装", "装")) or word == "apk") and not (
                w.OFFICIAL_APP.search(f, lo, hi)
            ):
                ctx.add("remote_control", s, e, 1)
        elif code == "refund":
            lo, hi = ctx.clause(s)
            if not w.DONE.search(f, lo, hi):  # "退款已原路退回" is a notice, not an offer
                ctx.add("refund_offer", s, e, 2)
        elif code == "prize":
            if word in w.WIN or word in w.POINTS:
                ctx.add("prize", s, e, 2 if word in w.WIN else 1)
        elif code == "loan":
            ctx.add("loan_credit", s, e, 1, amplifier=word in w.LOAN_WEAK)
        elif code == "deadline":
            weight = 2 if word in w.STRONG_DEADLINE else 1
            ctx.add("deadline_threat", s, e, weight, amplifier=weight == 1)
        elif code == "high_return" and word in w.TOO_GOOD_WEAK:
            ctx.add("too_good", s, e, 1)


def _phrase_flags(ctx: _Context) -> None:
    """The phrasing the cue lexicon has no code for (threats, miracle cures, isolation…)."""
    f = ctx.folded
    for code, regex, weight, amplifier in w.PHRASES:
        for m in regex.finditer(f):
            if code == "secrecy":  # "不要挂断", "别声张" are negative words themselves
                lo, hi = ctx.clause(m.start())
                if not re.search(r"诈骗|骗", f[lo:hi]):
                    ctx.add(code, m.start(), m.end(), weight)
                    break
            elif not ctx.warned(m.start(), m.end()):
                ctx.add(code, m.start(), m.end(), weight, amplifier=amplifier)
                break
    if len({m.group() for m in w.LOAN_STRONG.finditer(f)}) >= 2:
        ctx.raise_to("loan_credit", 3)  # "无抵押、秒批秒到": a loan ad made for the desperate
    for m in w.FREE_MONEY.finditer(f):
        lo, hi = ctx.clause(m.start())
        if not ctx.warned(m.start()) and not w.DONE.search(f, lo, hi):
            ctx.add("prize", m.start(), m.end(), 2)
            break
    for m in w.FEE_EXTRA.finditer(f):
        _fee(ctx, m.start(), m.end(), m.group())


def _money_flags(ctx: _Context) -> None:
    """The message asks the reader to pay, transfer or lend."""
    f = ctx.folded
    for m in w.BORROW.finditer(f):
        if not ctx.warned(m.start()):
            ctx.add("asks_money", m.start(), m.end(), 2 if m.group().startswith("借") else 1)
            break
    for m in w.PAY.finditer(f):
        lo, hi = ctx.clause(m.start())
        asked = (
            w.REQUEST.search(ctx.before(m.start(), 12))
            or w.PAY_AFTER.match(f, m.end())
            or (m.start() == lo and not w.DONE.search(f, m.end(), hi))
        )
        if asked and not ctx.warned(m.start()):
            ctx.add("asks_money", m.start(), m.end(), 1)
            break


def _asks_for(ctx: _Context, cue: Cue) -> bool:
    """The message asks the reader to give this credential (not: keep it to yourself)."""
    f = ctx.folded
    lo = ctx.clause(cue.start)[0]
    if w.WARNING.search(f, lo, ctx.clause(cue.start)[1]):
        return False
    # the request may follow in the next clause of the sentence ("收到验证码，您念给我听")
    sentence_end = next((m.start() for m in w.SENTENCE.finditer(f, cue.end)), len(f))
    for m in w.GIVE.finditer(f, max(lo, cue.start - 12), min(sentence_end, cue.end + 24)):
        if cue.start <= m.start() < cue.end:
            continue  # "验证" inside 验证码
        if cue.code == "code" and m.group() in w.TYPE_IT:
            continue
        if w.IN_PERSON.search(ctx.before(cue.start, 8)):
            continue
        if m.start() > cue.end and w.WARNING.search(f, *ctx.clause(m.start())):
            continue
        masked = w.QUESTION_FORMS.sub(lambda q: "_" * len(q.group()), ctx.before(m.start(), 8))
        if not w.NEGATION.search(masked):
            return True
    return False


def _fee(ctx: _Context, s: int, e: int, word: str) -> None:
    if ctx.warned(s) or w.FREE.search(ctx.before(s, 4)) or w.FREE.search(ctx.after(e, 4)):
        return
    if w.STRONG_FEE.fullmatch(word):
        ctx.add("fee_first", s, e, 3)
    elif word in ("先交", "先付", "先缴") or w.PAY_BEFORE.search(ctx.before(s, 8)):
        ctx.add("fee_first", s, e, 2)
    elif word not in ("流水", "滞纳金", "违约金"):
        ctx.add("fee_first", s, e, 1)


def _secrecy(ctx: _Context, cue: Cue) -> None:
    lo, hi = ctx.clause(cue.start)
    # "不要告诉他人验证码" protects a credential; "别告诉你儿子" isolates the reader
    credential = any(
        c.code in ("code", "password", "card_number", "id_card") and lo <= c.start < hi
        for c in ctx.cues
    )
    if credential or re.search(r"诈骗|骗", ctx.folded[lo:hi]):
        return
    ctx.add("secrecy", cue.start, cue.end, 1 if cue.text in ("单独", "秘密") else 2)


def _find_personas(ctx: _Context) -> None:
    """Who the message claims to speak for, when it is someone the reader cannot see."""
    lo, hi = ctx.signature
    for cue in ctx.cues:
        if lo <= cue.start < hi:
            continue
        kind = w.PERSONA_CUES.get(cue.code)
        if kind is None and any(p in cue.text for p in w.PERSONA_WORDS.get(cue.code, ())):
            kind = "service"
        if kind == "official" and not w.POLICE.fullmatch(cue.text):
            continue  # "洗钱", "案件" are police words, not a persona
        if kind is not None and not ctx.warned(cue.start):
            ctx.personas.append((kind, cue.start, cue.end, cue.text))
    for m in w.SELF_INTRO.finditer(ctx.folded):
        if not ctx.warned(m.start()):
            kind = next(k for k, v in m.groupdict().items() if v)
            ctx.personas.append((kind, m.start(), m.end(), m.group(kind)))


def _combinations(ctx: _Context) -> None:
    """Flags that only two things together in one message raise (each rule a scam pattern)."""
    flags = ctx.flags
    kinds = {p[0] for p in ctx.personas}
    money = flags.get("asks_money") or flags.get("fee_first") or flags.get("safe_account")
    pressure = {
        "deadline_threat", "prize", "fee_first", "asks_credentials", "loan_credit", "too_good",
        "refund_offer", "asks_money", "safe_account", "secrecy",
    }  # fmt: skip
    strong_pressure = {c for c in pressure if ctx.strong(c)}
    if money is not None and ctx.personas:
        who = ctx.personas[0][3]
        ctx.add("authority_money", money.start, money.end, 3, who)
    if money is not None and ("new_number" in flags or "secrecy" in flags):
        ctx.add("authority_money", money.start, money.end, 3, "亲友")
        ctx.raise_to("secrecy", 3)
    accused = w.ACCUSED.search(ctx.folded)
    if accused and "official" in kinds and not ctx.warned(accused.start()):
        ctx.add("deadline_threat", accused.start(), accused.end(), 3, explain=w.ACCUSED_EXPLAIN)
    if ctx.personas and ctx.strong("deadline_threat"):
        ctx.raise_to("deadline_threat", 3)  # "我是…客服/…局的，您的账户异常"
    if kinds & {"official", "acquaintance", "expert"}:
        ctx.raise_to("channel_move", 3, w.PERSONA_CHANNEL_EXPLAIN)
    if ctx.personas:
        ctx.raise_to("channel_move", 2)
        ctx.raise_to("callback_unknown", 2)
        ctx.raise_to("too_good", 3)
    if "new_number" in flags and (
        ctx.personas or money or any(c.code == "relative" for c in ctx.cues)
        or w.GUESS_WHO.search(ctx.folded) or w.KIN_ADDRESS.match(ctx.folded)
    ):  # fmt: skip
        ctx.raise_to("new_number", 3)
    refund_with = {"asks_money", "fee_first", "asks_credentials", "remote_control", "loan_credit",
                   "channel_move", "link_unknown", "link_short", "qr_code"}  # fmt: skip
    if "refund_offer" in flags and (
        refund_with & set(flags) or "service" in kinds or w.MULTIPLE.search(ctx.folded)
    ):
        ctx.raise_to("refund_offer", 3)
    if "asks_money" in flags:
        ctx.raise_to("fee_first", 2)  # a fee named and a payment asked for
    if "prize" in flags and {"fee_first", "asks_credentials", "asks_money"} & set(flags):
        ctx.raise_to("prize", 3)
    if "loan_credit" in flags and {"asks_money", "fee_first"} & set(flags):
        ctx.raise_to("loan_credit", 3)
    if strong_pressure:
        for code in ("link_short", "link_unknown", "qr_code", "callback_unknown"):
            ctx.raise_to(code, 2)  # a link or a number plus pressure: the phishing formula
    if {"new_number", "channel_move", "too_good", "link_unknown", "link_short", "qr_code"} & set(
        flags
    ):
        ctx.raise_to("asks_money", 2)


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
