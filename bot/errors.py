"""The domain errors of the core; the edges (CLI, app) translate them once."""


class BotError(Exception):
    """Base of every error SilverGuard raises on purpose."""


class ConfigError(BotError):
    """The settings are inconsistent or name something that is not installed."""


class KnowledgeError(BotError):
    """A course file or the knowledge folder cannot be used."""


class IndexMissingError(BotError):
    """No index has been built yet in the configured place."""


class IndexMismatchError(BotError):
    """The index was built with another encoder than the configured one."""


class IndexCorruptError(BotError):
    """The index files are unreadable; rebuild from knowledge/."""


class LLMError(BotError):
    """The LLM endpoint failed, timed out or answered unusably."""
