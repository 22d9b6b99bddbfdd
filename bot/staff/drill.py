"""防骗演练: each scammer line of a lesson with one right move, plausible wrong moves, its red flag.

The wrong moves are what real victims did (先核实一下对方警号, 只转一小部分, 按对方给的号码回拨),
chosen by what the line asks for. The right move and the red flag are the lesson's own lines
nearest to the scammer's line by meaning, matched one to one so no two lines share a flag when
the lesson has enough of them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.knowledge.lessons import iter_section_items
from bot.records import LessonRecord

Embed = Callable[[list[str]], np.ndarray]

# What a scammer's line asks for: (kind, its name for the trainee, words that show it), the
# most telling first ("要验证码" outranks "我是银行的").
KINDS: tuple[tuple[str, str, str], ...] = (
    ("code", "要验证码、密码", r"验证码|密码|短信码|动态码|卡号|身份证"),
    ("secret", "叫您保密、别跟家人银行讲", r"别告诉|不要告诉|保密|不要跟|别跟|就说|工作人员要是问|别声张"),
    ("control", "要您点链接、装软件、共享屏幕", r"链接|下载|App|APP|app|软件|共享|会议|扫码|二维码|点击|刷脸|刷个脸"),
    ("number", "让您按键、回拨、被“转接”", r"按\d|按键|回拨|转接|新号码|换了号|号码|号键"),
    ("money", "要您转钱、交钱", r"转账|转到|转给|转钱|汇|安全账户|交|手续费|保证金|充值|垫付|押金|存款|现金|借|万|块|元"),
    ("benefit", "给您好处、高回报", r"中奖|返利|收益|免费|退款|理赔|补贴|赚|奖|礼物|优惠|高息|送"),
    ("identity", "冒充熟人或官方", r"公安|警察|检察|法院|客服|银行|局|我是|是我|孙子|儿子|女儿|领导|处长|老师|猜猜|声音"),
    ("urgent", "催您马上办", r"马上|立刻|立即|今天|否则|逾期|来不及|赶紧|尽快|冻结|通缉|传票"),
)  # fmt: skip
# The lesson steps that answer each kind of demand ("要验证码" -> the step that says 不念验证码).
ANSWERS: dict[str, str] = {
    "code": r"验证码|密码|不告诉|不念|不报|不发",
    "secret": r"告诉|子女|家人|说实话|商量",
    "control": r"不点|不装|不下载|不共享|关掉|不扫|不刷|卸载",
    "number": r"不回拨|老号码|原来的|自己拨|自己打|不按|挂断",
    "money": r"不转|不交|不汇|不给|现金|110|挂断",
    "benefit": r"不交|不信|不领|不投|不买|不贪|正规",
    "identity": r"挂断|自己拨|自己打|本人|不猜|报名字|核实|110",
    "urgent": r"挂断|自己拨|自己打|110|96110|核实|不慌|别急",
}
# Plausible wrong moves, by what the line asks for (what victims report having done).
WRONG_MOVES: dict[str, tuple[str, ...]] = {
    "money": (
        "只转一小部分，先看看是不是真的。",
        "先核实一下对方的警号，对得上再转。",
        "去银行柜台转，跟柜员说是给家里人转账。",
        "把钱取成现金，交给对方派来的人。",
    ),
    "code": (
        "只把验证码念给他，密码不说就没事。",
        "先问清他是哪个部门的，再把验证码给他。",
        "把验证码输进他发来的网页里，自己操作总没事。",
    ),
    "control": (
        "点开链接看看，不填信息就没事。",
        "按他说的下载App，有问题再卸载。",
        "开着屏幕共享，让他帮忙一步步操作。",
    ),
    "number": (
        "按对方给的号码回拨过去问问。",
        "按提示按9，听听人工客服怎么说。",
        "让他转接到“公安局”，跟警察说清楚。",
    ),
    "secret": (
        "先不告诉子女，免得他们担心。",
        "照他说的，跟柜员讲是给家里人转钱。",
        "这事先保密，办完再跟家里说。",
    ),
    "urgent": (
        "来不及等家里人了，先照他说的办。",
        "电话别挂，一边听一边想办法。",
    ),
    "identity": (
        "让他报一下工号和姓名，记下来就放心了。",
        "加他微信，看看朋友圈像不像真的。",
        "在视频里看看他的证件和制服。",
    ),
    "benefit": (
        "先交一点手续费试试，奖品到了就不亏。",
        "先投一小笔，赚了再多投。",
        "先把个人信息填了，领到再说。",
    ),
}
GENERIC_WRONG = ("听他的，按他说的一步步做。", "先核实一下对方的警号，对得上再说。")
CHOICES = 4  # one right move and three wrong ones


@dataclass(frozen=True)
class DrillStep:
    """One scammer line, the shuffled choices, the right one, and the red flag it shows."""

    scammer_line: str
    choices: tuple[str, ...]
    safe_index: int
    red_flag: str  # the lesson's 怎么识破 line for this scammer line
    flag_name: str  # what the line asks for, named ("要您转钱、交钱")
    safe_reason: str

    @property
    def right_move(self) -> str:
        return self.choices[self.safe_index]


@dataclass(frozen=True)
class DrillResult:
    """The score of a drill run and the red flags that were missed."""

    right: int
    total: int
    missed: tuple[DrillStep, ...]

    @property
    def score(self) -> float:
        return self.right / self.total if self.total else 0.0

    def to_markdown(self) -> str:
        """The end-of-drill summary: the score and each missed red flag with its right move."""
        lines = [f"**演练结束：{self.right}/{self.total} 句做对了**（{self.score:.0%}）", ""]
        if not self.missed:
            return "\n".join([*lines, "每一句的破绽都识破了，很好！"])
        lines.append("**没识破的破绽**")
        for step in self.missed:
            lines.append(f"- “{step.scammer_line}”——{step.flag_name}：{step.red_flag}")
            lines.append(f"  正确做法：{step.right_move}")
        return "\n".join(lines)


def kinds_of(line: str) -> list[str]:
    """What a scammer's line asks for, most telling first."""
    return [kind for kind, _, words in KINDS if re.search(words, line)]


