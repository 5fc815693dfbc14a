"""Logic depth between registers of a synthesised netlist (Yosys ``synth_xilinx``).

What is counted, exactly: the netlist is Yosys' ``write_blif -gates`` output of the
mapped design (UltraScale+ primitives).  A *path* starts at a register or primary
input and ends at a register or primary output; registers are the flip-flops
(FDRE/FDSE/FDCE/FDPE), the block RAMs and the DSP48E2 slices (every DSP in the
generated RTL has a fabric register on each side -- Vivado packs those into its
A/B/M/P registers, UG949 "Know What You Infer" -- so a DSP is a pipeline stage of its
own; the logic *into* and *out of* DSPs is reported separately).  Along a path:

* ``lut``   : LUT1..LUT6 cells (one logic level each);
* ``muxf``  : MUXF7/8/9 cells (one level each, as Vivado counts them);
* ``carry`` : CARRY4/CARRY8 cells in series (a 100-bit adder is 25 CARRY4 in a row);
* INV and buffers count zero (Vivado absorbs them into the LUTs they feed).

``levels`` = lut + muxf + carry of the worst path (the count Vivado's
``report_design_analysis -logic_level_distribution`` reports), found by a longest-path
walk over the cell graph (a DAG once registers cut it).

Budget for 200 MHz on UltraScale+ (:data:`BUDGET_200MHZ`): a 5 ns period; UG949
(UltraFast Design Methodology, "Design Closure: Reducing Logic Delay") treats paths
whose logic levels exceed what the clock period allows as the first thing to fix and
attributes roughly 0.3-0.6 ns to each LUT level with its routing on UltraScale+ -2
(the per-level figure is our reading of typical post-route reports, not a data-sheet
value).  Holding every path to <= 8 LUT/MUXF levels plus <= 32 CARRY4 (16 CARRY8,
~0.05 ns per CARRY4) keeps logic + routing under ~4.5 ns of the 5 ns, leaving
clock-to-out, setup and clock uncertainty.
"""

from __future__ import annotations

import re
from collections import defaultdict

# 200 MHz on UltraScale+ -2 (see the module docstring for the derivation)
BUDGET_200MHZ = {"clock_mhz": 200.0, "max_lut_levels": 8, "max_carry4": 32,
                 "source": "5 ns period; UG949 'Reducing Logic Delay' (logic levels vs "
                           "clock period), ~0.5 ns per LUT+route level on UltraScale+ -2"}

_REGISTERS = ("FDRE", "FDSE", "FDCE", "FDPE", "DSP48E2", "RAMB18E2", "RAMB36E2")
_LUTS = ("LUT1", "LUT2", "LUT3", "LUT4", "LUT5", "LUT6")
_MUXF = ("MUXF7", "MUXF8", "MUXF9")
_CARRY = ("CARRY4", "CARRY8")
# output pins of the primitives synth_xilinx emits (anything else is an input)
_OUT_PINS = {"O", "CO", "Q", "P", "PCOUT", "ACOUT", "BCOUT", "CARRYCASCOUT", "CARRYOUT",
             "MULTSIGNOUT", "PATTERNDETECT", "PATTERNBDETECT", "OVERFLOW", "UNDERFLOW",
             "XOROUT", "DOUTADOUT", "DOUTBDOUT", "DOUTPADOUTP", "DOUTPBDOUTP", "CASDOUTA",
             "CASDOUTB", "CASDOUTPA", "CASDOUTPB", "CASOUTDBITERR", "CASOUTSBITERR",
             "DBITERR", "SBITERR", "ECCPARITY", "RDADDRECC", "DOUT", "DOUTA", "DOUTB"}


def parse_blif(text: str):
    """Cells of a ``write_blif -gates`` netlist: (type, input nets, output nets), plus
    the primary inputs and outputs.  ``.names`` with one input is a buffer (zero delay)."""
    cells, inputs, outputs = [], [], []
    lines = text.replace("\\\n", " ").splitlines()
    i = 0
    while i < len(lines):
        tok = lines[i].split()
        i += 1
        if not tok:
            continue
        if tok[0] == ".inputs":
            inputs += tok[1:]
        elif tok[0] == ".outputs":
            outputs += tok[1:]
        elif tok[0] in (".gate", ".subckt"):
            ins, outs = [], []
            for pin_net in tok[2:]:
                pin, _, net = pin_net.partition("=")
                (outs if re.sub(r"\[\d+\]$", "", pin) in _OUT_PINS else ins).append(net)
            cells.append((tok[1], ins, outs))
        elif tok[0] == ".names" and len(tok) == 3:
            cells.append(("BUF", [tok[1]], [tok[2]]))
    return cells, inputs, outputs


