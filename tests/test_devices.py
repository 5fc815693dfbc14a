"""The device catalogue (accel.devices): the data file validates, figures carry sources,
utilisation is used / capacity, and unknown names are one-line errors (exit 2)."""

import json

import pytest

from accel import devices
from accel.cli import main
from accel.configs import load_config
from accel.errors import ConfigError


def test_every_figure_has_its_source():
    for name in devices.names():
        d = devices.get(name)
        assert set(d.resources) == set(d.sources), name
        assert all(len(d.sources[r]) > 10 for r in d.resources), name
        assert all(m.source for m in d.memory), name


def test_published_counts():
    # DS890 (XCVU9P) and DS963 (U280), as the catalogue cites them
    vu9p, u280 = devices.get("xcvu9p"), devices.get("xcu280")
    assert dict(vu9p.resources) == {"LUT": 1_182_240, "FF": 2_364_480, "DSP": 6_840,
                                    "BRAM36": 2_160, "URAM": 960, "CARRY8": 1_182_240 // 8}
    assert (u280.resources["LUT"], u280.resources["DSP"], u280.resources["BRAM36"],
            u280.resources["URAM"]) == (1_303_680, 9_024, 2_016, 960)
    assert {m.kind: m.gbps for m in u280.memory}["HBM2"] == 460


def test_utilisation_and_spellings():
    d = devices.get("xcvu9p")
    u = devices.utilisation(d, {"hw_lut": 591_120, "DSP48E2": 3420, "BRAM": 216})
    assert u == pytest.approx({"LUT": 0.5, "DSP": 0.5, "BRAM36": 0.1})
    # a resource the catalogue has no count for is left out, never 0 %
    assert devices.utilisation("xcvh1582", {"LUT": 10}) == {}
    with pytest.raises(ConfigError, match="unknown resource 'SLICE'"):
        devices.utilisation(d, {"SLICE": 1})


def test_unknown_device_lists_known():
    with pytest.raises(ConfigError, match="known: xcvu9p, xcu280, xcvh1582"):
        devices.get("xc7z020")


@pytest.mark.parametrize("machine", ["sat", "flightllm"])
def test_presets_name_a_catalogued_device(machine):
    import importlib

    cfg = importlib.import_module(f"accel.arch.{machine}.config")
    for preset in cfg.PRESETS.values():
        assert devices.get(preset.device).name == preset.device
    with pytest.raises(ConfigError, match="unknown device 'zynq'; known: "):
        load_config(cfg.PRESETS, None, ["device=zynq"])


def test_cli_list_and_show(capsys):
    assert main(["device", "list", "--json"]) == 0
    names = [d["name"] for d in json.loads(capsys.readouterr().out)["devices"]]
    assert names == list(devices.names())
    assert main(["device", "show", "xcvh1582", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["missing"] == list(devices.RESOURCES) and shown["memory"][0]["gbytes"] == 32
    assert main(["device", "show", "nope"]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("error: ")]
    assert len(err) == 1 and "unknown device 'nope'" in err[0]
