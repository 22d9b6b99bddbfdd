"""Where a message points: its links (official, look-alike, shortened, unknown) and phone numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.reply.official import NOTE, Official, Organisation

# Full-width ASCII and the ideographic space, mapped one character to one character so that
# every span found in the folded text is the same span in the original.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FOLD_DOTS = {ord("。"): "."}  # only inside a link candidate: "icbc。com" is still a link


def fold(text: str) -> str:
    """Half-width, lower-case text of the same length (spans stay valid in the original)."""
    folded = text.translate(_FOLD).lower()
    # str.lower can change the length of a few rare characters (İ -> i̇); keep the original then.
    return folded if len(folded) == len(text) else text.translate(_FOLD)


TLDS = (
    "com|cn|net|org|top|xyz|vip|cc|co|me|io|info|biz|site|shop|online|club|ltd|wang|work|tk|ml|ga|"
    "gq|cf|app|ink|pw|icu|fun|live|life|link|tv|hk|mo|tw|us|uk|jp|kr|in|ru|asia|mobi|pro|tech|"
    "store|cloud|win|bid|loan|men|today|xin|red|kim|ren|run|plus|space|website|press|host|"
    "email|one|world|group|love|games|bet|cash|money|finance|bank|gov|edu|so|ly|gl|gd|im|la|nz|"
    "id|sg|my|ph|vn|th|de|fr|cx|ws|su|to|ee|lt|am|ai|gg|mk|date"
)
# A link: a scheme or www. with any domain, or a bare domain with a known top-level domain.
_LINK = re.compile(
    r"(?<![a-z0-9@._-])(?:"
    r"(?:https?|hxxps?)://[a-z0-9-]+(?:[.。][a-z0-9-]+)*(?::\d{1,5})?"
    r"|(?:[a-z0-9](?:[a-z0-9-]{0,62})?[.。])+(?:" + TLDS + r")(?![a-z0-9-])(?::\d{1,5})?"
    r")(?:/[a-z0-9\-._~%!$&'()*+,;=:@/?#]*)?",
)
_SCHEME = re.compile(r"^(?:https?|hxxps?)://")
_IP = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
SHORTENERS = frozenset(
    {
        "t.cn", "dwz.cn", "url.cn", "suo.im", "suo.nz", "bit.ly", "tinyurl.com", "goo.gl",
        "is.gd", "ow.ly", "t.co", "rb.gy", "cutt.ly", "s.id", "tiny.cc", "v.gd", "dwz.mk",
        "dwz.date", "mrw.so", "u.nu", "t.ly", "surl.li", "shorturl.at", "sohu.gg", "w.url.cn",
        "6du.in", "clck.ru", "qr.net", "reurl.cc",
    }
)  # fmt: skip
# Second-level suffixes under which the registrable name is the third label from the right.
_SECOND_LEVEL = frozenset(
    {"com.cn", "net.cn", "org.cn", "gov.cn", "edu.cn", "ac.cn", "com.hk", "com.tw", "com.mo",
     "co.uk", "co.jp", "co.kr", "com.sg", "com.my", "com.au", "net.au", "co.nz", "co.in"}
)  # fmt: skip


@dataclass(frozen=True)
class Link:
    """A link in a message and whose it is."""

    text: str
    start: int
    end: int
    host: str
    status: str  # official | lookalike | short | ip | unknown
    owner: str = ""  # the organisation whose official domain it is
    imitates: str = ""  # for a look-alike: the organisation it borrows the name of


@dataclass(frozen=True)
class NumberCheck:
    """The answer to "这个号码是真的吗" for one number."""

    number: str
    digits: str
    known: bool
    organisations: tuple[str, ...]
    pattern: str  # a spoofing pattern code, or ""
    explain: str

    def to_json(self) -> dict[str, object]:
        return {
            "number": self.number,
            "known": self.known,
            "organisations": list(self.organisations),
            "pattern": self.pattern,
            "explain": self.explain,
        }


def registrable(host: str) -> str:
    """The name a registrant owns: icbc.com.cn for www.icbc.com.cn, vip-x.cn for ccb.com.vip-x.cn."""
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _main_label(domain: str) -> str:
    return registrable(domain).split(".")[0]


_CONFUSABLE = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"))
# Service numbers that name one organisation (95588, 10086); not hotlines like 12345 or 10000.
_SERVICE_NUMBER = re.compile(r"^(?:95|96|100)\d{2,3}$")
_NAMED_KINDS = frozenset({"bank", "payment", "operator", "utility", "courier", "insurer", "shop"})


def _skeleton(label: str) -> str:
    for a, b in _CONFUSABLE:
        label = label.replace(a, b)
    return label


class _Matcher:
    """Brand tokens and main labels of the official domains, indexed once per official list."""

    def __init__(self, official: Official) -> None:
        self.tokens: dict[str, Organisation] = {}
        self.labels: list[tuple[str, str, Organisation]] = []
        for org in official.organisations:
            for token in org.brand:
                self.tokens.setdefault(token, org)
            for number in org.numbers:
                if org.kind in _NAMED_KINDS and _SERVICE_NUMBER.match(number) and number != "10000":
                    self.tokens.setdefault(number, org)
            for domain in org.domains:
                label = _main_label(domain)
                if not label.isdigit() or len(label) == 5:
                    self.tokens.setdefault(label, org)
                if len(label) >= 4 and not label.isdigit():
                    self.labels.append((label, _skeleton(label), org))
        # long tokens also count inside a label ("icbcvip"); short ones ("boc", "jd") only whole
        self.long = sorted((t for t in self.tokens if len(t) >= 4), key=len, reverse=True)

    def imitated(self, host: str) -> Organisation | None:
        """The organisation a non-official host borrows the name of, if any."""
        parts = [p for p in re.split(r"[.\-_]", host) if p]
        inner = parts[:-1]
        if "gov" in self.tokens and any("gov" in p for p in inner):
            return self.tokens["gov"]  # gov-cn.top, www.gov.cn.xyz.com, 12333gov.com
        for part in inner:
            for piece in (part, *re.findall(r"[a-z]+|\d+", part)):
                if piece in self.tokens:
                    return self.tokens[piece]
        for token in self.long:
            if any(token in part for part in inner):
                return self.tokens[token]
        label = _main_label(host)
        skeleton = _skeleton(label)
        for official_label, official_skeleton, org in self.labels:
            if skeleton == official_skeleton:
                return org  # lcbc, 1cbc, rnps -> icbc, ...
            if len(official_label) >= 5:
                limit = 1 if len(official_label) < 8 else 2
                if abs(len(label) - len(official_label)) <= limit and (
                    _distance(label, official_label, limit) <= limit
                ):
                    return org
        return None


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (limit + 1) once it exceeds limit."""
    if a == b:
        return 0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _matcher(official: Official) -> _Matcher:
    cache = official.cache
    found = cache.get("matcher")
    if not isinstance(found, _Matcher):
        found = cache["matcher"] = _Matcher(official)
    return found


