#!/usr/bin/env bash
# Print the environment assignments (VAR=value ...) that give a CPU run a better memory allocator; the Makefile runs
# tests, `make reproduce` and the benchmark under them. The allocator changes no result (the same arithmetic runs on
# the same values), only how fast large tensors are allocated: glibc hands every freed 100 MB activation back to the
# kernel and page-faults it in again on the next training step: about a third of a ConvNet-128 step here.
#   1. jemalloc (Debian/Ubuntu: libjemalloc2), preloaded, with freed pages kept for reuse;
#   2. else glibc's own transparent-huge-page allocation (glibc >= 2.35), fewer faults, no extra library.
# `tools/malloc_env.sh --install` first installs libjemalloc2 with apt where that is possible (root), quietly.
set -uo pipefail
if [ "${1:-}" = "--install" ] && ! ldconfig -p 2>/dev/null | grep -q 'libjemalloc\.so\.2 '; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get install -y -q libjemalloc2 >/dev/null 2>&1 \
            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libjemalloc2 >/dev/null 2>&1; } || true
    fi
fi
lib=$(ldconfig -p 2>/dev/null | awk '/libjemalloc\.so\.2 .*x86-64|libjemalloc\.so\.2 .*AArch64/ {print $NF; exit}')
if [ -n "$lib" ] && [ -r "$lib" ]; then
    echo "LD_PRELOAD=$lib MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1"
else
    echo "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"
fi
