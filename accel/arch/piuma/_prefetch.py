"""A host-CPU cache hint for the engine (not part of the simulated machine).

A row-wise step merges up to ``step_pps`` products into one thread's hash table; the 528
threads' tables (12.7 MB at the default 2048 slots, up to 25 MB of v3 fragments) do not
stay in the host's caches between a thread's steps, and each product's first slot is a
dependent, mispredicted load.  Requesting it a few products ahead (``_rowwise.PF_AHEAD``)
lets those misses overlap the work of the products before it.  The row planner
(``_rowplan``), the symbolic pass (``_symbolic``) and ``NEXT_A`` ask the same way for the
B rows and dense-accumulator columns they will read: on a graph of many short rows each
is otherwise a chain of dependent misses.
``prefetch`` compiles to LLVM's ``llvm.prefetch`` (a hint: it changes no value, and the
simulated timing never sees it)."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from accel.arch import _numba_cache  # noqa: F401  (installs the source-keyed kernel cache first)

_READ, _KEEP, _DATA = 0, 3, 1   # llvm.prefetch(ptr, rw, locality, cache type): read, keep in all levels, data


def _codegen(context, builder, signature, args):
    aryty, *idx_types = signature.args
    ary_arg, *idx_args = args
    ary = context.make_array(aryty)(context, builder, ary_arg)
    idx = [context.cast(builder, v, t, types.intp)
           for v, t in zip(idx_args, idx_types, strict=True)]
    ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx)
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
        ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0")
    builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, _READ),
                      ir.Constant(i32, _KEEP), ir.Constant(i32, _DATA)])
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx, arr, i, j):
    """Hint the host CPU to load ``arr[i, j]`` (a 2-D array) into its caches."""
    if not (isinstance(arr, types.Array) and arr.ndim == 2):
        return None
    return types.void(arr, i, j), _codegen


@intrinsic
def prefetch1(typingctx, arr, i):
    """Hint the host CPU to load ``arr[i]`` (a 1-D array) into its caches."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1):
        return None
    return types.void(arr, i), _codegen
