#!/usr/bin/env bash
# The C core under AddressSanitizer + UndefinedBehaviorSanitizer, valgrind memcheck, and a
# time-bounded libFuzzer run. One line per check; exit status 1 on any finding.
#
#   bash tools/sanitize.sh                 asan valgrind fuzz
#   bash tools/sanitize.sh asan fuzz       a subset
#   FUZZ_SECONDS=600 bash tools/sanitize.sh fuzz     a longer fuzz run (CI uses 60 s)
#
# Needs clang with its sanitizer/fuzzer runtimes (Debian: clang libclang-rt-14-dev) and
# valgrind; installs them with apt-get when run as root. Build output and the fuzz corpus go
# to csrc/build/sanitize (git-ignored). Crash inputs kept in csrc/fuzz/regressions/ are re-run
# every time. EDGEDIGITS_DATA adds golden files on real MNIST digits.
set -uo pipefail
cd "$(dirname "$0")/../csrc"

B=build/sanitize
GOLDEN=$B/golden
CORPUS=$B/corpus
SEEDS=$B/seeds
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CHECKS=("$@")
[ ${#CHECKS[@]} -eq 0 ] && CHECKS=(asan valgrind fuzz)
FAILED=0
mkdir -p "$B" "$CORPUS"

install_if_root() { # command package...
    local cmd=$1; shift
    command -v "$cmd" >/dev/null && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
    fi
    command -v "$cmd" >/dev/null
}

# clang's fuzzer runtime comes in a separate Debian package; probe by linking.
fuzzer_runtime_ok() {
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n){(void)d;(void)n;return 0;}\n' >$B/probe.c
    clang -fsanitize=fuzzer,address $B/probe.c -o $B/probe >/dev/null 2>&1
}

if ! ${PYTHON:-python3} ../tools/make_golden.py "$GOLDEN" --fuzz-corpus "$SEEDS" >"$B/golden.log" 2>&1; then
    echo "sanitize: cannot make golden files (see csrc/$B/golden.log)"
    exit 1
fi
GOLDEN_FILES=("$GOLDEN"/*.edg)

for c in "${CHECKS[@]}"; do
    case $c in
    asan)
        if ! install_if_root clang clang libclang-rt-14-dev; then
            printf '%-10s SKIP: clang not found (apt-get install clang libclang-rt-14-dev)\n' asan+ubsan
            continue
        fi
        if make -s BUILD=$B/asan CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
                SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" $B/asan/ed_test >$B/asan.log 2>&1 &&
           ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
                ./$B/asan/ed_test "${GOLDEN_FILES[@]}" >$B/asan.run 2>&1; then
            printf '%-10s PASS: no finding; %s\n' asan+ubsan "$(sed -n 's/^ed_test: \([0-9].*\)/\1/p' $B/asan.run | tail -1); kernels [$(sed -n 's/^ed_test: kernels supported here: \(.*\) (best.*/\1/p' $B/asan.run)]"
        else
            printf '%-10s FAIL: see csrc/%s and csrc/%s\n' asan+ubsan $B/asan.log $B/asan.run
            FAILED=1
        fi
        ;;
    valgrind)
        if ! install_if_root valgrind valgrind; then
            printf '%-10s SKIP: valgrind not found (apt-get install valgrind)\n' valgrind
            continue
        fi
        # valgrind emulates no AVX-512: the run-time detection then reports it absent, and the
        # portable and AVX2 kernels are the ones checked here.
        if make -s BUILD=$B/valgrind OPT="-O2 -g" $B/valgrind/ed_test >$B/valgrind.log 2>&1 &&
           valgrind --tool=memcheck --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=all \
                ./$B/valgrind/ed_test "${GOLDEN_FILES[@]}" >$B/valgrind.run 2>&1; then
            printf '%-10s PASS: %s; kernels [%s]; %s\n' valgrind \
                "$(sed -n 's/.*ERROR SUMMARY: \([0-9]* errors\).*/\1/p' $B/valgrind.run | tail -1)" \
                "$(sed -n 's/^ed_test: kernels supported here: \(.*\) (best.*/\1/p' $B/valgrind.run)" \
                "$(sed -n 's/.*in use at exit: \(.*\)/\1 in use at exit/p' $B/valgrind.run | tail -1)"
        else
            printf '%-10s FAIL: see csrc/%s\n' valgrind $B/valgrind.run
            FAILED=1
        fi
        ;;
    fuzz)
        if ! install_if_root clang clang libclang-rt-14-dev || ! fuzzer_runtime_ok; then
            if [ "$(id -u)" = 0 ]; then
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libclang-rt-14-dev >/dev/null 2>&1
            fi
            if ! fuzzer_runtime_ok; then
                printf '%-10s SKIP: clang libFuzzer runtime missing (apt-get install clang libclang-rt-14-dev)\n' fuzz
                continue
            fi
        fi
        if ! make -s BUILD=$B CC=clang $B/ed_fuzz_model >$B/fuzz-build.log 2>&1; then
            printf '%-10s FAIL: build, see csrc/%s\n' fuzz $B/fuzz-build.log
            FAILED=1
            continue
        fi
        regressions=(fuzz/regressions/crash-*)
        if [ -e "${regressions[0]}" ] && ! ./$B/ed_fuzz_model "${regressions[@]}" >$B/fuzz-regressions.log 2>&1; then
            printf '%-10s FAIL: a regression input crashes again, see csrc/%s\n' fuzz $B/fuzz-regressions.log
            FAILED=1
            continue
        fi
        # -max_len: the largest seed is ~13 KB; leave room to grow. -rss_limit_mb bounds memory.
        if ./$B/ed_fuzz_model -max_total_time="$FUZZ_SECONDS" -max_len=20000 -rss_limit_mb=1024 \
                -print_final_stats=1 -artifact_prefix=$B/crash- "$CORPUS" "$SEEDS" >$B/fuzz.log 2>&1; then
            execs=$(sed -n 's/^stat::number_of_executed_units: *//p' $B/fuzz.log)
            cov=$(grep -E '^#[0-9]+' $B/fuzz.log | tail -1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, features \2, corpus \3/p')
            printf '%-10s PASS: no crash in %s s: %s executions, %s; %d regression inputs re-run\n' fuzz \
                "$FUZZ_SECONDS" "$execs" "$cov" "$([ -e "${regressions[0]}" ] && echo ${#regressions[@]} || echo 0)"
        else
            printf '%-10s FAIL: crash input in csrc/%scrash-*; copy it to csrc/fuzz/regressions/ once fixed; log csrc/%s\n' \
                fuzz "$B/" $B/fuzz.log
            FAILED=1
        fi
        ;;
    *)
        echo "sanitize: unknown check $c (expected asan, valgrind, fuzz)" >&2
        FAILED=1
        ;;
    esac
done
exit $FAILED
