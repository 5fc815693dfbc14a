"""`accel rtl generate|synth|cosim BLOCK`: one command per (verb, registered RTL block).

Each block declares its options per verb in its own folder (``accel.hw.blocks.registry``,
``CliOption`` as machines do) and three functions returning a ``CliOutput``; this module
turns the options into Typer commands, adds ``--json`` (and ``--out`` for generate,
``--force`` for synth), prints the result, exits 1 when a co-simulation is not ok, and
names no block.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import typer

from accel.cli.common import emit_json
from accel.cli.sim import _parameter, _print_table
from accel.hw.blocks import registry

VERB_HELP = {
    "generate": "Write a block's Verilog (and its sidecar) to --out.",
    "synth": "Yosys synth_xilinx (xcup) resource counts of a block, cached by configuration.",
    "cosim": "Run a workload through a block's RTL in Verilator; compare with the model.",
}
# what the CLI adds to every block's own options, per verb
_EXTRA = {
    "generate": [("out", Path, typer.Option(..., "--out", help="Output folder."))],
    "synth": [("force", bool, typer.Option(False, "--force", help="Re-run Yosys even if cached."))],
    "cosim": [],
}


def build_command(block: registry.Block, verb: str):
    """The Typer callback of ``accel rtl <verb> <block.name>``."""
    def command(**kwargs) -> None:
        as_json = kwargs.pop("as_json")
        out = block.function(verb)(**kwargs)
        if as_json:
            emit_json(out.json)
        else:
            for table in out.tables:
                _print_table(table)
        if verb == "cosim" and not out.json.get("ok", False):
            raise typer.Exit(1)

    params = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann,
                                default=default) for name, ann, default in _EXTRA[verb]]
    params += [_parameter(o) for o in block.cli_options(verb)]
    params.append(inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                                    default=typer.Option(False, "--json",
                                                         help="Print one JSON object.")))
    command.__signature__ = inspect.Signature(params)
    command.__name__ = f"rtl_{verb}_{block.name.replace('-', '_')}"
    command.__doc__ = block.summary
    return command


def _help() -> str:
    """`accel rtl --help`: the registered blocks, one paragraph each."""
    blocks = "\n\n".join(f"{b.name}: {b.summary}" for b in registry.blocks())
    return ("RTL blocks: Verilog, FPGA resources, co-simulation against the models.\n\n"
            "Blocks (accel rtl generate|synth|cosim BLOCK --help):\n\n" + blocks)


def register(app: typer.Typer, sim_app: typer.Typer) -> None:
    """`accel rtl <verb> <block>` for every verb and every registered block."""
    rtl_app = typer.Typer(help=_help(), no_args_is_help=True)
    for verb in registry.VERBS:
        verb_app = typer.Typer(help=VERB_HELP[verb], no_args_is_help=True)
        for block in registry.blocks():
            verb_app.command(block.name, help=block.summary)(build_command(block, verb))
        rtl_app.add_typer(verb_app, name=verb)
    app.add_typer(rtl_app, name="rtl")
