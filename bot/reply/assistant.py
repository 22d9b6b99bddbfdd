"""The one composition root: build_assistant(settings) wires safety -> retrieve -> answer."""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import Settings
from bot.logs import guard_logging, one_line
from bot.records import Answer, LessonRecord, Passage, Question, Reading, Source
from bot.reply.checks import sentences_of, unsafe_reason
from bot.reply.classifier import ReadingModel
from bot.reply.compose import (
    Composed,
    compose,
    head_lines,
    unsure_with_verdict,
)
from bot.reply.cues import cue_codes
from bot.reply.linecheck import LineChecker, make_line_checker
from bot.reply.lines import lesson_lines
from bot.reply.links import check_number
from bot.reply.llm import SYSTEM_PROMPT, excerpts_block, make_chat_model
from bot.reply.official import Official, check_official
from bot.reply.reading import read_question
from bot.reply.safety import (
    is_defraud_request,
    is_junk,
    is_out_of_scope,
    read_input,
)
from bot.reply.scan import scan_message
from bot.reply.templates import (
    PROMPT,
    REDIRECT,
    REFUSE,
    SENSITIVE_NOTICE,
    SOURCE_LINE,
    TRUNCATED,
    UNSURE,
)
from bot.search.embeddings import Encoder, make_embeddings
from bot.search.live import open_live_index
from bot.search.retrieve import Retriever, load_reranker
from bot.search.store import IndexStore, IngestReport, Progress
from bot.search.tokenize import warm_up
from bot.staff.gaps import record_unanswered

log = logging.getLogger("bot")

History = Sequence[Any]  # strings (earlier user turns) or {"role", "content"} messages
_FOLLOW_UP = re.compile(
    r"^(?:那|那么|还有|然后|所以|这|他|她|它|对方|刚才|上面|你说的|那个|这个)|刚才|我说的那个|还有呢"
)


