"""Official numbers and web domains (knowledge/official.yaml): load, validate, look up."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import KnowledgeError
from bot.records import Problem

FILENAME = "official.yaml"
KINDS = frozenset(
    {
        "hotline",
        "government",
        "bank",
        "payment",
        "operator",
        "utility",
        "courier",
        "shop",
        "insurer",
    }
)
# The spoofing patterns check_number knows how to recognise; their wording lives in the file.
PATTERN_CODES = frozenset(
    {
        "area_96110",
        "international_authority",
        "lookalike_service",
        "sms_12381",
        "sms_106",
        "mobile_personal",
    }
)
NOTE = "以官方公布为准"
_ORG_KEYS = {"name", "kind", "numbers", "domains", "aliases", "brand", "about", "checked"}
_TOP_KEYS = {"source", "updated", "note", "organisations", "patterns"}
_NUMBER = re.compile(r"^\d{3,11}$")
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$")
_BRAND = re.compile(r"^[a-z0-9]{3,}$")
_LINE = "__line__"


@dataclass(frozen=True)
class Organisation:
    """A bank, operator, hotline or government service with its published numbers and domains."""

    name: str
    kind: str
    numbers: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    brand: tuple[str, ...] = ()  # latin tokens a look-alike domain borrows ("icbc")
    about: str = ""
    checked: str = ""
    line: int = 0

    def owns(self, host: str) -> bool:
        """True when host is one of the organisation's domains or a subdomain of one."""
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)


@dataclass(frozen=True)
class Pattern:
    """A known spoofing pattern and the sentence that explains it to a senior."""

    code: str
    explain: str
    checked: str = ""
    line: int = 0


@dataclass(frozen=True)
class Official:
    """The reviewed list of official numbers, domains and spoofing patterns."""

    source: str
    updated: str
    note: str
    organisations: tuple[Organisation, ...]
    patterns: tuple[Pattern, ...] = ()
    path: str = ""
    _numbers: dict[str, tuple[Organisation, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    # derived lookups other modules build once per list (the link matcher)
    cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Organisation]] = {}
        for org in self.organisations:
            for number in org.numbers:
                index.setdefault(number, []).append(org)
        self._numbers.update({k: tuple(v) for k, v in index.items()})

    def by_number(self, number: str) -> tuple[Organisation, ...]:
        """The organisations that publish this exact number (digits only)."""
        return self._numbers.get(number, ())

    def owner_of(self, host: str) -> Organisation | None:
        """The organisation whose official domain host is (or is a subdomain of), if any."""
        host = host.lower().rstrip(".")
        best: tuple[int, Organisation] | None = None
        for org in self.organisations:
            for d in org.domains:
                if (host == d or host.endswith("." + d)) and (best is None or len(d) > best[0]):
                    best = (len(d), org)
        return best[1] if best else None

    def sender(self, signature: str, min_len: int = 1) -> Organisation | None:
        """The organisation a 【签名】 names (longest matching name or alias), if any."""
        names = self.cache.get("names")
        if not isinstance(names, tuple):
            by_name: dict[str, Organisation] = {}
            for org in self.organisations:
                for name in (org.name, *org.aliases, *org.numbers):
                    by_name.setdefault(name, org)
            ordered = sorted(by_name, key=len, reverse=True)
            names = self.cache["names"] = (re.compile("|".join(map(re.escape, ordered))), by_name)
        regex, by_name = names
        best = max(
            (m.group() for m in regex.finditer(signature) if len(m.group()) >= min_len),
            key=len,
            default="",
        )
        return by_name[best] if best else None

    def pattern(self, code: str) -> Pattern | None:
        """The spoofing pattern with this code, if the file has it."""
        return next((p for p in self.patterns if p.code == code), None)


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping (for file:line problems)."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def check_official(path: Path) -> tuple[Official | None, tuple[Problem, ...]]:
    """Read and validate the official list; returns it (None if unusable) and its problems."""
    path = Path(path)
    rel = path.name
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None, (Problem(rel, 0, "official list not found"),)
    except (OSError, UnicodeDecodeError) as exc:
        return None, (Problem(rel, 0, f"unreadable: {exc}"),)
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        return None, (Problem(rel, line, f"invalid YAML: {getattr(exc, 'problem', exc)}"),)
    if not isinstance(data, dict):
        return None, (
            Problem(rel, 1, "the file must be a mapping with organisations and patterns"),
        )
    problems: list[Problem] = []
    for key in sorted(set(data) - _TOP_KEYS - {_LINE}):
        problems.append(Problem(rel, 1, f"unknown field {key!r}", "warning"))
    source = _text(data.get("source"))
    if not source:
        problems.append(Problem(rel, 1, "missing 'source' (where the list comes from)"))
    updated = data.get("updated")
    if isinstance(updated, dt.date):
        updated = updated.isoformat()
    if not isinstance(updated, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", updated):
        problems.append(Problem(rel, 1, "'updated' must be a date YYYY-MM-DD"))
        updated = ""
    note = _text(data.get("note"))
    if NOTE not in note:
        problems.append(Problem(rel, 1, f"'note' must say {NOTE}"))
    orgs = _organisations(data.get("organisations"), rel, problems)
    patterns = _patterns(data.get("patterns"), rel, problems)
    if any(p.severity == "error" for p in problems):
        return None, tuple(problems)
    official = Official(source, str(updated), note, orgs, patterns, str(path))
    return official, tuple(problems)


def load_official(path: Path) -> Official:
    """The validated official list; raises KnowledgeError naming file:line when it is unusable."""
    official, problems = check_official(path)
    if official is None:
        errors = "; ".join(str(p) for p in problems if p.severity == "error")
        raise KnowledgeError(f"official list unusable: {errors}")
    return official


def _organisations(raw: object, rel: str, problems: list[Problem]) -> tuple[Organisation, ...]:
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(rel, 1, "'organisations' must be a non-empty list"))
        return ()
    out: list[Organisation] = []
    names: dict[str, int] = {}
    domains: dict[str, tuple[str, int]] = {}
    for item in raw:
        if not isinstance(item, dict):
            problems.append(Problem(rel, 0, "an organisation must be a mapping"))
            continue
        line = int(item.get(_LINE, 0))

        def bad(reason: str, severity: str = "error", line: int = line) -> None:
            problems.append(Problem(rel, line, reason, severity))

        for key in sorted(set(item) - _ORG_KEYS - {_LINE}):
            bad(f"unknown field {key!r}", "warning")
        name = _text(item.get("name"))
        if not name:
            bad("missing 'name'")
        elif name in names:
            bad(f"duplicate name {name!r} (line {names[name]})")
        names.setdefault(name, line)
        kind = _text(item.get("kind"))
        if kind not in KINDS:
            bad(f"'kind' must be one of {', '.join(sorted(KINDS))}")
        if not _text(item.get("checked")):
            bad("missing 'checked' (where the number or domain is published)")
        numbers = _strings(item.get("numbers"), "numbers", bad)
        for number in numbers:
            if not _NUMBER.match(number):
                bad(f"number {number!r} must be 3-11 digits, quoted")
        found = _strings(item.get("domains"), "domains", bad)
        for domain in found:
            if not _DOMAIN.match(domain):
                bad(f"domain {domain!r} must be a bare lower-case domain like icbc.com.cn")
            elif domain in domains:
                other, at = domains[domain]
                bad(f"domain {domain!r} already belongs to {other} (line {at})")
            else:
                domains[domain] = (name, line)
        if not numbers and not found:
            bad("needs at least one of 'numbers' or 'domains'")
        brand = _strings(item.get("brand"), "brand", bad)
        for token in brand:
            if not _BRAND.match(token):
                bad(f"brand token {token!r} must be 3+ lower-case letters or digits")
        aliases = _strings(item.get("aliases"), "aliases", bad)
        out.append(
            Organisation(
                name=name,
                kind=kind,
                numbers=numbers,
                domains=found,
                aliases=aliases,
                brand=brand,
                about=_text(item.get("about")),
                checked=_text(item.get("checked")),
                line=line,
            )
        )
    return tuple(out)


