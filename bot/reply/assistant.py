"""The one composition root: build_assistant(settings) wires safety -> retrieve -> answer."""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.records import Answer, LessonRecord, Passage, Question, Source
from bot.reply.checks import sentences_of, unsafe_reason
from bot.reply.compose import (
    EMERGENCY_CARD,
    PROMPT,
    REDIRECT,
    REFUSE,
    SENSITIVE_NOTICE,
    SOURCE_LINE,
    SYSTEM_PROMPT,
    TRUNCATED,
    UNSURE,
    compose,
    excerpts_block,
)
from bot.reply.llm import make_chat_model
from bot.reply.safety import (
    is_defraud_request,
    is_emergency,
    is_junk,
    is_out_of_scope,
    read_input,
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
        result = yield from self._reply(question, history)
        log.info(
            "kind=%s emergency=%s topic=%s confidence=%.3f ms=%.1f question=%s",
            result.kind,
            result.emergency,
            result.sources[0].topic if result.sources else "-",
            result.confidence,
            (time.perf_counter() - start) * 1000,
            question.whole_redacted[:120],
        )
        yield result

    # ------------------------------------------------------------ steps
    def _reply(self, question: Question, history: History | None) -> Generator[str, None, Answer]:
        text = question.text
        if is_junk(text):
            yield PROMPT
            return Answer(text=PROMPT, kind="prompt", truncated=question.truncated)
        # The whole message counts, and its redacted form too: "卡号[银行卡号]告诉了他" is
        # recognised where 19 raw digits are not.
        whole, safe_whole, safe = question.whole, question.whole_redacted, question.redacted
        sensitive = question.sensitive
        emergency = is_emergency(whole) or is_emergency(safe_whole)
        # A victim coached by the scammer ("他教我假装…，钱已经转了") needs the card, not a refusal.
        if not emergency and is_defraud_request(safe):
            yield REFUSE
            return Answer(text=REFUSE, kind="refuse", sensitive=sensitive)
        if not emergency and is_out_of_scope(safe):
            yield REDIRECT
            return Answer(text=REDIRECT, kind="redirect", sensitive=sensitive)

        head: list[str] = []
        if emergency:  # always the first thing a senior in a live scam sees
            head.append(EMERGENCY_CARD)
        if question.truncated:
            head.append(TRUNCATED)
        if sensitive:
            head.append(SENSITIVE_NOTICE)
        for piece in head:  # the emergency card goes out before any retrieval work
            yield piece + "\n"

        passages = self.retriever.search(self._query(safe, history), k=max(self.settings.top_k, 5))
        lesson, confidence = self._best_lesson(passages)
        sources = self._sources(passages)
        if lesson is None or confidence < self.settings.min_confidence:
            kind = "emergency" if emergency else "unsure"
            body = "" if emergency else UNSURE
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
            )

        used_llm = False
        reply: str | None = None
        if self.chat_model is not None and not emergency:
            reply = yield from self._llm_body(safe, lesson, passages)
            used_llm = reply is not None
        if reply is None:
            reply = compose(safe, lesson, passages, emergency=emergency)
            yield from reply.splitlines(keepends=True)
        return Answer(
            text="\n".join([*head, reply]),
            sources=sources,
            emergency=emergency,
            confidence=confidence,
            kind="emergency" if emergency else "answer",
            sensitive=sensitive,
            truncated=question.truncated,
            used_llm=used_llm,
            passages=tuple(passages),
        )

    def _query(self, question: str, history: History | None) -> str:
        """The retrieval query: a follow-up is read together with the turn before it."""
        earlier = [_content(h) for h in (history or []) if _is_user(h)]
        earlier = [self.read(e).redacted for e in earlier if e]
        if earlier and (_FOLLOW_UP.search(question) or len(question) <= 10):
            return f"{earlier[-1]} {question}"
        return question

    def _best_lesson(self, passages: list[Passage]) -> tuple[LessonRecord | None, float]:
        if not passages:
            return None, 0.0
        lessons = self.retriever.lessons()
        top = passages[0]
        lesson = lessons.get(top.doc_id)
        confidence = confidence_of(passages)
        return lesson, confidence

    @staticmethod
    def _sources(passages: list[Passage]) -> tuple[Source, ...]:
        seen: dict[str, Source] = {}
        for p in passages:
            if p.doc_id not in seen:
                seen[p.doc_id] = Source(p.doc_id, p.title, p.topic, round(p.score, 4))
        return tuple(seen.values())[:3]

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


def confidence_of(passages: list[Passage]) -> float:
    """How sure retrieval is, in [0, 1]: half the best dense cosine, half the top BM25 (capped).

    Calibrated on evals/retrieval.jsonl against evals/unanswerable.jsonl (README, "Confidence").
    """
    if not passages:
        return 0.0
    dense = max(p.dense for p in passages[:3])
    lexical = min(1.0, passages[0].bm25 / 8.0)
    return round(0.5 * dense + 0.5 * lexical, 4)


def _is_user(item: Any) -> bool:
    return isinstance(item, str) or (isinstance(item, dict) and item.get("role") == "user")


def _content(item: Any) -> str:
    if isinstance(item, str):
        return item
    content = item.get("content", "")
    return content if isinstance(content, str) else str(content)


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
    embeddings = embeddings or make_embeddings(settings)
    store = IndexStore(settings, embeddings)
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
    return Assistant(
        settings, embeddings, store, retriever, chat_model or make_chat_model(settings)
    )
