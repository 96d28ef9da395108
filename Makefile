# jiebang — two commands do all the set-up:
#   make run    install, build the demo index, print ranked candidates, then serve the web page
#   make test   install, lint, run the whole test suite
# Both are idempotent: a second run reinstalls nothing.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYSTEM_STAMP := .jiebang/.system-packages
# The three challenges `make run` ranks candidates for (数控机床, 集成电路材料, 电池回收).
DEMO_CHALLENGES := ZJ2021-06-01 ZJ2021-05-04 ZJ2021-15-01

.PHONY: run test test-postgresql lint install system-packages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch first, pinned to the CPU build on disk, so nothing pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -qq torch==2.13.0
	$(BIN)/pip install -qq -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

# Chromium (browser tests), a CJK font (charts) and PostgreSQL (the service suite runs on it
# too); Debian packages, installed once.
$(SYSTEM_STAMP):
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" \
		|| ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		apt-get update -qq && \
		apt-get install -y -qq chromium fonts-wqy-microhei postgresql >/dev/null; \
	fi
	@mkdir -p $(dir $@) && touch $@

system-packages: $(SYSTEM_STAMP)

run: $(STAMP)
	$(BIN)/jiebang index build
	@for id in $(DEMO_CHALLENGES); do $(BIN)/jiebang match --challenge $$id --top 5; done
	$(BIN)/jiebang serve

# mypy checks the packages in pyproject's [tool.mypy], nothing excluded.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Everything on SQLite, then what exercises the database again on PostgreSQL: the schema, jobs,
# judgments, organisations across restarts, and the two faults that are about the database (a
# job's lease taken over, two processes racing for one job). `make test-postgresql` runs the
# whole service suite there.
PG_TESTS := tests/service/test_db.py tests/service/test_api_jobs.py \
	tests/service/test_api_judgments.py \
	tests/service/test_feedback_fit.py::test_a_refit_on_contradicting_judgments_moves_confidence_and_rolls_back \
	tests/service/test_api_persistence.py::test_added_and_deleted_organisations_stay_consistent_across_restarts \
	tests/service/test_faults.py::test_a_bulk_job_whose_owner_dies_is_taken_over_and_runs_once \
	tests/service/test_faults.py::test_two_processes_racing_for_one_job_one_wins

# Two workers, one test file at a time each (a file's fixtures are built once, in one process),
# one thread each, so two workers never run four threads (and their spin-waits) on two cores.
PYTEST := OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadfile

test: $(STAMP) $(SYSTEM_STAMP) lint
	$(PYTEST) --durations=25
	JIEBANG_TEST_DB=postgresql $(PYTEST) $(PG_TESTS)

test-postgresql: $(STAMP) $(SYSTEM_STAMP)
	JIEBANG_TEST_DB=postgresql $(PYTEST) tests/service

clean:
	rm -rf $(VENV) .jiebang
