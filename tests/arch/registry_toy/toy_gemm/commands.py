"""The toy machine's own command and README claim (tests of Machine.commands/readme_claims)."""

from accel.arch.registry import CliCommand, CliContext, CliOption, CliOutput, CliTable, times


def check(ctx: CliContext, size: int, ok: bool) -> CliOutput:
    with ctx.progress("checking", size) as advance:
        for _ in range(size):
            advance()
    table = CliTable("toy check", ("size", "ok"), ((str(size), str(ok)),), ("toy note",))
    return CliOutput({"size": size, "all_ok": ok}, (table,), text="toy text",
                     exit_code=0 if ok else 1)


COMMANDS = (
    CliCommand("toy-study", "check", "A toy check that passes or fails on request.",
               (CliOption("size", int, 4, "items"), CliOption("ok", bool, True, "pass")),
               check, "The toy machine's own commands."),
)


def claims():
    return [("toy claim", times(1.0), times(2.5, 1))]
