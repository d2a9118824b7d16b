# Developer targets. The C tests link the core sources (no Python) against the same OpenBLAS the
# extension uses. `make help` lists the targets.
PYTHON ?= python3
BUILD ?= build/ctests
OPENBLAS_INC := $(shell $(PYTHON) -c "import scipy_openblas32 as s; print(s.get_include_dir())" 2>/dev/null)
OPENBLAS_LIB := $(shell $(PYTHON) -c "import scipy_openblas32 as s; print(s.get_lib_dir())" 2>/dev/null)

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Werror
CFLAGS_COMMON = -std=c11 -fopenmp -fno-math-errno $(WARN) -Icsrc/include -Icsrc -I$(OPENBLAS_INC)
ifeq ($(SANITIZE),1)
CFLAGS_MODE = -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS_MODE = -fsanitize=address,undefined
else
CFLAGS_MODE = -O2 -g
LDFLAGS_MODE =
endif
LDLIBS = -L$(OPENBLAS_LIB) -Wl,-rpath,$(OPENBLAS_LIB) -lscipy_openblas -lm -fopenmp

CORE_SRC := $(sort $(wildcard csrc/core/*.c csrc/choice/*.c csrc/nn/*.c csrc/density/*.c csrc/models/*.c))
CORE_OBJ := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(CORE_SRC))
HEADERS := $(wildcard csrc/include/socialrm/*.h csrc/*/*.h)
TEST_SRC := $(sort $(wildcard csrc/tests/test_*.c))
TEST_BIN := $(patsubst csrc/tests/%.c,$(BUILD)/%,$(TEST_SRC))

.PHONY: help build test test-c ctests asan lint bench clean

help:
	@echo "build    build the extension in place"
	@echo "test     install test extras and run the whole test suite (what CI runs)"
	@echo "ctests   build the C test binaries into $(BUILD)"
	@echo "test-c   build and run the C tests"
	@echo "asan     build and run the C tests under ASan+UBSan (and LeakSanitizer)"
	@echo "lint     ruff on Python"
	@echo "bench    run every benchmark in --quick mode"

build:
	$(PYTHON) setup.py build_ext --inplace -j 2

test:
	$(PYTHON) -m pip install -e ".[test]" && $(PYTHON) -m pytest

$(BUILD)/obj/%.o: csrc/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_MODE) -c $< -o $@

$(BUILD)/libsrmcore.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/test_%: csrc/tests/test_%.c csrc/tests/srm_test.h $(BUILD)/libsrmcore.a
	$(CC) $(CFLAGS_COMMON) $(CFLAGS_MODE) $< $(BUILD)/libsrmcore.a $(LDFLAGS_MODE) $(LDLIBS) -o $@

ctests: $(TEST_BIN)

test-c: ctests
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; $$t; done

asan:
	$(MAKE) test-c BUILD=build/asan SANITIZE=1

lint:
	$(PYTHON) -m ruff check socialrm tests benchmarks

bench:
	@set -e; for b in benchmarks/bench_*.py; do echo "== $$b"; $(PYTHON) $$b --quick; done

clean:
	rm -rf build socialrm/_core*.so
