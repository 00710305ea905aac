# lineage: two commands on a fresh machine.
#   make run   set everything up on first use, then serve http://127.0.0.1:$(PORT)
#   make test  set everything up on first use, then run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
LINEAGE_DB ?= instance/lineage.db
export LINEAGE_DB

.PHONY: run test setup system bench bench-web docs clean

run: setup $(LINEAGE_DB)
	@$(BIN)/lineage user demo
	$(BIN)/lineage serve --host 127.0.0.1 --port $(PORT)

test: setup
	$(BIN)/python -m pytest

setup: system $(VENV)/.installed

system:
	@scripts/ensure-system-packages

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "lineage needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench,sql]'
	@touch $@

# The database, loaded with the sample graphs on first use.
$(LINEAGE_DB): | $(VENV)/.installed
	$(BIN)/lineage --db $@ load sample_graphs/council_housing.json sample_graphs/nhs_trust.json \
		sample_graphs/crop_map.json sample_graphs/consultation_analysis.json

# Benchmarks on synthetic estates (figures printed; the README table comes from them).
BENCH_SIZES ?= 10000 100000 1000000
bench: setup
	$(BIN)/python -m bench.run --sizes $(BENCH_SIZES)

# The web app under load: server time of pages, then `lineage serve` with concurrent clients.
bench-web: setup
	$(BIN)/python -m bench.web --sizes $(BENCH_SIZES)

# The README's picture, drawn from the sample graphs by `lineage draw`.
docs: setup
	rm -f instance/docs.db
	$(BIN)/lineage --db instance/docs.db load sample_graphs/council_housing.json
	$(BIN)/lineage --db instance/docs.db draw officer-ali --depth 6 --direction downstream -o docs/officer-ali.svg

clean:
	rm -rf $(VENV) instance bench/out *.egg-info
