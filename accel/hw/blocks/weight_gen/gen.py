"""``SparseWeightGen``: BDWP's online N:M weight generator as a stream component.

Contract (beat layouts, block order, timing): ``accel/arch/sat/weight_gen.py``.  One
M x L block of dense FP16 weights per input beat; per output beat the forward groups
(M rows x L/M groups along input channels) and the backward groups (L columns, one
group along output channels each), every group as N kept values and their positions.

Selection network (one per group, 2L per block): element i is kept iff fewer than N
elements outrank it, where j outranks i when |w_j| > |w_i|, or |w_j| == |w_i| and
j < i (``prune.py``'s stable sort: ties to the lower position).  Output slot k takes the
kept element with k kept elements before it, so positions come out ascending, as
``nm_compress`` stores them.  Magnitude = the code's low 15 bits (FP16 order of |w|).

Control: ``ctrl.start`` with ``ctrl.beats`` runs that many blocks; the unit advances
when it needs no block or has one, and holds no result or has it accepted; ``cycles``
counts the start cycle and the advancing cycles, so it equals ``gen_cycles(beats)``
whatever the stalls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from accel.arch.sat.weight_gen import GEN_LATENCY, GEN_START_CYCLES
from accel.errors import AccelError

GEN_BEATS_BITS = 24     # blocks per run: 16M blocks covers any transformer weight
GEN_CYCLES_BITS = 32
MAX_LANES = 64
CODE_BITS = 16          # FP16 codes


@dataclass(frozen=True)
class GenParams:
    n: int
    m: int
    lanes: int          # L: input channels per block (a multiple of M)

    def __post_init__(self):
        for k in ("n", "m", "lanes"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise AccelError(f"weight generator {k} must be a positive integer, got {v!r}")
        if self.m not in (2, 4, 8, 16):
            raise AccelError(f"weight generator M={self.m} not supported; supported M: 2, 4, 8, 16")
        if not 1 <= self.n < self.m:
            raise AccelError(f"weight generator needs 1 <= N < M, got {self.n}:{self.m}")
        if self.lanes % self.m or self.lanes > MAX_LANES:
            raise AccelError(f"--lanes must be a multiple of M={self.m} and <= {MAX_LANES}, "
                             f"got {self.lanes}")

    @property
    def idx_bits(self) -> int:
        return max(1, (self.m - 1).bit_length())

    @property
    def name(self) -> str:
        return f"wgen_n{self.n}m{self.m}_l{self.lanes}"

    def to_dict(self) -> dict:
        return asdict(self)

    def config_hash(self) -> str:
        import hashlib
        import json

        blob = json.dumps({"unit": "weight-gen", **self.to_dict()}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def block_beat(g: GenParams) -> data.StructLayout:
    """``w[r][l]``: rows r = output channels o0+r, columns l = input channels i0+l."""
    return data.StructLayout({"w": data.ArrayLayout(
        data.ArrayLayout(unsigned(CODE_BITS), g.lanes), g.m)})


def mask_beat(g: GenParams) -> data.StructLayout:
    q = g.lanes // g.m
    val = data.ArrayLayout(unsigned(CODE_BITS), g.n)
    idx = data.ArrayLayout(unsigned(g.idx_bits), g.n)
    return data.StructLayout({
        "fwd_val": data.ArrayLayout(data.ArrayLayout(val, q), g.m),   # [row][group][j]
        "fwd_idx": data.ArrayLayout(data.ArrayLayout(idx, q), g.m),
        "bwd_val": data.ArrayLayout(val, g.lanes),                    # [column][j]
        "bwd_idx": data.ArrayLayout(idx, g.lanes),
    })


class GenControlSignature(wiring.Signature):
    def __init__(self):
        super().__init__({
            "start": Out(1),                   # pulse in IDLE: begin a run of `beats` blocks
            "beats": Out(GEN_BEATS_BITS),
            "busy": In(1),
            "done": In(1),                     # one-cycle pulse after the last result beat
            "cycles": In(GEN_CYCLES_BITS),     # start cycle + advancing cycles of the run
        })


def gen_signature(g: GenParams) -> wiring.Signature:
    return wiring.Signature({
        "ctrl": In(GenControlSignature()),
        "block": In(stream.Signature(block_beat(g))),
        "mask": Out(stream.Signature(mask_beat(g))),
    })


def top_n(m: Module, elems: list, n: int, name: str) -> tuple[list, list]:
    """The N kept codes of a group and their positions, ascending (see module doc)."""
    size = len(elems)
    mags = [e[0:CODE_BITS - 1] for e in elems]
    keep, slot = [], []
    for i in range(size):
        outrank = [mags[j] >= mags[i] if j < i else mags[j] > mags[i]
                   for j in range(size) if j != i]
        rank = Signal(range(size), name=f"{name}_rank{i}")
        m.d.comb += rank.eq(sum(o.as_unsigned() for o in outrank) if outrank else 0)
        k = Signal(name=f"{name}_keep{i}")
        m.d.comb += k.eq(rank < n)
        keep.append(k)
    for i in range(size):
        s = Signal(range(size + 1), name=f"{name}_slot{i}")
        m.d.comb += s.eq(sum(kk.as_unsigned() for kk in keep[:i]) if i else 0)
        slot.append(s)
    vals, idxs = [], []
    for k in range(n):
        v = Signal(CODE_BITS, name=f"{name}_v{k}")
        x = Signal(range(size), name=f"{name}_i{k}")
        v_expr, x_expr = 0, 0
        for i in range(size):                      # exactly one i has keep & slot == k
            hit = keep[i] & (slot[i] == k)
            v_expr = v_expr | Mux(hit, elems[i], 0)
            x_expr = x_expr | Mux(hit, i, 0)
        m.d.comb += [v.eq(v_expr), x.eq(x_expr)]
        vals.append(v)
        idxs.append(x)
    return vals, idxs


class SparseWeightGen(wiring.Component):
    def __init__(self, g: GenParams):
        self.g = g
        super().__init__(gen_signature(g))

    def elaborate(self, platform):
        g = self.g
        m = Module()
        assert GEN_START_CYCLES == 1 and GEN_LATENCY == 1, "RTL built for 1-cycle start/latency"
        w = self.block.payload.w
        sel = Signal(mask_beat(g))
        for r in range(g.m):                       # forward: groups along input channels
            for q in range(g.lanes // g.m):
                vals, idxs = top_n(m, [w[r][q * g.m + i] for i in range(g.m)], g.n,
                                   f"f{r}_{q}")
                for j in range(g.n):
                    m.d.comb += [sel.fwd_val[r][q][j].eq(vals[j]),
                                 sel.fwd_idx[r][q][j].eq(idxs[j])]
        for c in range(g.lanes):                   # backward: groups along output channels
            vals, idxs = top_n(m, [w[r][c] for r in range(g.m)], g.n, f"b{c}")
            for j in range(g.n):
                m.d.comb += [sel.bwd_val[c][j].eq(vals[j]), sel.bwd_idx[c][j].eq(idxs[j])]

        beats = Signal(GEN_BEATS_BITS)
        got = Signal(GEN_BEATS_BITS)
        full = Signal()                            # the output register holds a result
        out = Signal(mask_beat(g))
        cycles = Signal(GEN_CYCLES_BITS)
        m.d.comb += [self.ctrl.cycles.eq(cycles), self.mask.payload.eq(out)]
        m.d.sync += self.ctrl.done.eq(0)
        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.ctrl.start):
                    m.d.sync += [beats.eq(self.ctrl.beats), got.eq(0), full.eq(0),
                                 cycles.eq(GEN_START_CYCLES)]
                    with m.If(self.ctrl.beats == 0):
                        m.d.sync += self.ctrl.done.eq(1)
                    with m.Else():
                        m.next = "RUN"
            with m.State("RUN"):
                feed = got < beats
                out_ok = ~full | self.mask.ready
                adv = (~feed | self.block.valid) & out_ok
                m.d.comb += [
                    self.ctrl.busy.eq(1),
                    self.block.ready.eq(feed & out_ok),
                    # offer a result only in a step that advances: the transfer is the step
                    self.mask.valid.eq(full & (~feed | self.block.valid)),
                ]
                with m.If(adv):
                    m.d.sync += cycles.eq(cycles + 1)
                    with m.If(feed):
                        m.d.sync += [out.eq(sel), full.eq(1), got.eq(got + 1)]
                    with m.Else():
                        m.d.sync += [full.eq(0), self.ctrl.done.eq(1)]
                        m.next = "IDLE"
        return m
