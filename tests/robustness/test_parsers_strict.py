"""Issue 25, class 3: parsers of outside files take ASCII digits only and turn every parser
exception into one ``error:`` line (exit 2, nothing written).

``str.isdigit`` passes ``²`` (which ``int`` refuses: a traceback) and ``int`` itself
accepts every Unicode decimal digit (``٣`` is 3, ``１６`` is 16), so neither may decide
what a number is.  configparser's interpolation raises on ``%``; PyYAML's constructors
raise IndexError/AttributeError on an empty ``!!float`` or a malformed ``!!timestamp``.
The cases run the real CLI on SCALE-Sim cfg and topology files, sweep specs, ``--set``
values and Hugging Face config.json files; the property tests feed each parser random
text built from the characters that broke them and accept only ``AccelError``.
"""

from __future__ import annotations

import json

import hostile_files as H
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accel.errors import AccelError

NON_ASCII_NUMBERS = {"superscript": "²", "arabic-indic": "٣", "fullwidth": "１６",
                     "devanagari": "४", "circled": "①", "roman": "Ⅻ", "fraction": "½"}
CFG = ("[architecture_presets]\nArrayHeight: {h}\nArrayWidth: {w}\nDataflow: {df}\n"
       "[sparsity]\nSparsitySupport: false\n[run_presets]\nInterfaceBandwidth: CALC\n")
TOPO = "Layer, M, N, K, Sparsity,\n"
CONV = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides, Sparsity,\n"

CASES = []


def case(cid, argv, files):
    CASES.append(pytest.param(argv, files, id=cid))


SIM_CFG = ["sim", "systolic", "--topology", "t.csv", "--scalesim-cfg", "s.cfg"]
GOOD_TOPO = TOPO + "fc, 8, 8, 8, 2:4,\n"
for name, digit in NON_ASCII_NUMBERS.items():
    case(f"cfg-height-{name}", SIM_CFG, {"s.cfg": CFG.format(h=digit, w=4, df="ws"), "t.csv": GOOD_TOPO})
    case(f"cfg-width-{name}", SIM_CFG, {"s.cfg": CFG.format(h=4, w=digit, df="ws"), "t.csv": GOOD_TOPO})
    for field, row in (("M", f"fc, {digit}, 8, 8, 2:4,\n"), ("N", f"fc, 8, {digit}, 8,\n"),
                       ("K", f"fc, 8, 8, 4{digit},\n"), ("sparsity-n", f"fc, 8, 8, 8, {digit}:4,\n"),
                       ("sparsity-m", f"fc, 8, 8, 8, 2:{digit},\n")):
        case(f"topology-{field}-{name}", ["sim", "systolic", "--topology", "t.csv"], {"t.csv": TOPO + row})
    case(f"topology-conv-stride-{name}", ["sim", "systolic", "--topology", "c.csv"],
         {"c.csv": CONV + f"conv1, 8, 8, 3, 3, 4, 8, {digit},\n"})
    case(f"set-{name}", ["sim", "systolic", "--topology", "t.csv", "--set", f"array_rows={digit}"],
         {"t.csv": GOOD_TOPO})
    case(f"yaml-int-tag-{name}", ["sweep", "s.yaml", "--db", "r.sqlite", "--quiet"],
         {"s.yaml": H.spec_yaml().replace('"threads_per_pipeline": [4, 8]',
                                          f'"threads_per_pipeline": [!!int "{digit}"]')})
    case(f"config-json-string-{name}", ["sim", "flightllm", "--model", "m.json"],
         {"m.json": json.dumps({"hidden_size": digit, "num_hidden_layers": 2,
                                "num_attention_heads": 2, "vocab_size": 64, "intermediate_size": 32})})
    case(f"config-json-bare-{name}", ["sim", "flightllm", "--model", "m.json"],
         {"m.json": '{"hidden_size": ' + digit + ', "num_hidden_layers": 2}'})

# configparser: interpolation, structure, and values no SCALE-Sim cfg holds
for name, (h, w, df) in {"dataflow-percent": (4, 4, "ws%"), "width-interpolation": (4, "%(ArrayWidth)s", "ws"),
                         "height-interpolation-other": ("%(Dataflow)s", 4, "ws"), "percent-percent": (4, "%%4", "ws"),
                         "dataflow-interpolation-missing": (4, 4, "%(nope)s"), "height-exponent": ("1e1", 4, "ws"),
                         "height-underscore": ("1_6", 4, "ws"), "height-hex": ("0x10", 4, "ws"),
                         "height-signed": ("+4", 4, "ws"), "height-negative": ("-4", 4, "ws"),
                         "height-space-inside": ("1 6", 4, "ws"), "height-5000-digits": ("9" * 5000, 4, "ws"),
                         "height-20-digits": ("1" + "0" * 19, 4, "ws"), "height-empty": ("", 4, "ws")}.items():
    case(f"cfg-{name}", SIM_CFG, {"s.cfg": CFG.format(h=h, w=w, df=df), "t.csv": GOOD_TOPO})
