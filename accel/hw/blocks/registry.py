"""The RTL-block registry: ``accel rtl generate|synth|cosim BLOCK`` find blocks here.

A block is a folder ``accel/hw/blocks/<name>/`` whose ``block.py`` defines
``BLOCK = Block(...)`` and ONE line in ``BLOCKS`` below; its cocotb bench lives in the
top-level ``sim/`` (found through :func:`accel.hw.blocks.paths.sim_dir`).  Everything a
``Block`` points at is a dotted string resolved on first use, so ``accel --help``
imports no Amaranth and no cocotb.  Modelled on :mod:`accel.arch.registry`.

What a block declares:

* ``options``: ``"module:OPTIONS"``, a dict verb -> tuple of
  :class:`accel.arch.registry.CliOption` for the verbs ``generate``, ``synth``, ``cosim``
  (``accel.cli.rtl`` builds one command per (verb, block) from them; ``--json`` and, for
  ``generate``, ``--out``, for ``synth``, ``--force`` are added by the CLI);
* ``generate``: ``"module:function"``, ``generate(out: Path, **opts) -> CliOutput``;
* ``synth``: ``"module:function"``, ``synth(force: bool, **opts) -> CliOutput``;
* ``cosim``: ``"module:function"``, ``cosim(**opts) -> CliOutput`` whose ``json`` holds
  ``value_mismatches``, ``cycle_mismatches`` and ``ok`` (the CLI exits 1 when not ok);
* ``contract``: the ``accel.arch`` module holding the timing contract the block shares
  with the model that times it; ``bench``: the cocotb test module in ``sim/``;
  ``synth_cache``: the file name of its committed Yosys seed cache in ``rtl/``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from accel.arch.registry import _ref
from accel.errors import ConfigError

# name -> module defining BLOCK.  One line per block; order = `accel rtl --help` order.
BLOCKS: dict[str, str] = {
    "pe-array": "accel.hw.blocks.pe_array.block",
    "weight-gen": "accel.hw.blocks.weight_gen.block",
    "dsp-chain": "accel.hw.blocks.dsp_chain.block",
}

VERBS = ("generate", "synth", "cosim")


@dataclass(frozen=True)
class Block:
    name: str                 # the CLI word, e.g. "pe-array"
    summary: str              # one line for `accel rtl --help` and the commands' help
    contract: str             # accel.arch module: the timing contract shared with the model
    options: str              # "module:OPTIONS": verb -> tuple[CliOption]
    generate: str             # "module:function": generate(out, **opts) -> CliOutput
    synth: str                # "module:function": synth(force, **opts) -> CliOutput
    cosim: str                # "module:function": cosim(**opts) -> CliOutput
    bench: str                # cocotb test module name (sim/<bench>.py)
    synth_cache: str = ""     # committed Yosys seed cache, rtl/<synth_cache>

    def cli_options(self, verb: str) -> tuple:
        if verb not in VERBS:
            raise ConfigError(f"unknown verb {verb!r}; known: {', '.join(VERBS)}")
        return tuple(_ref(self.options).get(verb, ()))

    def function(self, verb: str):
        if verb not in VERBS:
            raise ConfigError(f"unknown verb {verb!r}; known: {', '.join(VERBS)}")
        return _ref(getattr(self, verb))

    def contract_module(self):
        return _ref(self.contract)


_LOADED: dict[str, Block] = {}
_EXTRA: dict[str, Block] = {}   # registered at run time (plug-ins, tests)


def register(block: Block) -> Block:
    """Add a block at run time (a plug-in outside accel, or a test's toy block)."""
    _EXTRA[block.name] = block
    return block


def names() -> list[str]:
    return [*BLOCKS, *(n for n in _EXTRA if n not in BLOCKS)]


def get(name: str) -> Block:
    if name in _EXTRA:
        return _EXTRA[name]
    if name not in BLOCKS:
        raise ConfigError(f"unknown RTL block {name!r}; known: {', '.join(names())}")
    if name not in _LOADED:
        b = importlib.import_module(BLOCKS[name]).BLOCK
        if b.name != name:
            raise ConfigError(f"{BLOCKS[name]} declares block {b.name!r}, registered as {name!r}")
        _LOADED[name] = b
    return _LOADED[name]


def blocks() -> list[Block]:
    return [get(n) for n in names()]