@dataclass
class Assistant:
    """Answers seniors' questions from the indexed lessons, safety first."""

    settings: Settings
    embeddings: Encoder
    store: IndexStore
    retriever: Retriever
    chat_model: Any = None
    reading_model: ReadingModel | None = None
    official: Official | None = None  # the reviewed official numbers and domains
    # the lesson-line checker: lines it refuses are never shown (nor indexed, see build_assistant)
    line_checker: LineChecker | None = None
    record_gaps: bool = True  # off while evaluating, so eval questions never reach the gap report

    # ------------------------------------------------------------ public
    def lessons(self) -> dict[str, LessonRecord]:
        """The lessons answered from now (the live index generation), by doc_id."""
        return self.retriever.lessons()

    def search(
        self, query: str, k: int = 5, *, mode: str | None = None, rerank: bool = True
    ) -> list[Passage]:
        """Hybrid search alone (no reply): the k best passages for a query."""
        return self.retriever.search(query, k, mode=mode, rerank=rerank)

    def reindex(self, progress: Progress | None = None) -> IngestReport:
        """Bring the index up to date with the knowledge folder; the app answers from it at once."""
        return self.store.ingest(progress=progress)

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """While evaluating: eval questions never reach the gap report."""
        saved, self.record_gaps = self.record_gaps, False
        try:
            yield
        finally:
            self.record_gaps = saved

    def clear_query_cache(self) -> None:
        """Forget cached query vectors (so timings measure real encoding)."""
        self.embeddings.clear_query_cache()

    def read(self, raw: str | None) -> Question:
        """The question read once (cleaned, redacted, cut to the configured limit)."""
        return read_input(raw, self.settings.max_question_chars)

    def ask(self, question: str | Question, history: History | None = None) -> Answer:
        """The full reply to one question (see stream() for the same reply in pieces)."""
        result: Answer | None = None
        for item in self.stream(question, history):
            if isinstance(item, Answer):
                result = item
        assert result is not None
        return result

    def stream(
        self, question: str | Question, history: History | None = None
    ) -> Iterator[str | Answer]:
        """Text pieces of the reply as they are ready, ending with the final Answer."""
        start = time.perf_counter()
        if not isinstance(question, Question):
            question = self.read(question)
        # Cut before anything reads or logs it: a 2 MB history must not cost 2 MB of work or log.
        history = earlier_turns(history, self.settings.max_question_chars)
        result = yield from self._reply(question, history)
        log_answer(question, result, (time.perf_counter() - start) * 1000)
        yield result

    # ------------------------------------------------------------ steps
    def reading(self, question: Question, history: History | None = None) -> Reading:
        """The reading of a question (its stage, ask and cues), the earlier turn taken into account."""
        earlier = None
        turns = [_content(h) for h in (history or []) if _is_user(h)]
        turns = [t for t in turns if t][-2:]  # the last two turns: "好我打110了" follows a story
        if turns:
            before = self.read(" ".join(turns))
            earlier = read_question(
                before.whole_redacted, self._vector(before.redacted), self.reading_model
            )
        return read_question(
            question.whole_redacted,
            self._vector(question.redacted),
            self.reading_model,
            earlier=earlier,
        )

    def _vector(self, text: str) -> np.ndarray | None:
        if self.reading_model is None or not text.strip():
            return None
        return self.embeddings.embed_query_vector(text)

    def _reply(self, question: Question, history: History | None) -> Generator[str, None, Answer]:
        text = question.text
        if is_junk(text):
            yield PROMPT
            return Answer(text=PROMPT, kind="prompt", truncated=question.truncated)
        # The whole message counts, and its redacted form too: "卡号[银行卡号]告诉了他" is
        # recognised where 19 raw digits are not.
        safe = question.redacted
        sensitive = question.sensitive
        reading = self.reading(question, history)
        emergency = reading.emergency
        # An order to drop the rules wrapped around a real question: refuse the order, answer
        # the question. Nothing left but the order: refuse.
        asked = reading.genuine if reading.injection else safe
        if not emergency and (not asked or is_defraud_request(asked)):
            yield REFUSE
            return Answer(text=REFUSE, kind="refuse", sensitive=sensitive, reading=reading)
        if not emergency and is_out_of_scope(asked):
            yield REDIRECT
            return Answer(text=REDIRECT, kind="redirect", sensitive=sensitive, reading=reading)

        head = head_lines(reading, emergency=emergency)
        if question.truncated:
            head.append(TRUNCATED)
        if sensitive:
            head.append(SENSITIVE_NOTICE)
        for piece in head:  # the emergency card goes out before any retrieval work
            yield piece + "\n"

        passages = self.retriever.search(self._query(asked, history), k=max(self.settings.top_k, 5))
        lesson, second = self._lessons_for(passages, reading)
        confidence = confidence_of(passages, asked)
        if lesson is None or confidence < self.settings.min_confidence:
            kind = "emergency" if emergency else "unsure"
            body = "" if emergency else (unsure_with_verdict(reading) or UNSURE)
            if not emergency and self.record_gaps:
                record_unanswered(
                    self.settings.unanswered_path,
                    question,
                    passages[0].topic if passages else "",
                    confidence,
                )
            if body:
                yield body
            return Answer(
                text="\n".join([*head, body]).strip(),
                sources=(),
                emergency=emergency,
                confidence=confidence,
                kind=kind,
                sensitive=sensitive,
                truncated=question.truncated,
                passages=tuple(passages),
                reading=reading,
            )

        used_llm = False
        scan = None
        reply: str | None = None
        used: tuple[str, ...] = (lesson.doc_id,)
        if self.chat_model is not None and not emergency:
            reply = yield from self._llm_body(asked, lesson, passages)
            used_llm = reply is not None
        if reply is None:
            message = self._pasted_message(question, reading, history)
            scan = scan_message(message, self.official) if message and self.official else None
            suspicious = False
            if scan is None and self.official is not None and reading.ask == "verdict":
                suspicious = scan_message(asked, self.official).risk == "high"
            composed = self._compose(
                asked,
                reading,
                lesson,
                second,
                passages,
                emergency,
                scan=scan,
                message=message,
                numbers=self._numbers(question, reading),
                suspicious=suspicious,
            )
            reply, used = composed.text, composed.lessons
            yield from reply.splitlines(keepends=True)
            self._note_mismatch(question, reading, composed, lesson, confidence)
        return Answer(
            text="\n".join([*head, reply]),
            sources=self._sources(passages, used),
            emergency=emergency,
            confidence=confidence,
            kind="emergency" if emergency else "answer",
            sensitive=sensitive,
            truncated=question.truncated,
            used_llm=used_llm,
            passages=tuple(passages),
            reading=reading,
            scan=scan,
        )

    def _compose(
        self,
        asked: str,
        reading: Reading,
        lesson: LessonRecord,
        second: LessonRecord | None,
        passages: list[Passage],
        emergency: bool,
        **extra: Any,
    ) -> Composed:
        vector = self._vector(asked)

        def similarity(record: LessonRecord | None) -> np.ndarray | None:
            if record is None or vector is None:
                return None
            return self.retriever.line_similarity([ln.text for ln in lesson_lines(record)], vector)

        return compose(
            asked,
            reading,
            lesson,
            passages,
            second=second,
            similarity=similarity(lesson),
            second_similarity=similarity(second),
            emergency=emergency,
            allow=self.line_checker.allows if self.line_checker is not None else None,
            **extra,
        )

    def _note_mismatch(
        self,
        question: Question,
        reading: Reading,
        composed: Composed,
        lesson: LessonRecord,
        confidence: float,
    ) -> None:
        """Answers whose reading and lesson disagree go to the gap report for the content team."""
        if not self.record_gaps:
            return
        named = reading.codes & _TELLING
        missed = named - composed.covered
        reason = ""
        if not composed.served:
            reason = f"stage '{reading.stage}' not served by the lesson"
        elif len(named) >= 2 and len(missed) > len(named) / 2:
            reason = "lesson does not speak to: " + ", ".join(sorted(missed))
        if reason:
            record_unanswered(
                self.settings.unanswered_path, question, lesson.topic, confidence, reason=reason
            )

    def _lessons_for(
        self, passages: list[Passage], reading: Reading
    ) -> tuple[LessonRecord | None, LessonRecord | None]:
        """The lesson to answer from (chosen among its topic's lessons by the cues) and a second."""
        if not passages:
            return None, None
        lessons = self.retriever.lessons()
        top = lessons.get(passages[0].doc_id)
        if top is None:
            return None, None
        ranked = list(dict.fromkeys(p.doc_id for p in passages[:5]))
        candidates = [lessons[d] for d in ranked if d in lessons]
        named = reading.codes & _TELLING
        if named:
            same_topic = [c for c in candidates if c.topic == top.topic]
            best = max(same_topic, key=lambda c: (len(named & lesson_codes(c)), c is top))
            if len(named & lesson_codes(best)) > len(named & lesson_codes(top)):
                top = best
        # A story that is over, or about someone else, names a kind of scam: its lesson teaches
        # more than "what to do after being scammed".
        if top.topic == "after-scam" and not reading.emergency:
            specific = [c for c in candidates[:3] if c.topic != "after-scam"]
            if specific:
                top = specific[0]
        others = [c for c in candidates[:3] if c.topic != top.topic]
        return top, (others[0] if others else None)

    def _query(self, question: str, history: History | None) -> str:
        """The retrieval query: a follow-up is read together with the turns before it."""
        earlier = [_content(h) for h in (history or []) if _is_user(h)]
        earlier = [self.read(e).redacted for e in earlier if e]
        if earlier and (_FOLLOW_UP.search(question) or len(question) <= 10):
            before = earlier[-1] if len(earlier[-1]) > 12 else " ".join(earlier[-2:])
            return f"{before} {question}"
        return question

    def _pasted_message(self, question: Question, reading: Reading, history: History | None) -> str:
        """The message to check: this turn's text, or the earlier turn's for "这是真的吗"."""
        if not reading.pasted or self.official is None:
            return ""
        turns = [_content(h) for h in (history or []) if _is_user(h)]
        if len(question.redacted) <= 24 and turns and turns[-1]:
            return self.read(turns[-1]).whole_redacted
        return question.whole_redacted

    def _numbers(self, question: Question, reading: Reading) -> list[str]:
        """Answers to "这个号码是真的吗" for the service numbers a question names."""
        if self.official is None or reading.ask != "verdict" or reading.pasted:
            return []
        out = []
        for m in _SERVICE_NUMBER.finditer(question.whole):
            check = check_number(m.group(), self.official)
            text = check.explain
            if not check.known:
                text = text.replace(check.number, "这个号码", 1)
            out.append(text)
        return out[:2]

    @staticmethod
    def _sources(passages: list[Passage], used: Sequence[str] = ()) -> tuple[Source, ...]:
        """The lessons the reply drew on first, then the other retrieved ones (three at most)."""
        seen: dict[str, Source] = {}
        for p in passages:
            if p.doc_id not in seen:
                seen[p.doc_id] = Source(p.doc_id, p.title, p.topic, round(p.score, 4))
        order = [d for d in used if d in seen] + [d for d in seen if d not in used]
        return tuple(seen[d] for d in order)[:3]

    def _llm_body(
        self, question: str, lesson: LessonRecord, passages: list[Passage]
    ) -> Generator[str, None, str | None]:
        """Stream a checked LLM reply; returns None (after yielding nothing unsafe) on any failure."""
        from langchain_core.messages import HumanMessage, SystemMessage

        others = [p for p in passages if p.doc_id != lesson.doc_id][:1]
        context = [(lesson, passages)]
        if others:
            second = self.retriever.lessons().get(others[0].doc_id)
            if second is not None:
                context.append((second, passages))
        messages = [
            SystemMessage(content=SYSTEM_PROMPT),
            HumanMessage(content=f"{excerpts_block(context)}\n\n老人的问题：{question}"),
        ]
        shown: list[str] = []
        try:
            chunks = (c.content for c in self.chat_model.stream(messages))
            for sentence in sentences_of(c if isinstance(c, str) else "" for c in chunks):
                # a bare line break between sentences is not an empty reply
                reason = unsafe_reason(sentence) if sentence.strip() else None
                if reason is None and self.line_checker is not None and sentence.strip():
                    reason = self.line_checker.rules_reason(sentence)
                if reason:
                    raise ValueError(reason)
                shown.append(sentence)
                yield sentence
        except Exception as exc:  # timeouts, refused connections, bad output: all fall back
            log.warning("LLM reply not used (%s): %s", type(exc).__name__, exc)
            if shown:
                yield "\n"
            return None
        text = "".join(shown).strip()
        if unsafe_reason(text):
            return None
        if SOURCE_LINE.format(title=lesson.title) not in text:
            extra = "\n" + SOURCE_LINE.format(title=lesson.title)
            yield extra
            text += extra
        return text


