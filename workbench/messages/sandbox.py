"""The template sandbox: immutable, confined to its folder, and bounded in time and size.

Templates are written by other people, so they render in :class:`TemplateSandbox`, a Jinja
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`:

- **Nothing shared can change.** Methods that modify a list, dict or set (``update``, ``append``,
  ``pop``, ``setdefault`` ...) are refused, as are Python internals (``__class__`` ...);
  ``{% set x.y = ... %}`` works only on a template's own ``namespace()``. The renderer also
  freezes what it passes in (see :func:`freeze`).
- **Only the template folder.** ``include``, ``extends`` and ``import`` may only name files inside
  the folder; a name with ``..`` or an absolute path, and a symlink whose real path is outside the
  folder, are refused (:class:`TemplateOutsideFolder`).
- **A time limit.** Every loop iteration, call, filter and operator checks the render's deadline,
  so even a loop that writes nothing stops (``{% for a in range(9999) %}{% for b in range(9999)
  %}{% endfor %}{% endfor %}``).
- **A size limit.** ``range()`` gives at most :data:`MAX_RANGE` numbers; ``*``, ``**``, ``+`` and
  ``%`` are checked *before* they build a value (``'x' * 10**7`` is refused, not computed), as are
  the string methods and filters that can grow text (``ljust``, ``center``, ``replace``, ``join``,
  ``format``, ``indent``, ``wordwrap``, ``batch``, ``tojson`` ...); every value a template writes
  (``{{ ... }}``, also inside ``{% set %}`` blocks and macros, and the literal text of loop bodies)
  counts towards the output limit, and the renderer streams the output and stops past it.

A limit that is reached raises :class:`TemplateLimit`, which the renderer turns into a
:class:`~workbench.models.errors.TemplateError` naming the template, the line and the limit.
"""

from __future__ import annotations

import functools
import os
import re
import string
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from typing import Any, TypeVar

import jinja2
from jinja2 import nodes, pass_context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

__all__ = [
    "MAX_INT_BITS",
    "MAX_OUTPUT_CHARS",
    "MAX_RANGE",
    "MAX_RENDER_SECONDS",
    "FolderLoader",
    "FrozenDict",
    "TemplateLimit",
    "TemplateOutsideFolder",
    "TemplateSandbox",
    "check_time",
    "freeze",
    "render_chunks",
    "render_limited",
]

#: Seconds one template part may take to render.
MAX_RENDER_SECONDS = 2.0
#: Characters one template part may write (and the longest text or list a template may build).
MAX_OUTPUT_CHARS = 1_000_000
#: The most numbers one ``range()`` may give.
MAX_RANGE = 10_000
#: The largest integer (in bits) ``*`` and ``**`` may build.
MAX_INT_BITS = 100_000