def find_links(folded: str, official: Official) -> tuple[Link, ...]:
    """Every link in the (folded) text, classified against the official list."""
    out = []
    matcher = _matcher(official)
    for m in _LINK.finditer(folded):
        raw = m.group()
        rest = _SCHEME.sub("", raw.translate(_FOLD_DOTS))
        host = re.split(r"[/:?#]", rest, maxsplit=1)[0].strip(".")
        if not host or "." not in host:
            continue
        if _IP.match(host):
            out.append(Link(raw, m.start(), m.end(), host, "ip"))
            continue
        owner = official.owner_of(host)
        if owner is not None:
            out.append(Link(raw, m.start(), m.end(), host, "official", owner=owner.name))
        elif host in SHORTENERS or registrable(host) in SHORTENERS:
            out.append(Link(raw, m.start(), m.end(), host, "short"))
        else:
            fake = matcher.imitated(host)
            status = "lookalike" if fake is not None else "unknown"
            out.append(
                Link(raw, m.start(), m.end(), host, status, imitates=fake.name if fake else "")
            )
    return tuple(out)


# ---------------------------------------------------------------- numbers

_SEPARATORS = re.compile(r"[\s\-()（）]")
_AREA_96110 = re.compile(r"^0\d{2,3}96110$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def check_number(number: str, official: Official) -> NumberCheck:
    """Whether a phone number is on the official list, with the spoofing pattern it matches."""
    shown = number.strip().translate(_FOLD)
    bare = _SEPARATORS.sub("", shown)
    international = bare.startswith("+") or bare.startswith("00")
    digits = re.sub(r"\D", "", bare)
    if international:
        rest = re.sub(r"^(?:\+|00)(?:86)?", "", bare)
        orgs = official.by_number(re.sub(r"\D", "", rest))
        looks = f"后面的号码像{orgs[0].name}的 {orgs[0].numbers[0]}，但" if orgs else ""
        return _check(official, shown, digits, False, (), "international_authority", looks)
    if _AREA_96110.match(digits):
        orgs = official.by_number("96110")
        return _check(official, shown, digits, True, orgs, "area_96110")
    orgs = official.by_number(digits)
    if orgs:
        pattern = "sms_12381" if digits == "12381" else ""
        return _check(official, shown, digits, True, orgs, pattern)
    if digits.startswith("106"):
        return _check(official, shown, digits, False, (), "sms_106")
    if _MOBILE.match(digits):
        return _check(official, shown, digits, False, (), "mobile_personal")
    if digits[:2] in ("95", "96") and len(digits) >= 5:
        near = [o for o in official.organisations for n in o.numbers if n[:2] == digits[:2]]
        near_same = [
            o for o in near for n in o.numbers if digits.startswith(n) or n.startswith(digits)
        ]
        looks = f"它像{near_same[0].name}的 {near_same[0].numbers[0]}，但" if near_same else ""
        return _check(official, shown, digits, False, (), "lookalike_service", looks)
    return _check(official, shown, digits, False, (), "")


def _check(
    official: Official,
    shown: str,
    digits: str,
    known: bool,
    orgs: tuple[Organisation, ...],
    pattern: str,
    prefix: str = "",
) -> NumberCheck:
    parts = []
    if known:
        names = "、".join(dict.fromkeys(o.name for o in orgs))
        about = next((o.about for o in orgs if o.about), "")
        parts.append(f"{shown} 是{names}的官方号码" + (f"（{about}）" if about else "") + "。")
    else:
        parts.append(f"{shown} 不在我们核对过的官方号码里。")
    described = official.pattern(pattern) if pattern else None
    if described is not None:
        parts.append(prefix + described.explain)
    if not known:
        parts.append("请打银行卡背面或官网上的号码核实，拿不准就打 96110 或问工作人员。")
    parts.append(f"（{official.note or NOTE}）")
    return NumberCheck(shown, digits, known, tuple(o.name for o in orgs), pattern, "".join(parts))
