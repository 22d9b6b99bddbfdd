"""The concrete things a question or a message names (a link, 验证码, screen sharing…), with spans.

One lexicon for the question reading (bot/reply/reading.py) and the message check
(bot/reply/scan.py): each cue is a code, the exact span it came from and its text. Cues say what
is *named*, not whether it is dangerous: "别告诉别人验证码" names a code too; the reading and the
scan decide what the words around it mean.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.records import Cue

# code -> pattern. Written for how seniors type: homophones (验正码), dialect (钞票), no spaces.
_PATTERNS: dict[str, str] = {
    "link": r"(?:https?://|www\.)[^\s，。！？、；“”\"'<>（）()【】]+|"
    r"(?<![\w.@])(?:[a-z0-9-]+\.)+(?:cn|com|net|top|xyz|cc|vip|shop|club|info|org|icu|me|io|co|"
    r"site|online|fun|wang|ltd|tk|ml|live|link|app)(?:/[^\s，。！？、；“”\"'<>（）()]*)?(?![\w.])|"
    r"链接|网址|网站|点开|点进去|点了一下|点击",
    "qr_code": r"二维码|扫码|扫一扫|扫了|扫个码|扫一下",
    "code": r"验证码|验正码|验证吗|校验码|动态码|短信码|短信里的数字|那几个数字|几位数|"
    r"[0-9一二三四五六七八]位数|(?<![a-z])(?:otp|code)(?![a-z])",
    "password": r"密码|口令|支付码|password|pin码",
    "card_number": r"卡号|银行卡号|卡的号码|卡背面的三位|安全码|cvv|有效期",
    "id_card": r"身份证|身份号码|证件照",
    "face": r"人脸|刷脸|眨眼|摇头|面部识别|脸部识别|录个脸",
    "screen_share": r"屏幕共享|共享屏幕|共享一下屏幕|开共享|打开共享|共享开着|远程控制|远程协助|远程操作|"
    r"看我的屏幕|看我手机屏幕",
    "meeting_app": r"会议软件|会议app|视频会议|腾讯会议|zoom|钉钉会议|会议号|会议室号|"
    r"进(?:个|一个)?会议|开会议",
    "download": r"下载|安装|装(?:一个|个|了|上)?(?:app|软件|程序)|装上|apk",
    "transfer": r"转(?=[\d一二两三四五六七八九十几]+[万千百块元])|转账|转帐|转钱|转了|转过去|转出去|汇款|汇钱|汇过去|打钱|打款|打过去|付款|"
    r"付钱|交钱|存到|存进|挪到|划到|转到|转给|转进",
    "safe_account": r"安全账户|安全帐户|安全账号|监管账户|监管帐户|资金核查|资金清查|清查账户|"
    r"指定账户|指定帐户|核验账户|公证账户|国家账户|保密账户|验资|验证账户|保全账户|理赔账户",
    "video_call": r"视频通话|视频电话|打视频|开视频|视频里|视频上|视频聊|视频了|视频过来|视频",
    "voice": r"声音|嗓音|语音|声调|口音",
    "call": r"电话|打来|来电|致电|通话|接到.{0,4}电话|打给我|打我手机",
    "sms": r"短信|信息|消息|【[^【】\n]{2,12}】|彩信",
    "wechat": r"微信|vx|v信|朋友圈|公众号|小程序|群里|微信群|加好友|好友",
    "parcel": r"快递|包裹|物流|丢件|件丢了|取件|驿站|运单",
    "refund": r"退款|退钱|退费|理赔|赔付|赔偿|补偿|返还|退货|赔你|赔您|双倍赔",
    "fee": r"保证金|手续费|解冻费|税费|个税|激活费|刷流水|流水|工本费|会员费|服务费|押金|滞纳金|"
    r"违约金|认证费|解封费|包装费|通道费|入会费|定金|订金|先交|先付|先缴|交税|缴税|保释金|罚款|罚金",
    "etc": r"etc|ETC|高速卡|通行卡|速通卡",
    "medical_insurance": r"医保|医疗保险|医保卡|医保账户|医保局",
    "social_security": r"社保|社保卡|社会保障卡|养老保险|资格认证|人社局|12333",
    "pension": r"养老金|退休金|退休工资|养老钱|个人养老金",
    "relative": r"孙子|孙女|外孙|外孙女|儿子|女儿|儿媳|女婿|侄子|侄女|外甥|老伴|亲戚|家里人|家人|"
    r"我妈|我爸|老妈|老爸|大姐|小妹|弟弟|妹妹|哥哥|姐姐|孙儿|孩子",
    "leader": r"领导|老领导|局长|处长|主任|老板|厂长|书记|上级|单位的人",
    "teacher": r"老师|班主任|校长|辅导员|教练",
    "classmate": r"老同学|同学|老战友|战友|老同事|同事|老朋友|发小|老乡",
    "police": r"公安|警察|民警|警官|派出所|刑警|公检法|检察院|检察官|法院|法官|通缉|逮捕|拘留|"
    r"洗钱|涉案|案件|立案|警号|警官证|抓(?:我|你|您|他|她)?(?:儿子|女儿|孙子|孙女|人)|坐牢|判刑|保释",
    "customer_service": r"客服|售后|淘宝|京东|拼多多|抖音|电商|店家|卖家|商家|平台",
    "bank_staff": r"银行|柜员|柜台|大堂经理|网点|取款机|atm|ATM|手机银行|网银|营业厅",
    "amount": r"(?<![\d.])\d+(?:\.\d+)?\s*(?:万元|万块|万|千元|千块|千|百元|百块|元|块钱|块)|"
    r"[一二两三四五六七八九十几百千]+(?:十|百|千)?(?:万|千)(?:块|元)?(?:钱)?|"
    r"[一二两三四五六七八九十几]+(?:十|百)?(?:块|元)钱?",
    "prize": r"中奖|中了|幸运观众|幸运用户|抽中|奖品|奖金|大奖|领奖|兑奖|积分兑换|积分清零|积分",
    "loan": r"贷款|借款|网贷|小额贷|额度|放款|秒批|无抵押|信用卡|提额|办卡|分期",
    "credit_repair": r"征信|修复|洗白|校园贷|学生贷|注销.{0,4}(?:账户|贷款|网贷)|黑名单",
    "utility": r"电费|燃气费|燃气|煤气费|水费|停电|停气|停水|欠费|电力|供电|国家电网",
    "deadline": r"清零|今天之内|今日内|今天内|今天必须|马上|立刻|立即|尽快|\d+\s*小时内|"
    r"[一二两三几]+(?:个)?小时内|逾期|过期|到期|冻结|停用|注销|作废|失效|封号|限期|截止|最后一天",
    "secrecy": r"保密|别告诉|不要告诉|不能告诉|不许告诉|别跟.{0,6}说|不要跟.{0,6}说|不要声张|"
    r"别声张|单独|一个人去|找个没人的|关上门|秘密",
    "high_return": r"高收益|高回报|高息|稳赚|保本|包赚|日赚|月入|年化|收益率?|利息|分红|回报|"
    r"翻倍|返利|返现|佣金|提成|躺赚|内幕|一本万利|稳赚不赔",
    "new_number": r"这是新号|新微信|微信被封|手机掉了|换号了|换了号|换了手机号|换新号|新号码|这是我的?新号|号码换了|手机丢了|"
    r"原来的号|原号码|存一下新号",
    "channel_move": r"添加专员|加专员|wx[:：]|\+V|私人微信|加(?:我|个)?(?:qq|QQ|微信|vx|好友)|私聊|私信|加群|进群|"
    r"拉你进群|下载.{0,6}(?:聊天|私聊)|换个(?:软件|地方|app)聊|到.{0,4}(?:app|软件|平台)(?:上|里)(?:聊|联系)",
}

_COMPILED: tuple[tuple[str, re.Pattern[str]], ...] | None = None


def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    global _COMPILED
    if _COMPILED is None:  # compiled on first use, not at import
        _COMPILED = tuple((code, re.compile(p, re.I)) for code, p in _PATTERNS.items())
    return _COMPILED


CODES: tuple[str, ...] = tuple(_PATTERNS)


@lru_cache(maxsize=4096)
def find_cues(text: str) -> tuple[Cue, ...]:
    """Every cue named in text, in order of position (a code may occur more than once)."""
    found: list[Cue] = []
    for code, pattern in _compiled():
        for m in pattern.finditer(text):
            if m.end() > m.start():
                found.append(Cue(code, m.start(), m.end(), m.group()))
    return tuple(sorted(found, key=lambda c: (c.start, c.code)))


def cue_codes(text: str) -> frozenset[str]:
    """The set of cue codes named in text."""
    return frozenset(c.code for c in find_cues(text))


# What a senior can lose, named in a text: money, codes, card details, control of the phone.
AT_STAKE: frozenset[str] = frozenset(
    {"transfer", "amount", "fee", "code", "password", "card_number", "safe_account",
     "screen_share", "meeting_app", "download", "face", "id_card"}
)  # fmt: skip
