"""The only module that knows LLM providers: an OpenAI-compatible chat model via LangChain."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.errors import ConfigError


def make_chat_model(settings: Settings) -> Any:
    """A LangChain chat model for the configured endpoint, or None when no LLM is configured."""
    if settings.llm == "none":
        return None
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ConfigError('BOT_LLM=openai needs: pip install "silverguard[openai]"') from exc
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=settings.llm_temperature,
        max_completion_tokens=400,
        streaming=True,
    )
