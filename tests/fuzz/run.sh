#!/usr/bin/env bash
# Build the GGUF reader's libFuzzer harness with ASan + UBSan and run it (not part of CI).
#   tests/fuzz/run.sh [seconds=120] [workdir=/tmp/solar-fuzz-gguf]
# Needs clang with libFuzzer (Debian: apt-get install clang-14 libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-120}
WORK=${2:-/tmp/solar-fuzz-gguf}
CC=${CC:-$(command -v clang || command -v clang-14)}
mkdir -p "$WORK/corpus" "$WORK/crashes"
"$CC" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -D_GNU_SOURCE -Icsrc/include -Icsrc \
    tests/fuzz/fuzz_gguf.c csrc/formats/gguf.c csrc/formats/gguf_get.c \
    csrc/runtime/status.c csrc/runtime/alloc.c csrc/runtime/mapping.c csrc/runtime/dtype.c \
    -o "$WORK/fuzz_gguf"
python tests/fuzz/make_corpus.py "$WORK/seeds"
"$WORK/fuzz_gguf" "$WORK/corpus" "$WORK/seeds" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 \
    -artifact_prefix="$WORK/crashes/" -print_final_stats=1
