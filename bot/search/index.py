"""One opened index generation: its chunks and lessons, BM25 scores and nearest vectors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bot.search.generation import read_generation, read_lines, read_vectors
from bot.search.tokenize import tokenize


class Index:
    """One opened generation: chunks, lessons, BM25 and its Chroma collection."""

    def __init__(
        self,
        root: Path,
        generation: str,
        collection: Callable[[], Any],
        exact_limit: int = 0,
    ) -> None:
        data = read_generation(root, generation, bm25=True)
        # Below exact_limit chunks an exact scan of the stored vectors beats an HNSW query
        # (0.05 ms against ~2 ms for Chroma's query at 328 chunks, measured): Chroma stays the
        # store of record and answers larger or server-side collections.
        if 0 < len(data.chunks) <= exact_limit:
            data = read_vectors(root, data)
        assert data.bm25 is not None
        self.manifest = data.manifest
        self.generation = generation
        self._bm25 = data.bm25
        self._open_collection = collection
        self._collection: Any = None
        self.chunks = data.chunks
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.lessons = {r.doc_id: r for r in data.lessons}
        self.matrix: np.ndarray | None = None
        if data.vectors is not None:
            self.matrix = np.ascontiguousarray(data.vectors, dtype=np.float32)
        lines = read_lines(root, data)
        self._line_rows = {t: i for i, t in enumerate(lines.line_texts)}
        self._line_matrix = lines.line_vectors

    def line_similarity(self, texts: list[str], vector: np.ndarray) -> np.ndarray | None:
        """Cosine of the question vector with each of these lesson lines (None if not stored)."""
        if self._line_matrix is None or not texts:
            return None
        rows = [self._line_rows.get(t, -1) for t in texts]
        q = np.asarray(vector, dtype=np.float32)
        q = q / max(float(np.linalg.norm(q)), 1e-9)
        m = self._line_matrix
        out = np.zeros(len(texts), dtype=np.float32)
        for j, row in enumerate(rows):
            if 0 <= row < len(m) and m.shape[1] == len(q):
                v = m[row]
                out[j] = float(v @ q) / max(float(np.linalg.norm(v)), 1e-9)
        return out

    @property
    def collection(self) -> Any:
        """The generation's Chroma collection (opened on first use: exact search never needs it)."""
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for the query (zeros if no query word is known)."""
        scores = np.zeros(len(self.chunks), dtype=np.float32)
        bm25 = self._bm25
        for token in tokenize(query):
            i = bm25.vocab.get(token)
            if i is not None:
                lo, hi = bm25.ptr[i], bm25.ptr[i + 1]
                np.add.at(scores, bm25.docs[lo:hi], bm25.data[lo:hi])
        return scores

    def dense_search(self, vector: np.ndarray, n: int) -> list[tuple[int, float]]:
        """(chunk position, cosine similarity) of the n nearest chunks, best first."""
        n = min(n, len(self.chunks))
        if n == 0:
            return []
        if self.matrix is not None:
            sims = self.matrix @ vector
            return [(int(i), float(sims[i])) for i in top_k(sims, n)]
        result = self.collection.query(
            query_embeddings=[vector.tolist()], n_results=n, include=["distances"]
        )
        return [
            (self.by_id[cid], 1.0 - float(dist))
            for cid, dist in zip(result["ids"][0], result["distances"][0], strict=True)
            if cid in self.by_id
        ]


def top_k(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the n highest scores, highest first (exact ties as numpy's partition left them)."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    return top[np.argsort(-scores[top], kind="stable")]
