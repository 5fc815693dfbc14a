from accel.arch.registry import REQUIRED, CliOption, CliOutput, CliTable

OPTIONS = (
    CliOption("workload", str, REQUIRED, "FILE.npz", ("--workload", "-w")),
    CliOption("arch", str, None, "preset or YAML"),
    CliOption("sets", list, None, "key=value", ("--set",)),
    CliOption("skip_zero_k", bool, False, "skip all-zero reduction rows"),
)


def run(note, workload, arch, sets, skip_zero_k):
    from accel.configs import load_config
    from accel.workloads.builtin import resolve

    from .config import DEFAULT_PRESET, PRESETS
    from .machine import MACHINE

    cfg = load_config(PRESETS, arch, sets, default=DEFAULT_PRESET)
    res = MACHINE.simulate(resolve(workload), cfg, skip_zero_k=skip_zero_k)
    return CliOutput(res.to_dict(), (CliTable("toy", ("cycles",), ((str(res.cycles),),)),))
