"""``accel design build``: one design (of a sweep, a design file or a preset) -> a checked
build folder: the Verilog of its blocks, a re-runnable ``design.yaml``, a Verilator
co-simulation of its own workload tiles against the model, resources against the
device, and the design sheet (``design.md``, ``design.html``).

Everything is written into a temporary sibling of ``--out`` and renamed into place at the
end, so a refused or failed build leaves nothing half-written.  A co-simulation
mismatch still writes the folder (the sheet shows which tile differs) and the result
says ``ok: false``; the CLI exits 1.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from accel.errors import AccelError
from accel.report.design import fit
from accel.report.design.select import Choice

DESIGN_KIND = "accel-design"
DESIGN_VERSION = 1
DESIGN_KEYS = ("kind", "version", "machine", "base", "config", "workload", "knobs",
               "source", "front", "metrics", "blocks", "commands")
DEFAULT_TILES = 2          # tiles per phase: fwd, bwd_data, bwd_weight
DEFAULT_PRESET_PRUNE = "bdwp:2:8"   # SAT's headline BDWP pattern (paper, and the preset's N:M)


def _buildable(machines) -> list[str]:
    return [m.name for m in machines if m.design]


def datapath(m):
    """The machine's buildable datapath module (``Machine.design``, in accel.hw.designs);
    a machine without one has no whole datapath in RTL (FlightLLM's DSP chain is one
    block, not its datapath)."""
    import importlib

    from accel.arch import registry

    if not m.design:
        raise AccelError(f"machine {m.name} has no buildable RTL datapath; buildable: "
                         f"{', '.join(_buildable(registry.machines()))}")
    return importlib.import_module(m.design)


# --- where the design comes from ----------------------------------------------------------

def from_preset(preset: str, workload: str, prune: str | None) -> Choice:
    """A machine preset built without a sweep (the machine found by its preset name)."""
    from accel.arch import registry
    from accel.configs import config_dict

    for m in registry.machines():
        if preset in m.presets():
            if not m.design:
                raise AccelError(f"machine {m.name} (preset {preset}) has no buildable RTL "
                                 f"datapath; buildable: {', '.join(_buildable(registry.machines()))}")
            cfg = m.build_config(preset)
            knobs = {"prune": prune or DEFAULT_PRESET_PRUNE, "training": True}
            return Choice(m.name, preset, config_dict(cfg), workload, knobs,
                          source={"preset": preset})
    known = [p for m in registry.machines() for p in m.presets()]
    raise AccelError(f"unknown preset {preset!r}; known: {', '.join(known)}")


def from_file(path: Path) -> Choice:
    """A ``design.yaml`` written by an earlier build (its derived sections are ignored)."""
    from accel import safe_yaml

    data = safe_yaml.load_file(path, "design file")
    if not isinstance(data, dict):
        raise AccelError(f"{path}: a design file is a mapping")
    bad = [k for k in data if k not in DESIGN_KEYS]
    if bad:
        raise AccelError(f"{path}: unknown key {str(bad[0])[:40]!r} (known: {', '.join(DESIGN_KEYS)})")
    if data.get("kind") != DESIGN_KIND or data.get("version") != DESIGN_VERSION:
        raise AccelError(f"{path}: not an accel design file (kind {DESIGN_KIND}, version "
                         f"{DESIGN_VERSION})")
    for key, typ in (("machine", str), ("config", dict), ("workload", str), ("knobs", dict)):
        if not isinstance(data.get(key), typ):
            raise AccelError(f"{path}: {key} must be a {typ.__name__}")
    return Choice(data["machine"], data.get("base"), data["config"], data["workload"],
                  data["knobs"], source={**(data.get("source") or {}), "design_file": str(path)},
                  front=data.get("front") or {}, metrics=data.get("metrics") or {})


def is_design_file(path: Path) -> bool:
    if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
        return False
    try:
        head = path.read_text(errors="replace")[:4000]
    except OSError:
        return False
    return f"kind: {DESIGN_KIND}" in head


# --- the build ----------------------------------------------------------------------------

def _config(choice: Choice):
    from accel.sweep import routing

    m = routing.machine(choice.machine)
    datapath(m)
    base = choice.base if choice.base in m.presets() else None
    return m, m.build_config(base, {k: v for k, v in choice.config.items()})


def _flag(key: str, value) -> str:
    if key == "pipelined":
        return "--pipelined" if value else "--one-tile"
    return f"--{key.replace('_', '-')} {value}"


def _commands(blocks: dict, workload: str, prune: str, per_phase: dict) -> list[str]:
    """The ``accel rtl`` command lines that regenerate each block and re-run one sampled
    layer per phase (when the layer's N:M is the array's own, so ``rtl cosim`` takes it)."""
    out = [f"accel rtl generate {name} {' '.join(_flag(k, v) for k, v in opts.items())} "
           f"--out {name}" for name, opts in blocks.items()]
    pe = blocks["pe-array"]
    same = prune == "dense" or prune.endswith(f"{pe['n']}:{pe['m']}")
    for phase, ops in per_phase.items() if same else ():
        layer = ops.split(", ")[0].rsplit(":", 1)[0]
        out.append(f"accel rtl cosim pe-array --workload {workload} --prune {prune} --training "
                   f"{' '.join(_flag(k, v) for k, v in pe.items())} --layer {layer} "
                   f"--phase {phase}")
    return out


def design_yaml(choice: Choice, blocks: dict, commands: list[str]) -> str:
    import yaml

    doc = {"kind": DESIGN_KIND, "version": DESIGN_VERSION, "machine": choice.machine,
           "base": choice.base, "config": choice.config, "workload": choice.workload,
           "knobs": choice.knobs, "source": choice.source, "front": choice.front,
           "metrics": choice.metrics, "blocks": blocks, "commands": commands}
    head = ("# accel design build design.yaml --out DIR rebuilds this design.  machine, base,\n"
            "# config, workload and knobs define it; blocks and commands are derived from\n"
            "# them (the `accel rtl` command lines of each block), source/front/metrics are\n"
            "# where it came from.\n")
    return head + yaml.safe_dump(json.loads(json.dumps(doc, default=str)), sort_keys=False)


def twin(sb, size: str | None):
    """``sb`` with its array replaced by a ``RxC`` twin (same dtype, N, M, pipelining) for
    co-simulation, or ``sb`` itself when ``size`` is None or the design's own size."""
    import dataclasses
    import re

    if size is None:
        return sb
    hit = re.fullmatch(r"\s*(\d{1,3})\s*[xX]\s*(\d{1,3})\s*", str(size))
    if not hit:
        raise AccelError(f"--cosim-array must be ROWSxCOLS, e.g. 8x8, got {str(size)[:40]!r}")
    r, c = int(hit[1]), int(hit[2])
    a = sb.array
    if r > a.rows or c > a.cols:
        raise AccelError(f"--cosim-array {r}x{c} is larger than the design's {a.rows}x{a.cols}")
    if (r, c) == (a.rows, a.cols):
        return sb
    t = type(a).fp16(r, c, a.n, a.m, pipelined=a.pipelined) if a.fp else \
        dataclasses.replace(a, rows=r, cols=c)
    return dataclasses.replace(sb, array=t)