def confidence_of(passages: list[Passage], query: str = "") -> float:
    """How sure retrieval is, in [0, 1]: half the best dense cosine, half the top BM25 (capped).

    Calibrated on evals/retrieval.jsonl against evals/unanswerable.jsonl (README, "Confidence").
    A question in English or pinyin has no Chinese words for BM25 to match: there the dense
    cosine alone counts (the multilingual encoder understands it).
    """
    if not passages:
        return 0.0
    dense = max(p.dense for p in passages[:3])
    lexical = min(1.0, passages[0].bm25 / 8.0)
    if query and len(_CJK.findall(query)) < 0.3 * len(query.replace(" ", "")):
        return round(min(1.0, dense * 1.1), 4)
    return round(0.5 * dense + 0.5 * lexical, 4)


_CJK = re.compile(r"[\u4e00-\u9fff]")
# Numbers a senior asks about: service numbers (95588, 021-96110, 12381), +86/00 numbers.
_SERVICE_NUMBER = re.compile(
    r"(?<![\d+])(?:(?:\+|00)\d[\d -]{6,16}\d|(?:0\d{2,3}-?)?9[56]\d{3,6}|1[02]\d{3,4})(?![\d])"
)
# Cues that say what the question is about (not "an amount" or "a relative", which any has).
_TELLING = frozenset(
    {
        "link",
        "qr_code",
        "code",
        "password",
        "card_number",
        "face",
        "screen_share",
        "meeting_app",
        "download",
        "safe_account",
        "video_call",
        "voice",
        "parcel",
        "refund",
        "fee",
        "etc",
        "medical_insurance",
        "social_security",
        "pension",
        "prize",
        "loan",
        "credit_repair",
        "utility",
        "police",
        "customer_service",
        "high_return",
        "new_number",
        "leader",
        "teacher",
        "classmate",
    }
)


