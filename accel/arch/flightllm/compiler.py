"""Code generation: transformer layers -> FlightLLM instruction streams (``isa.INSTR`` records).

Weight tiling and byte accounting live in ``tiles``, instruction-storage accounting in
``storage``; this module only emits instructions.

One record per instruction (``isa.INSTR``): unit (LD, ST, MM, MV, MISC, SYS),
HBM bytes, compute cycles, wait mask, release mask (bit u = token to/from unit u),
kind, useful MACs, layer.  Dataflow choices (documented, since the artifact's RTL is
withheld):

* Weight-tile streams: a linear op's columns are cut into tiles of ~``weight_tile_kb``
  (whole 16-column stripes, full K).  ``LD tile`` waits a free-slot token from the
  compute unit and releases a data token; the compute instruction waits that token and
  releases the slot when done.  Slot credits = ``weight_slots`` (double/multi-buffering
  expressed as tokens); KV chunks share the slots.
* Decode (module ``decode``), always-on-chip (``on_chip=True``): activations stay in the global buffer;
  Q/K/V and gate/up are fused into one weight stream each; MISC ops hand tokens to MV
  directly, so the LD unit keeps prefetching the next op's weights across op
  boundaries.
* Decode, off-chip (``on_chip=False``): every intermediate (norm output, Q, K, V, RoPE
  output, attention scores, probabilities, attention output, o_proj output, residual,
  FFN intermediates, activation-function output) is stored to HBM by ST and loaded back
  by a separate activation LD (``Builder.act_in``) that waits for the store's token; a
  zero-cycle instruction on the consumer waits for that LD, so the dependent MV/MISC
  cannot start before ST + LD have completed.  Nothing is fused: q/k/v and gate/up are
  separate weight streams and every MISC op makes its own HBM round trip.  The LD queue
  is in order, so the next op's weight tiles are not prefetched across the boundary.
  These transfers are small (4 KB vectors, 22 KB FFN rows) and, as in the authors'
  instruction generator, each uses one HBM channel: an MV's input vector crosses the HBM
  switch at the cross-channel efficiency, MISC inputs/outputs and stored results use one
  of the port's own channels (``CROSS_CHANNEL_KINDS``, ``ONE_CHANNEL_KINDS``).
* Prefill: MM mode, activations through HBM (a [P, 11008] INT8 tensor does not fit
  on chip), weight-stationary: one MM instruction per (weight tile, ``mm_token_tile``
  token rows); block-sparse attention by ``attn_block`` query blocks.
"""

from __future__ import annotations

import numpy as np

from accel.arch.flightllm.config import FlightLLMConfig
from accel.arch.flightllm.dsp_chain import attention_kept_blocks, chain_fill_cycles
from accel.arch.flightllm.isa import (  # noqa: F401  (unit/kind numbers re-exported)
    INSTR,
    K_ACT,
    K_ACT_IN,
    K_ACT_VEC,
    K_ACTFN,
    K_ATTN,
    K_ELT,
    K_EMBED,
    K_KV,
    K_LINEAR,
    K_NORM,
    K_ROPE,
    K_SOFTMAX,
    K_SYNC,
    K_WEIGHT,
    K_WEIGHT_X,
    KINDS,
    LD,
    MISC,
    MM,
    MV,
    N_UNITS,
    ST,
    SYS,
    UNIT_NAMES,
    concat,
    program,
)
from accel.arch.flightllm.tiles import OpTiles, fused_tiles, weight_tiles  # noqa: F401 (re-exported)
from accel.workloads.llm import LLMShape

# How decode's activation vectors meet HBM, as in the authors' instruction generator
# (artifact profile/inst_gen/layer_support/): the vector an MV reads is loaded into its
# input buffer through the HBM switch from another port's channel, one channel at the
# cross-channel efficiency (IR_linear_mv / IR_attention_mv: ``cross_hbm_channel=True``,
# ``parallel_channel_num=1``); MISC inputs/outputs and stored results move through one
# of the port's own channels at the same-channel efficiency (IR_misc: not cross, one
# channel).  Weights, the KV cache and prefill's [L, K] tensors stream over every channel,
# except prefill weight tiles under ``prefill_weight_stream`` (``K_WEIGHT_X``: each
# SLR's slice through the switch on its one B-buffer channel, IR_linear_mm).
CROSS_CHANNEL_KINDS = (1 << K_ACT_IN) | (1 << K_WEIGHT_X)
ONE_CHANNEL_KINDS = (1 << K_ACT_VEC) | (1 << K_EMBED)


