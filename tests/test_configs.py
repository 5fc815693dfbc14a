"""The typed-config loader every machine shares: presets, YAML files, --set overrides."""

import re
from dataclasses import dataclass

import pytest

from accel.configs import config_dict, load_config, parse_sets
from accel.errors import ConfigError


@dataclass(frozen=True)
class Toy:
    rows: int = 4
    clock_mhz: float = 200.0
    patterns: tuple[str, ...] = ("2:4",)
    fast: bool = False

    def validate(self):
        if self.rows <= 0:
            raise ConfigError(f"rows must be positive, got {self.rows}")


PRESETS = {"toy": Toy(), "big": Toy(rows=64)}


def test_preset_and_sets_are_typed():
    cfg = load_config(PRESETS, "big", ["clock_mhz=250", "fast=true", "patterns=[2:4, 2:8]"])
    assert cfg == Toy(rows=64, clock_mhz=250.0, patterns=("2:4", "2:8"), fast=True)
    assert config_dict(cfg)["patterns"] == ["2:4", "2:8"]


def test_yaml_file_with_base(tmp_path):
    f = tmp_path / "arch.yaml"
    f.write_text("base: big\nclock_mhz: 300\n")
    assert load_config(PRESETS, str(f)) == Toy(rows=64, clock_mhz=300.0)


@pytest.mark.parametrize(
    ("arch", "sets", "needle"),
    [
        ("nope", [], "unknown preset 'nope'"),
        ("toy", ["rowz=3"], "unknown config key 'rowz' (did you mean 'rows'?)"),
        ("toy", ["rows=abc"], "rows: expected an integer"),
        ("toy", ["rows=0"], "rows must be positive"),
        ("toy", ["rows"], "--set expects key=value"),
    ],
)
def test_bad_config_names_the_problem(arch, sets, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_config(PRESETS, arch, sets)


def test_malformed_and_misspelt_yaml(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: [1, 2\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_config(PRESETS, str(bad))
    typo = tmp_path / "typo.yaml"
    typo.write_text("clock_mhx: 3\n")
    with pytest.raises(ConfigError, match="unknown config key 'clock_mhx'"):
        load_config(PRESETS, str(typo))


def test_parse_sets_reads_yaml_scalars():
    assert parse_sets(["a=1", "b=2.5", "c=x", "d=true"]) == {"a": 1, "b": 2.5, "c": "x", "d": True}


def test_nm_patterns_stay_strings():
    # PyYAML's YAML 1.1 would read 2:4 as the base-60 integer 124
    from accel.configs import yaml_load

    assert yaml_load("p: [2:4, 2:8]\nx: 1.5e3\ny: 12\nz: .5") == {
        "p": ["2:4", "2:8"], "x": 1500.0, "y": 12, "z": 0.5}
