#!/usr/bin/env bash
# User-space CPU per put of N concurrent writers, sampled by `perf`.
#
#   scripts/user-cpu.sh [THREADS=16] [PUTS=100000] [COMPARE_BINARY]
#   scripts/user-cpu.sh --calibrate [COMPARE_BINARY]
#
# Why not the kernel's own split (utime/stime in /proc, getrusage, what the
# comparison program's threads table shows)? On this kind of VM that split
# is made by the periodic tick, and a workload that sleeps and wakes on
# every put (each writer waits for an fdatasync) is caught in user space
# far more often than it runs there. `--calibrate` shows it: one writer on
# a RAM file system (/dev/shm), putting back to back, then sleeping 100 µs
# after each put; the catalog's work per put is the same, the tick's user
# time is not.
#
# `perf`'s cpu-clock event samples every 1/F seconds of the task's own CPU
# time, so the share of samples whose instruction pointer is in user space
# is the share of CPU time spent there. (Samples due while the kernel runs
# with interrupts off are taken when it turns them on: they move within the
# kernel, never into user space.) What cold caches after each wake-up cost
# in user space is counted, as it should be.
#
# Runs `compare child put` on a fresh catalog in a temporary directory
# under the current directory (the disk under test) and prints the total
# CPU per put, its user-space part, and the part of that under the
# benchmark's own loop making each entry (`compare::workload::spec`, not
# the catalog's work; its calls into libc are not all attributed).
set -euo pipefail
freq=4000
here=$(cd "$(dirname "$0")/.." && pwd)
calibrate=false
if [[ "${1:-}" == "--calibrate" ]]; then
    calibrate=true
    shift
    bin=${1:-}
else
    threads=${1:-16}
    puts=${2:-100000}
    bin=${3:-}
fi
if [[ -z "$bin" ]]; then
    (cd "$here" && cargo build --release --example compare >&2)
    bin="$here/target/release/examples/compare"
fi
command -v perf >/dev/null || { echo "user-cpu.sh: perf is not installed" >&2; exit 2; }

# measure DIR THREADS PUTS PAUSE_US
measure() {
    local dir=$1 threads=$2 puts=$3 pause=$4
    local work
    work=$(mktemp -d -p "$dir" user-cpu.XXXXXX)
    perf record -q -e cpu-clock -F "$freq" -g -o "$work/perf.data" \
        "$bin" child put "$work/catalog" "$puts" "$threads" "$pause" >"$work/child.txt" 2>/dev/null
    perf script -i "$work/perf.data" -F ip,sym,dso 2>/dev/null | awk -v freq="$freq" \
        -v puts="$puts" -v threads="$threads" -v pause="$pause" -v where="$dir" \
        -v child="$(cat "$work/child.txt")" '
    BEGIN { RS = "" }
    {
        n++
        split($0, frames, "\n")
        user = frames[1] !~ /kernel\.kallsyms/
        if (user) u++
        if (user && $0 ~ /compare::workload::spec/) loop++
    }
    END {
        us = 1e6 / freq / puts
        printf "%d writers, %d puts, pause %d µs, in %s: %s\n", threads, puts, pause, where, child
        printf "perf cpu-clock: %.2f µs CPU per put, of it %.2f µs in user space", n * us, u * us
        printf " (%.2f µs making entries in the benchmark loop, %.2f µs the rest)\n", loop * us, (u - loop) * us
    }'
    rm -rf "$work"
}

if $calibrate; then
    measure /dev/shm 1 20000 0
    measure /dev/shm 1 20000 100
else
    measure . "$threads" "$puts" 0
fi