def bit(u: int) -> int:
    return 1 << u


def slr_share(units: int, cores: int) -> float:
    """Busiest SLR's work over an even split when ``units`` whole instructions (or
    heads) are dealt to ``cores`` SLRs: ceil(units / cores) / (units / cores)."""
    units = max(int(units), 1)
    return -(-units // cores) * cores / units


def spread(total: int, weights) -> np.ndarray:
    """``total`` split into integers in proportion to ``weights`` (cumulative rounding, so
    the parts sum to ``total`` exactly)."""
    w = np.asarray(weights, np.float64)
    return np.diff(np.round(np.concatenate([[0], np.cumsum(w)]) * total / w.sum())
                   ).astype(np.int64)


def pad_cols(n: int, per_instr: int) -> int:
    """Columns an MV op of ``n`` outputs computes beyond ``n`` (whole instructions)."""
    return -(-n // per_instr) * per_instr - n


class Builder:
    """Collects instruction rows; ``emit`` returns the new block for first/last edits."""

    def __init__(self, cfg: FlightLLMConfig, vectors: bool = False,
                 ops: list | None = None):
        self.cfg = cfg
        self.parts: list[np.ndarray] = []
        self.ops = ops if ops is not None else []   # op table shared by a program's parts
        self.op_id = -1
        # decode vectors: one-channel / cross-channel transfers; prefill tensors: striped
        self.k_act = K_ACT_VEC if vectors else K_ACT
        self.k_act_in = K_ACT_IN if vectors else K_ACT
        self.vec_ch = 0      # static home channel of the next vector buffer
        self._bar = False    # the next emitted row starts an op (barrier)

    def begin(self, *desc) -> None:
        """Tag the rows that follow with a new entry ``desc`` of the op table (what the
        functional executor computes for them)."""
        self.ops.append(desc)
        self.op_id = len(self.ops) - 1

    def new_op(self) -> None:
        """The next row starts an IR op: it waits for everything before it (the
        artifact's per-op SYS over all units and SLRs, inst_generator.py)."""
        self._bar = True

    def stripe_ch(self, offset) -> np.ndarray:
        """Start channel of data at byte ``offset`` of a stripe-aligned tensor."""
        c = self.cfg
        return (np.asarray(offset, np.int64) // c.hbm_interleave_bytes) % c.hbm_channels

    def emit(self, unit, n=1, nbytes=0, cycles=0, wait=0, rel=0, kind=0, macs=0,
             ch=None, split=1) -> np.ndarray:
        """Append ``n`` rows.  ``ch``: the start channel of a transfer, from its address;
        default: stripe-aligned tensors start on channel 0, one-channel vector buffers
        get consecutive home channels in program order (both independent of the context
        length, so a longer context never moves a later transfer's channels).
        ``split``: a vector moved as that many slices at once, one per SLR (its share of
        the output columns or heads), each on its own channel."""
        a = program(n)
        if ch is None and unit in (LD, ST) and kind in (K_ACT_VEC, K_ACT_IN, K_EMBED):
            ch = (self.vec_ch + np.arange(n)) % self.cfg.hbm_channels
            self.vec_ch = int(self.vec_ch + n) % self.cfg.hbm_channels
        a["ch"] = 0 if ch is None else ch
        a["split"] = split
        a["op"] = self.op_id
        a["sub"] = np.arange(n)
        if self._bar and n > 0:
            a["bar"][0] = 1
            self._bar = False
        a["unit"] = unit
        a["nbytes"] = nbytes
        a["cycles"] = cycles
        a["wait"] = wait
        a["rel"] = rel
        a["kind"] = kind
        a["macs"] = macs
        self.parts.append(a)
        return a

    def build(self) -> np.ndarray:
        return concat(self.parts)

    # --- primitive ops --------------------------------------------------------------
    def slr_factor(self, units: int) -> float:
        """``slr_share`` of an op of ``units`` whole instructions or heads, when the
        config deals them to the SLRs whole (``slr_whole_instr_split``)."""
        c = self.cfg
        return slr_share(units, c.cores) if c.slr_whole_instr_split else 1.0

    # --- block plans: how many rows an op emits, for the ops and for ``RowCounter`` -----
    def linear_plan(self, t: OpTiles, rows: int) -> tuple[int, int, int, int, bool]:
        """(unit, weight tiles, token rows per group, groups, reload) of a linear op over
        ``rows`` tokens: MV for one row, else MM over groups of ``mm_token_tile`` rows;
        with ``prefill_weight_stream`` every group streams every weight tile again."""
        c = self.cfg
        unit = MV if rows == 1 else MM
        tile_rows = rows if unit == MV else c.mm_token_tile
        nr = -(-rows // tile_rows)
        return unit, len(t.nbytes), tile_rows, nr, unit == MM and c.prefill_weight_stream and nr > 1

    def qk_plan(self, ctx: int, heads: int) -> tuple[int, int, int]:
        """(MV instructions per head, K loads per head, rounds) of ``qk_softmax_heads``:
        a block whose keys are all on chip (the new key alone) loads nothing."""
        c = self.cfg
        per = c.mv_cols_per_instr
        nblk = -(-ctx // per)
        last_cached = ctx - per * (nblk - 1) - 1
        return nblk, nblk - (last_cached <= 0), -(-heads // c.cores)

    def kv_chunks(self, cached: int, entry_bytes: int) -> tuple[int, int]:
        """(entries per chunk, chunks) of ``kv_stream`` over ``cached`` KV-cache entries."""
        per = max(1, self.cfg.kv_buffer_kb * 1024 // entry_bytes)
        return per, -(-cached // per)

    def compute_setup_cycles(self) -> int:
        """Cycles an MM/MV instruction costs besides its beats: the issue overhead and
        (``count_chain_fill``) the chain's pipeline fill of the RTL timing contract."""
        c = self.cfg
        fill = chain_fill_cycles(c.chain_dsps, c.dsp_group) if c.count_chain_fill else 0
        return c.compute_issue_cycles + fill

    def compute_cycles(self, unit: int, slots) -> np.ndarray:
        c = self.cfg
        per_cycle = c.cores * (c.mm_macs_per_core if unit == MM else c.mv_macs_per_core)
        return self.compute_setup_cycles() + np.ceil(np.asarray(slots, np.float64) / (
            per_cycle * c.slr_parallel_efficiency)).astype(np.int64)

    def misc_cycles(self, elems, kind: int) -> np.ndarray:
        """MISC cycles: softmax and norms pass over their data ``misc_norm_passes`` times."""
        c = self.cfg
        passes = c.misc_norm_passes if kind in (K_SOFTMAX, K_NORM) else 1
        return c.misc_setup_cycles + np.ceil(np.asarray(elems, np.float64) * passes / (
            c.sfu_elems_per_cycle * c.cores * c.slr_parallel_efficiency)).astype(np.int64)

    def misc(self, elems: int, wait: int, rel: int, kind: int) -> None:
        self.new_op()
        self.emit(MISC, 1, cycles=self.misc_cycles(elems, kind), wait=wait, rel=rel, kind=kind)

    def hbm_misc(self, in_bytes: int, out_bytes: int, elems: int, kind: int,
                 out_rel: int = bit(LD), in_wait: int = bit(ST)) -> None:
        """MISC op reading its input from HBM and writing its output back."""
        self.new_op()
        self.emit(LD, 1, nbytes=in_bytes, wait=in_wait, rel=bit(MISC), kind=self.k_act)
        self.emit(MISC, 1, cycles=self.misc_cycles(elems, kind), wait=bit(LD), rel=bit(ST),
                  kind=kind)
        self.emit(ST, 1, nbytes=out_bytes, wait=bit(MISC), rel=out_rel, kind=self.k_act)

    def act_in(self, unit: int, nbytes: int, wait: int, split: int = 1) -> None:
        """Load an activation from HBM for ``unit``: an LD (after the producer's token in
        ``wait``) and a zero-cycle consumer instruction waiting for it, so the unit's next
        instruction cannot start before the data has arrived.  The LD queue is in order:
        weight tiles behind this LD are not prefetched before the producer has stored.
        ``split`` = 1 (an op's whole input, needed by every SLR): with
        ``slr_broadcast_inputs`` each SLR loads all of it, ``cores`` loads spread over the
        channels holding the SLRs' stored slices."""
        if split == 1 and self.cfg.slr_broadcast_inputs and self.cfg.cores > 1:
            nbytes, split = nbytes * self.cfg.cores, self.cfg.cores
        self.emit(LD, 1, nbytes=nbytes, wait=wait, rel=bit(unit), kind=self.k_act_in,
                  split=split)
        self.emit(unit, 1, cycles=0, wait=bit(LD), kind=K_ACT)

    def linear(self, t: OpTiles, rows: int, wait_first: int = 0, rel_last: int = 0,
               ld_first_wait: int = 0, act_bytes: int = 0, bias: bool = False,
               rel_each: int = 0, operand_bytes: int = 0) -> int:
        """Weight-tile stream; returns the compute unit (MV for one row, else MM).

        ``act_bytes`` > 0: the input activation is first loaded from HBM (``act_in``)
        after the token in ``ld_first_wait``.  In MV mode the op's columns are padded up
        to whole ``mv_cols_per_instr`` instructions, computed densely (last tile).
        ``bias`` (q/k/v/o) with ``int32_bias_qkvo``: an INT32 bias of N x 4 B, each SLR's
        slice through one of its own channels, queued before the weights.
        ``rel_each``: released by every compute instruction (a MISC fused per MV);
        ``operand_bytes``: that MISC's second operand, loaded (per SLR slice) before the
        weights and released to MISC."""
        self.new_op()
        unit = self.linear_plan(t, rows)[0]
        if act_bytes:
            self.act_in(unit, act_bytes, ld_first_wait)
            ld_first_wait = 0
        c = self.cfg
        if bias and c.int32_bias_qkvo:
            self.emit(LD, 1, nbytes=t.N * 4, wait=ld_first_wait, kind=K_ACT_VEC, split=c.cores)
            ld_first_wait = 0
        if operand_bytes:
            self.emit(LD, 1, nbytes=operand_bytes, wait=ld_first_wait, rel=bit(MISC),
                      kind=self.k_act, split=c.cores)
            ld_first_wait = 0
        unit, nt, tile_rows, nr, reload = self.linear_plan(t, rows)
        r_sizes = np.full(nr, tile_rows, np.int64)
        r_sizes[-1] = rows - tile_rows * (nr - 1)
        one_ch = unit == MM and c.prefill_weight_stream
        reps = nr if reload else 1
        ld = self.emit(LD, nt * reps, nbytes=np.tile(t.nbytes, reps), wait=bit(unit),
                       rel=bit(unit), kind=K_WEIGHT_X if one_ch else K_WEIGHT,
                       ch=0 if one_ch else self.stripe_ch(np.tile(t.offsets, reps)),
                       split=c.cores if one_ch else 1)
        ld["wait"][0] |= ld_first_wait
        t_slots = t.slots.astype(np.float64)
        per_instr = self.cfg.mv_cols_per_instr if unit == MV else self.cfg.mm_cols_per_instr
        if unit == MV:
            t_slots[-1] += pad_cols(t.N, per_instr) * t.K
        # the SLRs get whole instructions; the op ends at the busiest SLR's last one
        t_slots *= self.slr_factor(-(-t.N // per_instr))
        if reload:     # group-major: each (group, tile) MM has its own LD
            slots = np.outer(r_sizes, t_slots).reshape(-1)
            macs = np.outer(r_sizes, t.macs).reshape(-1)
        else:          # tile-major: a tile's LD serves every row group
            slots = np.outer(t_slots, r_sizes).reshape(-1)
            macs = np.outer(t.macs, r_sizes).reshape(-1)
        cp = self.emit(unit, nt * nr, cycles=self.compute_cycles(unit, slots), kind=K_LINEAR,
                       macs=macs)
        if reload:
            cp["wait"] = bit(LD)
            cp["rel"] = bit(LD)
        else:
            first_r = np.zeros(nr, np.int64)
            first_r[0] = bit(LD)
            last_r = np.zeros(nr, np.int64)
            last_r[-1] = bit(LD)
            cp["wait"] = np.tile(first_r, nt)
            cp["rel"] = np.tile(last_r, nt)
        cp["wait"][0] |= wait_first
        cp["rel"] |= rel_each
        cp["rel"][-1] |= rel_last
        return unit

    def linear_hbm(self, t: OpTiles, rows: int, out_rel: int = bit(LD),
                   fuse: tuple[int, int, int] | None = None, bias: bool = False) -> None:
        """Linear op whose input comes from HBM and whose output goes back to HBM.

        ``fuse = (elements, kind, operand bytes)``: a MISC op fused behind the MV (the
        artifact fuses RoPE, SiLU, eltwise into the linear op before its store), its
        second operand, if any, loaded from HBM."""
        ab = self.cfg.act_bits / 8
        elems, kind, operand = fuse if fuse is not None else (0, 0, 0)
        # fused behind an MV, the MISC runs on each MV's output columns as it comes out
        # (artifact IR_linear_mv.py: MV_release_MISC at every MV output, a MISC per MV
        # group), overlapping the next MVs; behind an MM, once after the op
        per_mv = fuse is not None and rows == 1
        unit = self.linear(t, rows, rel_last=bit(ST) if fuse is None or per_mv else bit(MISC),
                           ld_first_wait=bit(ST), act_bytes=int(np.ceil(rows * t.K * ab)),
                           bias=bias, rel_each=bit(MISC) if per_mv else 0,
                           operand_bytes=operand)
        st_wait = bit(unit)
        if fuse is not None:
            if per_mv:
                cp = self.parts[-1]
                cp["rel"][-1] &= ~bit(ST)
                cols = np.full(len(cp), t.N / len(cp))
                if t.stripe_tile is not None and len(t.stripe_tile):
                    cols = np.bincount(t.stripe_tile, minlength=len(cp)).astype(np.float64)
                m = self.emit(MISC, len(cp), cycles=self.misc_cycles(spread(elems, cols), kind),
                              wait=bit(unit), kind=kind)
                m["rel"][-1] = bit(ST)
            else:
                self.emit(MISC, 1, cycles=self.misc_cycles(elems, kind), wait=bit(unit),
                          rel=bit(ST), kind=kind)
            if operand:
                self.parts[-1]["wait"][0] |= bit(LD)
            st_wait = bit(MISC)
        # each SLR stores the slice of the output columns it computed
        self.emit(ST, 1, nbytes=int(np.ceil(rows * t.N * ab)), wait=st_wait, rel=out_rel,
                  kind=self.k_act, split=self.cfg.cores)

    def qk_softmax_heads(self, ctx: int, head_dim: int, heads: int, entry_bytes: int,
                         q_bytes: int = 0, wait_first: int = 0, rel_last: int = 0,
                         store: bool = True, tag: bool = False) -> None:
        """QK^T with the softmax fused per head, as the artifact's attention_mv: the heads
        go round by round, one per SLR (dealt whole), each over its keys in MV instructions
        of ``mv_cols_per_instr`` keys (the last padded), every instruction fed by its own
        LD of that head's K block; the head's last MV releases its softmax, which runs
        while the next round's MVs go on [artifact IR_attention_mv.py: per head, LD A x 8
        per MV; MV_release_MISC at each head's last MV].  The cached keys are ``ctx - 1``
        (the new one is on chip); the cache is head-major at ``max_length`` entries per
        head, so a block's address, hence its channel, does not move with ``ctx``.
        ``entry_bytes``: one token's K over all KV heads; a head loads its share (with
        grouped-query attention, heads sharing a KV head share its bytes).
        ``q_bytes`` > 0: q comes from HBM (after the producer's store), else it is on chip
        and the first MV waits ``wait_first``; ``store``: the scores go to HBM behind the
        last softmax (off chip), else the last softmax releases ``rel_last``; ``tag``: each
        round is an op-table entry ("qk_head", round, keys per MV) for the executor."""
        c = self.cfg
        self.new_op()
        if q_bytes:
            self.act_in(MV, q_bytes, bit(ST), split=c.cores)    # each SLR's heads' q
        per = c.mv_cols_per_instr
        nblk, _, rounds = self.qk_plan(ctx, heads)
        keys = np.full(nblk, per, np.int64)
        keys[-1] = ctx - per * (nblk - 1)                       # keys per MV instruction
        cached = keys.copy()
        cached[-1] -= 1                                         # ... of them loaded
        for r in range(rounds):
            if tag:
                self.begin("qk_head", r, per)
            in_round = min(c.cores, heads - r * c.cores)
            # busiest SLR: one head per round when heads are dealt whole
            lanes = c.cores if c.slr_whole_instr_split else in_round
            e0 = np.arange(nblk) * per
            nz = cached > 0
            self.emit(LD, int(nz.sum()), nbytes=-(-cached[nz] * entry_bytes * in_round // heads),
                      wait=bit(MV), rel=bit(MV), kind=K_KV,
                      ch=self.stripe_ch((r * c.max_length + e0[nz]) * head_dim * c.cores))
            slots = np.full(nblk, per * head_dim, np.int64) * lanes   # padded: whole blocks
            mv = self.emit(MV, nblk, cycles=self.compute_cycles(MV, slots), kind=K_ATTN,
                           macs=keys * head_dim * in_round)
            mv["wait"] = np.where(nz, bit(LD), 0)
            mv["rel"] = np.where(nz, bit(LD), 0)
            mv["rel"][-1] |= bit(MISC)
            if r == 0:
                mv["wait"][0] |= wait_first
            last = bit(ST) if store else rel_last
            self.emit(MISC, 1, cycles=self.misc_cycles(ctx * lanes, K_SOFTMAX), wait=bit(MV),
                      rel=last if r == rounds - 1 else 0, kind=K_SOFTMAX)
        if store:
            self.emit(ST, 1, nbytes=heads * ctx * (c.act_bits // 8 or 1), wait=bit(MISC),
                      rel=bit(LD), kind=self.k_act, split=c.cores)

    def kv_stream(self, unit: int, entries: int, entry_bytes: int, macs_per_entry: int,
                  wait_first: int, rel_last: int, ld_first_wait: int = 0,
                  act_bytes: int = 0, cached: int | None = None, pad_slots: int = 0,
                  heads: int = 1) -> None:
        """Attention over ``entries`` keys (or values) read from the KV cache in chunks;
        ``act_bytes`` > 0 first loads the query / probabilities from HBM (``act_in``).
        ``pad_slots``: chain slots of the padding of each head's MV instructions, spread
        over the chunks in proportion to their entries.  ``heads``: dealt to the SLRs
        whole (``slr_factor``)."""
        share = self.slr_factor(heads)
        self.new_op()
        cached = entries if cached is None else cached
        if act_bytes:     # the query / probabilities of each SLR's heads
            self.act_in(unit, act_bytes, ld_first_wait, split=self.cfg.cores)
            ld_first_wait = 0
        per, nch = self.kv_chunks(cached, entry_bytes)
        if nch == 0:      # nothing cached yet: compute on the on-chip entry only
            self.emit(unit, 1, cycles=self.compute_cycles(
                unit, (entries * macs_per_entry + pad_slots) * share),
                      wait=wait_first, rel=rel_last, kind=K_ATTN, macs=entries * macs_per_entry)
            return
        ent = np.full(nch, per, np.int64)
        ent[-1] = cached - per * (nch - 1)
        ld = self.emit(LD, nch, nbytes=ent * entry_bytes, wait=bit(unit), rel=bit(unit),
                       kind=K_KV, ch=self.stripe_ch(np.arange(nch) * per * entry_bytes))
        ld["wait"][0] |= ld_first_wait
        ent_c = ent.copy()
        ent_c[-1] += entries - cached
        pad = spread(pad_slots, ent_c)
        cp = self.emit(unit, nch, cycles=self.compute_cycles(
            unit, (ent_c * macs_per_entry + pad) * share),
                       wait=bit(LD), rel=bit(LD), kind=K_ATTN, macs=ent_c * macs_per_entry)
        cp["wait"][0] |= wait_first
        cp["rel"][-1] |= rel_last


class RowCounter(Builder):
    """A ``Builder`` that only sizes programs, for ``storage``, which counts the rows of
    2 x ``max_length`` programs and reads nothing else.  ``build`` returns a placeholder
    whose length is the program's row count.

    The ops whose work grows with the length (linear streams, attention over the KV
    cache) are counted, not emitted: their rows come from the same block plans the
    emitting ops use (``linear_plan``, ``qk_plan``, ``kv_chunks``) plus their fixed rows
    (an activation load and its consumer, a bias, a fused MISC, a store), so no timing,
    channel or token array is computed (~5x faster than emitting zeroed blocks: 4,096
    programs in ~0.25 s against 1.3 s here; ~13x than building them).  The few other ops still emit zeroed blocks, which they edit in
    place.  tests/arch/flightllm/test_row_counter.py holds the counts equal to the built
    programs' on every preset, both decode dataflows and prefill, at every block and
    bucket edge."""

    def __init__(self, cfg: FlightLLMConfig, vectors: bool = False, ops: list | None = None):
        super().__init__(cfg, vectors, ops)
        self.counted = 0     # rows of the counted ops

    def emit(self, unit, n=1, **fields) -> np.ndarray:
        a = program(n)
        self.parts.append(a)
        return a

    def compute_cycles(self, unit: int, slots) -> int:
        return 0

    def misc_cycles(self, elems, kind: int) -> int:
        return 0

    def stripe_ch(self, offset) -> int:
        return 0

    def build(self) -> np.ndarray:
        return np.empty(self.counted + sum(len(a) for a in self.parts), np.int8)

    def _linear_rows(self, t: OpTiles, rows: int, act_bytes: int, bias: bool,
                     operand_bytes: int) -> tuple[int, int, int]:
        """(unit, rows ``linear`` emits, rows of its compute block)."""
        unit, nt, _, nr, reload = self.linear_plan(t, rows)
        fixed = (2 if act_bytes else 0) + (1 if bias and self.cfg.int32_bias_qkvo else 0) \
            + (1 if operand_bytes else 0)
        return unit, fixed + nt * (nr if reload else 1) + nt * nr, nt * nr

    def linear(self, t: OpTiles, rows: int, wait_first: int = 0, rel_last: int = 0,
               ld_first_wait: int = 0, act_bytes: int = 0, bias: bool = False,
               rel_each: int = 0, operand_bytes: int = 0) -> int:
        unit, n, _ = self._linear_rows(t, rows, act_bytes, bias, operand_bytes)
        self.counted += n
        return unit

    def linear_hbm(self, t: OpTiles, rows: int, out_rel: int = bit(LD),
                   fuse: tuple[int, int, int] | None = None, bias: bool = False) -> None:
        act_bytes = int(np.ceil(rows * t.K * (self.cfg.act_bits / 8)))   # as ``linear_hbm``'s
        operand = fuse[2] if fuse is not None else 0
        unit, n, compute = self._linear_rows(t, rows, act_bytes, bias, operand)
        if fuse is not None:    # a MISC per MV behind an MV, else one behind the op
            n += compute if rows == 1 else 1
        self.counted += n + 1   # + the store

    def qk_softmax_heads(self, ctx: int, head_dim: int, heads: int, entry_bytes: int,
                         q_bytes: int = 0, wait_first: int = 0, rel_last: int = 0,
                         store: bool = True, tag: bool = False) -> None:
        nblk, loads, rounds = self.qk_plan(ctx, heads)
        self.counted += (2 if q_bytes else 0) + rounds * (loads + nblk + 1) + (1 if store else 0)

    def kv_stream(self, unit: int, entries: int, entry_bytes: int, macs_per_entry: int,
                  wait_first: int, rel_last: int, ld_first_wait: int = 0,
                  act_bytes: int = 0, cached: int | None = None, pad_slots: int = 0,
                  heads: int = 1) -> None:
        _, nch = self.kv_chunks(entries if cached is None else cached, entry_bytes)
        self.counted += (2 if act_bytes else 0) + (2 * nch if nch else 1)


def _repeat_layers(layer: np.ndarray, layers: int) -> np.ndarray:
    out = np.tile(layer, layers)
    out["layer"] = np.repeat(np.arange(layers), len(layer))
    return out


def pos_kind(shape: LLMShape) -> int:
    return K_ROPE if shape.rope else K_ELT     # OPT: learned positions, bias add instead


def assemble_layers(parts: tuple[np.ndarray, np.ndarray, np.ndarray], layers: int) -> np.ndarray:
    pro, lay, epi = parts
    return concat([pro, _repeat_layers(lay, layers), epi])


def count_rows(parts: tuple[np.ndarray, np.ndarray, np.ndarray], layers: int) -> int:
    return len(parts[0]) + layers * len(parts[1]) + len(parts[2])


def prefill_program(shape: LLMShape, tiles: dict[str, OpTiles], cfg: FlightLLMConfig,
                    length: int) -> np.ndarray:
    """Instructions of the prefill of ``length`` prompt tokens (MM mode)."""
    return assemble_layers(prefill_parts(shape, tiles, cfg, length), shape.layers)


def prefill_parts(shape: LLMShape, tiles: dict[str, OpTiles], cfg: FlightLLMConfig,
                  length: int, builder: type[Builder] = Builder):
    """(prologue, one layer, epilogue) of the prefill of ``length`` prompt tokens
    (``builder=RowCounter``: only their row counts are meaningful)."""
    h, kv, f, heads, L = shape.hidden, shape.kv_dim, shape.ffn, shape.heads, length
    ab = cfg.act_bits // 8 or 1
    kvb = max(1, cfg.kv_bits // 8)
    pro, b, epi = builder(cfg), builder(cfg), builder(cfg)
    pro.hbm_misc(L * h * 2, L * h * ab, L * h, K_EMBED, in_wait=0)
    b.hbm_misc(L * h * ab, L * h * ab, L * h, K_NORM)
    b.linear_hbm(tiles["qkv"], L, bias=True)                     # K, V land in the KV cache
    b.hbm_misc(L * (h + kv) * ab, L * (h + kv) * ab, L * (h + kv), pos_kind(shape))
    # block-sparse attention, one (LD K/V, MM QK^T, softmax, MM AV) group per query block
    blk = cfg.attn_block
    kept = attention_kept_blocks(L, blk, cfg.attn_local_blocks, cfg.attn_global_blocks)
    nq = kept.shape[0]
    q_rows = np.minimum(blk, L - blk * np.arange(nq))
    k_rows = (kept * q_rows[None, :]).sum(axis=1)                # keys seen per query block
    b.new_op()
    ld = b.emit(LD, nq, nbytes=2 * k_rows * kv * kvb + q_rows * h * ab, wait=bit(MM),
                rel=bit(MM), kind=K_KV)
    ld["wait"][0] |= bit(ST)
    qk_macs = q_rows * k_rows * h
    cyc = b.compute_cycles(MM, qk_macs * b.slr_factor(heads))      # heads dealt to SLRs
    sm = b.misc_cycles(heads * q_rows * k_rows, K_SOFTMAX)
    # per query block: QK (MM) -> softmax (MISC) -> AV (MM); rows interleave on MM in order
    mm = program(2 * nq)
    mm["unit"] = MM
    mm["cycles"][0::2] = cyc
    mm["cycles"][1::2] = cyc
    mm["macs"] = np.repeat(qk_macs, 2)
    mm["kind"] = K_ATTN
    mm["wait"][0::2] = bit(LD)
    mm["rel"][0::2] = bit(MISC)
    mm["wait"][1::2] = bit(MISC)
    mm["rel"][1::2] = bit(LD)
    mm["rel"][-1] |= bit(ST)
    b.parts.append(mm)
    b.emit(MISC, nq, cycles=sm, wait=bit(MM), rel=bit(MM), kind=K_SOFTMAX)
    b.emit(ST, 1, nbytes=L * h * ab, wait=bit(MM), rel=bit(LD), kind=K_ACT)
    b.linear_hbm(tiles["o_proj"], L, bias=True)
    b.hbm_misc(2 * L * h * ab, L * h * ab, L * h, K_ELT)
    b.hbm_misc(L * h * ab, L * h * ab, L * h, K_NORM)
    b.linear_hbm(tiles["ffn_in"], L)
    n_in = 2 if shape.ffn_kind == "swiglu" else 1
    b.hbm_misc(n_in * L * f * ab, L * f * ab, L * f, K_ACTFN)
    b.linear_hbm(tiles["ffn_out"], L)
    b.hbm_misc(2 * L * h * ab, L * h * ab, L * h, K_ELT)
    epi.hbm_misc(h * ab, h * ab, h, K_NORM)                     # last position only
    epi.linear_hbm(tiles["lm_head"], 1)
    epi.hbm_misc(shape.vocab * ab, 4, shape.vocab, K_ELT, out_rel=bit(SYS))
    epi.emit(SYS, 1, cycles=cfg.sys_sync_cycles, wait=bit(ST), kind=K_SYNC)
    return pro.build(), b.build(), epi.build()


def credits(cfg: FlightLLMConfig) -> np.ndarray:
    """Initial tokens: free weight/KV slots from each compute unit to the LD unit."""
    c = np.zeros((N_UNITS, N_UNITS), np.int64)
    c[MV, LD] = cfg.weight_slots
    c[MM, LD] = cfg.weight_slots
    return c


def bucket(length: int, size: int) -> int:
    return -(-length // size) * size