for name, text in {"no-section-header": "ArrayHeight: 4\n", "duplicate-option": CFG.format(h=4, w=4, df="ws") +
                   "[architecture_presets]\nArrayHeight: 8\n", "duplicate-key-in-section":
                   "[architecture_presets]\nArrayHeight: 4\nArrayHeight: 8\n", "continuation-garbage":
                   "[architecture_presets]\n  ArrayHeight: 4\n", "latin1-bytes": b"[architecture_presets]\nArrayHeight: \xb2\n",
                   "nul": "[architecture_presets]\x00\nArrayHeight: 4\n", "bom-only": "\ufeff",
                   "too-big": lambda p: p.write_bytes(b"#" * (17 * 2**20))}.items():
    case(f"cfg-{name}", SIM_CFG, {"s.cfg": text, "t.csv": GOOD_TOPO})

# topology numbers that isdigit() or int() would take differently
for name, row in {"signed": "fc, +8, 8, 8,\n", "negative": "fc, -8, 8, 8,\n", "underscore": "fc, 1_6, 8, 8,\n",
                  "exponent": "fc, 1e3, 8, 8,\n", "hex": "fc, 0x10, 8, 8,\n", "float": "fc, 8.0, 8, 8,\n",
                  "inner-space": "fc, 1 6, 8, 8,\n", "5000-digits": "fc, " + "9" * 5000 + ", 8, 8,\n",
                  "tab-sparsity": "fc, 8, 8, 8, 2\t:4x,\n", "three-part-sparsity": "fc, 8, 8, 8, 1:2:4,\n",
                  "empty-field": "fc, , 8, 8,\n", "nul-in-number": "fc, 8\x00, 8, 8,\n"}.items():
    case(f"topology-{name}", ["sim", "systolic", "--topology", "t.csv"], {"t.csv": TOPO + row})

# YAML constructors that raise something other than a YAMLError
for name, value in {"empty-float-tag": "!!float", "bad-timestamp": "!!timestamp x", "empty-timestamp": "!!timestamp",
                    "bad-binary": '!!binary "@@@"', "bad-int-tag": "!!int x", "set-of-mapping": "!!set [1]",
                    "omap-scalar": "!!omap 3", "pairs-scalar": "!!pairs 3", "bool-tag-text": "!!bool maybe",
                    "null-tag-text": "!!null x", "python-tag": "!!python/name:os.system"}.items():
    case(f"yaml-{name}", ["sweep", "s.yaml", "--db", "r.sqlite", "--quiet"],
         {"s.yaml": "name: h\nmachine: piuma\nworkloads: [\"rmat:4\"]\nparameters:\n"
                    f"  threads_per_pipeline: [{value}]\n"})
    case(f"set-yaml-{name}", ["sim", "systolic", "--topology", "t.csv", "--set", f"array_rows={value}"],
         {"t.csv": GOOD_TOPO})

# config.json: JSON that Python's json module reads into values the shape check must refuse
for name, text in {"float-inf": '{"hidden_size": 1e400, "num_hidden_layers": 2, "num_attention_heads": 2, '
                                '"vocab_size": 64, "intermediate_size": 32}',
                   "5000-digit-int": '{"hidden_size": ' + "9" * 5000 + "}",
                   "deep-nesting": '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
                   "nan": '{"hidden_size": NaN}', "trailing-garbage": '{"hidden_size": 4} x',
                   "latin1": b'{"_name_or_path": "\xb2"}', "bool-layers": '{"hidden_size": 64, "num_hidden_layers": true, '
                   '"num_attention_heads": 2, "vocab_size": 64, "intermediate_size": 32}'}.items():
    case(f"config-json-{name}", ["sim", "flightllm", "--model", "m.json"], {"m.json": text})


@pytest.mark.parametrize(("argv", "files"), CASES)
def test_parser_refuses_with_one_line(hostile, argv, files):
    hostile(argv, files)


def test_case_count():
    assert len(CASES) >= 120


# --- properties: random text made of what broke the parsers ----------------------------------
ALPHABET = st.sampled_from(list("0123456789:,.%()[]- \t\n=ws") + list(NON_ASCII_NUMBERS.values())
                           + ["Dataflow", "ArrayHeight", "ArrayWidth", "[architecture_presets]",
                              "%(ArrayWidth)s", "fc", "DP", "2:4", "!!float", "!!timestamp", "&a", "*a"])
TEXT = st.lists(ALPHABET, max_size=40).map("".join)


@given(TEXT)
def test_scale_cfg_parser_raises_only_accel_errors(tmp_path_factory, text):
    from accel.arch.systolic.scalesim_io import read_scale_cfg

    p = tmp_path_factory.mktemp("cfg") / "s.cfg"
    p.write_text(CFG.format(h=4, w=4, df="ws") + text, encoding="utf-8")
    try:
        read_scale_cfg(p)
    except AccelError:
        pass


@given(TEXT)
def test_topology_parser_raises_only_accel_errors(tmp_path_factory, text):
    from accel.arch.systolic.scalesim_io import read_topology

    p = tmp_path_factory.mktemp("topo") / "t.csv"
    p.write_text(TOPO + text, encoding="utf-8")
    try:
        w = read_topology(p)
    except AccelError:
        return
    for op in w.ops:   # what it accepts is made of ASCII-digit numbers only
        assert min(op.M, op.N, op.K) >= 1


@given(TEXT)
def test_yaml_loader_raises_only_config_errors(text):
    from accel.errors import ConfigError
    from accel.safe_yaml import loads

    try:
        loads(text)
    except ConfigError:
        pass
