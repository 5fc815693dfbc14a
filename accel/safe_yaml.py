"""The one YAML loader accel uses for every file it reads (arch files, sweep specs, --set).

PyYAML's SafeLoader never builds arbitrary objects, but it still trusts the document's
*shape*: a "billion laughs" alias bomb is a few hundred bytes that mean 10^9 nodes
(harmless while shared, gigabytes the moment anything walks or prints it), deep
nesting is a RecursionError, undecodable bytes are a UnicodeDecodeError and a
duplicate key silently keeps the last value.  This loader refuses each of those with a
``ConfigError`` naming the problem:

* the *expanded* node count (every alias counted as a full copy of what it names) is
  bounded by ``MAX_NODES``, and a self-referencing alias is an error;
* nesting depth is bounded by ``MAX_DEPTH``;
* the bytes must be UTF-8 (strict) and at most ``MAX_BYTES`` long;
* a key repeated in one mapping is an error naming the key;
* any other exception PyYAML's constructors raise (an empty ``!!float``, a malformed
  ``!!timestamp``) is a ``ConfigError`` too.  Numbers are ASCII digits only (the
  resolvers below match ``[0-9]``, never ``\\d``).

It also drops YAML 1.1 base-60 numbers so ``2:4`` stays the N:M pattern "2:4", keeps a
date-like scalar a string, and refuses the non-JSON tags (``!!binary``, ``!!timestamp``,
``!!set``, ``!!omap``, ``!!pairs``): no validator expects bytes, dates or sets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from accel.errors import ConfigError

MAX_BYTES = 4 * 1024 * 1024   # the largest spec in the repo is ~2 KB; 4 MB is generous
MAX_DEPTH = 64                # real configs nest 4 deep; Python recursion stays far away
MAX_NODES = 100_000           # expanded scalars+collections; a 10^6-point grid is one range


class _Loader(yaml.SafeLoader):
    """SafeLoader with bounded depth, bounded alias expansion and duplicate-key errors."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(f"YAML nested deeper than {MAX_DEPTH} levels at line {mark.line + 1}")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, MappingNode):
            self.flatten_mapping(node)
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    dup = key in seen
                    seen.add(key)
                except TypeError:
                    raise ConfigError(f"YAML mapping key at line {key_node.start_mark.line + 1} "
                                      "is not a scalar") from None
                if dup:
                    raise ConfigError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 sexagesimal ints/floats (``2:4`` -> 124) removed; plain ints/floats re-added.
_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers
         if not (tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and ":" in rx.pattern)]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
               r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."),
)


def _ascii_only(construct):
    """A number constructor that refuses non-ASCII text: ``!!int ٣`` would be 3 to
    Python's ``int``, which accepts every Unicode decimal digit."""

    def checked(loader, node):
        if isinstance(node, ScalarNode) and not node.value.isascii():
            raise ConfigError(f"number {node.value[:20]!r} at line {node.start_mark.line + 1} "
                              "is not written in ASCII digits")
        return construct(loader, node)

    return checked


for _tag in ("int", "float"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}",
                            _ascii_only(yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{_tag}"]))

# accel's files hold strings, numbers, booleans, nulls, lists and mappings (the JSON
# types).  The other YAML 1.1 types would reach a validator as bytes, dates or sets it
# does not expect (a `!!binary "@@@"` point ran as b''), so their tags are refused, and a
# date-like plain scalar (2024-01-01) stays the string it looks like.
_NOT_JSON = ("binary", "timestamp", "set", "omap", "pairs")


def _refuse_tag(loader, node):
    raise ConfigError(f"YAML tag {node.tag.rsplit(':', 1)[-1]!r} at line "
                      f"{node.start_mark.line + 1} is not accepted (strings, numbers, booleans, "
                      "lists and mappings only)")


for _tag in _NOT_JSON:
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)
_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in _Loader.yaml_implicit_resolvers.items()
}


def _expanded_size(root: Node) -> int:
    """Nodes the document means once every alias is expanded; cycles are errors.

    Memoised per node, so the walk itself is linear in the *composed* graph even for an
    alias bomb (whose expanded size is exponential)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node, depth: int) -> int:
        nid = id(node)
        if nid in sizes:
            return sizes[nid]
        if nid in active:
            raise ConfigError("YAML alias refers to itself (a recursive structure)")
        if isinstance(node, ScalarNode):
            sizes[nid] = 1
            return 1
        active.add(nid)
        total = 1
        if isinstance(node, SequenceNode):
            children = node.value
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:  # pragma: no cover - the composer makes only these three
            children = []
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_NODES:
                raise ConfigError(f"YAML expands to more than {MAX_NODES} nodes "
                                  "(an alias bomb?)")
        active.discard(nid)
        sizes[nid] = total
        return total

    return size(root, 0)


def loads(text: str | bytes, where: str = "YAML") -> Any:
    """Parse one YAML document under the bounds above; errors are ``ConfigError``."""
    if isinstance(text, bytes):
        text = decode(text, where)
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{where} is {len(text)} characters, more than the {MAX_BYTES} allowed")
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"malformed YAML in {where}{loc}: {problem}") from None
    except RecursionError:
        raise ConfigError(f"{where}: YAML nested too deeply") from None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - PyYAML's constructors raise what they meet:
        # ValueError (a 5000-digit integer), IndexError (an empty !!float),
        # AttributeError (a malformed !!timestamp), ...; each is one error line here
        text = str(exc).strip()
        detail = text.splitlines()[0][:80] if text else type(exc).__name__
        raise ConfigError(f"{where}: value not representable ({detail})") from None
    finally:
        loader.dispose()


def decode(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} is not UTF-8 text (bad byte at offset {exc.start})") from None
    if "\x00" in text:
        raise ConfigError(f"{where} contains a NUL byte; not a text file")
    return text.removeprefix("\ufeff")


def load_file(path: str | Path, what: str = "file") -> Any:
    """Read and parse a YAML file: it must be a regular file of bounded size."""
    from accel.files import check_input_file

    p = check_input_file(path, what, max_bytes=MAX_BYTES)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    return loads(decode(data, f"{what} {path}"), f"{what} {path}")
