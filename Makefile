# census: `make demo` sets everything up and runs the main job on the demo data;
# `make test` runs the checks and the tests. Both work on a fresh machine.
VENV      := .venv
BIN       := $(VENV)/bin
PYTHON    ?= python3
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo test lint ui clean

setup: $(VENV)/.installed libreoffice cjk-fonts java

# The lock (constraints.txt) pins every package so a fresh machine gets the same set.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet --constraint constraints.txt --editable ".[dev]"
	touch $@

# LibreOffice writes the generator's .xls and .ods workbooks (and converts in tests).
.PHONY: libreoffice
libreoffice:
	@command -v soffice >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libreoffice-calc-nogui; }

# The Spark engine (CENSUS_ENGINE=spark, and its test) runs on a Java runtime.
.PHONY: java
java:
	@command -v java >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; }

# Chinese in the charts, in LibreOffice's PDFs and in the UI (Chromium has no CJK font
# of its own); pdftotext reads those PDFs in tests.
.PHONY: cjk-fonts
cjk-fonts:
	@{ fc-list | grep -q NotoSansCJK && command -v pdftotext >/dev/null; } || { \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -qq fonts-noto-cjk poppler-utils; }

demo: setup
	$(BIN)/census demo

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# Two workers; a test file stays on one worker, so its module fixtures are built once;
# files in collection order, where the slow tests come first (tests/conftest.py). The
# tests' temporary files (warehouses, Dagster's SQLite logs, generated inputs) are kept in
# memory where /dev/shm can be written and has 4 GB free (the suite holds under 2 GB):
# every Dagster event and DuckDB commit syncs a file, which on disk is a sixth of a run's
# time.
TEST_TMPDIR := $(shell free=$$(df --output=avail -k /dev/shm 2>/dev/null | tail -n 1); \
	[ -w /dev/shm ] && [ "$${free:-0}" -gt 4000000 ] 2>/dev/null && echo /dev/shm \
	|| echo "$${TMPDIR:-/tmp}")

test: setup lint
	TMPDIR=$(TEST_TMPDIR) $(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder

ui: setup
	$(BIN)/census ui

clean:
	rm -rf data/landing data/warehouse data/exports data/lake .dagster_home