def lesson_codes(lesson: LessonRecord) -> frozenset[str]:
    """The cue codes a lesson's own text names (title, aliases, sections)."""
    return _lesson_codes(lesson.doc_id, lesson.sha256, lesson)


@functools.lru_cache(maxsize=512)
def _lesson_codes(doc_id: str, sha256: str, lesson: LessonRecord) -> frozenset[str]:
    text = " ".join([lesson.title, *lesson.aliases, *(t for _, t in lesson.sections)])
    return cue_codes(text)


def log_answer(question: Question, result: Answer, ms: float) -> None:
    """Log one answer on one line: the redacted question, cut, then escaped (never the raw text)."""
    log.info(
        "kind=%s emergency=%s topic=%s confidence=%.3f ms=%.1f question=%s",
        result.kind,
        result.emergency,
        result.sources[0].topic if result.sources else "-",
        result.confidence,
        ms,
        one_line(question.whole_redacted[:120]),
    )


# The turns before a question that are read with it, and how much of each (before it is read).
EARLIER_TURNS = 4
_TURN_READ_FACTOR = 4


def earlier_turns(history: History | None, max_chars: int) -> list[str]:
    """The last user turns of a history as text, each cut well before reading it.

    Anything malformed (not a string or a message dict, content of another shape) is skipped.
    The cut is generous (4 x the question limit): a turn is redacted before it is cut to the
    limit, so a number across the limit is still redacted whole.
    """
    if not isinstance(history, (list, tuple)):
        return []
    turns = []
    for item in history[-4 * EARLIER_TURNS :]:
        if _is_user(item):
            text = _content(item)[: max_chars * _TURN_READ_FACTOR]
            if text:
                turns.append(text)
    return turns[-EARLIER_TURNS:]


