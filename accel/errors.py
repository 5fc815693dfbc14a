"""User-facing errors.

Every mistake a user can make (bad flag value, malformed file, unknown preset) raises an
``AccelError`` subclass.  The CLI turns it into exit code 2 and one line on stderr; a
traceback means a bug in accel, never in the user's input.
"""


class AccelError(Exception):
    """A problem with the user's input; message is one line naming the offending value."""

    exit_code = 2


class ConfigError(AccelError):
    """Unknown key, wrong type or out-of-range value in an arch/sweep config."""


class WorkloadError(AccelError):
    """A workload file or name that cannot be read or built."""


class ToolchainError(AccelError):
    """A required external tool (Verilator, Yosys) is missing or failed."""


class DoesNotFit(ConfigError):
    """A design its model cannot run because it does not fit its board: ``need`` of
    ``resource`` (e.g. "HBM", bytes) where the board has ``have``.  On the command line a
    bad configuration (exit 2); in a sweep with ``fit:`` an infeasible design, stored and
    marked like one that exceeds its LUTs (accel.sweep.fit), not a failed point."""

    def __init__(self, message: str, resource: str, need: float, have: float):
        super().__init__(message)
        self.resource, self.need, self.have = resource, float(need), float(have)


class CheckFailed(AccelError):
    """A check that ran and failed (e.g. a co-simulation mismatch): exit code 1."""

    exit_code = 1


class Interrupted(AccelError):
    """SIGINT (exit 130) or SIGTERM (exit 143) arrived; the message says what was saved."""

    def __init__(self, message: str, signum: int = 2):
        super().__init__(message)
        self.exit_code = 128 + signum


class Stop(BaseException):
    """Raised in the main thread by the CLI's SIGINT/SIGTERM handlers.  A BaseException
    that is not KeyboardInterrupt: it unwinds like Ctrl-C (finally blocks run, a sweep
    commits what finished), but Typer does not turn it into a silent exit 130, so the
    CLI can say what happened and exit 130 (SIGINT) or 143 (SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
