"""The fixed templates: every sentence of a reply is one of these or a line of a lesson.

Kept apart from the composer so the content team (and the tests that fail on any invented
line) read them in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

EMERGENCY_CARD = (
    "先别慌，马上报警、冻结账户，做这四件事：\n"
    "1. 立刻挂断电话、关闭屏幕共享，不再按对方说的做。\n"
    "2. 拨打110报警，或拨打96110反诈专线。\n"
    "3. 打银行卡背面的官方客服电话，要求紧急止付、冻结账户。\n"
    "4. 保留聊天记录、转账凭证和对方账号，交给警察。"
)
STOP_HEAD = "先别转！先停下来："
STOP_ACTIONS = {
    "screen_share": "马上关掉屏幕共享，退出对方让您进的会议软件。",
    "call": "挂断电话，不再听对方的。",
    "video_call": "挂断视频，不再听对方的。",
    "atm": "离开取款机，先别操作。",
    "coached": "对柜员说实话：有人在电话里教您这样说、让您转钱，柜员会帮您。",
    "code": "验证码、密码一个数字也别说。",
    "transfer": "钱先别转，也别再输密码。",
    "official": "银行和反诈中心的提醒是真的，请听他们的。",
}
STOP_CALL = (
    "拿不准就拨打110，或拨打96110反诈专线问一问；已经转了钱，马上打银行卡背面的电话止付、冻结。"
)
DISTRESS = (
    "您先别难过，钱的事可以想办法，您的安全最要紧，您不是一个人。\n"
    "心里难受，可以拨打12356心理援助热线，有人愿意听您说。\n"
    "如果觉得有危险，马上拨打110或120。\n"
    "现在就告诉一位家人或信得过的人，请他来陪陪您。"
)
VERDICTS = {
    "scam": "这很可能是骗局。",
    "code": "不能给，别念给任何人。验证码、密码谁要都不给。",
    "did_right": "您做得对。",
    "official": "这是官方的真提醒，请照着做。",
    "legit": "在银行柜台、官方App办的存款是正规业务，利率以网点公布的为准。",
    "family": "自己或家人要用，一般没问题；陌生人叫您这样做、要钱要验证码，才是骗局。",
}
ASK_STAFF = "拿不准就到网点当面问，或打银行卡背面的官方客服电话。"
INJECTION_REFUSED = "您消息里让我改规则的那部分，我不能照做。下面回答您的问题："
PAST_REPORT = "事情过去了也可以报案：带上转账记录、聊天记录，到派出所或拨打110。"
HELP_OTHERS_INTRO = "可以这样提醒他们："
SENSITIVE_NOTICE = (
    "您的话里有卡号、身份证号、手机号、密码或验证码这类信息。"
    "这些请不要告诉任何人，包括我。我不会记下它们。"
)
REDIRECT = (
    "这个问题我帮不上忙。我是防骗小助手，您可以问我：接到可疑电话怎么办、"
    "验证码能不能告诉别人、手机银行大字版怎么用。"
)
REFUSE = "这个我不能帮您。我只讲怎么防骗，怎么保护自己和家人。"
PROMPT = (
    "您好，请问您想了解什么？可以直接打字，或者点下面的问题。"
    "比如：“有人说是公安局的，让我转账”，“验证码能告诉别人吗”。"
)
UNSURE = (
    "这个问题我还不太确定，怕说错了耽误您。您可以问问网点的工作人员，或者拨打96110反诈专线咨询。"
)
UNSURE_ASK = "以后遇到拿不准的电话、短信，先挂断、不转账，再打96110问一问。"
TRUNCATED = "您说的内容比较长，我先按前面的部分回答。"
STEPS_INTRO = "您可以这样做："
AFTER_INTRO = "这类情况还要注意："
FLAGS_INTRO = "怎么识破："
ALSO_INTRO = "另外，"
SOURCE_LINE = "来自课程：《{title}》"
MORE = re.compile(r"详细|具体|多说|多讲|还有呢|还有什么|再说说|展开")

_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
SCAN_LEVEL = "这条消息：{risk}。"
SCAN_LOW = "这条消息看着像正常通知，没发现常见的骗局特征。"
SCAN_MARKED = "消息原文（标了序号的地方要当心）：{text}"
MESSAGE_SHOWN_CHARS = 300


def numbered(items: Sequence[str]) -> str:
    """Items as a numbered list, one a line."""
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


def source_line(titles: Sequence[str]) -> str:
    """The closing line naming the lessons a reply drew on."""
    return SOURCE_LINE.format(title="》《".join(dict.fromkeys(titles)))
