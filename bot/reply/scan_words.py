"""The words of the message check: flag labels and reasons, and the phrasing only messages use.

What a message *names* comes from the cue lexicon (bot/reply/cues.py). Here are the words that
decide what the words around a cue mean (a warning, a request, a done notice) and the phrasing
of scam messages the lexicon has no code for (threats, miracle cures, cheap tours, isolation…).
Each pattern is a family of wordings, never one message.
"""

from __future__ import annotations

import re

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
    "too_good": "好得不真实",
    "prize": "没参加的中奖或补贴",
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
    "secrecy": "让您瞒着家人和银行、一个人待着，是怕有人提醒您这是骗局。",
    "fee_first": "先交保证金、手续费、解冻费才给钱或办事的，都是骗局。",
    "safe_account": "公检法和银行没有“安全账户”，让您把钱转进去的一定是骗子。",
    "asks_credentials": "验证码、密码、卡号和刷脸是账户的钥匙，谁要都不能给。",
    "remote_control": "屏幕共享、远程软件和陌生App能让对方看到或操控您的手机。",
    "channel_move": "让您加QQ、加私人微信、换个App私聊，是为了躲开平台的提醒和监管。",
    "too_good": "包治百病、稳赚不赔、白送便宜，都是先给甜头再骗大钱。",
    "prize": "没参加的抽奖不会中奖，补贴不用点链接领；要先交钱或填信息的是骗局。",
    "authority_money": "自称{who}的人开口要钱，要先用原来知道的号码或当面核实。",
    "new_number": "说换了号码、换了微信的“熟人”，一定要打原来的号码核实是不是本人。",
    "refund_offer": "主动找您退款、理赔、补偿的，多半是冒充客服的骗子。",
    "loan_credit": "征信不能花钱修复，校园贷不用注销，先交费才放款的贷款都是骗局。",
    "asks_money": "对方要您转账付款，先停一停，用原来知道的号码或当面核实。",
    "callback_unknown": "这个号码不在官方号码里，先打卡背面或官网上的号码核实。",
    "gambling": "网络赌博先让您小赢，再让您越投越多，钱取不出来。",
}
ACCUSED_EXPLAIN = "公检法和监管部门不会打电话、发消息说您涉嫌犯罪，更不会让您配合“核查资金”。"
PERSONA_CHANNEL_EXPLAIN = (
    "自称领导、老同学、公家人的陌生号码让您加私人微信或QQ，下一步多半就是借钱。"
)

_N = r"(?:\d|[一二两三四五六七八九十百千万几])"  # a number in digits or characters
_IN = r"[^，,。！？!?；;\n]"  # any character inside the same clause


def _words(pattern: str) -> str:
    """A pattern with {N} (a number) and {IN} (a character of the same clause) filled in."""
    return pattern.replace("{N}", _N).replace("{IN}", _IN)


