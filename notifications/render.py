"""Render a notice from its jinja2 template pair (`NAME.txt`, `NAME.html`), HTML autoescaped.

The subject is the `subject` block of the text template, so each notice lives in two files; both
bodies are then given it as the value `subject` (the HTML's title and heading name the notice).

A notice usually goes to several people, and only the parts of its templates that mention
`recipient` differ between them. `Renderer.render_once` renders everything else once and each of
those parts per recipient; `Addressable.to(person)` gives exactly what
`render(notice, {**values, "recipient": person})` gives (same text, same exceptions), for any
template:

- Each template is parsed a second time, in a shadow environment, and rewritten: every piece
  that refers to `recipient` (an output expression, or a whole `for`, `with`, `filter`,
  `include` or `if` whose test mentions it) becomes a hole, a lookup that yields a marker; the
  piece itself is compiled, unchanged and under the same template name (so with the same
  autoescaping), as a block of a fragment template. `if`s whose tests do not mention the
  recipient and `block`s are looked into; includes count as mentioning it. A piece that is
  just `{{ recipient.ATTRIBUTE }}` is evaluated directly, as its compiled code would. The
  value `subject` counts as the recipient: a subject may name them.
- A template the rewrite cannot prove equal is not split at all: it is rendered per recipient.
  That is any assignment, macro, import, `autoescape` or extension statement, `self` or
  `super()`, a scoped block, or a mention of the recipient outside the blocks of a template that
  extends another.
- The shared render has no `recipient` (using it fails), and its output is checked: each hole
  must come out as a piece of its own that equals the marker, and the marker must occur nowhere
  else. Whatever fails or raises, there or while a recipient's holes are filled, falls back to
  the plain render for that recipient.

This assumes rendering has no side effects on the values (they are rendered once, not once per
recipient), which holds for the records and dataclasses notices are given.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    nodes,
    select_autoescape,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from markupsafe import escape

from notifications.words import FILTERS, OPTIONAL

TEMPLATES = Path(__file__).with_name("templates")
RECIPIENT = "recipient"
# The value both bodies are given their notice's subject in.
SUBJECT = "subject"
# What `_Hole.attribute` is for a hole that is just `{{ subject }}` (no attribute is named so).
SUBJECT_HOLE = "\x00subject"
# What a hole looks up in the shared render (a name no template may use).
_HOLE = "_pal_hole"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class _FlatGlobals(Environment):
    """An environment whose templates see its globals as one plain dict, not jinja's ChainMap
    over them: every render copies its template's globals into a new context, and copying a
    ChainMap costs a Python call per key. The globals are set before any template is loaded
    (make_environment) and never changed, so a template's copy of them never goes stale."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


def make_environment(loader: BaseLoader, cls: type[Environment] = _FlatGlobals) -> Environment:
    env = cls(
        loader=loader,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates ship inside the package: checking their mtimes on every render is waste.
        auto_reload=False,
        # A plain dict rather than a locked LRU: each render looks its templates up (the notice's
        # own and, through `extends`, its base), and a loader holds a few dozen at most.
        cache_size=-1,
    )
    env.filters["longdate"] = longdate
    env.filters.update(FILTERS)
    # Templates see only the values a notice passes: no default helpers (range, lipsum, ...),
    # which also makes each render's context cheaper to build; a value only some notices are
    # given is None for the others.
    env.globals.clear()
    env.globals.update(OPTIONAL)
    return env


@lru_cache(maxsize=4096)
def longdate(day: date) -> str:
    """`Monday, March 2, 2020`; cached, as a sweep writes the same few dates many times."""
    return f"{day:%A, %B} {day.day}, {day.year}"


# A part of a shared render: the text between the holes, and which hole goes between each two.
_Part = tuple[tuple[str, ...], tuple["_Hole", ...]]


