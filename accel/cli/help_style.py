"""How `accel ... --help` reads: metavars instead of type tags, literal help text.

Typer (>= 0.2x) prints a type tag after every option (``--seed <int>``, ``--json <bool>``,
``--set <list[str]>``) and writes required arguments as ``{spec}`` in the usage line.  A
tool's help reads ``--seed N``, ``--set KEY=VALUE``, ``--json`` and ``SPEC``, so
:func:`install` replaces those two display hooks once, for the whole CLI:

* a flag (``--json``, ``--on-chip-decode/--no-on-chip-decode``) shows no value at all;
* an option shows its ``metavar=`` when the command gave one, else one derived from its
  type: ``N`` for integers, ``X`` for numbers, ``PATH`` for paths, the option's own name
  upper-cased for text (``--device DEVICE``);
* an argument is its upper-cased name (``SPEC``, ``DBS...``), optional ones in brackets.

Help strings are printed literally: Typer parses them as rich markup, which swallowed
the ``[default: ...]`` that commands write for defaults they compute at run time (the help
then ended in " .").  Square brackets are escaped before rich sees them, and a default
given as text (``show_default="cores"``) is shown as that text, without parentheses.
"""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape

_INSTALLED = False
# Names whose value has a shape worth showing (``--set pe_rows=64``).
_NAMED = {"set": "KEY=VALUE", "sets": "KEY=VALUE", "set_": "KEY=VALUE", "scheduler": "tcp://HOST:PORT"}


def _derived_metavar(param) -> str | None:
    desc = getattr(param, "type_descriptor", None)
    annotation = getattr(desc, "annotation", None)
    if getattr(desc, "is_list", False):
        from typing import get_args

        args = get_args(annotation)
        annotation = args[0] if args else str
    if getattr(desc, "is_choice", False) and getattr(desc, "choices", None):
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices)
    if annotation is bool:
        return None
    if annotation is int:
        return "N"
    if annotation is float:
        return "X"
    if isinstance(annotation, type) and issubclass(annotation, Path):
        return "PATH"
    name = (param.name or "value").strip("_")
    return _NAMED.get(name, name.upper())


def option_metavar(param) -> str | None:
    """What follows an option in help: its metavar, or nothing for a flag."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    mv = param.metavar if param.metavar is not None else _derived_metavar(param)
    if mv is not None and param.nargs != 1:
        mv += "..."
    return mv


def install() -> None:
    """Patch Typer's display hooks (idempotent; called when accel.cli is imported)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from typer import core, rich_utils

    core.TyperOption.display_type_rich = lambda self, ctx: option_metavar(self)
    # Arguments: the name column (and error hints) show SPEC, the type column nothing.
    core.TyperArgument.display_name_raw = property(
        lambda self: self.metavar if self.metavar is not None else (self.name or "arg").upper())
    core.TyperArgument.display_type_rich = lambda self, ctx: None

    def usage_name(self) -> str:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"

    core.TyperArgument._usage_display_name = usage_name

    # ``show_default="the device preset's weight_bits"`` reads as that text, not "(...)"
    for cls in (core.TyperOption, core.TyperArgument):
        plain_default = cls._get_default_string

        def default_string(self, *, ctx, show_default_is_str, default_value, _orig=plain_default):
            if show_default_is_str:
                return str(self.show_default)
            return _orig(self, ctx=ctx, show_default_is_str=show_default_is_str,
                         default_value=default_value)

        cls._get_default_string = default_string

    original = rich_utils._make_rich_text

    def literal_text(*, text: str, style: str = "", markup_mode):
        if markup_mode == rich_utils.MARKUP_MODE_RICH:
            text = escape(text)
        return original(text=text, style=style, markup_mode=markup_mode)

    rich_utils._make_rich_text = literal_text
    _INSTALLED = True
