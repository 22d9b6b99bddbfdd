"""Cue rules for lesson lines: contacts (numbers, links, handles) and harmful advice.

Contacts are refused wherever they stand: lesson text carries no links, no account or card
numbers and no phone number that is not on the reviewed official list (knowledge/official.yaml).
Advice rules are negation-aware: a match counts only when its clause does not negate it
("不要把验证码告诉任何人"), its sentence does not call it a scam ("叫您转钱的都是骗子"), tell a
case ("王阿姨到银行要转十万元") or ask a question. In the 骗子怎么说 section the quoted scammer
speech (“…”) is what the lesson warns about, so only the text outside the quotes is read.
"""

from __future__ import annotations

import re
import unicodedata

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

# Advice rules: (kind, pattern). The kinds name what the advice makes a senior do.
_A = r"[^，,。！？!?；;\n]"  # any character inside one clause
_RULES: tuple[tuple[str, str], ...] = (
    (
        "move money",
        r"(?:(?:转|汇|打|存|划|挪|过账?|转存|付|交|分批存)(?:到|入|给|进|至|往)(?!了|过)|转入|存入|汇入|"
        r"打入|划转|转存|过一下账|往" + _A + r"{0,8}存入)" + _A + r"{0,14}?(?:账户|帐户|账号|帐号|"
        r"专户|卡|户头|户名|对方|公证处|平台)",
    ),
    (
        "move money",
        r"(?:把|将)"
        + _A
        + r"{0,10}(?:钱|款|存款|资金|余额|积蓄|养老钱|退休金|养老金|工资|现金)"
        + _A
        + r"{0,10}?(?:转|汇|打|存|划|挪|交给|(?<![退还])给|取出)(?!了|过)",
    ),
    (
        "move money",
        r"(?:请|先|马上|立刻|立即|尽快|赶快|赶紧|快|可以|应|应该|应当|需要|需|及时|继续|直接|放心|安心|就)"
        r"(?:把钱)?(?:转账|转钱|转款|汇款|汇钱|打款|打钱|付款|付钱|过账|转过去|汇过去|转出去|转入|操作转账)",
    ),
    (
        "move money",
        r"(?:转|汇|打)(?:过去|出去)(?:即可|就行|就好|吧|只是)|直接(?:转|汇|打)(?:过去|账|款|钱)",
    ),
    ("move money", r"(?:安全|监管|核查|清查|公证|核验|保管|验证)(?:账户|帐户|专户)"),
    (
        "pay a fee",
        r"(?:交|缴|付|支付|缴纳|补交|补缴|预付|先付|先交|交纳|垫付|充值|买)" + _A + r"{0,10}?"
        r"(?:手续费|保证金|解冻费|激活费|工本费|立案费|审核费|处理费|修复费|会员费|代理费|服务费|定金|押金|"
        r"税费|个税|所得税|关税|清关费|公证费|验证费|提成|律师费|追款费|佣金|认证费|保险|一笔|一半|"
        + _A
        + r"{0,3}(?<![水电气话学药])费(?!用))",
    ),
    (
        "pay a recovery service",
        r"(?:追款|追损|追回|维权|退款|挽损)(?:公司|律师|专员|机构|中心|服务|团队|App|APP|app|热线|专线|群)"
        r"|黑客|律师(?:费|帮您|能帮|团队)",
    ),
    (
        "pay a fee",
        r"(?:费|税|保证金|定金)" + _A + r"{0,8}(?:就能|即可|才能|后|完)" + _A + r"{0,4}"
        r"(?:追回|退回|到账|解冻|领取|领回|提现|退款|要回|恢复)",
    ),
    (
        "give a code or password",
        r"(?:验证码|校验码|动态码|动态口令|口令|密码|卡号|身份证号|CVV|安全码|有效期|三位数|几位数字|"
        r"那几位数|数字)"
        + _A
        + r"{0,10}?(?:告诉|告知|给|报|念|提供|发|回复|说给|说出|截图|拍照)(?!了|过)",
    ),
    (
        "give a code or password",
        r"(?:告诉|告知|提供|发送|报给|念给|发给|说出|报出|回复|交出|念出|报一下|说给)(?!了|过)"
        + _A
        + r"{0,10}?(?:验证码|密码|口令|卡号|身份证号|CVV|安全码|数字|有效期)",
    ),
    ("give a code or password", r"填(?:写|好|入)?" + _A + r"{0,4}(?:卡号|密码|验证码|身份证)"),
    (
        "give a code or password",
        r"(?:刷脸|刷一下脸|眨眼|摇头|张嘴|人脸识别|录"
        + _A
        + r"{0,4}视频)"
        + _A
        + r"{0,8}(?:即可|就好|就行|照做|配合|发过去)"
        r"|身份证"
        + _A
        + r"{0,8}(?:拍照|照片)"
        + _A
        + r"{0,6}发|U盾"
        + _A
        + r"{0,6}(?:插好|交给|给)",
    ),
    (
        "install an app or share the screen",
        r"(?:下载|安装|装上|装好|装一个|点开|开启|开通|授权|允许|仍然安装|打开(?!手机银行|微信))"
        + _A
        + r"{0,12}?(?:App|APP|app|软件|安装包|插件|程序|会议|屏幕共享|共享屏幕|远程|所有权限|权限)",
    ),
    (
        "install an app or share the screen",
        r"(?:开(?!了|过)|进入|加入|点(?:一下)?|输入|跟着|保持|接受|让"
        + _A
        + r"{0,4})"
        + _A
        + r"{0,6}"
        r"(?:屏幕共享|共享屏幕|远程控制|远程协助|远程操作|会议号|视频会议)|说点哪[里儿]就点哪",
    ),
    (
        "contact an unofficial helper",
        r"(?:添加|加)(?:我的|他的|对方的|专员)?(?:微信|QQ|qq|好友|专员|客服)|关注"
        + _A
        + r"{0,6}公众号"
        r"|扫(?:一下|描)?"
        + _A
        + r"{0,8}(?:二维码|码)|(?:点|点击|点开|打开|进入|访问)"
        + _A
        + r"{0,8}(?:链接|网址|网页)(?!了|过)",
    ),
    (
        "lie to the bank or hide it from family",
        r"(?:柜员|柜台|银行|工作人员|家人|家里人|家属|子女|儿女|民警|警察|客户经理|回访)[^。！？；\n]{0,16}"
        r"(?:就说|就讲|说是|讲是|说明是|就回答|回答“|解释|说子女|告诉他们)|(?:问|问起|追问|询问|问到)"
        r"[^。！？；\n]{0,8}(?:就说|就讲|说是|说明是|就回答|就答|回答“)",
    ),
    (
        "lie to the bank or hide it from family",
        r"(?:删掉|删除|清空)" + _A + r"{0,6}(?:聊天记录|记录|短信|通话)"
        r"|(?:拆成|分成|分几笔|分批|换一家银行|换个银行)" + _A + r"{0,8}(?:转|汇|存|取)",
    ),
    ("hide it from family", r"瞒着|悄悄|偷偷|背着|回拨" + _A + r"{0,8}(?:对方|短信里|留下|留的)"),
    (
        "trust the caller",
        r"(?:说明|证明|可见|所以)(?:他|对方|这|确实|真的|肯定)?(?:是|就是|确实是|真是)?(?:真|真的|真警察|"
        r"警察|官方|正规|真案子|办案人员|可信)|(?:肯定|一定|确实|就是|绝对)是?(?:真警察|真的|官方的|正规的|"
        r"真案子|可信)",
    ),
    (
        "trust a stranger",
        r"(?:放心|安心)(?:地)?(?:配合|相信|安装|下载|转|汇|操作|照做|点|交|告诉|给)"
        r"|可以相信(?:他|她|对方|客服|民警|警察|他们|是|这)",
    ),
    (
        "trust the caller",
        r"(?:积极)?配合(?:调查|办案|核查|清查|验资|资金|操作|提供|一下)|照办|照做|照着做"
        r"|按(?:他|对方|客服|民警|警官|电话里|老师|导师)"
        + _A
        + r"{0,6}(?:说的|指示|要求|提示|指引|"
        r"教的|安排|指令)|听(?:他|对方|客服)(?:的)?安排|跟着" + _A + r"{0,6}(?:走流程|操作)"
        r"|(?:这是|是)(?:公安|警方|银行|官方)?的?(?:正常|常规|正规)(?:流程|程序|做法|办案方式)"
        r"|保持通话|一直通话",
    ),
    # English and other injected wording (a model leaving Chinese or a pasted line)
    (
        "move money",
        r"\b(?:transfer|wire|send|move|moving|pay|deposit)\b[^.!?;\n]{0,30}?"
        r"\b(?:money|funds|cash|savings|payment|them|account)\b",
    ),
    (
        "give a code or password",
        r"\b(?:tell|give|share|send|read|provide)\b[^.!?;\n]{0,24}?\b(?:codes?|passwords?|pins?|otp)\b",
    ),
    (
        "install an app or share the screen",
        r"\b(?:download|install)\b[^.!?;\n]{0,30}\b(?:app|software|apk)\b|\bshare (?:your|the) screen\b",
    ),
    ("pay a recovery service", r"\b(?:recovery|upfront fee|hire a (?:lawyer|hacker|agent))\b"),
    ("lie to the bank or hide it from family", r"\bjust say\b|\bdon['’]t tell\b"),
    (
        "trust the caller",
        r"\bmust (?:really )?be\b|\bso (?:he|she|they|it) (?:is|are|must be)\b"
        r"|\bdo (?:what|as) (?:he|she|they) (?:says?|tells?)\b|\breal police\b",
    ),
)
_COMPILED = tuple((kind, re.compile(pattern, re.I)) for kind, pattern in _RULES)
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
