"""The recogniser interface: a document in, suggestions (start, end, label, score) out.

A recogniser is any object with a ``name`` (stored as the suggestions' ``origin``), a
``priority`` (which suggestion wins when two recognisers overlap), the ``languages`` it
handles, and three methods:

- ``unavailable() -> str | None``: why it cannot run here (a missing optional package),
  or ``None``;
- ``prepare(store)``: learn what it needs from the store (the propagation lexicon, stored
  patterns, a trained model) — called once per run, in the thread that runs it;
- ``suggest(doc) -> list[Suggestion]``: spans over whole tokens of ``doc.text``.

Recognisers are registered by name (:func:`register`) and built with :func:`create`; the
built-in ones live in the modules of :data:`BUILTIN_MODULES` and register on import.
:mod:`annotations.recognisers.runner` runs them over a store.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Protocol, runtime_checkable

from ..tokenize import Tokens, tokenize

if TYPE_CHECKING:  # pragma: no cover
    from ..models import Document
    from ..store import Store

__all__ = [
    "Suggestion",
    "TextDoc",
    "Recogniser",
    "BaseRecogniser",
    "RecogniserInfo",
    "RecogniserError",
    "register",
    "create",
    "recogniser_names",
    "recogniser_info",
    "priority_of",
    "widens_others",
    "BUILTIN_MODULES",
    "UNREGISTERED_PRIORITY",
]

#: Modules that register the built-in recognisers when imported.
BUILTIN_MODULES: list[str] = [
    "annotations.recognisers.propagation",
    "annotations.recognisers.patterns",
    "annotations.recognisers.natasha_ner",
    "annotations.recognisers.gazetteer",
    "annotations.recognisers.crf",
]

#: Priority of an origin no recogniser owns (an imported suggestion file): never displaced.
UNREGISTERED_PRIORITY = 100


class RecogniserError(Exception):
    """A recogniser that does not exist or cannot run here (the message says why)."""


class Suggestion(NamedTuple):
    """One suggested span: code-point offsets (end exclusive), label and a score in 0..1."""

    start: int
    end: int
    label: str
    score: float | None = None


@dataclass(slots=True)
class TextDoc:
    """What a recogniser sees of a document: its text, language and (lazily) its tokens.

    ``tokens`` comes from the store's token cache when the caller has it; otherwise it is
    computed with spaCy on first use (and ``computed_tokens`` tells the runner to cache it).
    """

    text: str
    lang: str
    id: int | None = None
    _tokens: Tokens | None = None
    computed_tokens: bool = field(default=False)

    @property
    def tokens(self) -> Tokens:
        if self._tokens is None:
            self._tokens = tokenize(self.text, self.lang)
            self.computed_tokens = True
        return self._tokens

    @property
    def has_tokens(self) -> bool:
        return self._tokens is not None

    @classmethod
    def from_document(cls, doc: "Document") -> "TextDoc":
        return cls(doc.text, doc.lang, doc.id, doc.tokens)


@runtime_checkable
class Recogniser(Protocol):
    """What the runner needs from a recogniser (see the module docstring)."""

    name: str
    priority: int
    languages: frozenset[str] | None

    def unavailable(self) -> str | None: ...

    def prepare(self, store: "Store") -> None: ...

    def suggest(self, doc: TextDoc) -> list[Suggestion]: ...


class BaseRecogniser:
    """Defaults for a recogniser: always available, nothing to prepare, every language."""

    name: str = "recogniser"
    priority: int = 10
    languages: frozenset[str] | None = None

    def unavailable(self) -> str | None:
        return None

    def prepare(self, store: "Store") -> None:
        return None

    def suggest(self, doc: TextDoc) -> list[Suggestion]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class RecogniserInfo:
    """A registered recogniser: how to build it and what it is."""

    name: str
    factory: Callable[..., Recogniser]
    description: str
    priority: int
    default: bool = True
    widens: bool = True


_registry: dict[str, RecogniserInfo] = {}
_loaded = False
_lock = threading.Lock()


def register(
    name: str,
    factory: Callable[..., Recogniser],
    *,
    description: str,
    priority: int,
    default: bool = True,
    widens: bool = True,
) -> None:
    """Make a recogniser available by ``name`` (``default``: run when none is named).

    ``widens``: whether a longer span of this recogniser displaces another origin's
    suggestion of the same label inside it (see :func:`widens_others`).
    """
    _registry[name] = RecogniserInfo(name, factory, description, priority, default, widens)


def _load_builtins() -> None:
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
        _loaded = True


def recogniser_names(*, defaults_only: bool = False) -> list[str]:
    """Registered recogniser names, highest priority first."""
    _load_builtins()
    infos = sorted(_registry.values(), key=lambda i: (-i.priority, i.name))
    return [i.name for i in infos if i.default or not defaults_only]


def recogniser_info(name: str) -> RecogniserInfo:
    _load_builtins()
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(recogniser_names())
        raise RecogniserError(f"unknown recogniser {name!r}: use one of {known}") from None


def create(name: str, **options: Any) -> Recogniser:
    """Build the recogniser registered as ``name`` with ``options``."""
    return recogniser_info(name).factory(**options)


def priority_of(origin: str) -> int:
    """Priority of a suggestion's origin; origins no recogniser owns are never displaced."""
    _load_builtins()
    info = _registry.get(origin)
    return info.priority if info else UNREGISTERED_PRIORITY


def widens_others(origin: str) -> bool:
    """Whether a longer suggestion of ``origin`` displaces another origin's suggestion of the
    same label inside it, whatever their priorities ("Владимира Путина" from the Russian NER
    around propagation's "Путина"). A statistical model's longer span is more often a
    neighbouring word swept in ("Вечером Жапаров"), so the ``crf`` recogniser does not.
    Origins no recogniser owns (imported suggestions) do."""
    _load_builtins()
    info = _registry.get(origin)
    return info.widens if info else True
