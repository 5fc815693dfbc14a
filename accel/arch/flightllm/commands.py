"""`accel flightllm validate`: the vhk158-artifact preset against the authors' profiler.

A declaration for ``accel.cli`` (``Machine.commands``).  The command exits 1 when a
reference check ran and missed (``all_ok`` false); the tables print either way.
"""

from __future__ import annotations

from accel.arch.registry import CliCommand, CliContext, CliOption, CliOutput, CliTable

PRESET = "vhk158-artifact"


def validate(ctx: CliContext, on_chip: bool, sets: list[str] | None) -> CliOutput:
    from accel.arch.flightllm import PRESETS
    from accel.arch.flightllm.validate import validate as run_validation
    from accel.configs import load_config, parse_sets

    cfg = load_config(PRESETS, PRESET, parse_sets(sets), default=PRESET)
    res = run_validation(cfg, on_chip=on_chip)
    return CliOutput(res, () if ctx.as_json else _tables(res),
                     exit_code=0 if res["all_ok"] else 1)


def _tables(res: dict) -> tuple[CliTable, CliTable]:
    cf = res["correction_factor"]["value"]
    rows, units = [], []
    for r in res["rows"]:
        a, m = r["artifact_busy_ms"], r["accel_busy_ms"]
        rows.append((r["phase"], str(r["context"]), f"{r['artifact_ms']:.2f}",
                     f"{r['accel_ms']:.2f}", f"{r['error']:+.1%}" + ("" if r["ok"] else " X"),
                     f"{r['accel_ms_even_split']:.2f}",
                     f"{r['artifact_bound']} | {r['accel_bound']}",
                     f"{r['artifact_one_slr_ms']:.2f}", f"{r['accel_one_slr_ms']:.2f}",
                     f"{r['one_slr_error']:+.1%}", f"{r['accel_slr_speedup']:.2f}"))
        cu = "MV" if r["phase"] == "decode" else "MM"
        units.append((r["phase"], str(r["context"]),
                      *(f"{a.get(k, 0):.2f} / {m.get(k, 0):.2f}" for k in ("LD", cu, "MISC", "ST"))))
    lines = []
    for c in res["checks"] + res["one_slr_checks"]:
        extra = (f" (artifact {c['artifact_us']:.3f} us, accel {c['accel_us']:.3f} us, "
                 f"{c['error']:+.1%})" if "artifact_us" in c else "")
        if "error_range" in c:
            extra = f" ({c['error_range'][0]:+.1%} .. {c['error_range'][1]:+.1%})"
        lines.append(f"{'PASS' if c['ok'] else 'MISS'}  {c['check']}{extra}")
    lines += [f"note: {n}" for n in res["notes"]]
    main = CliTable(f"{res['preset']} vs the authors' VHK158 profiler ({res['dataflow']}, "
                    f"slr_parallel_efficiency {res['slr_parallel_efficiency']:g})",
                    ("phase", "ctx", "artifact ms", "accel ms", "error", "even split ms",
                     "bound art | accel", f"1 SLR: artifact x{cf:g}", "accel", "error",
                     f"SLR speed-up (artifact {cf:g})"), tuple(rows))
    busy = CliTable("busy ms per unit, artifact / accel",
                    ("phase", "ctx", "LD", "MV or MM", "MISC", "ST"), tuple(units), tuple(lines))
    return main, busy


COMMANDS = (
    CliCommand("flightllm", "validate",
               "Decode steps (contexts 144..2048) and prefills (128, 512) vs the artifact.",
               (CliOption("on_chip", bool, False, "Keep decode vectors on chip instead of the "
                                                  "artifact's store-every-op dataflow."),
                CliOption("sets", list, None, "Override a config field of the preset (repeatable).",
                          ("--set",), shown_default="none")),
               validate, "FlightLLM checks against the authors' artifact."),
)
