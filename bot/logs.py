"""Log records one line each: nothing a senior types can forge a line or flood the log."""

from __future__ import annotations

import logging
import re

# One record is one line of at most this many characters (a traceback included).
MAX_RECORD_CHARS = 4000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value: object, limit: int = MAX_RECORD_CHARS) -> str:
    """The text on one line (\\n, \\r, control characters as escapes), cut to limit.

    Idempotent (backslashes are left alone), so a line escaped once is not escaped twice.
    """
    text = str(value)
    cut = len(text) > limit
    if cut:
        text = text[:limit]  # cut first: escaping a 2 MB string would cost 2 MB more
    text = _CONTROL.sub(_escape, text)
    return f"{text}… (cut at {limit} characters)" if cut else text


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch)
    return named or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


class OneLineFilter(logging.Filter):
    """Rewrites each record of a logger as one escaped, bounded line (the traceback folded in)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message += "\n" + record.stack_info
            record.stack_info = None
        record.msg, record.args = one_line(message), None
        return True


def guard_logging(name: str = "bot") -> None:
    """One escaped, bounded line per record: on the named logger and every root handler (once).

    The root's handlers carry the app's other loggers too ("silverguard.app"); a logger's own
    filter would not see its children's records.
    """
    for target in (logging.getLogger(name), *logging.getLogger().handlers):
        if not any(isinstance(f, OneLineFilter) for f in target.filters):
            target.addFilter(OneLineFilter())
