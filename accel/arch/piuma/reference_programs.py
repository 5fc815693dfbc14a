"""Thread programs of the reference engine (``reference.py``): each hardware thread runs
one of these generators as straight-line code; a ``yield (issue slots, ready time,
outcome)`` ends a step, and the scheduler sends the next step's start time back in."""

from __future__ import annotations

from accel.arch.piuma.reference_machine import (
    BARRIER,
    DONE,
    EMPTY,
    OK,
    OPEN_TOKENS_WORD,
    POOL_WORD,
    RowTable,
    Thread,
    ceil_log2,
)


class ThreadPrograms:
    """Mixed into ``reference.Engine``: SMASH v1/v2/v3, dense Gustavson, inner and outer
    product, written as the thread code they are."""

    # ---------------------------------------------------------------- row-wise threads
    def rowwise(self, th: Thread):
        """SMASH v1/v2/v3 and the dense-accumulator baseline: take a row (or a token of a
        heavy row), fetch each A nonzero's B row, merge the products into the row owner's
        table, and (owner) write the row back once every token of it is done."""
        cfg, A, B, mem, t, core = self.cfg, self.A, self.B, self.mem, th.t, th.core
        now = yield
        while True:
            u, ready = self.next_unit(th, now, len(self.units))
            if u is None:
                yield 1, ready, DONE
                return
            row, j_first, j_end = self.units[u]
            rs = self.rows[row]
            done = mem.load(core, ready, "ap", row * 8, 16, False)
            if rs.owner is None:   # the first thread on the row owns its table
                rs.owner = th
                th.table = RowTable(u, cfg.hash_table_entries)
                if self.accumulator != "fragments":
                    rs.ready, rs.t_ready = True, done
                now = yield 3, done, OK
                if self.accumulator == "fragments":
                    now = yield from self.size_table(th, row, now)
            else:
                now = yield 3, done, OK
            owner = rs.owner
            table, o, o_core = owner.table, owner.t, owner.core
            for j in range(j_first, j_end):
                k = A.idx[j]
                t1 = max(mem.load(core, now, "ai", j * 4, 4, False),
                         mem.load(core, now, "ax", j * 8, 8, False))
                t2 = mem.load(core, t1, "bp", k * 8, 16, True)
                q, q_end = B.ptr[k], B.ptr[k + 1]
                t3 = t2
                if q_end > q:
                    t3 = max(mem.load(core, t2, "bi", q * 4, (q_end - q) * 4, True),
                             mem.load(core, t2, "bx", q * 8, (q_end - q) * 8, True))
                a = A.val[j]
                now = yield 5, t3, OK
                while q < q_end:   # products, step_pps per step, each waits for its atomic
                    if not rs.ready:   # the v3 owner is still sizing its table: spin
                        now = yield 1, now + cfg.remote_atomic_latency, OK
                        continue
                    stop = min(q_end, q + cfg.step_pps)
                    tdone = max(now, rs.t_ready) if o != t else now
                    if self.accumulator == "dense":
                        issue, tdone = self.dense_products(core, o, table, a, q, stop, tdone)
                    else:
                        issue, tdone = self.hash_products(core, o, o_core, table, a, q, stop,
                                                          tdone)
                    mem.stats["products"] += stop - q
                    q = stop
                    now = yield issue, tdone, OK
            now = yield 1, now, OK   # the step that finds the unit's end
            if rs.units > 1:         # count the token done at the owner's open-token counter
                rs.open -= 1
                mem.stats["atomics"] += 1
                fin = (mem.scratchpad(o_core, OPEN_TOKENS_WORD, now, cfg.atomic_cycles)
                       + self.remote(core, o_core))
                rs.t_last = max(rs.t_last, fin)
                if o != t:           # a helper is free again
                    now = yield 3, fin, OK
                    continue
                now = fin
                while rs.open > 0:   # the owner polls the counter in its own scratchpad
                    now = yield 1, now + cfg.poll_cycles, OK
                now = max(now, rs.t_last)
            now = yield self.write_back(th, row, now)

    def size_table(self, th: Thread, row, now):
        """v3 owner: bound the row's products, take enough fragments from the core's pool."""
        cfg, A, mem, core = self.cfg, self.A, self.mem, th.core
        frag = cfg.fragment_entries
        while True:
            j0, j1 = A.ptr[row], A.ptr[row + 1]
            t1 = mem.load(core, now, "ai", j0 * 4, (j1 - j0) * 4, False)
            done, bound = t1, 0
            for j in range(j0, j1):
                k = A.idx[j]
                bound += self.B_len[k]
                start = t1 + ((j - j0) // cfg.max_outstanding) * cfg.dram_latency
                done = max(done, mem.load(core, start, "bp", k * 8, 16, True))
            bound = min(bound, self.N)
            per_fragment = int(frag * cfg.max_load)
            need = (bound + per_fragment - 1) // max(1, per_fragment)
            n = 1
            while n < need and n < cfg.max_fragments:
                n *= 2
            while n > self.pool[core] and n > 1:
                n //= 2
            issue = 2 * (j1 - j0) + 4
            if self.pool[core] < n:   # pool empty: retry after a DRAM round trip
                mem.stats["pool_waits"] += 1
                now = yield issue, done + cfg.dram_latency, OK
                continue
            self.pool[core] -= n
            mem.stats["atomics"] += 1
            done = max(done, mem.scratchpad(core, POOL_WORD, done, cfg.atomic_cycles))
            th.table.slots, th.table.fragments = n * frag, n
            th.table.keys, th.table.vals = [EMPTY] * (n * frag), [0.0] * (n * frag)
            rs = self.rows[row]
            rs.ready, rs.t_ready = True, done
            return (yield issue, done, OK)

    def dense_products(self, core, o, table, a, q, stop, tdone):
        """Read-modify-write of the owner's dense accumulator entry (stamp + value) in DRAM."""
        cfg, mem, B = self.cfg, self.mem, self.B
        issue = 0
        for x in range(q, stop):
            col = B.idx[x]
            offset = (o * self.N + col) * 16
            t1 = mem.load(core, tdone + cfg.mul_cycles, "acc", offset, 16, cfg.dense_acc_cached,
                          "accumulator")
            mem.store(t1, "acc", offset, 16, "accumulator")
            table.add_overflow(col, a * B.val[x])
            tdone = t1 + 1
            issue += cfg.mul_cycles + 3
        return issue, tdone

    def hash_products(self, core, o, o_core, table, a, q, stop, tdone):
        """Hash each product's column into the owner's table with atomic compare-and-adds at
        the slot's bank (open addressing); a product that finds no room spills to DRAM."""
        cfg, mem, B = self.cfg, self.mem, self.B
        E = table.slots
        bits = ceil_log2(E)
        base = (o % cfg.threads_per_core) * self.max_table
        cap = int(E * cfg.max_load)
        far = self.remote(core, o_core)
        issue = 0
        for x in range(q, stop):
            col, v = B.idx[x], a * B.val[x]
            h = self.hash_slot(col, bits)
            probes, spilled = 0, False
            tdone = tdone + cfg.mul_cycles + cfg.hash_cycles
            while True:
                probes += 1
                tdone = mem.scratchpad(o_core, base + h, tdone, cfg.atomic_cycles) + far
                if table.keys[h] == col:
                    table.vals[h] += v
                    break
                if table.keys[h] == EMPTY:
                    if table.fill < cap:
                        table.keys[h], table.vals[h] = col, v
                        table.fill += 1
                        mem.stats["inserts"] += 1
                    else:
                        spilled = True
                    break
                if probes >= E:
                    spilled = True
                    break
                step = probes if cfg.collision_policy == "quadratic" else 1
                h = (h + step) & (E - 1)
            mem.stats["atomics"] += probes
            mem.stats["probes"] += probes
            mem.stats["collisions"] += probes > 1
            issue += cfg.mul_cycles + cfg.hash_cycles + probes
            if spilled:   # to the owner's DRAM overflow list
                mem.stats["spills"] += 1
                mem.store(tdone, "spill", (o * self.N + table.spills % self.N) * 16, 16,
                          "partial")
                table.spills += 1
                table.add_overflow(col, v)
                issue += 1
        return issue, tdone

    @property
    def max_table(self):
        """Scratchpad slots set aside per thread (v3: the largest fragment table)."""
        cfg = self.cfg
        if self.accumulator == "fragments":
            return cfg.fragment_entries * cfg.max_fragments
        return cfg.hash_table_entries

    def write_back(self, th: Thread, row, now):
        """The owner compacts its table into row ``row`` of C; one step."""
        cfg, mem, core, t = self.cfg, self.mem, th.core, th.t
        table = th.table
        issue, done = 2, now
        if self.accumulator == "dense":
            n = len(table.overflow)
            issue += n + (self.sort_slots(n) if cfg.sorted_output else 0)
            for x, col in enumerate(table.overflow):   # read back each touched entry
                done = max(done, mem.load(core, now + x, "acc", (t * self.N + col) * 16 + 8, 8,
                                          cfg.dense_acc_cached, "accumulator"))
            entries = table.overflow
        else:
            issue += table.slots // cfg.scan_slots_per_cycle
            live = [(table.keys[h], table.vals[h]) for h in range(table.slots)
                    if table.keys[h] != EMPTY]
            if table.spills == 0:   # the table holds the row
                entries = dict(live)
            else:                   # merge the table into the spilled products
                for col, v in live:
                    table.add_overflow(col, v)
                entries = table.overflow
                done = mem.load(core, now, "spill", t * self.N * 16,
                                min(table.spills, self.N) * 16, False, "partial")
                issue += table.spills + self.sort_slots(table.spills)
            if cfg.sorted_output:
                issue += self.sort_slots(len(entries))
            if self.accumulator == "fragments":   # give the fragments back to the pool
                self.pool[core] += table.fragments
                mem.stats["atomics"] += 1
                done = max(done, mem.scratchpad(core, POOL_WORD, now, cfg.atomic_cycles))
        cols = sorted(entries)
        self.write_row(row, cols, [entries[c] for c in cols])
        mem.store(done, "ci", self.cp[row] * 4, len(cols) * 4)
        mem.store(done, "cx", self.cp[row] * 8, len(cols) * 8)
        th.table = None
        return issue + 2, done, OK

    # ---------------------------------------------------------------- inner product
    def inner(self, th: Thread):
        """Take a row of A, then intersect it with every column of B (rows of X = B^T),
        ``step_columns`` dot products a step."""
        cfg, A, mem, core = self.cfg, self.A, self.mem, th.core
        now = yield
        while True:
            row, ready = self.next_unit(th, now, self.M)
            if row is None:
                yield 1, ready, DONE
                return
            t1 = mem.load(core, ready, "ap", row * 8, 16, False)
            j0, j1 = A.ptr[row], A.ptr[row + 1]
            done = max(mem.load(core, t1, "ai", j0 * 4, (j1 - j0) * 4, False),
                       mem.load(core, t1, "ax", j0 * 8, (j1 - j0) * 8, False))
            if j1 == j0:
                self.write_row(row, [], [])
                now = yield 4, done, OK
                continue
            now = yield 4, done, OK
            cols, vals = [], []
            first = 0
            while True:
                stop = min(self.N, first + cfg.step_columns)
                issue, done = self.dot_products(core, row, first, stop, cols, vals, now)
                first = stop
                if stop == self.N:
                    self.write_row(row, cols, vals)
                    now = yield issue, done, OK
                    break
                now = yield issue, done, OK

    def dot_products(self, core, row, first, stop, cols, vals, now):
        cfg, A, X, mem = self.cfg, self.A, self.X, self.mem
        done, issue = now, 0
        for j in range(first, stop):
            t1 = mem.load(core, done, "xp", j * 8, 16, True)
            q0, q1 = X.ptr[j], X.ptr[j + 1]
            issue += 3
            done = t1
            if q1 == q0:
                continue
            t2 = mem.load(core, t1, "xi", q0 * 4, (q1 - q0) * 4, True)
            a, b, a_end = A.ptr[row], q0, A.ptr[row + 1]
            compares, hits, s = 0, 0, 0.0
            while a < a_end and b < q1:   # two-pointer merge of the sorted index lists
                compares += 1
                if A.idx[a] == X.idx[b]:
                    s += A.val[a] * X.val[b]
                    hits += 1
                    a += 1
                    b += 1
                elif A.idx[a] < X.idx[b]:
                    a += 1
                else:
                    b += 1
            mem.stats["compares"] += compares
            issue += compares * cfg.compare_cycles + hits * cfg.mul_cycles
            done = t2 + compares * cfg.compare_cycles
            if hits:
                done = max(done, mem.load(core, t2, "xx", q0 * 8, (q1 - q0) * 8, True))
                mem.stats["products"] += hits
                n = len(cols)
                cols.append(j)
                vals.append(s)
                mem.store(done, "ci", (self.cp[row] + n) * 4, 4)
                mem.store(done, "cx", (self.cp[row] + n) * 8, 8)
        return issue, done

    # ---------------------------------------------------------------- outer product
    def outer(self, th: Thread):
        """OuterSPACE style, three phases with a barrier between them: chunk offsets;
        column k of A times row k of B into partial products in DRAM; per row of C, read
        its chunks back, sort and merge."""
        cfg, B, X, mem, core = self.cfg, self.B, self.X, self.mem, th.core
        K = len(X.ptr) - 1
        now = yield
        for phase in (0, 1):
            while True:
                k, ready = self.next_unit(th, now, K)
                if k is None:
                    now = yield 1, ready, BARRIER
                    th.window, th.batch_next, th.batch_end = th.t, 0, 0   # a fresh deal
                    break
                t1 = max(mem.load(core, ready, "xp", k * 8, 16, True),
                         mem.load(core, ready, "bp", k * 8, 16, True))
                p0, p1 = X.ptr[k], X.ptr[k + 1]
                lb = self.B_len[k]
                if phase == 0:   # per nonzero of column k: its chunk's offset
                    mem.store(t1, "off", p0 * 8, (p1 - p0) * 8)
                    now = yield 4 + 2 * (p1 - p0), t1, OK
                    continue
                if p1 == p0 or lb == 0:
                    now = yield 4, t1, OK
                    continue
                # row k of B streamed once (uncached)
                q0 = B.ptr[k]
                t2 = max(mem.load(core, t1, "bi", q0 * 4, lb * 4, False),
                         mem.load(core, t1, "bx", q0 * 8, lb * 8, False))
                now = yield 6, t2, OK
                for p in range(p0, p1):   # one chunk A[i,k] * B[k,:] a step
                    t1 = max(mem.load(core, now, "xi", p * 4, 4, False),
                             mem.load(core, now, "xx", p * 8, 8, False),
                             mem.load(core, now, "off", p * 8, 8, False))
                    o = self.chunk_at[p]
                    for x in range(lb):
                        self.pp_cols[o + x] = B.idx[q0 + x]
                        self.pp_vals[o + x] = X.val[p] * B.val[q0 + x]
                    mem.stats["products"] += lb
                    done = t1 + lb * cfg.mul_cycles
                    mem.store(done, "ppi", o * 4, lb * 4, "partial")
                    mem.store(done, "ppx", o * 8, lb * 8, "partial")
                    now = yield 3 + lb * cfg.mul_cycles + 2, done, OK
        while True:
            row, ready = self.next_unit(th, now, self.M)
            if row is None:
                yield 1, ready, DONE
                return
            now = yield self.merge_row(core, row, ready)

    def merge_row(self, core, row, ready):
        cfg, A, mem = self.cfg, self.A, self.mem
        t1 = mem.load(core, ready, "ap", row * 8, 16, False)
        j0, j1 = A.ptr[row], A.ptr[row + 1]
        t2 = mem.load(core, t1, "ai", j0 * 4, (j1 - j0) * 4, False)
        done, products = t2, []
        for j in range(j0, j1):
            lb = self.B_len[A.idx[j]]
            p = self.X_of_A[j]
            o = self.chunk_at[p]
            start = t2 + ((j - j0) // cfg.max_outstanding) * cfg.dram_latency
            t3 = mem.load(core, start, "off", p * 8, 8, False)
            done = max(done, mem.load(core, t3, "ppi", o * 4, lb * 4, False, "partial"),
                       mem.load(core, t3, "ppx", o * 8, lb * 8, False, "partial"))
            products += zip(self.pp_cols[o:o + lb], self.pp_vals[o:o + lb], strict=True)
        total = len(products)
        issue = 6 + 2 * (j1 - j0) + self.sort_slots(total) + total * cfg.compare_cycles
        mem.stats["compares"] += total
        merged = {}
        for col, v in sorted(products, key=lambda cv: cv[0]):   # stable: sums in list order
            if col in merged:
                merged[col] += v
            else:
                merged[col] = v
        self.write_row(row, list(merged), list(merged.values()))
        done = done + issue
        mem.store(done, "ci", self.cp[row] * 4, len(merged) * 4)
        mem.store(done, "cx", self.cp[row] * 8, len(merged) * 8)
        return issue, done, OK