class Renderer:
    """Renders the notices a loader holds; `renderer()` is the one for the packaged templates."""

    def __init__(self, loader: BaseLoader) -> None:
        self.env = make_environment(loader)
        split = make_environment(loader, _SplitEnvironment)
        assert isinstance(split, _SplitEnvironment)
        # One set of filters, tests and globals, should anyone add to them later.
        split.filters = self.env.filters
        split.tests = self.env.tests
        split.globals = self.env.globals
        split.policies = self.env.policies
        split.plain = self.env
        split.holes = {}
        split.lock = threading.Lock()
        self._split = split
        # Notices whose templates cannot be split: rendered per recipient.
        self._unsplittable: set[str] = set()
        # The hole marker: data holding it would be refused by the check, and cannot guess it.
        self._marker = f"\x02pal-hole-{secrets.token_hex(16)}\x03"

    def render(self, notice: str, values: dict[str, Any]) -> Rendered:
        env = self.env
        text_template = env.get_template(f"{notice}.txt")
        # One context serves the subject block and the whole text body (as Template.render does).
        context = text_template.new_context(values)
        subject = " ".join("".join(text_template.blocks["subject"](context)).split())
        # Both bodies name the notice by its subject (the HTML in its title and heading).
        values = {**values, SUBJECT: subject}
        return Rendered(
            subject=subject,
            text=env.concat(text_template.root_render_func(text_template.new_context(values))),
            html=env.get_template(f"{notice}.html").render(values),
        )

    def render_once(self, notice: str, values: dict[str, Any]) -> Addressable:
        """Render `notice` for any recipient; `.to(person)` addresses it."""
        return Addressable(self, notice, values, self._shared(notice, values))

    def _shared(self, notice: str, values: dict[str, Any]) -> tuple[_Part, _Part, _Part] | None:
        """The shared render's subject, text and HTML parts, or None to render per recipient."""
        if notice in self._unsplittable:
            return None
        holes = _Holes(self._split.holes, self._marker)
        shared = {**values, _HOLE: holes}
        # Using them fails, should the rewrite have missed a use (the subject may be the
        # recipient's own, so the bodies' mentions of it are holes too).
        shared.pop(RECIPIENT, None)
        shared.pop(SUBJECT, None)
        try:
            text_template = self._split.get_template(f"{notice}.txt")
            html_template = self._split.get_template(f"{notice}.html")
            context = text_template.new_context(shared)
            subject = self._part(text_template.blocks["subject"](context), holes)
            text = self._part(text_template.root_render_func(context), holes)
            html = self._part(
                html_template.root_render_func(html_template.new_context(shared)), holes
            )
        except _Unsplittable:
            self._unsplittable.add(notice)
            return None
        except Exception:
            return None  # the plain render raises it too, or it was the split's own failure
        if subject is None or text is None or html is None:
            return None
        if not subject[1]:
            subject = ((" ".join(subject[0][0].split()),), ())
            # The same subject for everyone: written into the shared bodies, so that what
            # differs between recipients (and what a splice stores) starts further down.
            text, html = (_with_subject(part, subject[0][0]) for part in (text, html))
        return subject, text, html

    def _part(self, rendered: Iterator[str], seen: _Holes) -> _Part | None:
        """Split a shared render at its holes; None unless each hole is a piece of its own.

        Every hole yields the marker as a piece of its own, in the order they are looked up;
        the counts prove that nothing else holds the marker (it cannot overlap itself: its
        first and last characters occur in it once), so splitting at it splits at the holes.
        """
        pieces = list(rendered)
        whole = "".join(pieces)
        marker = self._marker
        if not seen.holes:
            return None if marker in whole else ((whole,), ())
        holes = tuple(seen.holes)
        seen.holes.clear()
        segments = whole.split(marker)
        if len(segments) != len(holes) + 1 or pieces.count(marker) != len(holes):
            return None
        return tuple(segments), holes


def _with_subject(part: _Part, subject: str) -> _Part:
    """`part` with its `{{ subject }}` holes filled (as `Addressable._fill` fills them)."""
    segments, holes = part
    if not any(hole.attribute == SUBJECT_HOLE for hole in holes):
        return part
    merged = [segments[0]]
    kept: list[_Hole] = []
    for hole, segment in zip(holes, segments[1:], strict=True):
        if hole.attribute == SUBJECT_HOLE:
            merged[-1] += (str(escape(subject)) if hole.autoescape else subject) + segment
        else:
            kept.append(hole)
            merged.append(segment)
    return tuple(merged), tuple(kept)


def _frame(part: _Part) -> tuple[int, int]:
    segments, holes = part
    if not holes:
        return len(segments[0].encode("utf-8")), 0
    return len(segments[0].encode("utf-8")), len(segments[-1].encode("utf-8"))


