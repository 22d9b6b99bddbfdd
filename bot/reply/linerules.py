"""Cue rules for lesson lines: contacts (numbers, links, handles) and harmful advice.

Contacts are refused wherever they stand: lesson text carries no links, no account or card
numbers and no phone number that is not on the reviewed official list (knowledge/official.yaml).
Advice rules are negation-aware: a match counts only when its clause does not negate it
("不要把验证码告诉任何人"), its sentence does not call it a scam ("叫您转钱的都是骗子"), tell a
case ("王阿姨到银行要转十万元") or ask a question. In the 骗子怎么说 section the quoted scammer
speech (“…”) is what the lesson warns about, so only the text outside the quotes is read.
The advice patterns themselves are in bot.reply.lineadvice.
"""

from __future__ import annotations

import re
import unicodedata

from bot.reply.lineadvice import COMPILED as _COMPILED
from bot.reply.lineadvice import A as _A
from bot.reply.links import check_number, find_links, fold
from bot.reply.official import Official

SCAMMER_SECTION = "骗子怎么说"

# A few traditional characters of the advice vocabulary, so 請將存款轉入 reads as 请将存款转入.
_TRAD = str.maketrans(
    "轉匯帳戶驗證碼訴請將撥詐騙載軟體開啟螢會議說給買兒問櫃員對視頻話確實辦聯繫續費線熱詢錢項餘額"
    "專護監們這裡麼讓號聽寫發應該經過還來時後與歸碼償難輸勿權點擊帶裝納險賬鏈領貼資廣",
    "转汇帐户验证码诉请将拨诈骗载软体开启萤会议说给买儿问柜员对视频话确实办联系续费线热询钱项余额"
    "专护监们这里么让号听写发应该经过还来时后与归码偿难输勿权点击带装纳险账链领贴资广",
)
_CLAUSE = re.compile(r"[，,。！？!?；;：:\n、]")
_SENTENCE = re.compile(r"(?<=[。！？!?；;\n])")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|「[^」]*」|『[^』]*』")
# "不要犹豫" / "不用担心" negate a feeling, not the advice that follows them.
_NOT_A_WARNING = re.compile(
    r"(?:不要|别|不用|不必|无需|不需要|毋须)(?:再)?(?:犹豫|担心|害怕|紧张|着急|慌张?|多想|迟疑|"
    r"顾虑|怕|麻烦|急)(?=[，,。！!；;\s]|$)|\bdon['’]t (?:worry|hesitate)\b|\bno need to worry\b",
    re.I,
)
_NEGATION = re.compile(
    r"不|别|勿|莫|没|未|绝|千万|谨防|小心|拒|防止|避免|以防|谁|无论|任何"
    r"|\b(?:never|not|no|nobody|no one|don['’]?t|do not|refuse)\b|n['’]t\b",
    re.I,
)
# A sentence that calls the thing a scam, tells what a scammer does, or tells a case: what it
# names is warned against, unless it also vouches for it ("…说明是真警察，可以照做").
_WARNED = re.compile(
    r"(?<![不非])(?:都|就|一定|肯定|全|准|多半|往往|很可能|可能|多|也|还|必然)?是(?:骗子|骗局|诈骗|假的|假冒|"
    r"冒充|圈套|陷阱|套路|在骗|托|坑)|骗子(?:们)?(?:会|常|常常|总|就|又|还|先|再|一般|偏偏){0,2}(?:让|叫|"
    r"要|教|说|冒充|自称|假装|骗|诱导|催|常用|能|手里|故意)|(?:对方|他们|有人|陌生人|假客服|"
    r"假警察|谁)(?:会|常|常常|总|就|又|还|先|再|一|在电话里){0,2}(?:让|叫|要|要求|教|诱导|催|哄|骗)"
    r"|(?:要|让|叫|催|逼|教|哄|诱导|逼着|非要|劝)(?:您|你)|对方(?:就|又|还)?说|(?:就|又|还|便|总)说(?:要|您|你)|有问题|假|自称|(?:对方|骗子)[^，。]{0,4}能看(?:到|见)|都能看(?:到|见)|谨防|警惕|当心|提防|别信|不要信|不信|"
    r"^冒充|冒充[^，。]{0,8}(?:的|者|人员|警察|公安|客服|亲友|熟人|领导)|"
    r"不听|别上当|识破|骗术|案例|阿姨|老伯|伯伯|大爷|大妈|奶奶|爷爷|老太|老先生|她|二次诈骗|"
    r"^(?:讲清|讲到|提醒|教|带大家|一句话记住|口诀|鼓励|讲课|现场)|\b(?:scam|fraud|fake|scammers?)\b",
    re.I,
)
# A warning later in the sentence ("…填银行卡或验证码，就不要点") or a past case ("填过卡号：马上
# 打银行电话") spares the plain advice rules, not the firm ones.
_AFTER = re.compile(
    r"不要|不能|不会|不可|不是|不存在|不点|不领|不理|不信|不给|不付|不转|不碰|不告诉|不扫|不装|不下载|"
    r"不用|不必|不需要|无需|没有|但|可是|而是|别|勿|莫|绝不|千万|谨防|小心|拒|退出|挂断|"
    r"\b(?:never|not)\b"
)
_PAST = re.compile(r"[填交转借汇付点扫装打报说输开载](?:了|过)|^一(?:开|点|扫|装)|\bif\b", re.I)
# Vouching for a step ("放心转入", "链接是官方的", "不要紧", "并不是骗局").
_ENDORSE = re.compile(
    r"照做|照办|即可|就行|就好|就可以了|放心|没关系|没有风险|没风险|没事|不要紧|不碍事|不会少|不用担心|"
    r"为了保护您|是真的|是正常(?:的)?(?:流程|程序|做法|办案)|省心|举手之劳|唯一办法|是官方的|官方发的|"
    r"就是官方|确实是|可以相信|说明(?:是|确实|情况属实|案件)|(?:不|并不|并非)是(?:骗子|骗局|诈骗|假的)|"
    r"\b(?:just|safe to|so they|so he|so she|do what)\b",
    re.I,
)
# What vouching must be about to be harmful: a step a scam needs, or the caller.
_RISKY = re.compile(
    r"对方|客服|民警|警察|检察官|警官|律师|黑客|专员|陌生|安全账户|监管|专户|核查账户|官方账户|验证码|密码|"
    r"链接|下载|安装|卸载|共享|远程|刷脸|人脸|眨眼|解冻费|手续费|代理费|保证金|悄悄|瞒|逮捕令|通缉令|"
    r"汇过去|转过去|转进去|转入|汇入|配合|\b(?:police|officer|caller|code|password|transfer|link)\b",
    re.I,
)
_LABEL = re.compile(r"(?<![不非])是(?:骗子|骗局|诈骗|假的)|一律|千万|都是骗|就是骗|危险")
_QUESTION = re.compile(r"[？?]\s*$")