def _kind_name(kind: str) -> str:
    return next(name for k, name, _ in KINDS if k == kind)


def _match(sims: np.ndarray) -> list[int]:
    """Rows to columns by highest similarity, one to one while columns last (greedy)."""
    rows, cols = sims.shape
    out = [-1] * rows
    free_rows, free_cols = set(range(rows)), set(range(cols))
    while free_rows:
        if not free_cols:
            free_cols = set(range(cols))  # more lines than flags: flags may repeat
        r, c = max(
            ((r, c) for r in free_rows for c in free_cols), key=lambda rc: sims[rc[0], rc[1]]
        )
        out[r] = c
        free_rows.discard(r)
        free_cols.discard(c)
    return out


def drill(lesson: LessonRecord, embed: Embed, rng: random.Random | None = None) -> list[DrillStep]:
    """The lesson's scammer lines in order, each with shuffled choices and its red flag."""
    rng = rng or random.Random()
    lines = [line.strip('“”"') for line in iter_section_items(lesson.section("骗子怎么说"))]
    flags = list(iter_section_items(lesson.section("怎么识破")))
    steps = list(iter_section_items(lesson.section("正确做法")))
    reminder = lesson.section("一句话提醒").strip()
    if not lines:
        return []
    vectors = embed([*lines, *flags, *steps])
    n, f = len(lines), len(flags)
    line_v, flag_v, step_v = vectors[:n], vectors[n : n + f], vectors[n + f :]
    flag_of = _match(line_v @ flag_v.T) if flags else [-1] * n
    step_sims = line_v @ step_v.T if steps else np.zeros((n, 0))
    out = []
    for i, line in enumerate(lines):
        kinds = kinds_of(line) or ["urgent"]
        if steps:
            # a step that names the line's demand counts extra ("验证码" line -> the 验证码 step)
            answers = ANSWERS.get(kinds[0], "挂断")
            bonus = np.array([0.2 if re.search(answers, step) else 0.0 for step in steps])
            right = steps[int(np.argmax(step_sims[i] + bonus))]
        else:
            right = "先挂断，再自己打官方电话核实。"
        wrong = _wrong_moves(kinds, rng)
        choices = [right, *wrong]
        rng.shuffle(choices)
        out.append(
            DrillStep(
                scammer_line=line,
                choices=tuple(choices),
                safe_index=choices.index(right),
                red_flag=flags[flag_of[i]] if flag_of[i] >= 0 else reminder,
                flag_name=_kind_name(kinds[0]),
                safe_reason=reminder,
            )
        )
    return out


def _wrong_moves(kinds: Sequence[str], rng: random.Random) -> list[str]:
    pool: list[str] = []
    for kind in kinds:
        pool += [m for m in WRONG_MOVES.get(kind, ()) if m not in pool]
    first = list(WRONG_MOVES.get(kinds[0], ()))
    rng.shuffle(first)
    picked = first[:2]
    rest = [m for m in pool if m not in picked]
    rng.shuffle(rest)
    picked += rest
    picked += [m for m in GENERIC_WRONG if m not in picked]
    return picked[: CHOICES - 1]


def score_drill(steps: Sequence[DrillStep], answers: Sequence[int | None]) -> DrillResult:
    """Score a run: answers[i] is the index chosen on step i (None when skipped)."""
    missed = tuple(s for s, a in zip(steps, answers, strict=False) if a != s.safe_index)
    missed += tuple(steps[len(answers) :])
    return DrillResult(right=len(steps) - len(missed), total=len(steps), missed=missed)