class TemplateLimit(Exception):
    """A render went past a limit: ``problem`` says which, ``fix`` what to do."""

    def __init__(self, problem: str, fix: str, *, kind: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.kind = kind


class TemplateOutsideFolder(Exception):
    """A template name (or the real path of its file) leaves the template folder."""

    def __init__(self, name: str, root: str, reason: str) -> None:
        super().__init__(f"template {name!r} {reason}")
        self.name = name
        self.root = root
        self.reason = reason


# ---------------------------------------------------------------- the render's budget


class _Budget(threading.local):
    """Deadline and size budget of the render running in this thread (no deadline: no render)."""

    deadline: float | None = None
    seconds: float = MAX_RENDER_SECONDS
    max_chars: int = MAX_OUTPUT_CHARS
    written: int = 0


_BUDGET = _Budget()


def check_time() -> None:
    """Raise :class:`TemplateLimit` when the running render is past its deadline."""
    b = _BUDGET
    if b.deadline is not None and time.monotonic() > b.deadline:
        msg = f"stopped after {b.seconds:g} s, the render time limit"
        raise TemplateLimit(
            msg,
            "a message template renders in milliseconds: remove the loop or computation that runs this long",
            kind="time",
        )


def _too_big(size: int, what: str) -> TemplateLimit:
    limit = _BUDGET.max_chars
    return TemplateLimit(
        f"{what} would make a value of {size:,} characters or items, over the size limit of {limit:,}",
        "build shorter text; a message never needs values this large",
        kind="size",
    )


def _check_size(size: int, what: str) -> None:
    if size > _BUDGET.max_chars:
        raise _too_big(size, what)


def _size(value: object) -> int:
    if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
        return len(value)
    return 0


_V = TypeVar("_V")


def _checked(value: _V, what: str) -> _V:
    n = _size(value)
    if n > _BUDGET.max_chars:
        raise _too_big(n, what)
    return value


def _written(n: int) -> None:
    b = _BUDGET
    if b.deadline is None or n <= 0:
        return
    b.written += n
    if b.written > b.max_chars:
        msg = f"wrote more than {b.max_chars:,} characters, the output size limit"
        raise TemplateLimit(
            msg,
            "write less: a message is a few kilobytes (Gmail clips HTML over 102 KB)",
            kind="size",
        )


# ---------------------------------------------------------------- growth checks before a value is built

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")


def _check_percent(fmt: str, what: str) -> None:
    """``fmt % args`` widths and precisions add up to at most the size limit; ``*`` widths are refused."""
    total = len(fmt)
    for width, precision in _PERCENT_SPEC.findall(fmt):
        if "*" in (width, precision):
            msg = f"{what} uses a `*` width in a % format"
            raise TemplateLimit(
                msg,
                "write the width as a number in the format",
                kind="size",
            )
        total += int(width or 0) + int(precision or 0)
    _check_size(total, what)


def _check_format(fmt: str, what: str) -> None:
    """``fmt.format(...)`` widths add up to at most the size limit; nested fields in a spec are refused."""
    total = len(fmt)
    for _literal, field, spec, _conversion in string.Formatter().parse(fmt):
        if field is None or not spec:
            continue
        if "{" in spec:
            msg = f"{what} computes a format width from a value"
            raise TemplateLimit(
                msg,
                "write the width as a number in the format",
                kind="size",
            )
        total += sum(int(d) for d in _DIGITS.findall(spec))
    _check_size(total, what)


def _int_bits(value: object) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _check_binop(op: str, left: Any, right: Any) -> None:
    what = f"`{op}`"
    if op == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                _check_size(len(seq) * max(count, 0), what)
                return
        if isinstance(left, int) and isinstance(right, int) and _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
            raise _int_too_big(what)
    elif op == "**":
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and max(_int_bits(left), 1) * right > MAX_INT_BITS
        ):
            raise _int_too_big(what)
    elif op == "+":
        if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            _check_size(len(left) + len(right), what)
    elif op == "%" and isinstance(left, str):
        _check_percent(left, what)


def _int_too_big(what: str) -> TemplateLimit:
    return TemplateLimit(
        f"{what} would make an integer of more than {MAX_INT_BITS:,} bits",
        "compute with numbers of a sensible size",
        kind="size",
    )