# Rules whose wording is itself a negation ("不要告诉家人", "不用理会银行的提醒"), read apart.
_HIDE_TELL = re.compile(
    r"(?:不要|别|不能|不许|不准|不用|千万别|千万不要|不可以)(?:告诉|告知|跟|和|让|提|说|讲|通知)"
    + _A
    + r"{0,6}(?:家人|家里|子女|儿女|儿子|女儿|孩子|老伴|亲戚|任何人|银行|柜员|工作人员|民警|警察|别人|外人)"
)
_HIDE = re.compile(
    r"(?:不要|别|不能|不用)(?:去)?报警|(?:不需要|无需|不用|不必|没必要)(?:再)?(?:拨打|打|向|去|找)?"
    + _A
    + r"{0,6}(?:核实|求证|核对|确认|问一问)|(?:卸载|删掉|关掉|关闭)"
    + _A
    + r"{0,6}(?:反诈|预警|拦截)"
    r"|说(?:自己)?没(?:有)?接到|回答“?没有"
    r"|(?:反诈|预警|拦截)[^。]{0,12}(?:卸载|删掉|关掉|关闭)"
    r"|(?:挂断|不接|别接|拒接)"
    + _A
    + r"{0,4}96110|(?<!“)保密(?!”)|误报|误发|误拦|连"
    + _A
    + r"{0,4}也不能说"
    r"|(?:不要|别)让"
    + _A
    + r"{0,4}(?:家人|子女|工作人员|柜员)|(?:不要|别|不必|不用)(?:挂断|挂电话|怀疑|核实)"
)
# What the hide rule needs nearby: the bank, family, a warning ("不用理会陌生来电" is fine advice).
_HIDE_CONTEXT = re.compile(
    r"提示|提醒|劝阻|预警|风险|警告|拦|柜员|柜台|银行|民警|警察|96110|12381|家人|家里|子女|儿女|孩子|"
    r"工作人员|任何人|误报|误发|办案|调查|案件|机密|协议|陪同|报警|核实|挂断|挂电话|怀疑|转账|求证|确认|"
    r"对方|来电|电话|反诈|误拦"
)
# Safe company for some words: "密码要保密", "安装国家反诈中心App", "96110来电别挂断".
_EXEMPT = re.compile(
    r"国家反诈中心|反诈中心App|官方应用商店|应用市场(?!以外|之外)|应用商店(?!以外|之外)|手机自带|密码要保密|关怀模式|长辈模式|"
    r"大字版|96110|12381|官方App|官方渠道|官方生活缴费|官方电话|官方客服|营业厅|正常的服务"
)
_AMOUNT_UNIT = re.compile(
    r"^\s*(?:元|块|万|千|百|亿|年|月|日|天|号|%|％|位|个|次|岁|分|秒|小时|点|笔|倍|张|条|人|户|多|余|"
    r"斤|克|米|公里|期|折|届|层|楼|周|份|种|件|部|台|款|级|k|K|w|W)"
)
_DIGITS = re.compile(r"(?<![\d])\+?\d{2,}(?:[- ]\d{2,})*(?![\d])")
_HANDLE = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z][A-Za-z0-9]*(?:[_.-][A-Za-z0-9]+)+|"
                     r"(?<![A-Za-z0-9_])[A-Za-z]+\d+[A-Za-z0-9]*")  # fmt: skip