def _is_user(item: Any) -> bool:
    return isinstance(item, str) or (isinstance(item, dict) and item.get("role") == "user")


def _content(item: Any) -> str:
    if isinstance(item, str):
        return item
    content = item.get("content", "")
    if isinstance(content, list):  # Gradio keeps content as a list of typed parts
        return "".join(
            p if isinstance(p, str) else str(p.get("text", "")) if isinstance(p, dict) else ""
            for p in content[:20]
        )
    return content if isinstance(content, str) else ""


def build_assistant(
    settings: Settings,
    *,
    build_if_missing: bool = True,
    embeddings: Encoder | None = None,
    chat_model: Any = None,
) -> Assistant:
    """Wire the configured encoder, index, retriever and (optional) LLM into an Assistant.

    embeddings and chat_model may be passed in to share one loaded encoder (tests, benchmarks).
    """
    guard_logging("bot")  # one record per line, bounded, whatever a senior typed
    embeddings = embeddings or make_embeddings(settings)
    official = _load_official(settings)
    # Loads nothing now: its model and vectors are read when a line is first checked.
    line_checker = make_line_checker(settings, embeddings, official=official)
    store = IndexStore(settings, embeddings, check=line_checker.check_lines)
    # The encoder's weights and jieba's dictionary load while the index opens (cold start).
    with ThreadPoolExecutor(max_workers=2) as pool:
        weights = pool.submit(embeddings.embed_query_vector, "预热")
        dictionary = pool.submit(warm_up)
        live = open_live_index(store, build_if_missing)
        weights.result()
        dictionary.result()
    reranker = load_reranker(settings.reranker_model) if settings.reranker_model else None
    retriever = Retriever(
        live,
        embeddings,
        mode=settings.retrieval,
        candidates=settings.candidates,
        rrf_k=settings.rrf_k,
        max_chars=settings.max_question_chars,
        reranker=reranker,
    )
    retriever.search("预热")  # touch every path once, not on a senior's first question
    embeddings.clear_query_cache()
    assistant = Assistant(
        settings,
        embeddings,
        store,
        retriever,
        chat_model or make_chat_model(settings),
        reading_model=load_reading_model(embeddings.name),
        official=official,
        line_checker=line_checker,
    )
    # The rule lexicons compile on first use: use them once here, not on a first question.
    read_question("预热：他让我转账，验证码告诉他了吗")
    if official is not None:
        scan_message("【预热】http://example.cn 验证码", official)
    return assistant


def _load_official(settings: Settings) -> Official | None:
    """The reviewed official list from the knowledge folder (None, logged, when it is broken)."""
    path = Path(settings.knowledge_dir) / OFFICIAL_FILE
    official, problems = check_official(path)
    for problem in problems:
        log.warning("%s", problem)
    return official


OFFICIAL_FILE = "official.yaml"
READING_MODEL = Path(__file__).resolve().parent.parent / "data" / "reading_model.npz"


def load_reading_model(encoder: str, path: Path = READING_MODEL) -> ReadingModel | None:
    """The shipped stage/ask classifier, if it was trained on this encoder's vectors."""
    try:
        model = ReadingModel.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("no reading model (%s): the cue rules read questions alone", exc)
        return None
    if model.encoder != encoder:
        log.warning(
            "the reading model was trained on %s, not %s: the cue rules read questions alone "
            "(retrain with scripts/train_reading.py)",
            model.encoder,
            encoder,
        )
        return None
    return model
