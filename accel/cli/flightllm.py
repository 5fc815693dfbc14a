"""`accel flightllm validate`: the vhk158-artifact preset against the authors' profiler."""

from __future__ import annotations

import typer

from accel.cli.common import emit_json, out_console


def register(app: typer.Typer, _sim_app: typer.Typer) -> None:
    fl_app = typer.Typer(help="FlightLLM checks against the authors' artifact.",
                         no_args_is_help=True)
    app.add_typer(fl_app, name="flightllm")

    @fl_app.command("validate")
    def validate_cmd(
        on_chip: bool = typer.Option(False, help="keep decode vectors on chip instead of the "
                                                 "artifact's store-every-op dataflow"),
        set_: list[str] = typer.Option(None, "--set", help="override key=value of the preset (repeatable)",
                                        show_default="none"),
        json_out: bool = typer.Option(False, "--json", help="print one JSON object"),
    ) -> None:
        """Decode steps (contexts 144..2048) and prefills (128, 512) vs the artifact."""
        from accel.arch.flightllm import PRESETS
        from accel.arch.flightllm.validate import validate
        from accel.configs import load_config, parse_sets

        cfg = load_config(PRESETS, "vhk158-artifact", parse_sets(set_), default="vhk158-artifact")
        res = validate(cfg, on_chip=on_chip)
        if json_out:
            emit_json(res)
        else:
            _print(res)
        if not res["all_ok"]:   # a reference check ran and failed (validate.py: what counts)
            raise typer.Exit(1)


def _print(res: dict) -> None:
    from rich.table import Table

    cf = res["correction_factor"]["value"]
    t = Table(title=f"{res['preset']} vs the authors' VHK158 profiler ({res['dataflow']}, "
                    f"slr_parallel_efficiency {res['slr_parallel_efficiency']:g})")
    for c in ("phase", "ctx", "artifact ms", "accel ms", "error", "even split ms",
              "bound art | accel", f"1 SLR: artifact x{cf:g}", "accel", "error",
              f"SLR speed-up (artifact {cf:g})"):
        t.add_column(c, justify="right")
    u = Table(title="busy ms per unit, artifact / accel")
    for c in ("phase", "ctx", "LD", "MV or MM", "MISC", "ST"):
        u.add_column(c, justify="right")
    for r in res["rows"]:
        a, m = r["artifact_busy_ms"], r["accel_busy_ms"]
        t.add_row(r["phase"], str(r["context"]), f"{r['artifact_ms']:.2f}",
                  f"{r['accel_ms']:.2f}", f"{r['error']:+.1%}" + ("" if r["ok"] else " X"),
                  f"{r['accel_ms_even_split']:.2f}",
                  f"{r['artifact_bound']} | {r['accel_bound']}",
                  f"{r['artifact_one_slr_ms']:.2f}", f"{r['accel_one_slr_ms']:.2f}",
                  f"{r['one_slr_error']:+.1%}", f"{r['accel_slr_speedup']:.2f}")
        cu = "MV" if r["phase"] == "decode" else "MM"
        u.add_row(r["phase"], str(r["context"]),
                  *(f"{a.get(k, 0):.2f} / {m.get(k, 0):.2f}" for k in ("LD", cu, "MISC", "ST")))
    out_console.print(t)
    out_console.print(u)
    for c in res["checks"] + res["one_slr_checks"]:
        extra = (f" (artifact {c['artifact_us']:.3f} us, accel {c['accel_us']:.3f} us, "
                 f"{c['error']:+.1%})" if "artifact_us" in c else "")
        if "error_range" in c:
            extra = f" ({c['error_range'][0]:+.1%} .. {c['error_range'][1]:+.1%})"
        out_console.print(f"{'PASS' if c['ok'] else 'MISS'}  {c['check']}{extra}")
    for n in res["notes"]:
        out_console.print(f"note: {n}")