_IGNORE = re.compile(r"(?:不用|不必|无需|别|不要)(?:理会|理|管|听|在意)(?!信)")
_IGNORED = re.compile(r"提示|提醒|劝阻|预警|风险|警告|误报|误发|拦截|柜员|民警|96110|12381")
# A lecture note or a case told about someone: it describes the scam, it gives no advice.
_NARRATIVE = re.compile(
    r"^(?:案例|时长建议|讲清|讲到|提醒|教|带大家|一句话记住|口诀|鼓励|讲课|现场)|阿姨|老伯|大爷|大妈|奶奶|"
    r"爷爷|老太"
)


def normalise(text: str) -> str:
    """Half-width, simplified-character text for the rules (and the encoder)."""
    text = unicodedata.normalize("NFKC", text).translate(_TRAD)
    return text.replace("萤幕", "屏幕")


def contact_reason(text: str, official: Official | None) -> str | None:
    """Why the line carries a contact no lesson may give: a link, an account or unknown number."""
    norm = normalise(text)
    if official is not None and find_links(fold(norm), official):
        return "a link or web address (lesson text never carries links)"
    if re.search(r"https?://|www\.", norm, re.I):
        return "a link or web address (lesson text never carries links)"
    for m in _DIGITS.finditer(norm):
        digits = re.sub(r"\D", "", m.group())
        if len(digits) >= 12:
            return f"an account or card number ({m.group()[:4]}…)"
        if len(digits) < 5 or _AMOUNT_UNIT.match(norm[m.end() :]):
            continue
        if official is not None and check_number(m.group(), official).known:
            continue
        return f"a phone or account number not on the official list ({m.group()})"
    for m in _HANDLE.finditer(norm):
        if not _AMOUNT_UNIT.match(norm[m.end() :]):
            return f"a contact handle ({m.group()})"
    return None