CLAUSE = re.compile(r"[，,。！？!?；;\n]|\s{2,}")
SENTENCE = re.compile(r"[。！？!?\n]")
# A clause that warns about the thing instead of asking for it ("凡是要求转账的都是诈骗").
WARNING = re.compile(
    r"诈骗|骗子|骗局|谨防|警惕|防骗|防范|凡是|一律|切勿|请勿|千万不要|千万别|不要轻信|"
    r"(?:不会|绝不会|从不|均不会|不得|不存在|没有)(?:以任何|通过|主动|要求|让|向|索要|私下)|"
    r"识破|骗术|提醒您?[:：]|从不|绝不|(?<![平非])凡|"
    # a hypothetical ("如有人要求您转账", "对方若要求提供验证码"): described, not asked
    r"自称|冒充|如果|(?<![假倘])若|如有人|如遇|如为|如是|一旦有人|有人(?:以|冒充|自称|要求|让)|对方(?:若|要求|让)"
)
# A clause that forbids ("不要下载陌生人发来的安装包") from its first word (or after "提示：").
COLON = re.compile(r"[:：]")
PROHIBITION = re.compile(
    r"\s*(?:请|您|你|也)?(?:不要|别|切勿|请勿|千万不要|千万别|不能|不可|严禁|不得|勿|不)"
)
# Right before a cue in its clause: the cue is denied ("切勿告知", "不会冻结", "停止转账").
NEGATION = re.compile(
    r"(?:不要|不会|不用|不需要?|无需|无须|不必|不得|不能|不可|勿|别|莫|没有|请勿|切勿|千万别|"
    r"严禁|禁止|拒绝|谨防|警惕|小心|以免|避免|防止|从未|从不|绝不|并非|不是|停止|不再|不存在|并无)"
    + _IN
    + r"{0,5}$"
)
# A message that opens by addressing kin ("爸，", "外婆，"): the sender claims to be family.
KIN_ADDRESS = re.compile(
    r"^\s*(?:爸|妈|爸爸|妈妈|爷爷|奶奶|外婆|外公|姥姥|姥爷|舅舅|姑姑|姨|二姨|大姨|小姨|叔叔|伯伯|"
    r"哥|姐|大哥|大姐|老公|老婆|儿子|闺女)[，,\s!！]"
)
# "能不能借我" asks; it does not deny. Masked before the negation check (same length).
QUESTION_FORMS = re.compile(r"能不能|可不可以|是不是|要不要|会不会|好不好|行不行|方不方便")
# Right after a cue: "二维码不扫", "链接不点", "验证码不给".
DENIED_AFTER = re.compile(
    r"\s?(?:不|别|勿|莫|绝不|从不|一律不|停止|挂断|报警|拨打(?:110|96110)|告知柜员|卸载)"
)
# Bringing a card or ID card in person ("请携带身份证到网点") is not handing it over.
IN_PERSON = re.compile(r"(?:携带|带上|带好|带着|凭|持)" + _IN + r"{0,4}$")
# A request: the message asks the reader to do it.
REQUEST = re.compile(
    r"(?<![申邀提敬])请|需要?|要|必须|务必|立即|马上|尽快|赶紧|赶快|先|帮我|帮忙|给我|麻烦|配合|"
    r"按照|按要求|按群|能不能|可不可以|可以|把|得|只要|只需|仅需|(?:您|你)$"
)
GIVE = re.compile(
    r"提供|告诉|告知|报给|报一下|报出|念给|念一下|说出|发给|发我|发过来|发一下|发送|回复|上传|"
    r"拍照|拍一下|拍给|截图|填写|填入|填一下|输入|录入|核对|核实|给我|验证一下|准备好|登记"
)
TYPE_IT = frozenset({"输入", "填写", "填入", "录入"})  # a genuine code text says where to type it
# "发了个码", "收到的数字": a code the lexicon does not name as 验证码.
CODE_WORDS = re.compile(r"(?:收到|发了|发的|接个|接收)(?:一个|一?个|的)?(?:码|数字)")
PAY = re.compile(
    r"转账|转帐|转钱|转到|转给|转入|转过来|转我|汇款|汇到|汇给|打钱|打款|打到|打给|打我|付款|付钱|"
    r"交钱|缴纳|缴费|交纳|支付(?!宝)|充值|垫付|垫上|垫一下|存入|存到|转存|"
    r"(?<![拨致])打(?="
    + _N
    + r")(?!\d{4})|[转赔交](?="
    + _N
    + r")|交(?=[个笔些点]|押金|保证金|定金)"
)
PAY_BEFORE = re.compile(r"[交缴付垫]$|" + PAY.pattern)  # "交住院费", "需要支付手续费"
PAY_AFTER = re.compile(r"后(?:请|发|截图|联系)")
BORROW = re.compile(r"借(?:点|些|我|一下|几|" + _N + r")|周转一下|急用钱|急需|应急")
DONE = re.compile(r"成功|已(?:经)?|原路|到账|退回至|退至|处理完|完成")