def _cosim(m, choice: Choice, sb, tiles: int, stalls: bool, seed: int, note) -> dict:
    from accel.hw.blocks.pe_array import cosim as co
    from accel.sweep import routing

    wl = routing.resolve_workload(m, choice.workload, choice.knobs)
    dp = datapath(m)
    sample = dp.phase_tiles(wl, sb, tiles)
    all_tiles, phase_of, runs = [], [], []
    for s in sample:
        first = len(all_tiles)
        all_tiles += s.tiles
        phase_of += [s.phase] * len(s.tiles)
        if sb.array.pipelined and len(s.tiles) > 1:
            runs.append(list(range(first, len(all_tiles))))
    beats = dict(zip((t.name for t in all_tiles),
                     zip([b for s in sample for b in s.model_beats],
                         [b for s in sample for b in s.rtl_beats], strict=True), strict=True))
    if sb.array.pipelined:
        runs = [[i] for i in range(len(all_tiles))] + runs
    scen = co.SCENARIOS if stalls else ("unstalled",)
    note(f"Verilator: {len(all_tiles)} tiles of {wl.name} on {sb.array.name} "
         f"({', '.join(scen)}); the first build of a configuration takes minutes")
    rep = co.run_tiles(sb.array, all_tiles, scenarios=scen, seed=seed,
                       runs=runs if sb.array.pipelined else None)
    per = _per_tile(dp, rep.outcomes, all_tiles, phase_of, beats, sb.array)
    d = {**rep.summary(), "workload": wl.name, "tiles": len(all_tiles),
         "array": sb.array.name, "array_size": [sb.array.rows, sb.array.cols],
         "per_phase": {s.phase: s.op for s in sample}, "per_tile": per,
         "schedule_mismatches": sum(r["model_beats"] != r["rtl_beats"] for r in per),
         "log": rep.log, "model_note": dp.SCHEDULE_NOTE}
    d["model_mismatches"] = sum(r["rtl_cycles"] != r["model_cycles"] for r in per)
    d["ok"] = bool(d["ok"] and not d["schedule_mismatches"] and not d["model_mismatches"]
                   and len(rep.outcomes) > 0)
    if sb.gen is not None:
        d["weight_gen"] = _cosim_gen(dp, choice, sb, sample, stalls, seed, note)
        d["ok"] = d["ok"] and d["weight_gen"]["ok"]
    return d


