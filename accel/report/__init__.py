"""Sweep stores -> matplotlib figures (Agg), summary.md and a self-contained index.html."""

from accel.report.summary import design_frame, write_report

__all__ = ["design_frame", "write_report"]