def netlist_depth(cells) -> dict:
    """Worst register-to-register path of ``cells`` (as :func:`parse_blif` returns)."""
    driver = {}
    for k, (_, _, outs) in enumerate(cells):
        for net in outs:
            driver[net] = k
    weight = {}
    for k, (kind, _, _) in enumerate(cells):
        weight[k] = (int(kind in _LUTS), int(kind in _MUXF), int(kind in _CARRY))
    unknown = sorted({kind for kind, _, _ in cells if kind not in _REGISTERS + _LUTS + _MUXF
                      + _CARRY + ("INV", "BUF", "IBUF", "OBUF", "BUFG", "IBUFG")})
    memo: dict[int, tuple] = {}
    ZERO = (0, 0, 0, 0, 0, 0)  # noqa: N806

    def arrival(net):
        """(levels, lut, muxf, carry) of the worst path ending at ``net``, then the most
        LUT+MUXF levels and the most carry cells of any path ending there."""
        k = driver.get(net)
        if k is None or cells[k][0] in _REGISTERS or cells[k][0] in ("IBUF", "IBUFG", "BUFG"):
            return ZERO
        if k in memo:
            return memo[k]
        stack = [(k, False)]
        while stack:                      # iterative post-order: paths can be long
            node, ready = stack.pop()
            if node in memo:
                continue
            preds = [driver.get(n) for n in cells[node][1]]
            preds = [p for p in preds if p is not None and cells[p][0] not in _REGISTERS
                     and cells[p][0] not in ("IBUF", "IBUFG", "BUFG")]
            if not ready:
                stack.append((node, True))
                stack += [(p, False) for p in preds if p not in memo]
                continue
            ins = [memo[p] for p in preds] or [ZERO]
            best = max(a[:4] for a in ins)
            w = weight[node]
            memo[node] = (best[0] + sum(w), best[1] + w[0], best[2] + w[1], best[3] + w[2],
                          max(a[4] for a in ins) + w[0] + w[1], max(a[5] for a in ins) + w[2])
        return memo[k]

    worst = into_dsp = ZERO[:4]
    max_lut = max_carry = 0
    for kind, ins, _ in cells:
        if kind not in _REGISTERS and kind not in ("OBUF",):
            continue
        for net in ins:
            a = arrival(net)
            worst = max(worst, a[:4])
            max_lut, max_carry = max(max_lut, a[4]), max(max_carry, a[5])
            if kind == "DSP48E2":
                into_dsp = max(into_dsp, a[:4])
    budget = BUDGET_200MHZ
    return {
        "levels": worst[0], "lut": worst[1], "muxf": worst[2], "carry": worst[3],
        "max_lut_levels": max_lut, "max_carry_chain": max_carry,
        "into_dsp_levels": into_dsp[0], "dsp48e2": sum(k == "DSP48E2" for k, _, _ in cells),
        "unknown_cells": unknown,
        "within_200mhz_budget": bool(max_lut <= budget["max_lut_levels"]
                                     and max_carry <= budget["max_carry4"]),
        "counted": "register/IO-to-register/IO paths of the mapped netlist; FF, DSP48E2 "
                   "and BRAM cells end paths; LUT, MUXF and CARRY cells count one level "
                   "each, INV/buffers zero",
    }


def blif_depth(text: str) -> dict:
    """:func:`netlist_depth` of a ``write_blif -gates`` netlist text."""
    cells, _, _ = parse_blif(text)
    return netlist_depth(cells)


def fanin_by_type(cells) -> dict:
    """Cell counts by type (a quick look at what a netlist is made of)."""
    out = defaultdict(int)
    for kind, _, _ in cells:
        out[kind] += 1
    return dict(out)