def _per_tile(dp, outcomes, tiles, phase_of, beats, p) -> list[dict]:
    """One row per outcome: which tile(s) and phase, the model's cycles (SAT's schedule
    beats through the pe_array contract) against the RTL's counter."""
    phase = {t.name: ph for t, ph in zip(tiles, phase_of, strict=True)}
    rows = []
    for o in outcomes:
        names = (o.get("extra") or {}).get("tiles") or [o["name"]]   # pipelined: a run
        mb = [beats[n][0] for n in names if n in beats]
        rows.append({"scenario": o["scenario"], "tiles": names,
                     "phase": ", ".join(dict.fromkeys(phase.get(n, "?") for n in names)),
                     "model_beats": sum(mb), "rtl_beats": sum(beats[n][1] for n in names
                                                              if n in beats),
                     "model_cycles": dp.model_cycles(p, mb) if mb
                     else o["model_cycles"],
                     "contract_cycles": o["model_cycles"], "rtl_cycles": o["rtl_cycles"],
                     "wall_cycles": o["wall_cycles"], "outputs_checked": o["outputs_checked"],
                     "output_mismatches": o["output_mismatches"]})
    return rows


def _cosim_gen(dp, choice, sb, sample, stalls, seed, note) -> dict:
    from accel.hw.blocks.weight_gen.cosim import SCENARIOS, run_gen

    layer, w = dp.weight_for_gen(choice.workload, sample, choice.knobs.get("seq_len"))
    note(f"Verilator: weight generator {sb.gen.n}:{sb.gen.m}, {sb.gen.lanes} lanes, on "
         f"{layer} ({w.shape[0]}x{w.shape[1]})")
    rep = run_gen(sb.gen, {layer: w}, scenarios=SCENARIOS if stalls else ("unstalled",),
                  seed=seed)
    rep.pop("per_run", None)
    return {**rep, "layer": layer, "weight_shape": list(w.shape)}


def first_mismatch(cos: dict) -> str | None:
    """One line naming the first mismatching tile (phase, scenario, expected vs got)."""
    for r in cos.get("per_tile", []):
        if r["model_beats"] != r["rtl_beats"]:
            return (f"tile {r['tiles'][0]} ({r['phase']}): the model schedules "
                    f"{r['model_beats']} beats, the RTL was fed {r['rtl_beats']}")
        if r["rtl_cycles"] != r["model_cycles"] or r["output_mismatches"]:
            return (f"tile {', '.join(r['tiles'])} ({r['phase']}, {r['scenario']}): cycles "
                    f"expected {r['model_cycles']:,} got {r['rtl_cycles']:,}; "
                    f"{r['output_mismatches']} of {r['outputs_checked']} outputs differ")
    if cos.get("cocotb_failed"):
        return f"{cos['cocotb_failed']} cocotb test(s) failed: {cos.get('log', '')[-200:]}"
    g = cos.get("weight_gen")
    if g and not g["ok"]:
        return (f"weight generator on {g['layer']}: {g['output_mismatches']} outputs and "
                f"{g['cycle_mismatches']} cycle counts differ")
    return None


