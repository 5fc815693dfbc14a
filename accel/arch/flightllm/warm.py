"""Compile the FlightLLM model's kernels ahead of a first run (``accel cache warm``, run
by ``make install``): a 16-token prefill and decode of LLaMA2-7B's shape in both decode
dataflows, which compiles every kernel a longer run uses (Numba compiles per type
signature, never per length).

It also counts, and keeps, the instruction storage of ``accel sim flightllm``'s default
run on each board preset (``STORAGE_PRESETS``): counting sizes 2 x ``max_length``
programs in Python (~1.5 s a configuration, ``storage``), which would otherwise make the
first default run of a fresh install take ~2.7 s instead of ~1.4 s.  Other models,
sparsities and overrides are counted, and kept, on their first use."""

from __future__ import annotations

WARM_TOKENS = 16
STORAGE_PRESETS = ("u280", "vhk158")   # the two boards of the paper; the CLI's default model and sparsity


def warm() -> None:
    from accel.arch.flightllm.cli_options import OPTIONS
    from accel.arch.flightllm.config import PRESETS
    from accel.arch.flightllm.model import simulate
    from accel.workloads.builtin import resolve

    default = {o.name: o.default for o in OPTIONS}
    wl = resolve(default["model"], prefill=WARM_TOKENS, decode=WARM_TOKENS,
                 sparsity=default["sparsity"], seed=default["seed"])
    for on_chip in (True, False):
        simulate(wl, PRESETS["u280"], on_chip_decode=on_chip, storage=False)
    for name in STORAGE_PRESETS:   # the preset's own dataflow and weight bits, as the CLI's default
        simulate(wl, PRESETS[name], storage=True)