def advice_reason(text: str, section: str = "") -> str | None:
    """The kind of harmful advice the line gives (None when the rules find none)."""
    view = normalise(text)
    if section == SCAMMER_SECTION:
        view = _QUOTED.sub("“”", view)
    view = _NOT_A_WARNING.sub(lambda m: "，" + "　" * (len(m.group()) - 1), view)
    narrative = bool(_NARRATIVE.search(view.strip()))
    outside = _QUOTED.sub("", view)
    if outside != view and (_WARNED.search(outside) or _REPORTED.search(outside)):
        view = _QUOTED.sub("“”", view)  # quoted speech the line itself warns against
    for sentence in _SENTENCE.split(view):
        if not sentence.strip() or _QUESTION.search(sentence) or narrative:
            continue
        endorsed = vouches(sentence)
        if _WARNED.search(sentence) and not endorsed:
            continue
        risky = [
            m
            for m in _RISKY.finditer(sentence)
            if not _NEGATION.search(_clause_at(sentence, m.start())[: m.end() - m.start() + 8])
        ]
        if endorsed and risky and not _EXEMPT.search(sentence):
            return f"vouches for a risky step or the caller: “{risky[0].group()}”"
        reason = _firm_reason(sentence)
        if reason:
            return reason
        past = bool(_PAST.search(sentence))
        for kind, rule in _COMPILED:
            if past and kind not in _FIRM:
                continue
            for m in rule.finditer(sentence):
                clause_start = max(sentence.rfind(c, 0, m.start()) for c in "，,：:、") + 1
                before = sentence[clause_start : m.end()]
                firm = kind in _FIRM
                if not firm and (
                    _NEGATION.search(before)
                    or _AFTER.search(sentence[m.end() :])
                    or _CONTRAST.search(sentence[: m.start()])
                ):
                    continue
                if _EXEMPT.search(sentence):
                    continue
                return f"advice to {kind}: “{m.group()}”"
    return None


def vouches(sentence: str) -> bool:
    """True when the sentence vouches for something ("放心转入", "不要紧"), not "都别照做"."""
    if _LABEL.search(sentence):
        return False
    for m in _ENDORSE.finditer(sentence):
        if m.group()[0] in "不没并" or not _NEGATION.search(
            sentence[max(0, m.start() - 2) : m.start()]
        ):
            return True
    return False


def protective(text: str, section: str = "") -> bool:
    """True when the line plainly warns or points to an official channel and vouches for nothing.

    Such a line is not refused on the similarity model alone: the encoder's vectors hardly see
    a negation, so "若有人要您把钱存到指定卡，请立即挂断并报警" sits close to the harmful lines.
    """
    view = normalise(text)
    if section == SCAMMER_SECTION:
        view = _QUOTED.sub("", view)
    if any(vouches(s) for s in _SENTENCE.split(view)):
        return False
    return bool(_PROTECT.search(view) or _WARNED.search(view) or _NARRATIVE.search(view.strip()))


# "钱不是转给本人，而是转到…" describes the trick, it does not ask for it.
_CONTRAST = re.compile(r"不是|并非|而不是")
_PROTECT = re.compile(
    r"(?:不|别)[找信理加扫交付借买签装接回点转给]|到银行|去银行|到网点|银行开户|挂断|挂掉|报警|110|96110|12315|12345|12333|12381|95\d{3}|不要点|不点|别点|不转|别转|不给|别给|"
    r"不告诉|如实|说实话|照实|官方渠道|冻结|止付|投诉|备案|合同|发票|收据|商量|网点|柜台|营业厅|"
    r"以当地|以实际|警惕"
)
_REPORTED = re.compile(r"原话|这句话|这种话|这类话|说法|挂断|警惕|报警")


def _firm_reason(sentence: str) -> str | None:
    """Advice whose wording is itself a negation: hide it, ignore a warning, skip checking."""
    if _IGNORE.search(sentence) and _IGNORED.search(sentence):
        return "advice to ignore a warning from the bank or the police"
    if _EXEMPT.search(sentence) or not _HIDE_CONTEXT.search(sentence):
        return None
    tell = _HIDE_TELL.search(sentence)
    if tell and not re.search(r"验证码|密码|卡号|身份证|个人信息|陌生|吓住", sentence):
        return f"advice to hide it from family or the bank: “{tell.group()}”"
    hide = _HIDE.search(sentence)
    if hide:
        return f"advice to lie to the bank, hide it or ignore a warning: “{hide.group()}”"
    return None


# Advice that a condition or a "别…" elsewhere in the sentence does not make safe.
_FIRM = frozenset({"lie to the bank or hide it from family", "trust the caller"})


def _clause_at(sentence: str, pos: int) -> str:
    parts = _CLAUSE.split(sentence[pos:], maxsplit=1)
    start = max(sentence.rfind(c, 0, pos) for c in "，,。！？!?；;：:\n、") + 1
    return sentence[start:pos] + parts[0]


def rule_reason(text: str, section: str, official: Official | None) -> str | None:
    """Why the cue rules refuse the line (a contact or harmful advice), or None."""
    return contact_reason(text, official) or advice_reason(text, section)