# (flag, pattern, weight, amplifier): phrasing the lexicon has no code for. An amplifier
# counts only when another flag is raised too (genuine marketing says "限时" as well).
THREAT_STRONG = re.compile(
    r"(?:即将|将会?|自动|会)扣费|百万保障|涉嫌|违规|违法|起诉|传票|强制执行|通缉|逮捕|拘留|坐牢|判刑|"
    r"(?:账户|账号|帐户|银行卡|信用卡|医保卡|社保卡|etc|号码|微信|支付宝)(?:已|将|存在|出现|有)?"
    r"(?:异常|被盗|风险|违规|冻结|停用|注销|封)|停止您?名下|名下所有"
)
THREAT_WEAK = re.compile(
    r"停电|停气|停水|停机|暂停使用|停止使用|(?:每月|起|开始)扣费|清零|罚款|影响"
    + _IN
    + r"{0,8}征信|黑名单|"
    r"上报|不良记录|异常记录|开除|取消资格|无法参加|影响" + _IN + r"{0,4}(?:使用|通行|出行|领取)"
)
URGENCY = re.compile(
    r"名额有限|名额不多|先到先得|仅限今[天日]|只限今[天日]|最后"
    + _N
    + r"+[天单名个位]|错过|限时|限量|"
    r"抢购|抢名额|过了这个月|今天报名|今[天日]不处理|今[天日]就要|今天必须|特批"
)
HEALTH_MIRACLE = re.compile(
    r"根治|包治|治愈|药到病除|一贴见效|立竿见影|保证好|(?:全|都)能(?:治)?好|都好了|全好了|"
    r"不用再(?:打|吃)|降三高|治(?:肿瘤|癌)|抗癌|神药|特效药|秘方|年轻" + _N + r"+岁|"
    r"白(?:头)?发" + _IN + r"{0,3}变黑|疏通血管|血管疏通|无效退款|外面买不到|内部研发"
)
INVEST_PROMISE = re.compile(
    r"保本保息|保本高息|保证回购|保证收益|稳赚不赔|只赚不赔|零风险|无风险|原始股|"
    r"翻" + _N + r"+倍|(?:投|存|充)" + _N + r"+[万千百元]*送" + _N + r"|"
    r"(?:充|投|存)" + _N + r"+[万千百元]*返" + _N + r"|"
    r"(?:投|入股|存|买)" + _IN + r"{0,6}" + _N + r"+[万千][^。！？\n]{0,10}"
    r"(?:拿|返|变|赚|涨到|分)" + _IN + r"{0,5}" + _N + r"|"
    r"(?:月息|日息|返息|年息|每天返|每月返|每天自动返)" + _IN + r"{0,4}" + _N + r"|国家背书"
)
TOO_GOOD = re.compile(
    _words(
        r"稳赚|包赚|日赚|躺赚|翻倍|内幕|一本万利|高回报|高收益|高息|保本高|刷单|做任务|"
        r"点赞{IN}{0,6}(?:赚|元|佣金)|日结|抢单|垫付|兼职{IN}{0,8}(?:日|元|赚|佣金)|"
        r"月入{IN}{0,3}(?:{N}|过万)|日入(?={N}|过)|回报率|带单|老师带|荐股|牛股|涨停|"
        r"(?:每天|一天|每月|一个月){IN}{0,6}(?:轻松|就能|能)?(?:赚|挣)|就能赚钱|轻松赚|在家赚|"
        r"升值|回购|海外买家|高价收购|高价回收|起拍|价值{N}+万|出价{N}|以房养老|"
        r"{N}+元{IN}{0,10}{N}+[日天]游|内部价|内部消息|内部产品|"
        r"参观{IN}{0,6}(?:基地|工厂|药厂|保健品|厂)|购物点|年化{IN}{0,3}(?:[1-9]\d|\d{3})(?:\.\d+)?%"
    )
)
# Lures that genuine community notices use too ("免费体检"): they only add to other flags.
LURE = re.compile(
    _words(
        r"包吃包住|免费{IN}{0,2}游|免费体检|免费领|免费送|白送|送{IN}{0,3}(?:大米|鸡蛋|油|礼品)|"
        r"特价{N}|买{N}送{N}|仅剩{N}"
    )
)
GAMBLING = re.compile(
    r"博彩|彩金|百家乐|真人娱乐|真人视讯|棋牌|电子游艺|体育投注|首存|首充|存送|注册送|"
    r"(?:彩票|娱乐|游戏)平台|澳门" + _IN + r"{0,6}(?:赌|娱乐|官网|线上)|威尼斯人|葡京|下注|赔率|"
    r"北京赛车|时时彩|快三|六合彩"
)
LOAN_STRONG = re.compile(
    r"无抵押|秒批|秒到|秒下|黑户|不看征信|免审|包过|下款|放款快|低息|免息|无视征信|无需担保|"
    r"当天放款|极速放款|代办信用卡|大额信用卡|办理信用卡|养老贷|最高可贷|"
    r"(?:借呗|花呗|备用金|金条|微粒贷|网商贷|白条)" + _IN + r"{0,6}(?:借|开通|刷|提现|额度)|"
    r"(?:借出|开通|打开)" + _IN + r"{0,6}(?:借呗|花呗|备用金|金条|微粒贷|网商贷|白条)"
)
CREDIT_REPAIR = re.compile(
    r"(?:征信|信用)" + _IN + r"{0,4}(?:修复|洗白|消除|删除|铲除|优化|逾期记录)|"
    r"(?:修复|洗白|消除|删除)" + _IN + r"{0,6}(?:征信|不良记录|逾期)|"
    r"征信" + r"[^。！？\n]{0,30}(?:申请修复|修复)|"
    r"注销" + _IN + r"{0,6}(?:校园贷|学生贷|贷款|网贷|账户)|校园贷|学生贷|"
    r"利率过高|降低利率|调整利率|统一调整|关闭" + _IN + r"{0,4}(?:金条|白条|借呗|学生|会员服务)"
)
SAFE_ACCOUNT = re.compile(
    r"(?:验证|保全|资产保全|清算|国家|安全|监管|核查|保证|理赔|退款|赔付)"
    + _IN
    + r"{0,2}(?:账户|帐户|账号)|"
    r"(?:工作人员|个人|私人)的?(?:账户|帐户|账号|银行卡)"
)
ISOLATION = re.compile(
    r"一个人待着|一个人在家|找个宾馆|开个房间|开一间房|不要挂断|别挂电话|保持通话|"
    r"谁的电话都别接|别接任何电话|不要接任何电话|手机不要挂"
)
SECRECY = re.compile(
    r"(?:不能|别|不要|千万不能)让" + _IN + r"{0,10}知道|(?:不能|别|不要)跟任何人说|对任何人保密|"
    r"不要声张|别声张|别告诉"
)
NEW_NUMBER = re.compile(
    r"这是(?:我的?)?新(?:号|微信|的)|新微信|换了?新?(?:号码|微信|手机)|原来的(?:微信|号)"
    + _IN
    + r"{0,4}"
    r"(?:被封|不用|停)|微信被封|旧手机坏了|手机(?:掉|摔|坏|丢|被偷)|(?:号码|微信)(?:不用|停)了|"
    r"别打我原来|存一下"
)
GUESS_WHO = re.compile(
    r"还记得我吗|猜猜我是谁|你猜我是谁|听不出来我是谁|听出我是谁|好多年没联系|多年没联系|"
    r"我是你" + _IN + r"{0,6}(?:同学|战友|学生|老乡|外甥|侄|孙|儿|女|老同事)"
)
CHANNEL = re.compile(
    r"(?:加|添加)" + _IN + r"{0,6}(?:qq|微信|vx|v信|好友|群)|加我一下|私人微信|私人号|工作号|"
    r"(?:wx|vx|v|微信|威信|薇信|qq|扣扣)(?:号)?\s?[:：]\s?[a-z0-9_-]{4,}|入群|进群|"
    r"(?:加|\+|➕)(?:v|微|薇|威)(?![a-z])"
)
REMOTE_APPS = re.compile(
    r"teamviewer|anydesk|quicksupport|向日葵|todesk|远程控制|远程协助|(?:我|帮您|帮你)远程|"
    r"(?:下载|安装|打开)" + _IN + r"{0,4}(?:云视讯|会议|zoom|瞩目|小鱼易连|飞书|钉钉)|"
    r"安装包|继续安装|有风险不用管|信任此应用|未知来源"
)
FREE_MONEY = re.compile(
    r"(?:领取|申领|发放|领)"
    + _IN
    + r"{0,8}(?:补贴|补助|福利|红包|奖励|津贴|慰问金|礼品|礼包|奖品)|"
    r"(?:补贴|补助|津贴|慰问金|分红|红包|返还款)" + _IN + r"{0,8}(?:" + _N + r"+元|领取|就能领)"
)
FEE_EXTRA = re.compile(
    r"关税|鉴定费|评估费|保释金|公证费|手术费|住院费|医药费|律师费|清关费|邮寄费|资料费|报名费|"
    r"会员资格|验证还款能力|流水不足|信誉分"
)
PHRASES: tuple[tuple[str, re.Pattern[str], int, bool], ...] = (
    ("deadline_threat", THREAT_STRONG, 2, False),
    ("deadline_threat", THREAT_WEAK, 1, False),
    ("deadline_threat", URGENCY, 1, True),
    ("too_good", HEALTH_MIRACLE, 3, False),
    ("too_good", INVEST_PROMISE, 3, False),
    ("too_good", TOO_GOOD, 2, False),
    ("too_good", LURE, 1, True),
    ("gambling", GAMBLING, 3, False),
    ("loan_credit", CREDIT_REPAIR, 3, False),
    ("loan_credit", LOAN_STRONG, 2, False),
    ("safe_account", SAFE_ACCOUNT, 3, False),
    ("secrecy", ISOLATION, 3, False),
    ("secrecy", SECRECY, 2, False),
    ("new_number", NEW_NUMBER, 2, False),
    ("new_number", GUESS_WHO, 2, False),
    ("channel_move", CHANNEL, 1, False),
    ("remote_control", REMOTE_APPS, 3, False),
)

