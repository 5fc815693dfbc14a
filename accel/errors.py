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
