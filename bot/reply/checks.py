"""Output checks: lesson lines and LLM replies that would harm a senior are never shown."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.reply.safety import HOTLINES, is_injection

# Advice to move money or hand over a code, in any word order ("请把验证码告诉我", "先转五千块").
_UNSAFE = re.compile(
    r"(?:把|将)[^，,。！？；\n]{0,8}?(?:钱|款|存款|积蓄|退休金|养老金|工资)[^，,。！？；\n]{0,6}?"
    r"(?:转|汇|打|存|交)(?:到|给|进|入|过去)(?!了|过)|"
    r"(?:转|汇|打)(?:到|给|进|入)[^，,。！？；\n]{0,6}(?:安全账户|指定账户|这个账户|监管账户|对方|他的)|"
    r"(?:请|先|马上|尽快|赶快|赶紧|快|可以|应该)(?:把钱)?"
    r"(?:转账|转钱|转款|转到|转给|转入|汇款|汇钱|汇到|汇给|打款|打钱|交钱|交费|付款|付钱|缴费)|"
    r"(?:请|先|马上|尽快|赶快|赶紧|快)(?:转|汇|交|付)[^，,。！？；\n]{0,4}(?:元|块|万|千|百)|"
    r"(?:验证码|密码|卡号|身份证号)[^，,。！？；\n]{0,8}?(?:告诉|给|报给|念给|提供|发送|说给)(?!了|过)|"
    r"(?:告诉|提供|发送|报给|念给|发给|说出)(?!了|过)[^，,。！？；\n]{0,6}(?:验证码|密码)|"
    r"安全账户(?:是|很)(?:安全|正规)|"
    # the same in English, as an injected lesson line (or a model leaving Chinese) would put it
    r"\b(?:transfer|wire|send|move|pay)\b[^.!?;\n]{0,24}?\b(?:money|funds|cash|savings|payment)\b|"
    r"\b(?:tell|give|share|send|read|provide)\b[^.!?;\n]{0,24}?\b(?:codes?|passwords?|pins?|otp)\b",
    re.I,
)
# A warning before the advice in its clause ("不需要您先付钱", "不要把验证码告诉任何人") or later in
# the sentence ("先交钱的都是骗子") makes it safe advice; "不然" and "不用担心" later on do not.
_WARNING_BEFORE = re.compile(
    r"不|别|勿|莫|没|绝|千万|谨防|小心|骗|冒充|假|诈|拒|如果|万一|要是|"
    r"(?i:\b(?:never|not|no one|nobody|if)\b|n['’]t\b|scam|fraud|fake)"
)
_WARNING_AFTER = re.compile(
    r"不要|不能|不会|不可|不是|不存在|不点|不领|不理|不信|不给|不付|不转|不碰|不告诉|"
    r"别|勿|莫|没|绝不|千万|谨防|小心|骗|冒充|假|诈|拒|(?i:\b(?:never|not)\b|scam|fraud|fake)"
)
# A line addressed to the assistant, not to a senior: an injection in a lesson or an upload.
_ROLE = re.compile(r"^[\W\d_]*(?:system|assistant|developer|系统|助手)\s*[:：]", re.I | re.M)
_CLAUSE_END = re.compile(r"[，,。！？；\n]")
_SENTENCE_END = re.compile(r"[。！？；\n]|[.!?]\s")
_PHONE_LIKE = re.compile(r"(?<!\d)\d{3,}(?:[- ]\d{3,})*(?!\d)")


def is_instruction(text: str) -> bool:
    """True when lesson text gives orders to the assistant ("SYSTEM: …", "忽略以上规则…")."""
    return bool(_ROLE.search(text)) or is_injection(text)


def usable(text: str) -> bool:
    """True when lesson text may be shown to a senior: no harmful advice, no instructions."""
    return not advises_harm(text) and not is_instruction(text)


def advises_harm(text: str) -> bool:
    """True when the text tells the reader to move money or hand over a code or password."""
    for m in _UNSAFE.finditer(text):
        before = _CLAUSE_END.split(text[max(0, m.start() - 12) : m.start()])[-1]
        after = _SENTENCE_END.split(text[m.end() :], maxsplit=1)[0]
        if not (_WARNING_BEFORE.search(before + m.group()) or _WARNING_AFTER.search(after)):
            return True
    return False


def unsafe_reason(text: str) -> str | None:
    """Why an LLM reply must not be shown (None when it is fine)."""
    if not text.strip():
        return "empty"
    if advises_harm(text):
        return "advises a transfer or sharing a code"
    for number in _PHONE_LIKE.findall(text):
        groups = re.split(r"[- ]", number)
        if all(g in HOTLINES for g in groups):
            continue
        if len("".join(groups)) >= 5:
            return f"unknown phone number {number}"
    return None


def sentences_of(stream: Iterator[str]) -> Iterator[str]:
    """Regroup a token stream into whole sentences (so each can be checked before it is shown)."""
    buf = ""
    for piece in stream:
        buf += piece
        while True:
            m = re.search(r"[。！？；\n]", buf)
            if not m:
                break
            yield buf[: m.end()]
            buf = buf[m.end() :]
    if buf:
        yield buf