LOAN_WEAK = frozenset({"信用卡", "分期", "额度", "办卡", "提额"})
STRONG_DEADLINE = frozenset({"冻结", "停用", "注销", "作废", "失效", "封号"})
STRONG_FEE = re.compile(r"解冻费|激活费|刷流水|解封费|认证费|通道费|保证金|入会费|验资")
FREE = re.compile(
    r"免|(?<![\d.,])0(?:\.0+)?元|零元|全免|不收|无需|无须|不需|\d折|折扣|优惠|打折|减免"
)
WIN = frozenset({"中奖", "幸运观众", "幸运用户", "抽中", "奖品", "奖金", "大奖", "领奖", "兑奖"})
POINTS = frozenset({"积分兑换", "积分清零"})
TOO_GOOD_WEAK = frozenset({"返利", "佣金", "提成", "返现", "保本"})
MULTIPLE = re.compile(r"[双两三四五多加]倍")

REMOTE_WORDS = re.compile(r"屏幕|桌面|控制|协助|手机|画面|帮您|帮你|操作")
OFFICIAL_APP = re.compile(
    r"国家反诈中心|反诈|官方|官网|应用商店|应用市场|手机银行|掌上12333|随申办|网上国网|国务院客户端|"
    r"个人所得税|12306|学习强国|电子社保卡|国家医保服务平台"
)
# Who the message speaks for. Of the broad cues only the persona counts ("客服", not "淘宝").
PERSONA_CUES = {
    "police": "official",
    "leader": "acquaintance",
    "teacher": "teacher",
    "classmate": "acquaintance",
}
PERSONA_WORDS = {"customer_service": ("客服", "售后"), "bank_staff": ("柜员", "大堂经理")}
POLICE = re.compile(r"公安|警察|民警|警官|派出所|刑警|公检法|检察院|检察官|法院|法官")
ACCUSED = re.compile(r"涉嫌|洗钱|涉案|通缉|逮捕|拘留|立案|犯罪|传唤")
# "我是…局的", "这里是…客服": a self-introduction by someone the reader cannot see.
SELF_INTRO = re.compile(
    r"(?:我是|这里是|我们是|我这边是|本人是|我系)" + _IN + r"{0,16}?"
    r"(?:(?P<official>公安|警察|民警|警官|派出所|刑警|检察|法院|法官|银保监|金融监管|证监|央行|人民银行|"
    r"通信管理局|工信部|网信办|医保|社保|人社|民政|税务|卫健|市场监管|政府|居委|街道|反诈)|"
    r"(?P<service>客服|售后|专员|经理|工作人员|快递员|理赔)|"
    r"(?P<acquaintance>领导|局长|处长|主任|书记|同学|战友|同事|老乡)|"
    r"(?P<teacher>老师|班主任|校长)|"
    r"(?P<expert>专家|医生|军医|教授|研究院|研究所|协会|基金|公司))"
)
CALL = re.compile(
    r"(?:致电|拨打|回电|电话|热线|联系|咨询|来电|客服|加微信|微信号|vx|qq|扣扣|qq群|群号)"
    r"[^\d\n]{0,6}?((?:\+|00)?\d[\d\- ]{3,16}\d)"
)
SIGNATURE = re.compile(
    r"^\s*[【\[]([^【】\[\]\n]{2,24})[】\]]|[【\[]([^【】\[\]\n]{2,24})[】\]]\s*$"
)
# Top-level domains that cost almost nothing and that brands seldom use for their notices.
RISKY_TLD = frozenset(
    {"top", "xyz", "vip", "cc", "icu", "tk", "ml", "ga", "gq", "cf", "pw", "club", "wang", "shop",
     "site", "online", "live", "link", "fun", "ink", "bid", "loan", "win", "men", "ltd", "work",
     "rest", "buzz", "cyou", "sbs", "cfd", "bond", "monster"}
)  # fmt: skip
