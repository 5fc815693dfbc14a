"""Numba kernels of the FlightLLM model: arrays and scalars in, arrays out.

``execute``: event-driven run of one instruction stream over the decoupled units.
``chain_matmul``: the sparse DSP chain computing INT8 block-N:M products.
Plain-NumPy references live in tests/arch/flightllm.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)
from accel.arch.flightllm.isa import LD, N_UNITS, ST


@njit(cache=True)
def hbm_transfer(nbytes, t_issue, c0, ch_free, n_channels, interleave, access, row_cycles,
                 ch_bytes_per_cycle):
    """Reserve the channels of one transfer; returns (last piece accepted, data done).

    The transfer's bytes are striped over the pseudo channels in ``interleave``-byte
    chunks starting at channel ``c0`` (consecutive transfers are laid out consecutively).
    Channel c's piece is one sequential stream in its own address space: it costs one
    row opening (``row_cycles``; later row crossings overlap with data on other banks and
    are inside the long-stream efficiency) plus its bytes rounded up to the ``access``
    granule at the channel's achievable rate.  Channels serve pieces FIFO; ``ch_free``
    is updated in place.
    """
    nchunks = (nbytes + interleave - 1) // interleave
    if nchunks < 1:
        nchunks = 1
    span = nchunks if nchunks < n_channels else n_channels
    q = nchunks // n_channels
    r = nchunks - q * n_channels
    tail = nbytes - (nchunks - 1) * interleave       # bytes of the last chunk
    last_k = (nchunks - 1) % n_channels
    accepted = t_issue
    done = t_issue
    for k in range(span):
        b = (q + (1 if k < r else 0)) * interleave
        if k == last_k:
            b -= interleave - tail
        b = ((b + access - 1) // access) * access
        c = (c0 + k) % n_channels
        t0 = t_issue if t_issue > ch_free[c] else ch_free[c]
        t1 = t0 + row_cycles + b / ch_bytes_per_cycle
        ch_free[c] = t1
        if t0 > accepted:
            accepted = t0
        if t1 > done:
            done = t1
    return accepted, done


@njit(cache=True)
def one_channel_transfer(nbytes, t_issue, c, ch_free, access, row_cycles, bytes_per_cycle):
    """A transfer served by the single pseudo channel ``c`` at ``bytes_per_cycle`` (a
    vector in one channel, or through the HBM switch at the cross-channel rate); returns
    (accepted, data done) and updates ``ch_free`` like ``hbm_transfer``."""
    b = ((max(nbytes, 1) + access - 1) // access) * access
    t0 = t_issue if t_issue > ch_free[c] else ch_free[c]
    t1 = t0 + row_cycles + b / bytes_per_cycle
    ch_free[c] = t1
    return t0, t1


@njit(cache=True)
def execute(prog, credits, hbm):
    """Run ``prog`` (``isa.INSTR`` records) honouring in-order units and wait/release tokens.

    Tokens are counting semaphores per (producer unit, consumer unit) pair, matched FIFO:
    the k-th wait of unit d on unit s is satisfied by the (k - credits[s, d])-th release
    from s to d (a negative index means an initial credit, e.g. a free buffer slot).
    LD/ST share the HBM pseudo channels (``hbm_transfer``): a transfer finishes
    ``latency_cycles`` after its last channel piece; its unit may issue the next transfer
    once every channel has accepted this one's piece (outstanding AXI requests).  A
    transfer whose kind is in the ``one_kinds`` bitmask is served by one channel at the
    channel rate, one in ``cross_kinds`` by one channel through the HBM switch at
    ``cross_bytes_per_cycle`` (``one_channel_transfer``); ``hbm`` is an
    ``isa.HbmSettings``.  The channel a transfer starts on is the record's ``ch`` (static,
    from the data's address).  An instruction with ``bar`` set starts only after every
    earlier instruction (program order) finished.

    Returns start, finish (per instruction, cycles), busy (per unit, cycles; union of the
    unit's busy intervals), hbm_bytes, status (-1 ok, else the index of an instruction
    that can never issue).
    """
    n = prog.shape[0]
    nu = N_UNITS
    n_channels = hbm.n_channels
    cross_kinds = hbm.cross_kinds
    one_kinds = hbm.one_kinds
    start = np.zeros(n, np.float64)
    finish = np.zeros(n, np.float64)
    busy = np.zeros(nu, np.float64)
    # per-unit instruction lists (program order filtered by unit)
    ucount = np.zeros(nu, np.int64)
    for i in range(n):
        ucount[prog[i].unit] += 1
    uoff = np.zeros(nu + 1, np.int64)
    for u in range(nu):
        uoff[u + 1] = uoff[u] + ucount[u]
    ulist = np.empty(n, np.int64)
    fill = uoff[:nu].copy()
    for i in range(n):
        u = prog[i].unit
        ulist[fill[u]] = i
        fill[u] += 1
    # release lists per pair (s, d), in s's program order
    rcount = np.zeros(nu * nu, np.int64)
    for i in range(n):
        s = prog[i].unit
        r = prog[i].rel
        for d in range(nu):
            if (r >> d) & 1:
                rcount[s * nu + d] += 1
    roff = np.zeros(nu * nu + 1, np.int64)
    for p in range(nu * nu):
        roff[p + 1] = roff[p] + rcount[p]
    rlist = np.empty(max(roff[nu * nu], 1), np.int64)
    rfill = roff[: nu * nu].copy()
    for k in range(n):
        i = ulist[k]
        s = prog[i].unit
        r = prog[i].rel
        for d in range(nu):
            if (r >> d) & 1:
                rlist[rfill[s * nu + d]] = i
                rfill[s * nu + d] += 1
    # barriers: per unit, how many of its instructions precede each barrier instruction,
    # and the running max finish of each unit's queue (filled as instructions issue)
    nbar = 0
    for i in range(n):
        if prog[i].bar:
            nbar += 1
    bar_need = np.zeros((max(nbar, 1), nu), np.int64)
    bar_id = np.full(n, -1, np.int64)
    seen = np.zeros(nu, np.int64)
    b = 0
    for i in range(n):
        if prog[i].bar:
            bar_id[i] = b
            for v in range(nu):
                bar_need[b, v] = seen[v]
            b += 1
        seen[prog[i].unit] += 1
    qmax = np.zeros(n, np.float64)        # qmax[uoff[v] + k]: max finish of v's first k+1
    done = np.zeros(n, np.bool_)
    consumed = np.zeros(nu * nu, np.int64)
    ptr = np.zeros(nu, np.int64)
    unit_free = np.zeros(nu, np.float64)
    ch_free = np.zeros(n_channels, np.float64)
    busy_end = np.zeros(nu, np.float64)
    hbm_bytes = 0.0
    issued = 0
    while issued < n:
        best_u = -1
        best_t = np.inf
        for u in range(nu):
            if ptr[u] >= ucount[u]:
                continue
            i = ulist[uoff[u] + ptr[u]]
            ready = unit_free[u]
            w = prog[i].wait
            ok = True
            for s in range(nu):
                if (w >> s) & 1:
                    k = consumed[s * nu + u] - credits[s, u]
                    if k < 0:
                        continue
                    if k >= rcount[s * nu + u]:
                        ok = False
                        break
                    j = rlist[roff[s * nu + u] + k]
                    if not done[j]:
                        ok = False
                        break
                    if finish[j] > ready:
                        ready = finish[j]
            if ok and bar_id[i] >= 0:
                for v in range(nu):
                    k = bar_need[bar_id[i], v]
                    if k == 0:
                        continue
                    if ptr[v] < k:
                        ok = False
                        break
                    if qmax[uoff[v] + k - 1] > ready:
                        ready = qmax[uoff[v] + k - 1]
            if ok and ready < best_t:
                best_t = ready
                best_u = u
        if best_u < 0:
            for u in range(nu):
                if ptr[u] < ucount[u]:
                    return start, finish, busy, hbm_bytes, ulist[uoff[u] + ptr[u]]
        u = best_u
        i = ulist[uoff[u] + ptr[u]]
        w = prog[i].wait
        for s in range(nu):
            if (w >> s) & 1:
                consumed[s * nu + u] += 1
        if u == LD or u == ST:
            nb = prog[i].nbytes
            kb = np.int64(1) << prog[i].kind
            c0 = prog[i].ch % n_channels
            if (cross_kinds | one_kinds) & kb:
                rate = hbm.cross_bytes_per_cycle if cross_kinds & kb else hbm.ch_bytes_per_cycle
                sp = prog[i].split if prog[i].split > 1 else 1
                accepted = best_t
                data_done = best_t
                for j in range(sp):     # slices on channels spread over the stack
                    a_j, d_j = one_channel_transfer(
                        (nb + sp - 1) // sp, best_t, (c0 + j * (n_channels // sp)) % n_channels,
                        ch_free, hbm.access, hbm.row_cycles, rate)
                    accepted = a_j if a_j > accepted else accepted
                    data_done = d_j if d_j > data_done else data_done
            else:
                accepted, data_done = hbm_transfer(nb, best_t, c0, ch_free, n_channels,
                                                   hbm.interleave, hbm.access, hbm.row_cycles,
                                                   hbm.ch_bytes_per_cycle)
            start[i] = best_t
            finish[i] = data_done + hbm.latency_cycles
            unit_free[u] = accepted
            hbm_bytes += float(nb)
        else:
            start[i] = best_t
            finish[i] = best_t + prog[i].cycles
            unit_free[u] = finish[i]
        lo = start[i] if start[i] > busy_end[u] else busy_end[u]
        if finish[i] > lo:
            busy[u] += finish[i] - lo
            busy_end[u] = finish[i]
        done[i] = True
        k = uoff[u] + ptr[u]
        qmax[k] = finish[i] if ptr[u] == 0 or finish[i] > qmax[k - 1] else qmax[k - 1]
        ptr[u] += 1
        issued += 1
    return start, finish, busy, hbm_bytes, -1


@njit(cache=True)
def chain_passes(ns, chain_dsps, dsp_group):
    """Chain passes one output column needs for its groups' kept counts ``ns`` in order.

    The single definition of DSP-chain occupancy (timing and the functional chain both
    use it): a group of n kept weights occupies ceil(n / dsp_group) DSP groups; a group
    does not straddle two passes (its reduction node emits its partial sum in the pass
    it runs), so a group that does not fit the rest of the current pass starts the next
    one; a group longer than the chain wraps, the accumulator carrying it over (whole
    passes first; an empty chain is not closed before it, so one 16:16 group on an
    8-DSP chain takes 2 passes).
    """
    used = 0
    passes = 0
    for g in range(ns.shape[0]):
        n = ns[g]
        if n == 0:
            continue
        slots = ((n + dsp_group - 1) // dsp_group) * dsp_group
        if used > 0 and used + slots > chain_dsps:
            passes += 1
            used = 0
        while slots > chain_dsps:
            passes += 1
            slots -= chain_dsps
        used += slots
    if used > 0:
        passes += 1
    return passes


@njit(cache=True)
def stripe_passes(block_n, chain_dsps, dsp_group):
    """(stripes,) chain passes per output column of each 16-column stripe of a Block
    weight whose (K/16, N/16) ``block_n`` gives every block's N (all 16 columns of a
    stripe see the same group sequence)."""
    out = np.zeros(block_n.shape[1], np.int64)
    for s in range(block_n.shape[1]):
        out[s] = chain_passes(block_n[:, s], chain_dsps, dsp_group)
    return out


@njit(cache=True)
def chain_matmul(a_q, vals, idx, counts, m, chain_dsps, dsp_group):
    """INT8 block N:M product on the sparse DSP chain; returns (C int64 (M, N), passes).

    ``vals``/``idx`` are the ragged Block arrays ordered (group, column, j); ``counts``
    (G, N) the kept entries per group and column.  For each output column the chain
    is filled with successive groups (occupancy: ``chain_passes``); each DSP's sparse MUX
    picks activation ``g*m + idx``; the reduction node emits the group's partial sum,
    which the accumulator adds.  One chain pass is one cycle per activation row.
    """
    rows = a_q.shape[0]
    g_count, ncols = counts.shape
    out = np.zeros((rows, ncols), np.int64)
    off = np.zeros(g_count * ncols + 1, np.int64)
    for g in range(g_count):
        for c in range(ncols):
            off[g * ncols + c + 1] = off[g * ncols + c] + counts[g, c]
    passes = 0
    for c in range(ncols):
        passes += chain_passes(counts[:, c], chain_dsps, dsp_group)
        for g in range(g_count):
            n = counts[g, c]
            base = off[g * ncols + c]
            for r in range(rows):
                partial = 0   # reduction node output of this group
                for j in range(n):
                    pos = g * m + idx[base + j]
                    if pos < a_q.shape[1]:   # zero-padded tail of the reduction axis
                        partial += np.int64(a_q[r, pos]) * np.int64(vals[base + j])
                out[r, c] += partial
    return out, passes
