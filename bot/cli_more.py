"""The eval, gaps and bench commands (kept apart so cli.py stays short)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the eval/gaps/bench sub-commands."""
