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

Budget for 200 MHz on UltraScale+ (:data:`BUDGET_200MHZ`), and how sure it is: the
period is 5 ns.  UG949 ("Know What You Infer") says adders map to one LUT per bit plus
the carry chain and that a DSP multiply wants registers around it -- both hold here.  A
vendor table of LUT levels per clock was not found (docs search, this session), so the
per-level delay is our assumption, stated as one: ~0.5 ns per LUT level with its
routing on a -2 part, ~0.05 ns per CARRY4.  Holding every path to <= 8 LUT/MUXF levels
(~4 ns), every carry chain to <= 32 CARRY4 (~1.6 ns) and every path's sum of both
(``logic_ns``, the worst path by that weighted count) to <= 4.5 ns leaves the rest of
the 5 ns for clock-to-out, setup and clock uncertainty.  Only a place-and-route run
(Vivado) can confirm 200 MHz; this is the synthesis-time check that the RTL is
registered deeply enough for it.
"""

from __future__ import annotations

import re
from collections import defaultdict

# 200 MHz on UltraScale+ -2 (see the module docstring for the derivation)
LUT_LEVEL_NS = 0.5       # assumed: one LUT (or MUXF) level with its routing, -2 part
CARRY4_NS = 0.05         # assumed: one CARRY4 of a chain (a CARRY8 counts as two)
BUDGET_200MHZ = {"clock_mhz": 200.0, "max_lut_levels": 8, "max_carry4": 32,
                 "max_logic_ns": 4.5,     # of the 5 ns: clock-to-out, setup, uncertainty

                 "source": "5 ns period at an assumed ~0.5 ns per LUT+route level and "
                           "~0.05 ns per CARRY4 on UltraScale+ -2 (assumption, not a "
                           "data-sheet figure; UG949 'Know What You Infer' for adder "
                           "and DSP mapping); see accel/hw/depth.py"}

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
    weight, delay = {}, {}
    for k, (kind, _, _) in enumerate(cells):
        weight[k] = (int(kind in _LUTS), int(kind in _MUXF), int(kind in _CARRY))
        delay[k] = (LUT_LEVEL_NS * (weight[k][0] + weight[k][1])
                    + CARRY4_NS * (2 if kind == "CARRY8" else weight[k][2]))
    unknown = sorted({kind for kind, _, _ in cells if kind not in _REGISTERS + _LUTS + _MUXF
                      + _CARRY + ("INV", "BUF", "IBUF", "OBUF", "BUFG", "IBUFG")})
    memo: dict[int, tuple] = {}
    ZERO = (0, 0, 0, 0, 0, 0, 0.0)  # noqa: N806

    def arrival(net):
        """(levels, lut, muxf, carry) of the worst path ending at ``net``, then the most
        LUT+MUXF levels, the most carry cells and the most assumed ns of any path
        ending there."""
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
                          max(a[4] for a in ins) + w[0] + w[1], max(a[5] for a in ins) + w[2],
                          max(a[6] for a in ins) + delay[node])
        return memo[k]

    worst = into_dsp = ZERO[:4]
    max_lut = max_carry = 0
    max_ns = 0.0
    for kind, ins, _ in cells:
        if kind not in _REGISTERS and kind not in ("OBUF",):
            continue
        for net in ins:
            a = arrival(net)
            worst = max(worst, a[:4])
            max_lut, max_carry = max(max_lut, a[4]), max(max_carry, a[5])
            max_ns = max(max_ns, a[6])
            if kind == "DSP48E2":
                into_dsp = max(into_dsp, a[:4])
    budget = BUDGET_200MHZ
    return {
        "levels": worst[0], "lut": worst[1], "muxf": worst[2], "carry": worst[3],
        "max_lut_levels": max_lut, "max_carry_chain": max_carry,
        "logic_ns": round(max_ns, 3),
        "into_dsp_levels": into_dsp[0], "dsp48e2": sum(k == "DSP48E2" for k, _, _ in cells),
        "unknown_cells": unknown,
        "within_200mhz_budget": bool(max_lut <= budget["max_lut_levels"]
                                     and max_carry <= budget["max_carry4"]
                                     and max_ns <= budget["max_logic_ns"]),
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