def _check_str_method(method: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Check a call of a str or bytes method that can grow it; returns the arguments to call it with."""
    s = method.__self__
    name = method.__name__
    what = f"`.{name}()`"
    if name in ("ljust", "rjust", "center", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        if isinstance(width, int):
            _check_size(width, what)
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tab, int):
            _check_size(len(s) + s.count(b"\t" if isinstance(s, bytes) else "\t") * max(tab, 0), what)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], type(s)) and isinstance(args[1], type(s)):
        old, new = args[0], args[1]
        count = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
        hits = s.count(old) if old else len(s) + 1
        if count >= 0:
            hits = min(hits, count)
        _check_size(len(s) + hits * max(len(new) - len(old), 0), what)
    elif name == "join" and args:
        items = list(args[0])
        _check_size(sum(_size(x) for x in items) + len(s) * max(len(items) - 1, 0), what)
        return (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))), default=1)
        _check_size(len(s) * max(longest, 1), what)
    return args


# ---------------------------------------------------------------- filters and globals with limits


def _pre_center(value: Any = "", width: int = 80, *_: Any, **__: Any) -> None:
    if isinstance(width, int):
        _check_size(width, "the center filter")


def _pre_indent(s: Any = "", width: Any = 4, *_: Any, **__: Any) -> None:
    prefix = len(width) if isinstance(width, str) else max(width, 0) if isinstance(width, int) else 4
    text = str(s)
    _check_size(len(text) + (text.count("\n") + 1) * prefix, "the indent filter")


def _pre_format(value: Any = "", *_: Any, **__: Any) -> None:
    _check_percent(str(value), "the format filter")


def _pre_replace(s: Any = "", old: Any = "", new: Any = "", count: Any = None, *_: Any, **__: Any) -> None:
    text, old, new = str(s), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _check_size(len(text) + hits * max(len(new) - len(old), 0), "the replace filter")


def _pre_wordwrap(s: Any = "", width: Any = 79, _long: Any = True, wrapstring: Any = None, *_: Any, **__: Any) -> None:
    wrap = wrapstring if wrapstring is not None else "\n"
    step = width if isinstance(width, int) and width > 0 else 1
    text = str(s)
    _check_size(len(text) + (len(text) // step + 1) * len(str(wrap)), "the wordwrap filter")


def _pre_count(value: Any = None, count: Any = 0, *_: Any, **__: Any) -> None:
    if isinstance(count, int):
        _check_size(count, "the batch/slice filter")


def _pre_tojson(value: Any = None, indent: Any = None, *_: Any, **__: Any) -> None:
    if (isinstance(indent, int) and indent > 64) or (isinstance(indent, str) and len(indent) > 64):
        msg = "tojson uses an indent over 64"
        raise TemplateLimit(msg, "use a small indent", kind="size")


def _pre_urlize(
    value: Any = "", _limit: Any = None, _nofollow: Any = False, target: Any = None, rel: Any = None, *_: Any, **__: Any
) -> None:
    text = str(value)
    extra = 40 + len(str(target or "")) + len(str(rel or ""))
    _check_size(3 * len(text) + (len(text) // 4 + 1) * extra, "the urlize filter")


#: Filters that can grow text, with the check that runs before them (on the arguments after the value's context).
_PRE_CHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center,
    "indent": _pre_indent,
    "format": _pre_format,
    "replace": _pre_replace,
    "wordwrap": _pre_wordwrap,
    "batch": _pre_count,
    "slice": _pre_count,
    "tojson": _pre_tojson,
    "urlize": _pre_urlize,
}
#: Filters whose input is materialised first, so its size is known before they concatenate it.
_MATERIALISED = frozenset({"join", "sum"})


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    pre = _PRE_CHECKS.get(name)
    skip = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0
    what = f"the {name} filter"

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check_time()
        if pre is not None:
            pre(*args[skip:], **kwargs)
        if name in _MATERIALISED and len(args) > skip and not isinstance(args[skip], (str, Mapping)):
            items = list(args[skip])
            _check_size(sum(_size(x) for x in items) + len(items), what)
            args = (*args[:skip], items, *args[skip + 1 :])
        return _checked(func(*args, **kwargs), what)

    return guarded


def _bounded_range(*args: int) -> range:
    check_time()
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        msg = f"range() of {len(numbers):,} numbers is over the limit of {MAX_RANGE:,}"
        raise TemplateLimit(
            msg,
            "loop over the customer's own data, or over a short range",
            kind="size",
        )
    return numbers


def _bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if not (0 <= n <= 20 and 0 <= min <= max <= 500):
        msg = "lipsum() asks for too much text"
        raise TemplateLimit(msg, "use lipsum(n<=20, max<=500)", kind="size")
    return generate_lorem_ipsum(n=n, html=html, min=min, max=max)


@pass_context
def _loop_guard(_context: Any, iterable: Any, literal: int = 0) -> Iterator[Any]:
    """Every ``{% for %}`` iterates through this: the deadline is checked on each item, and the loop body's
    literal text counts towards the output budget (text a ``{% set %}`` block captures is never streamed)."""
    b = _BUDGET
    for item in iterable:
        if b.deadline is not None:
            if time.monotonic() > b.deadline:
                check_time()
            if literal > 0:
                _written(literal)
        yield item


@pass_context
def _value_guard(_context: Any, value: Any) -> Any:
    """``a ~ b`` goes through this: the joined text stays under the size limit."""
    check_time()
    return _checked(value, "`~`")


@pass_context
def _output_guard(_context: Any, value: Any) -> Any:
    """Every ``{{ ... }}`` goes through this: what a template writes counts towards the output budget."""
    if _BUDGET.deadline is not None:
        _written(len(value) if isinstance(value, str) else _size(value))
    return value


_GUARDS = {"_wb_loop": _loop_guard, "_wb_value": _value_guard, "_wb_output": _output_guard}


def _filter(node: nodes.Node, name: str, *args: nodes.Expr) -> nodes.Filter:
    out = nodes.Filter(node, name, list(args), [], None, None, lineno=node.lineno)
    return out


class _Guards(NodeTransformer):
    """Route loops and ``~`` through the guard filters, and the outputs a template captures (see :data:`_GUARDS`).

    Output that is streamed is counted by the renderer as it streams; output captured by a
    ``{% set %}`` block, a macro, a call block or a filter block is not streamed until later, so those
    outputs (and the literal text of loops inside them) count towards the budget as they are made.
    """

    def __init__(self) -> None:
        self.capturing = 0

    def _captured(self, node: nodes.Node) -> nodes.Node:
        self.capturing += 1
        try:
            return self.generic_visit(node)
        finally:
            self.capturing -= 1

    visit_AssignBlock = visit_Macro = visit_CallBlock = visit_FilterBlock = _captured

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        literal = sum(len(d.data) for n in node.body for d in n.find_all(nodes.TemplateData)) if self.capturing else 0
        node.iter = _filter(node.iter, "_wb_loop", nodes.Const(literal, lineno=node.lineno))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filter(node, "_wb_value")

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        if self.capturing:
            node.nodes = [
                n if isinstance(n, (nodes.Const, nodes.TemplateData)) else _filter(n, "_wb_output") for n in node.nodes
            ]
        return node


# ---------------------------------------------------------------- the loader


class FolderLoader(jinja2.FileSystemLoader):
    """Loads templates from one folder only, and remembers which file each came from (for error lines).

    A name with ``..`` or an absolute path, and a file whose real path (symlinks resolved) is
    outside the folder, raise :class:`TemplateOutsideFolder` before anything is read.
    """

    def __init__(self, searchpath: str | os.PathLike[str]) -> None:
        super().__init__(searchpath)
        self.root = os.path.realpath(searchpath)
        self.files: dict[str, str] = {}

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = template.replace("\\", "/").split("/")
        if ".." in pieces or template.startswith(("/", "\\")) or os.path.isabs(template):
            raise TemplateOutsideFolder(template, self.root, "names a path outside the template folder")
        path = os.path.join(self.searchpath[0], *[p for p in pieces if p and p != "."])
        real = os.path.realpath(path)
        if os.path.exists(path) and os.path.commonpath([real, self.root]) != self.root:
            raise TemplateOutsideFolder(template, self.root, f"is a link to {real}, outside the template folder")
        source, filename, uptodate = super().get_source(environment, template)
        if filename:
            self.files[filename] = template
        return source, filename, uptodate


# ---------------------------------------------------------------- the environment


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the workbench's folder, time and size limits (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, func in list(self.filters.items()):
            self.filters[name] = _guarded_filter(name, func)
        self.filters.update(_GUARDS)
        self.globals["range"] = _bounded_range
        self.globals["lipsum"] = _bounded_lipsum

    def make_globals(self, d: Mapping[str, Any] | None) -> Any:
        """A template's globals as one plain dict: the sandbox's own (fixed once it is built) and the template's.

        Jinja chains the template's globals to the environment's (a ChainMap) so that globals added to the
        environment later reach templates loaded before; the sandbox sets its globals (``range``,
        ``lipsum``) when it is built and never after, and a plain dict is read in one step each time a
        template or an include starts rendering instead of merging the chain again.
        """
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute`` as the sandbox reads it; on a read-only dict, a key that names no dict attribute
        is read as the item straight away (Jinja tries the attribute first, which fails for such keys)."""
        if type(obj) is FrozenDict and attribute not in _FROZEN_DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def _generate(
        self, source: nodes.Template, name: str | None, filename: str | None, defer_init: bool = False
    ) -> str:
        """Jinja's hook between parsing and code generation: loops, ``~`` and outputs get their guards."""
        _Guards().visit(source)
        return super()._generate(source, name, filename, defer_init=defer_init)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        check_time()
        _check_binop(operator, left, right)
        return _checked(self.binop_table[operator](left, right), f"`{operator}`")

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        check_time()
        if isinstance(__obj, (types.BuiltinMethodType, types.MethodType)) and isinstance(
            getattr(__obj, "__self__", None), (str, bytes)
        ):
            args = _check_str_method(__obj, args, kwargs)
        return _checked(super().call(__context, __obj, *args, **kwargs), "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt = value.__self__

        @functools.wraps(wrapper)
        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format(fmt, "`.format()`")
            return _checked(wrapper(*args, **kwargs), "`.format()`")

        return checked


# ---------------------------------------------------------------- frozen data


class FrozenDict(dict[Any, Any]):
    """A dict that cannot change once made.

    Templates see an ordinary dict (``brand.name``, ``customer["email"]``, ``| tojson``); the sandbox
    refuses its mutating methods with a clear error, and Python code that tries gets a TypeError.
    """

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> None:
        msg = "this mapping is read-only (it is shared by every message); copy it with dict(...) to change it"
        raise TypeError(msg)

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


#: Every attribute a FrozenDict has (it has no instance dict): any other name fails as an attribute.
_FROZEN_DICT_ATTRIBUTES = frozenset(dir(FrozenDict))


def freeze(value: Any) -> Any:
    """A read-only copy of ``value`` for templates: dicts become :class:`FrozenDict`, lists and sets tuples.

    Strings, numbers, timestamps and other immutable values are returned as they are.
    """
    if isinstance(value, Mapping):
        return FrozenDict({k: freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(freeze(v) for v in value)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", None):
        return tuple(freeze(v) for v in value.tolist())
    return value


#: Chunks of output taken from a template's stream at once by :func:`render_chunks`.
_CHUNKS_AT_ONCE = 16


def render_limited(
    template: jinja2.Template,
    context: Mapping[str, Any],
    *,
    seconds: float = MAX_RENDER_SECONDS,
    max_chars: int = MAX_OUTPUT_CHARS,
) -> str:
    """Render ``template`` by streaming ``template.generate(context)`` under a deadline and an output limit.

    Raises :class:`TemplateLimit` past ``seconds`` (checked by every loop, call, filter and operator)
    or as soon as the output passes ``max_chars``; a render inside a render keeps its own budget.
    """
    return "".join(render_chunks(template, context, seconds=seconds, max_chars=max_chars))


def render_chunks(
    template: jinja2.Template,
    context: Mapping[str, Any],
    *,
    seconds: float = MAX_RENDER_SECONDS,
    max_chars: int = MAX_OUTPUT_CHARS,
) -> list[str]:
    """:func:`render_limited`, giving the chunks of output as the template wrote them, in order.

    Each piece of the template's own text is a ``str``; with autoescape on, each ``{{ ... }}`` output
    is the :class:`~markupsafe.Markup` that escaping it gave.
    """
    b = _BUDGET
    saved = (b.deadline, b.seconds, b.max_chars, b.written)
    b.deadline, b.seconds, b.max_chars, b.written = time.monotonic() + seconds, seconds, max_chars, 0
    # What Template.generate does, without its generator around every chunk: the same context, and the
    # same traceback rewriting (template lines) for an error raised while rendering.
    chunks = template.root_render_func(template.new_context(dict(context)))
    out: list[str] = []
    size = 0
    over = False
    try:
        try:
            # A few chunks at a time. The output passes the limit in a block when the block's total does
            # (sizes only grow); one that fails part way keeps the chunks made before the error, and when
            # those passed the limit the render stopped there, before the error, as one chunk at a time would.
            while True:
                block: list[str] = []
                try:
                    block.extend(islice(chunks, _CHUNKS_AT_ONCE))
                except Exception:
                    if size + sum(map(len, block)) > max_chars:
                        over = True
                        break
                    raise
                if not block:
                    break
                size += sum(map(len, block))
                if size > max_chars:
                    over = True
                    break
                out += block
        except Exception:
            template.environment.handle_exception()
    finally:
        # the compiled root render function is a generator; Jinja's annotation says only Iterator[str]
        chunks.close()  # type: ignore[attr-defined]
        b.deadline, b.seconds, b.max_chars, b.written = saved
    if over:
        msg = f"wrote more than {max_chars:,} characters, the output size limit"
        raise TemplateLimit(
            msg,
            "write less: a message is a few kilobytes (Gmail clips HTML over 102 KB)",
            kind="size",
        )
    return out
