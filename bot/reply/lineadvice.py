"""The advice rules of the lesson-line checker: what each kind of harmful advice looks like.

Each rule is (kind, pattern); the kind names what the advice makes a senior do. A match counts
only as bot.reply.linerules decides (negation, warnings, quoted speech, cases): these patterns
say where to look, not yet that a line is harmful.
"""

from __future__ import annotations

import re

# Advice rules: (kind, pattern). The kinds name what the advice makes a senior do.
A = r"[^，,。！？!?；;\n]"  # any character inside one clause
RULES: tuple[tuple[str, str], ...] = (
    (
        "move money",
        r"(?:(?:转|汇|打|存|划|挪|过账?|转存|付|交|分批存)(?:到|入|给|进|至|往)(?!了|过)|转入|存入|汇入|"
        r"打入|划转|转存|过一下账|往" + A + r"{0,8}存入)" + A + r"{0,14}?(?:账户|帐户|账号|帐号|"
        r"专户|卡|户头|户名|对方|公证处|平台)",
    ),
    (
        "move money",
        r"(?:把|将)"
        + A
        + r"{0,10}(?:钱|款|存款|资金|余额|积蓄|养老钱|退休金|养老金|工资|现金)"
        + A
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
        r"(?:交|缴|付|支付|缴纳|补交|补缴|预付|先付|先交|交纳|垫付|充值|买)" + A + r"{0,10}?"
        r"(?:手续费|保证金|解冻费|激活费|工本费|立案费|审核费|处理费|修复费|会员费|代理费|服务费|定金|押金|"
        r"税费|个税|所得税|关税|清关费|公证费|验证费|提成|律师费|追款费|佣金|认证费|保险|一笔|一半|"
        + A
        + r"{0,3}(?<![水电气话学药])费(?!用))",
    ),
    (
        "pay a recovery service",
        r"(?:追款|追损|追回|维权|退款|挽损)(?:公司|律师|专员|机构|中心|服务|团队|App|APP|app|热线|专线|群)"
        r"|黑客|律师(?:费|帮您|能帮|团队)",
    ),
    (
        "pay a fee",
        r"(?:费|税|保证金|定金)" + A + r"{0,8}(?:就能|即可|才能|后|完)" + A + r"{0,4}"
        r"(?:追回|退回|到账|解冻|领取|领回|提现|退款|要回|恢复)",
    ),
    (
        "give a code or password",
        r"(?:验证码|校验码|动态码|动态口令|口令|密码|卡号|身份证号|CVV|安全码|有效期|三位数|几位数字|"
        r"那几位数|数字)"
        + A
        + r"{0,10}?(?:告诉|告知|给|报|念|提供|发|回复|说给|说出|截图|拍照)(?!了|过)",
    ),
    (
        "give a code or password",
        r"(?:告诉|告知|提供|发送|报给|念给|发给|说出|报出|回复|交出|念出|报一下|说给)(?!了|过)"
        + A
        + r"{0,10}?(?:验证码|密码|口令|卡号|身份证号|CVV|安全码|数字|有效期)",
    ),
    ("give a code or password", r"填(?:写|好|入)?" + A + r"{0,4}(?:卡号|密码|验证码|身份证)"),
    (
        "give a code or password",
        r"(?:刷脸|刷一下脸|眨眼|摇头|张嘴|人脸识别|录"
        + A
        + r"{0,4}视频)"
        + A
        + r"{0,8}(?:即可|就好|就行|照做|配合|发过去)"
        r"|身份证" + A + r"{0,8}(?:拍照|照片)" + A + r"{0,6}发|U盾" + A + r"{0,6}(?:插好|交给|给)",
    ),
    (
        "install an app or share the screen",
        r"(?:下载|安装|装上|装好|装一个|点开|开启|开通|授权|允许|仍然安装|打开(?!手机银行|微信))"
        + A
        + r"{0,12}?(?:App|APP|app|软件|安装包|插件|程序|会议|屏幕共享|共享屏幕|远程|所有权限|权限)",
    ),
    (
        "install an app or share the screen",
        r"(?:开(?!了|过)|进入|加入|点(?:一下)?|输入|跟着|保持|接受|让"
        + A
        + r"{0,4})"
        + A
        + r"{0,6}"
        r"(?:屏幕共享|共享屏幕|远程控制|远程协助|远程操作|会议号|视频会议)|说点哪[里儿]就点哪",
    ),
    (
        "contact an unofficial helper",
        r"(?:添加|加)(?:我的|他的|对方的|专员)?(?:微信|QQ|qq|好友|专员|客服)|关注"
        + A
        + r"{0,6}公众号"
        r"|扫(?:一下|描)?"
        + A
        + r"{0,8}(?:二维码|码)|(?:点|点击|点开|打开|进入|访问)"
        + A
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
        r"(?:删掉|删除|清空)" + A + r"{0,6}(?:聊天记录|记录|短信|通话)"
        r"|(?:拆成|分成|分几笔|分批|换一家银行|换个银行)" + A + r"{0,8}(?:转|汇|存|取)",
    ),
    ("hide it from family", r"瞒着|悄悄|偷偷|背着|回拨" + A + r"{0,8}(?:对方|短信里|留下|留的)"),
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
        r"|按(?:他|对方|客服|民警|警官|电话里|老师|导师)" + A + r"{0,6}(?:说的|指示|要求|提示|指引|"
        r"教的|安排|指令)|听(?:他|对方|客服)(?:的)?安排|跟着" + A + r"{0,6}(?:走流程|操作)"
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
COMPILED = tuple((kind, re.compile(pattern, re.I)) for kind, pattern in RULES)