@dataclass(frozen=True)
class Addressable:
    renderer: Renderer
    notice: str
    values: dict[str, Any]
    shared: tuple[_Part, _Part, _Part] | None
    # One context per fragment template, made once for the notice's values and shared by its
    # recipients: a hole's piece is a block that cannot assign (the rewrite refuses any
    # assignment), so it reads its context and never writes it; each recipient's `recipient`
    # and `subject` are bound in the context's own variables, which names resolve first.
    contexts: dict[Template, Context] = field(default_factory=dict, compare=False, repr=False)

    def to(self, person: Any) -> Rendered:
        """The notice as `render(notice, {**values, "recipient": person})` renders it."""
        if self.shared is None:
            return self.renderer.render(self.notice, {**self.values, RECIPIENT: person})
        subject, text, html = self.shared
        try:
            if subject[1]:
                own = {RECIPIENT: person}  # the subject is not known yet: the global one
                subject_text = " ".join(self._fill(subject, own).split())
            else:
                subject_text = subject[0][0]  # normalised by the shared render
            own = {RECIPIENT: person, SUBJECT: subject_text}
            return Rendered(subject_text, self._fill(text, own), self._fill(html, own))
        except Exception:
            # Whatever a hole raises, the plain render raises (or shows it was the split's).
            return self.renderer.render(self.notice, {**self.values, RECIPIENT: person})

    def frames(self) -> tuple[tuple[int, int], ...] | None:
        """For the text and then the HTML: how many bytes (UTF-8) at its start and at its end
        every recipient's body shares, being the shared render's, or None when each recipient's
        is rendered whole. What lies between is where recipients may differ."""
        if self.shared is None:
            return None
        return tuple(_frame(part) for part in self.shared[1:])

    def _fill(self, part: _Part, own: dict[str, Any]) -> str:
        """The part with its holes filled for one recipient (`own`: the recipient and, for the
        bodies, the subject)."""
        segments, holes = part
        if not holes:
            return segments[0]
        out = [segments[0]]
        contexts = self.contexts
        bound: set[Template] = set()
        for hole, segment in zip(holes, segments[1:], strict=True):
            if hole.attribute is not None:
                # `{{ recipient.ATTRIBUTE }}` or `{{ subject }}`, evaluated as its compiled code
                # evaluates it.
                if hole.attribute == SUBJECT_HOLE:
                    value = own[SUBJECT]
                else:
                    value = self.renderer.env.getattr(own[RECIPIENT], hole.attribute)
                out.append(escape(value) if hole.autoescape else str(value))
            else:
                fragment = hole.fragment
                context = contexts.get(fragment)
                if context is None:
                    context = contexts[fragment] = fragment.new_context(self.values)
                if fragment not in bound:
                    bound.add(fragment)
                    context.vars.pop(SUBJECT, None)  # a subject being filled has none
                    context.vars.update(own)
                out.append("".join(fragment.blocks[hole.block](context)))
            out.append(segment)
        return "".join(out)


class _Holes:
    """What a hole looks up in the shared render: records the hole, yields the marker."""

    __slots__ = ("holes", "marker", "table")

    def __init__(self, table: dict[int, _Hole], marker: str) -> None:
        self.table = table
        self.marker = marker
        self.holes: list[_Hole] = []

    def __getitem__(self, number: int) -> str:
        self.holes.append(self.table[number])
        return self.marker


@dataclass(frozen=True)
class _Hole:
    fragment: Template  # renders the hole's piece in its `block`
    block: str
    attribute: str | None  # when the piece is just `{{ recipient.ATTRIBUTE }}` (or the subject)
    autoescape: bool


class _Unsplittable(Exception):
    """A template the rewrite cannot prove equal to its plain render."""


# Statements that bind names, change autoescaping or come from extensions: a hole elsewhere might
# depend on them, so a template holding any of them is rendered per recipient.
_UNSUPPORTED: tuple[type[nodes.Node], ...] = (
    nodes.Macro,
    nodes.CallBlock,
    nodes.Import,
    nodes.FromImport,
    nodes.ExprStmt,
    nodes.Assign,
    nodes.AssignBlock,
    nodes.Continue,
    nodes.Break,
    nodes.Scope,
    nodes.OverlayScope,
    nodes.EvalContextModifier,
    nodes.EnvironmentAttribute,
    nodes.ExtensionAttribute,
    nodes.ImportedName,
    nodes.InternalName,
    nodes.ContextReference,
    nodes.DerivedContextReference,
)
_SPECIAL_NAMES = {"self", "super", _HOLE}


class _SplitEnvironment(_FlatGlobals):
    """Loads each template rewritten with holes (see the module docstring)."""

    plain: Environment
    holes: dict[int, _Hole]
    lock: threading.Lock

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for node in tree.find_all(nodes.Node):
            if (
                isinstance(node, _UNSUPPORTED)
                or (isinstance(node, nodes.Name) and node.name in _SPECIAL_NAMES)
                or (isinstance(node, nodes.Block) and node.scoped)
            ):
                raise _Unsplittable(name)
        with self.lock:  # hole numbers are the environment's
            extends = any(tree.find_all(nodes.Extends))
            rewrite = _Rewrite(self, extends=extends, first=len(self.holes))
            tree.body = rewrite.body(tree.body, in_block=False)
            if rewrite.pieces:
                self._compile_fragments(rewrite.first, rewrite.pieces, name, filename)
        return tree

    def _compile_fragments(
        self, first: int, pieces: list[nodes.Stmt], name: str | None, filename: str | None
    ) -> None:
        blocks: list[nodes.Node] = [
            nodes.Block(f"h{first + i}", [piece], False, False, lineno=piece.lineno)
            for i, piece in enumerate(pieces)
        ]
        tree = nodes.Template(blocks, lineno=1)
        tree.set_environment(self.plain)
        # Same name as the template, so the same autoescaping; compiled by the plain
        # environment, so an include in a hole loads the plain template.
        code = self.plain.compile(tree, name, filename)
        fragment = self.plain.template_class.from_code(
            self.plain, code, self.plain.make_globals(None)
        )
        autoescape = EvalContext(self.plain, name).autoescape
        direct = self.plain.finalize is None  # else output goes through finalize first
        for i, piece in enumerate(pieces):
            attribute = _attribute(piece) if direct else None
            self.holes[first + i] = _Hole(fragment, f"h{first + i}", attribute, autoescape)


