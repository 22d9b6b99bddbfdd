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


class DiskFullError(BotError):
    """The disk is full: nothing is damaged and nothing was changed; free space and try again."""


def is_disk_full(exc: BaseException | None) -> bool:
    """True when exc (or an exception it was raised from) says the disk or quota is full."""
    import errno

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        # sqlite ("database or disk is full"), Rust io errors in chromadb ("No space left on device")
        if "disk is full" in text or "no space left on device" in text or "quota exceeded" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
