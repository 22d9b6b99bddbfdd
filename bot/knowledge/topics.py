"""The fixed course plan: topic ids (other code and the eval sets rely on them) and their names."""

TOPICS: dict[str, str] = {
    "ai-face-swap": "AI换脸和AI拟声",
    "fake-police": "冒充公检法",
    "fake-customer-service": "冒充电商快递客服",
    "impersonate-relative": "冒充亲友熟人领导",
    "health-products": "保健品和养生讲座",
    "pension-investment": "养老投资和高息理财",
    "phishing-sms": "钓鱼短信链接二维码",
    "screen-sharing": "屏幕共享和远程控制",
    "large-font-banking": "手机银行大字版",
    "wechat-basics": "微信怎么用",
    "after-scam": "被骗了怎么办",
    "verification-code": "验证码密码和个人信息",
    "lottery-prize": "虚假中奖",
    "social-security": "社保卡医保养老金",
    "collectibles": "收藏品回购",
    "online-dating": "网恋交友",
    "anti-fraud-tools": "反诈App和预警电话",
    "personal-pension": "个人养老金",
    "travel-scams": "低价旅游团",
    "task-scams": "刷单返利",
    "fake-loans": "虚假贷款和征信修复",
    "utility-arrears": "冒充水电燃气催费",
}

# The sections every Markdown lesson has; the composer and the staff tools read them by name.
SECTIONS = (
    "一句话提醒",
    "骗子怎么说",
    "怎么识破",
    "正确做法",
    "如果已经上当",
    "讲课要点",
    "常见问题",
)
