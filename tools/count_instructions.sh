#!/usr/bin/env bash
# Instructions per digit of the C forward pass (ed_forward_u8), for every kernel, natively and
# for aarch64 and armv7 under qemu-user. Repeatable counts, not times:
#   x86 portable, avx2: valgrind --tool=callgrind --toggle-collect=ed_forward_u8
#                       (ed_forward_batch_u8 for the avx2 batch of 4)
#   x86 vnni:           valgrind has no AVX-512, so gdb single-steps one forward pass (the same
#                       gdb count equals callgrind's on the avx2 path; checked below)
#   aarch64, armv7:     qemu -singlestep -d exec,nochain with -dfilter on the core's forward-pass
#                       functions: one log line per executed guest instruction
#
#   bash tools/count_instructions.sh [MODEL.edm ...]     (default: shipped model + random 784-800-10)
#
# Needs valgrind, gdb, the cross compilers and qemu-user (what tools/cross_test.sh needs).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODELS=()
for m in "$@"; do MODELS+=("$(realpath "$m")"); done
cd "$ROOT/csrc"
B=build/count
mkdir -p $B
N=2 # forward passes per count (divided out); 8 for the batch counts

if [ ${#MODELS[@]} -eq 0 ]; then
    ${PYTHON:-python3} - "$B/random-784-800-10.edm" <<'EOF'
import sys, numpy as np
sys.path.insert(0, ".."); sys.path.insert(0, "../tools")
from make_golden import random_mlp_blob
from edgedigits.modelfile import write_model_file
write_model_file(sys.argv[1], random_mlp_blob(np.random.default_rng(800), [800], "random-784-800-10"))
EOF
    MODELS=("$ROOT/edgedigits/models/default.edm" "$B/random-784-800-10.edm")
fi

cat >$B/gdbcount.py <<'EOF'
import os
import gdb
gdb.execute("set pagination off")
gdb.execute("break " + os.environ.get("COUNT_FUNCTION", "ed_forward_u8"), to_string=True)
gdb.execute("run", to_string=True)
frame = gdb.newest_frame()
ret, sp0, n = frame.older().pc(), int(frame.read_register("sp")), 0
while True:
    gdb.execute("stepi", to_string=True)
    n += 1
    f = gdb.newest_frame()
    if f.pc() == ret and int(f.read_register("sp")) > sp0:
        break
print("GDB_INSTRUCTIONS", n)
gdb.execute("kill", to_string=True)
EOF

make -s BUILD=$B/native OPT="-O2 -g" $B/native/ed_bench || exit 1
have_qemu_build() { # name cc ar arch-flags
    command -v "$2" >/dev/null || return 1
    make -s BUILD=$B/$1 CC=$2 AR=$3 ARCH_FLAGS="$4" LDFLAGS=-static OPT=-O2 $B/$1/ed_bench
}
have_qemu_build aarch64 aarch64-linux-gnu-gcc aarch64-linux-gnu-ar "" && AARCH64=1 || AARCH64=0
have_qemu_build armv7 arm-linux-gnueabihf-gcc arm-linux-gnueabihf-ar "-march=armv7-a -mfpu=neon -mfloat-abi=hard" && ARMV7=1 || ARMV7=0

# -dfilter ranges: every ed_* function except those only model loading runs.
dfilter() { # nm binary
    $1 -S --defined-only "$2" | awk '$4 ~ /^ed_/ && $4 !~ /^ed_(crc32|model_load|check_params|section_size|kernel_select|kernel_best|kernel_supported|cpu_has_.*|model_set_kernel)$/ \
        {printf "%s0x%s+0x%s", sep, $1, $2; sep=","}'
}

qemu_count() { # qemu cpu nm binary model kernel [--count-batch]
    local n mode=${7:---count} digits=$N
    [ "$mode" = --count-batch ] && digits=8 # two groups of ED_BATCH_LANES
    n=$(EDGEDIGITS_KERNEL=$6 $1 -cpu "$2" -singlestep -d exec,nochain -dfilter "$(dfilter "$3" "$4")" \
        -D /dev/stderr "$4" "$5" "$mode" $digits 2>&1 >/dev/null | grep -c '^Trace')
    echo $((n / digits))
}

printf '%-22s %-8s %-9s %14s  %s\n' model arch kernel "instr/digit" method
for m in "${MODELS[@]}"; do
    name=$(basename "$m" .edm)
    for k in portable avx2; do
        if EDGEDIGITS_KERNEL=$k ./$B/native/ed_bench "$m" --count 1 >/dev/null 2>&1 && command -v valgrind >/dev/null; then
            EDGEDIGITS_KERNEL=$k valgrind --tool=callgrind --toggle-collect=ed_forward_u8 \
                --callgrind-out-file=$B/cg.out ./$B/native/ed_bench "$m" --count $N >/dev/null 2>$B/cg.log
            ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' $B/cg.log)
            printf '%-22s %-8s %-9s %14d  %s\n' "$name" x86_64 $k $((ir / N)) callgrind
        fi
    done
    for k in avx2 vnni; do
        if EDGEDIGITS_KERNEL=$k ./$B/native/ed_bench "$m" --count 1 >/dev/null 2>&1 && command -v gdb >/dev/null; then
            n=$(EDGEDIGITS_KERNEL=$k gdb -q -batch -x $B/gdbcount.py --args ./$B/native/ed_bench "$m" --count 1 2>&1 |
                sed -n 's/^GDB_INSTRUCTIONS //p')
            printf '%-22s %-8s %-9s %14s  %s\n' "$name" x86_64 $k "$n" "gdb stepi"
        fi
    done
    # the batch path (4 digits per pass over the weights): one call on 4 digits, per digit
    if EDGEDIGITS_KERNEL=avx2 ./$B/native/ed_bench "$m" --count 1 >/dev/null 2>&1 && command -v valgrind >/dev/null; then
        EDGEDIGITS_KERNEL=avx2 valgrind --tool=callgrind --toggle-collect=ed_forward_batch_u8 \
            --callgrind-out-file=$B/cg.out ./$B/native/ed_bench "$m" --count-batch 4 >/dev/null 2>$B/cg.log
        ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' $B/cg.log)
        printf '%-22s %-8s %-9s %14d  %s\n' "$name" x86_64 "avx2 x4" $((ir / 4)) "callgrind, batch of 4"
    fi
    if EDGEDIGITS_KERNEL=vnni ./$B/native/ed_bench "$m" --count 1 >/dev/null 2>&1 && command -v gdb >/dev/null; then
        n=$(COUNT_FUNCTION=ed_forward_batch_u8 EDGEDIGITS_KERNEL=vnni gdb -q -batch -x $B/gdbcount.py \
            --args ./$B/native/ed_bench "$m" --count-batch 4 2>&1 | sed -n 's/^GDB_INSTRUCTIONS //p')
        printf '%-22s %-8s %-9s %14s  %s\n' "$name" x86_64 "vnni x4" "$((n / 4))" "gdb stepi, batch of 4"
    fi
    if [ $AARCH64 = 1 ]; then
        for k in portable neon neon_dot; do
            printf '%-22s %-8s %-9s %14s  %s\n' "$name" aarch64 $k \
                "$(qemu_count qemu-aarch64 max aarch64-linux-gnu-nm $B/aarch64/ed_bench "$m" $k)" "qemu -singlestep"
        done
        printf '%-22s %-8s %-9s %14s  %s\n' "$name" aarch64 "neon_dot x4" \
            "$(qemu_count qemu-aarch64 max aarch64-linux-gnu-nm $B/aarch64/ed_bench "$m" neon_dot --count-batch)" \
            "qemu -singlestep, batch"
    fi
    if [ $ARMV7 = 1 ]; then
        for k in portable neon; do
            printf '%-22s %-8s %-9s %14s  %s\n' "$name" armv7 $k \
                "$(qemu_count qemu-arm max arm-linux-gnueabihf-nm $B/armv7/ed_bench "$m" $k)" "qemu -singlestep"
        done
    fi
done