def _patterns(raw: object, rel: str, problems: list[Problem]) -> tuple[Pattern, ...]:
    if raw is None:
        problems.append(
            Problem(rel, 1, "no 'patterns': number checks will not explain spoofing", "warning")
        )
        return ()
    if not isinstance(raw, list):
        problems.append(Problem(rel, 1, "'patterns' must be a list"))
        return ()
    out = []
    for item in raw:
        if not isinstance(item, dict):
            problems.append(Problem(rel, 0, "a pattern must be a mapping"))
            continue
        line = int(item.get(_LINE, 0))
        code, explain = _text(item.get("code")), _text(item.get("explain"))
        if code not in PATTERN_CODES:
            problems.append(Problem(rel, line, f"unknown pattern code {code!r}"))
        if not explain:
            problems.append(Problem(rel, line, "missing 'explain'"))
        if not _text(item.get("checked")):
            problems.append(Problem(rel, line, "missing 'checked'"))
        out.append(Pattern(code, explain, _text(item.get("checked")), line))
    missing = PATTERN_CODES - {p.code for p in out}
    if missing:
        problems.append(
            Problem(rel, 1, f"patterns not described: {', '.join(sorted(missing))}", "warning")
        )
    return tuple(out)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: object, key: str, bad: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        bad(f"'{key}' must be a list")
        return ()
    out = []
    for v in value:
        if isinstance(v, int) and not isinstance(v, bool):
            bad(f"'{key}' value {v} must be quoted (leading zeros are lost otherwise)")
            continue
        if not isinstance(v, str) or not v.strip():
            bad(f"'{key}' values must be non-empty strings")
            continue
        out.append(v.strip())
    return tuple(out)


def all_domains(official: Official) -> Iterable[tuple[str, Organisation]]:
    """Every (domain, organisation) pair of the list."""
    for org in official.organisations:
        for d in org.domains:
            yield d, org
