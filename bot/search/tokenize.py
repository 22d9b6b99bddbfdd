"""Chinese tokens for BM25: jieba search-mode words with a domain dictionary, plus 2-grams."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

_KEEP = re.compile(r"[\w\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
# Words that carry no meaning for finding a lesson; seniors' questions are full of them.
STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "呀",
        "吧",
        "么",
        "嘛",
        "哦",
        "噢",
        "哈",
        "是",
        "在",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "这",
        "那",
        "这个",
        "那个",
        "就",
        "都",
        "也",
        "还",
        "和",
        "与",
        "有",
        "没",
        "没有",
        "个",
        "一个",
        "说",
        "要",
        "会",
        "能",
        "让",
        "被",
        "把",
        "给",
        "对",
        "从",
        "到",
        "很",
        "又",
        "啥",
        "什么",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "为什么",
        "侬",
        "伐",
        "阿拉",
        "俺",
        "咱",
        "咋",
        "哪",
        "呃",
        "嗯",
        "哎",
        "唉",
        "请问",
        "请",
        "问",
        "一下",
        "一些",
        "可以",
        "可能",
        "是不是",
        "不是",
        "真的",
        "现在",
    ]
)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer(str(Path(__file__).parents[1] / "data" / "jieba_dict.txt"))
    tokenizer.load_userdict(str(Path(__file__).parents[1] / "data" / "userdict.txt"))
    return tokenizer


def warm_up() -> None:
    """Load jieba's dictionary now rather than on the first question."""
    _jieba().initialize()


def tokenize(text: str) -> list[str]:
    """Lower-cased search-mode jieba words without stopwords, plus CJK character bigrams.

    The bigrams make BM25 forgiving of seniors' typos and of words jieba cuts differently.
    """
    text = text.lower()
    words = [w for w in _jieba().cut_for_search(text) if _KEEP.search(w) and w not in STOPWORDS]
    grams = [run[i : i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)]
    return words + [f"~{g}" for g in grams if g not in STOPWORDS]