class _Rewrite:
    def __init__(self, environment: Environment, *, extends: bool, first: int) -> None:
        self.environment = environment
        self.extends = extends
        self.first = first
        self.pieces: list[nodes.Stmt] = []

    def body(self, statements: list[nodes.Node], *, in_block: bool) -> list[nodes.Node]:
        return [self.statement(s, in_block=in_block) for s in statements]

    def statement(self, node: nodes.Node, *, in_block: bool) -> nodes.Node:
        if not _mentions(node):
            return node
        if isinstance(node, nodes.Block):
            node.body = self.body(node.body, in_block=True)
            return node
        if isinstance(node, nodes.If) and not any(
            _mentions(n.test) for n in chain([node], node.elif_)
        ):
            node.body = self.body(node.body, in_block=in_block)
            for branch in node.elif_:
                branch.body = self.body(branch.body, in_block=in_block)
            node.else_ = self.body(node.else_, in_block=in_block)
            return node
        if isinstance(node, nodes.Extends) or (self.extends and not in_block):
            raise _Unsplittable("recipient outside the blocks of a template that extends")
        if isinstance(node, nodes.Output):
            node.nodes = [
                self.hole(nodes.Output([child], lineno=child.lineno)) if _mentions(child) else child
                for child in node.nodes
            ]
            return node
        assert isinstance(node, nodes.Stmt)
        return nodes.Output([self.hole(node)], lineno=node.lineno)

    def hole(self, piece: nodes.Stmt) -> nodes.Expr:
        if any(piece.find_all((nodes.Block, nodes.Extends))):
            raise _Unsplittable("a block inside a piece that mentions the recipient")
        number = self.first + len(self.pieces)
        self.pieces.append(piece)
        lookup = nodes.Getitem(nodes.Name(_HOLE, "load"), nodes.Const(number), "load")
        lookup.set_lineno(piece.lineno)
        lookup.set_environment(self.environment)
        return lookup


def _attribute(piece: nodes.Stmt) -> str | None:
    """ATTRIBUTE when `piece` is `{{ recipient.ATTRIBUTE }}`; `SUBJECT_HOLE` when it is
    `{{ subject }}`."""
    if isinstance(piece, nodes.Output) and len(piece.nodes) == 1:
        (child,) = piece.nodes
        if type(child) is nodes.Name and child.name == SUBJECT and child.ctx == "load":
            return SUBJECT_HOLE
        if (
            type(child) is nodes.Getattr
            and type(child.node) is nodes.Name
            and child.node.name == RECIPIENT
            and child.ctx == "load"
        ):
            return str(child.attr)
    return None


# The names whose value may differ between recipients: the recipient, and the subject the
# bodies are given (it may mention the recipient).
_PER_RECIPIENT = frozenset({RECIPIENT, SUBJECT})


def _mentions(node: nodes.Node) -> bool:
    """Whether `node` refers to the recipient or the subject (an include counts: it may)."""
    for n in chain([node], node.find_all((nodes.Name, nodes.Include))):
        if isinstance(n, nodes.Include) or (isinstance(n, nodes.Name) and n.name in _PER_RECIPIENT):
            return True
    return False


@cache
def renderer() -> Renderer:
    return Renderer(FileSystemLoader(TEMPLATES))


def environment() -> Environment:
    return renderer().env


def render(notice: str, values: dict[str, Any]) -> Rendered:
    return renderer().render(notice, values)


def render_once(notice: str, values: dict[str, Any]) -> Addressable:
    """Render `notice` for any recipient; `.to(person)` addresses it."""
    return renderer().render_once(notice, values)


@cache
def mentions(notice: str, name: str) -> bool:
    """Whether the templates of `notice` (or the shared `_` ones they build on) may use the
    value `name`: a plain search of their text, so a mention anywhere counts (never missed)."""
    files = [*TEMPLATES.glob(f"{notice}.*"), *TEMPLATES.glob("_*")]
    return any(name in path.read_text(encoding="utf-8") for path in files)


def notice_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES.glob("*.txt") if not p.stem.startswith("_"))
