"""Fit: a sweep spec's device and utilisation ceilings, checked on every design point.

    fit:
      device: xcvu9p                 # optional: default, each design's own config `device`
      max_utilisation: {LUT: 0.8, DSP: 0.9}   # optional: merged over DEFAULT_CEILINGS

A design uses what its machine's resource models report: every metric ``hw_<resource>``
or ``hw_<part>_<resource>`` (``hw_lut``, ``hw_dsp48e2``, ``hw_buffer_uram``...) whose
resource is one of :data:`accel.devices.RESOURCES` (any spelling ``accel.devices``
knows), summed per resource.  Each is set against the device's count and its ceiling.

A point that fails is still evaluated and stored, with these metrics (the store's
``points`` view gives each a column):

* ``feasible``  1 or 0;
* ``fit_fail``  the failing resources and margins, ``"LUT 132 % > 80 %; FF 95 % > 80 %"``
  ("" when it fits);
* ``util_<resource>`` the fraction of the device used (``util_lut``...);
* ``fit_unchecked`` resources the model reports but the catalogue has no count for on
  that device ("" when none): they can neither pass nor fail, the report says so.

A design its model cannot run at all because it does not fit its board (the model raises
``accel.errors.DoesNotFit``, e.g. an LLM whose weights and KV cache exceed the HBM) is stored the
same way, with ``fit_model_fail`` (``"HBM 116 % > 100 %"``, from :func:`misfit_metrics`) and
``util_<resource>``, and no performance metrics: every check here counts it as failing;
without ``fit:`` it stays a failed point, as a model error.

Infeasible points are never on a front, in a conclusion or a "best" line (``accel.report``)
and a search is told they failed (``accel.sweep.search``).  The spec's expression
``constraints:`` keep their meaning: a point failing one is not evaluated at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from accel import devices
from accel.configs import _suggest
from accel.errors import ConfigError

FIT_KEYS = ("device", "max_utilisation")
# Ceilings of a design that still places and routes at its clock (the default fill a spec
# accepts).  Source: the guidance (80 % LUT, 90 % DSP/BRAM), in line with UG949
# (UltraFast Design Methodology, "Reviewing utilisation"): LUT/CLB fill is what congests
# routing first, while the hard columns (DSP, block RAM, UltraRAM) can be filled further.
# FF and CARRY8 share the CLBs with the LUTs, so they take the LUT ceiling.  Override per
# spec with fit.max_utilisation.
DEFAULT_CEILINGS = {"LUT": 0.8, "FF": 0.8, "DSP": 0.9, "BRAM36": 0.9, "URAM": 0.9,
                    "CARRY8": 0.8}
FIT_METRICS = ("feasible", "fit_fail", "fit_unchecked", "fit_device")


@dataclass(frozen=True)
class Fit:
    device: str | None                      # None: each design's config `device`
    ceilings: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CEILINGS))
    base_device: str | None = None          # the base preset's, for a stored row whose
                                            # config predates the `device` field

    def to_meta(self) -> dict:
        return {"device": self.device, "max_utilisation": dict(self.ceilings)}


def parse_fit(raw: Any, config_fields: set[str], base_device: str | None) -> Fit | None:
    """Validate ``fit:``.  ``config_fields``: the machine's config field names (a fit
    without ``device`` needs a ``device`` field); ``base_device``: the base preset's."""
    if raw is None or raw is False:
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"fit must be a mapping {{device: NAME, max_utilisation: {{LUT: 0.8}}}}, "
                          f"got {str(raw)[:60]!r}")
    for key in raw:
        if key not in FIT_KEYS:
            raise ConfigError(f"unknown key {key!r} in fit{_suggest(str(key), list(FIT_KEYS))}")
    device = raw.get("device")
    if device is not None:
        device = devices.check_name(device, "fit.device")
    elif "device" not in config_fields or base_device is None:
        raise ConfigError("fit: this machine's configuration names no device; give fit.device "
                          f"(known: {', '.join(devices.names())})")
    ceilings = dict(DEFAULT_CEILINGS)
    given = raw.get("max_utilisation") or {}
    if not isinstance(given, dict):
        raise ConfigError("fit.max_utilisation must be a mapping resource -> fraction in (0, 1]")
    for res, value in given.items():
        try:
            key = devices.canonical(str(res))
        except ConfigError as exc:
            raise ConfigError(f"fit.max_utilisation: {exc}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value) or not 0 < value <= 1:
            raise ConfigError(f"fit.max_utilisation.{res} must be a fraction in (0, 1], "
                              f"got {str(value)[:40]!r}")
        ceilings[key] = float(value)
    return Fit(device, ceilings, base_device)


def usage(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Resource use of a design from its metrics (module doc), summed per resource."""
    out: dict[str, float] = {}
    for name, value in metrics.items():
        if not name.startswith("hw_") or isinstance(value, bool) or \
                not isinstance(value, int | float) or not math.isfinite(value):
            continue
        rest = name[3:]
        res = devices.resource_of(rest)
        if res is None and "_" in rest:          # hw_<part>_<resource>
            rest = rest.rsplit("_", 1)[1]
            res = devices.resource_of(rest)
        if res is not None:
            out[res] = out.get(res, 0.0) + float(value) * devices.unit_scale(rest)
    return out


def is_fit_metric(name: str) -> bool:
    return name in FIT_METRICS or (name.startswith("util_") and name[5:].upper() in devices.RESOURCES)


def _margin(res: str, used: float, ceiling: float) -> str:
    """``"LUT 132 % > 80 %"``; decimals only when whole percents would read as equal."""
    digits = 0
    while digits < 4 and f"{100 * used:.{digits}f}" == f"{100 * ceiling:.{digits}f}":
        digits += 1
    return f"{res} {100 * used:.{digits}f} % > {100 * ceiling:.{digits}f} %"


MODEL_FAIL = "fit_model_fail"   # a design its model could not run (DoesNotFit; module doc)


def misfit_metrics(exc) -> dict[str, Any]:
    """The metrics of a design whose model raised ``DoesNotFit`` (``exc``): what it needs of
    the resource against what the board has."""
    share = exc.need / max(exc.have, 1.0)   # a board without the resource: need / 1 byte
    return {MODEL_FAIL: _margin(exc.resource, share, 1.0),
            f"util_{exc.resource.lower()}": round(share, 6)}


def refit(fit: Fit | None, metrics: Mapping[str, Any], config: Mapping[str, Any]) -> dict:
    """``metrics`` with its fit metrics replaced by those of ``fit`` (removed when None):
    a resumed store's rows follow the spec's current fit."""
    out = {k: v for k, v in metrics.items() if not is_fit_metric(k)}
    return out if fit is None else {**out, **check(fit, out, config)}


def check(fit: Fit, metrics: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The fit metrics of one evaluated design (module doc)."""
    name = fit.device or config.get("device") or fit.base_device
    out: dict[str, Any] = {"fit_device": str(name)}
    try:
        dev = devices.get(name)
    except ConfigError:   # a design whose own device is unknown cannot be checked
        return {**out, "feasible": 0.0, "fit_fail": f"unknown device {str(name)[:40]!r}",
                "fit_unchecked": ""}
    used = usage(metrics)
    util = devices.utilisation(dev, used)
    fails = [_margin(r, util[r], fit.ceilings[r])
             for r in devices.RESOURCES if r in util and util[r] > fit.ceilings[r]]
    if metrics.get(MODEL_FAIL):   # the model's own capacity check: it could not run the design
        fails.insert(0, str(metrics[MODEL_FAIL]))
    out.update({f"util_{r.lower()}": round(u, 6) for r, u in util.items()})
    out["feasible"] = 0.0 if fails else 1.0
    out["fit_fail"] = "; ".join(fails)
    out["fit_unchecked"] = ", ".join(r for r in devices.RESOURCES if r in used and r not in util)
    return out