def _place(tmp: Path, out: Path) -> None:
    """Rename the finished ``tmp`` folder to ``out``; an existing ``out`` is replaced only
    when it is empty or an earlier design build (holds design.yaml)."""
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise AccelError(f"--out {out} exists and is not a folder")
        if any(out.iterdir()) and not (out / "design.yaml").is_file():
            raise AccelError(f"--out {out} is a non-empty folder that is not a design build; "
                             "pick a new folder")
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        os.replace(out, old / "x")
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    os.replace(tmp, out)


def check_out(out: Path) -> None:
    """Refuse an unusable ``--out`` before any work (the same rule :func:`_place` applies)."""
    from accel.files import check_output_dir

    check_output_dir(out, "--out")
    if out.exists() and (not out.is_dir() or out.is_symlink()):
        raise AccelError(f"--out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "design.yaml").is_file():
        raise AccelError(f"--out {out} is a non-empty folder that is not a design build; "
                         "pick a new folder")


def build(choice: Choice, out: Path, *, tiles: int = DEFAULT_TILES, stalls: bool = True,
          cosim_array: str | None = None, synth: bool = True, synth_max_pes: int = fit.SYNTH_MAX_PES, seed: int = 1,
          note: Callable[[str], None] = lambda s: None, spec_meta: dict | None = None) -> dict:
    """Build ``choice`` into ``out``; returns the result (``ok``: 0 mismatches)."""
    from accel.report.design import sheet

    if not 1 <= tiles <= 64:
        raise AccelError(f"--tiles must be in 1..64 (tiles per phase), got {tiles}")
    if synth_max_pes < 1:
        raise AccelError(f"--synth-max-pes must be >= 1, got {synth_max_pes}")
    check_out(out)
    m, cfg = _config(choice)
    sb = datapath(m).blocks(cfg, choice.knobs)
    sim = twin(sb, cosim_array)
    device = fit.device_capacity(fit.device_name(cfg, spec_meta))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    try:
        os.chmod(tmp, 0o755)
        res = _build_into(tmp, m, cfg, choice, sb, sim, device, tiles, stalls, synth,
                          synth_max_pes, seed, note, spec_meta)
        sheet.write(tmp, res)
        _place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    res["out"] = str(out)
    return res


def _build_into(tmp, m, cfg, choice, sb, sim, device, tiles, stalls, synth, synth_max_pes, seed,
                note, spec_meta) -> dict:
    from accel.hw.blocks.pe_array import verilog
    from accel.hw.blocks.registry import get

    blocks = sb.block_params()
    note(f"Verilog of {sb.array.name}" + (" and the weight generator" if sb.gen else ""))
    files = {"pe-array": {k: str(Path(v).relative_to(tmp)) for k, v in
                          verilog.write(sb.array, tmp / "pe-array").items()}}
    if sb.gen is not None:
        g = get("weight-gen").function("generate")(tmp / "weight-gen", **blocks["weight-gen"])
        files["weight-gen"] = {k: str(Path(g.json[k]).relative_to(tmp))
                               for k in ("verilog", "sidecar")}
    cos = _cosim(m, choice, sim, tiles, stalls, seed, note)
    commands = _commands(blocks, choice.workload, sb.prune, cos["per_phase"])
    (tmp / "design.yaml").write_text(design_yaml(choice, blocks, commands))
    pe_res = fit.pe_array_resources(sb.array, synth, synth_max_pes, note)
    gen_res = fit.gen_resources(sb.gen, synth)
    limits = fit.ceilings(spec_meta)
    parts = fit.design_usage(m, cfg)
    util = fit.utilisation(parts, device, limits)
    depth = fit.logic_depth(pe_res.get("synth"), cfg.clock_mhz)
    misfit = [u for u in util if not u["fits"]]
    res = {"machine": m.name, "design": sb.array.name, "source": choice.source,
           "config": choice.config, "workload": choice.workload, "knobs": choice.knobs,
           "blocks": blocks, "files": files, "commands": commands, "device": device,
           "clock_mhz": cfg.clock_mhz, "cosim": cos, "resources": pe_res,
           "weight_gen_resources": gen_res, "usage": parts, "utilisation": util,
           "ceilings": limits,
           "fits": not misfit, "logic_depth": depth, "front": choice.front,
           "metrics": choice.metrics}
    res["ok"] = bool(cos["ok"])
    res["mismatch"] = None if res["ok"] else first_mismatch(cos)
    (tmp / "result.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    return res
