"""Dependencies point down (DESIGN.md): cli -> report -> sweep -> hw -> arch -> workloads ->
configs/errors.  Walks every import statement in accel/ (module level and inside functions,
since a lazy import is still a dependency) and checks it against the layer order."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import accel

ROOT = Path(accel.__file__).resolve().parent
# higher number = higher layer; a module may import only its own layer or lower ones
LAYERS = {"cli": 6, "report": 5, "sweep": 4, "hw": 3, "arch": 2, "workloads": 1}
BASE = 0  # accel/__init__, errors, configs, atomic_write


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], BASE) if len(parts) > 1 else BASE


def imports(path: Path, module: str | None = None) -> list[tuple[int, str]]:
    """(line, imported accel module) of every import in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = module or _module_name(path)
    pkg = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "accel"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] == "accel":
                # "from accel import cli" imports accel.cli
                out += [(node.lineno, f"{mod}.{a.name}" if mod == "accel" else mod)
                        for a in node.names]
    return out


def graph() -> dict[str, list[tuple[int, str]]]:
    return {_module_name(p): imports(p) for p in sorted(ROOT.rglob("*.py"))}


# A module named in a string is a dependency too: importlib.import_module("accel.cli.x"),
# __import__, or a "module:attr" reference another layer resolves.  Registry hooks that
# the layer above resolves (accel.arch.registry.Machine) may point up to just below it.
_REF = re.compile(r"accel(?:\.\w+)+(?::\w+)?")
RESOLVED_BY = {"derived_metrics": "sweep", "readme_claims": "report", "design": "report"}


def string_refs(path: Path, module: str | None = None) -> list[tuple[int, str, int]]:
    """(line, referenced accel module, highest layer allowed) of every module name in a
    string constant of the file (whole-string matches only; f-strings by their prefix)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    module = module or _module_name(path)
    own = layer(module)
    bound = {}   # id of a constant under a hook keyword -> the layer that resolves it
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in RESOLVED_BY:
            for sub in ast.walk(node.value):
                bound[id(sub)] = LAYERS[RESOLVED_BY[node.arg]] - 1
    out = []
    for node in ast.walk(tree):
        text = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values and \
                isinstance(node.values[0], ast.Constant) and isinstance(node.values[0].value, str):
            text = node.values[0].value.rstrip(".")   # f"accel.arch.{name}": its prefix
            if not _REF.fullmatch(text):
                continue
        if text is None or not _REF.fullmatch(text):
            continue
        out.append((node.lineno, text.split(":")[0], bound.get(id(node), own)))
    return out


def test_layer_table_covers_every_subpackage():
    subpackages = {p.name for p in ROOT.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert subpackages <= set(LAYERS), subpackages - set(LAYERS)


def test_imports_point_down():
    violations = [f"{mod}:{line} imports {target} (layer {layer(target)} > {layer(mod)})"
                  for mod, deps in graph().items() for line, target in deps
                  if layer(target) > layer(mod)]
    assert not violations, "\n".join(violations)


def test_no_upward_reference_by_string():
    violations = [f"{_module_name(p)}:{line} names {target} (layer {layer(target)} > {limit})"
                  for p in sorted(ROOT.rglob("*.py"))
                  for line, target, limit in string_refs(p)
                  if layer(target) > limit]
    assert not violations, "\n".join(violations)


def test_string_check_sees_an_upward_reference(tmp_path):
    src = ("import importlib\n"
           "def f(n):\n"
           "    importlib.import_module('accel.cli.common')\n"
           "    importlib.import_module(f'accel.report.{n}')\n"
           "    return __import__('accel.sweep.runner')\n"
           "M = Machine(view='accel.hw.x:V', derived_metrics=('accel.hw.y:f',),\n"
           "            readme_claims=('accel.cli.z:g',))\n")
    probe = tmp_path / "probe.py"
    probe.write_text(src)
    found = [(t, layer(t) > limit) for _, t, limit in string_refs(probe, "accel.arch.probe")]
    assert sorted(found) == sorted([("accel.cli.common", True), ("accel.report", True),
                                    ("accel.sweep.runner", True), ("accel.hw.x", True),
                                    ("accel.hw.y", False), ("accel.cli.z", True)])


def test_walker_sees_an_upward_import(tmp_path):
    # the check can fail: a lazy import of accel.cli inside an arch function is caught
    src = "def f():\n    from accel.cli.common import emit_json\n    return emit_json\n"
    probe = tmp_path / "probe.py"
    probe.write_text(src)
    found = [t for _, t in imports(probe, "accel.arch.probe")]
    assert found == ["accel.cli.common"] and layer("accel.cli.common") > layer("accel.arch.x")


def test_no_import_cycle_between_modules():
    g = {m: {t for _, t in deps} for m, deps in graph().items()}
    mods = set(g)
    edges = {m: {t for t in ts if t in mods and t != m} for m, ts in g.items()}
    # only module-to-module edges between *modules* (a package __init__ re-exporting its
    # children is not a cycle of code); Tarjan-free check: DFS for a back edge
    edges = {m: {t for t in ts if not m.startswith(t + ".") and not t.startswith(m + ".")}
             for m, ts in edges.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [])
    assert not cycles, cycles


def test_sat_study_imports_nothing_from_cli():
    code = ("import sys, accel.arch.sat.study; "
            "bad = sorted(m for m in sys.modules if m.startswith('accel.cli')); "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
