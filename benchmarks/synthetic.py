"""A synthetic but realistic Chinese corpus for scale tests: lessons recombined and varied."""

from __future__ import annotations

import random
import re
from pathlib import Path

import yaml

from bot.knowledge.topics import SECTIONS
from bot.records import Lesson

DISTRICTS = (
    "黄浦",
    "徐汇",
    "长宁",
    "静安",
    "普陀",
    "虹口",
    "杨浦",
    "闵行",
    "宝山",
    "嘉定",
    "浦东",
    "金山",
    "松江",
    "青浦",
    "奉贤",
    "崇明",
)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
ELDERS = ("阿姨", "老伯", "大爷", "奶奶", "爷爷", "师傅", "老师")
AMOUNTS = (
    "三千元",
    "五千元",
    "八千元",
    "一万元",
    "两万元",
    "三万元",
    "五万元",
    "十万元",
    "二十万元",
)
OPENERS = (
    "社区民警提醒：",
    "网点工作人员说：",
    "课堂上老师讲过：",
    "请记住：",
    "家里人要提醒老人：",
    "",
)
_NAME = re.compile(
    r"[王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董][阿老]?(?:阿姨|老伯|大爷|奶奶|爷爷|师傅|老师)"
)
_AMOUNT = re.compile(r"[一二两三四五六七八九十百千]+(?:万|千)?(?:元|块)")
_DISTRICT = re.compile("|".join(DISTRICTS))


def _vary(sentence: str, rng: random.Random) -> str:
    sentence = _NAME.sub(lambda _: rng.choice(SURNAMES) + rng.choice(ELDERS), sentence)
    sentence = _AMOUNT.sub(lambda _: rng.choice(AMOUNTS), sentence)
    sentence = _DISTRICT.sub(lambda _: rng.choice(DISTRICTS), sentence)
    return sentence


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def variant(lesson: Lesson, sibling: Lesson, n: int, rng: random.Random) -> str:
    """One varied copy of a lesson, with lines borrowed from a sibling lesson of the same topic."""
    meta = {
        "id": f"{lesson.doc_id}-v{n}",
        "title": f"{lesson.title}（{rng.choice(DISTRICTS)}课堂{n}）",
        "topic": lesson.topic,
        "updated": "2026-11-01",
        "aliases": [_vary(a, rng) for a in lesson.aliases[:4]],
    }
    parts = ["---", yaml.safe_dump(meta, allow_unicode=True).strip(), "---"]
    for name in SECTIONS[:-1]:
        own = _lines(lesson.section(name))
        borrowed = _lines(sibling.section(name))
        if not own:
            continue
        rng.shuffle(own)
        if borrowed:
            own.insert(rng.randrange(len(own) + 1), rng.choice(borrowed))
        opener = rng.choice(OPENERS) if name == "一句话提醒" else ""
        parts += [f"## {name}", opener + "\n".join(_vary(line, rng) for line in own), ""]
    parts.append("## 常见问题")
    for sec in lesson.sections:
        if sec.level == 3 and sec.path[:1] == ("常见问题",):
            parts += [f"### {_vary(sec.heading, rng)}", _vary(sec.text, rng), ""]
    return "\n".join(parts)


def write_corpus(lessons: list[Lesson], folder: Path, copies: int, seed: int = 7) -> int:
    """Write `copies` varied versions of every lesson into folder; returns the file count."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    by_topic: dict[str, list[Lesson]] = {}
    for lesson in lessons:
        by_topic.setdefault(lesson.topic, []).append(lesson)
    count = 0
    for lesson in lessons:
        others = [x for x in lessons if x.topic == lesson.topic and x is not lesson] or lessons
        for n in range(copies):
            text = variant(lesson, rng.choice(others), n, rng)
            (folder / f"{lesson.doc_id}-v{n}.md").write_text(text, "utf-8")
            count += 1
    return count
