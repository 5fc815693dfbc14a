"""Logic-depth walk of a mapped netlist (``accel.hw.depth``) on hand-made netlists."""

from __future__ import annotations

from accel.hw.depth import BUDGET_200MHZ, blif_depth

# in -> FF a -> LUT -> LUT -> MUXF7 -> CARRY4 -> CARRY4 -> FF b -> DSP -> FF c -> out;
# a second path FF a -> LUT -> FF b is shorter.  INV and buffers count zero.
NETLIST = """
.model top
.inputs clk x
.outputs y
.gate IBUF I=x O=xi
.gate FDRE C=clk D=xi Q=a
.gate LUT2 I0=a I1=a O=l1
.gate INV I=l1 O=l1n
.gate LUT3 I0=l1n I1=a I2=a O=l2
.gate MUXF7 I0=l2 I1=a S=a O=m1
.gate CARRY4 CI=m1 S[0]=a O[0]=c0 CO[3]=k1
.gate CARRY4 CI=k1 S[0]=a O[0]=c1 CO[3]=k2
.names k2 k2b
1 1
.gate FDRE C=clk D=k2b Q=b
.gate LUT1 I0=a O=short
.gate FDRE C=clk D=short Q=b2
.gate LUT2 I0=b I1=b2 O=pre
.gate DSP48E2 A[0]=pre B[0]=b P[0]=dsp
.gate FDRE C=clk D=dsp Q=c
.gate OBUF I=c O=y
.end
"""


def test_counts_lut_muxf_carry_levels_between_registers():
    d = blif_depth(NETLIST)
    assert (d["lut"], d["muxf"], d["carry"], d["levels"]) == (2, 1, 2, 5)
    assert d["max_lut_levels"] == 3 and d["max_carry_chain"] == 2
    assert d["logic_ns"] == 3 * 0.5 + 2 * 0.05
    assert d["into_dsp_levels"] == 1 and d["dsp48e2"] == 1
    assert d["unknown_cells"] == [] and d["within_200mhz_budget"]


def test_budget_flags_a_deep_path():
    chain = ["LUT1 I0=a O=n0"] + [f"LUT1 I0=n{i} O=n{i + 1}" for i in range(12)]
    text = ".model t\n.inputs clk\n.outputs\n.gate FDRE C=clk D=n12 Q=a\n" + "".join(
        f".gate {g}\n" for g in chain) + ".end\n"
    d = blif_depth(text)
    assert d["max_lut_levels"] == 13 > BUDGET_200MHZ["max_lut_levels"]
    assert d["logic_ns"] == 6.5 > BUDGET_200MHZ["max_logic_ns"]
    assert not d["within_200mhz_budget"]
