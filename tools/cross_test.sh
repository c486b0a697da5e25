#!/usr/bin/env bash
# Build and run the C core's test runner natively, for aarch64 and armv7 (hard-float, NEON)
# under qemu-user, and compile it for a Cortex-M4 (size only). One line per target; every
# target that runs must be bit-exact with the NumPy reference (golden files from
# tools/make_golden.py) on every kernel its CPU supports. Exit status 1 if any target fails.
#
#   bash tools/cross_test.sh            all targets
#   bash tools/cross_test.sh native aarch64     some of: native aarch64 armv7 cortex-m4
#
# Missing toolchains are installed with apt-get when run as root; otherwise a target without
# its toolchain is reported as SKIP with the package to install. Build output goes to
# csrc/build/cross (git-ignored). EDGEDIGITS_DATA adds golden files on real MNIST digits.
set -uo pipefail
cd "$(dirname "$0")/../csrc"

BUILD_ROOT=build/cross
GOLDEN=$BUILD_ROOT/golden
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(native aarch64 armv7 cortex-m4)
# target -> compiler, Debian package
declare -A CC_OF=([aarch64]=aarch64-linux-gnu-gcc [armv7]=arm-linux-gnueabihf-gcc [cortex-m4]=arm-none-eabi-gcc)
declare -A PKG_OF=([aarch64]="gcc-aarch64-linux-gnu qemu-user" [armv7]="gcc-arm-linux-gnueabihf qemu-user"
                   [cortex-m4]="gcc-arm-none-eabi")
declare -A QEMU_OF=([aarch64]=qemu-aarch64 [armv7]=qemu-arm)
FAILED=0

need() { # target: make sure its compiler (and emulator) exist, installing them as root
    local t=$1 cc=${CC_OF[$1]} qemu=${QEMU_OF[$1]:-}
    if command -v "$cc" >/dev/null && { [ -z "$qemu" ] || command -v "$qemu" >/dev/null; }; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "cross_test: installing ${PKG_OF[$t]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${PKG_OF[$t]} >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${PKG_OF[$t]} >/dev/null 2>&1; }
    fi
    command -v "$cc" >/dev/null && { [ -z "$qemu" ] || command -v "$qemu" >/dev/null; }
}

# "N checks, M failures, G golden files" from the runner's last line; kernels from its first.
summary() { # logfile
    local kernels checks
    kernels=$(sed -n 's/^ed_test: kernels supported here: \(.*\) (best.*/\1/p' "$1" | head -1)
    checks=$(sed -n 's/^ed_test: \(.*\)$/\1/p' "$1" | tail -1)
    echo "kernels [$kernels]; $checks"
}

run_tests() { # name make-args... ; builds and runs ed_test with RUN set by the caller's args
    local name=$1; shift
    local log=$BUILD_ROOT/$name.log
    if ! make -s BUILD="$BUILD_ROOT/$name" "$@" "$BUILD_ROOT/$name/ed_test" >"$log" 2>&1; then
        echo "FAIL (build; see csrc/$log)"
        return 1
    fi
    return 0
}

mkdir -p "$BUILD_ROOT"
GOLDEN_NOTE="golden files"
if ${PYTHON:-python3} ../tools/make_golden.py "$GOLDEN" >"$BUILD_ROOT/golden.log" 2>&1; then
    GOLDEN_FILES=("$GOLDEN"/*.edg)
else
    GOLDEN_FILES=()
    GOLDEN_NOTE="NO golden files (python3 with numpy and edgedigits needed; see csrc/$BUILD_ROOT/golden.log)"
fi

for t in "${TARGETS[@]}"; do
    case $t in
    native)
        if out=$(run_tests native) && ./$BUILD_ROOT/native/ed_test "${GOLDEN_FILES[@]}" >"$BUILD_ROOT/native.run" 2>&1; then
            printf '%-10s %-44s PASS bit-exact: %s\n' native "($(uname -m), $(${CC:-cc} -dumpversion | sed 's/^/cc /'))" "$(summary $BUILD_ROOT/native.run)"
        else
            printf '%-10s %-44s FAIL %s\n' native "($(uname -m))" "${out:-see csrc/$BUILD_ROOT/native.run}"
            FAILED=1
        fi
        ;;
    aarch64)
        if ! need aarch64; then
            printf '%-10s %-44s SKIP: no aarch64-linux-gnu-gcc/qemu-aarch64 (apt-get install %s)\n' aarch64 "" "${PKG_OF[aarch64]}"
            continue
        fi
        # -cpu max has the dot-product extension; cortex-a57 (ARMv8.0) has not, so the run-time
        # detection and the plain NEON kernel are tested on both.
        if out=$(run_tests aarch64 CC=aarch64-linux-gnu-gcc AR=aarch64-linux-gnu-ar LDFLAGS=-static) &&
           qemu-aarch64 -cpu max ./$BUILD_ROOT/aarch64/ed_test "${GOLDEN_FILES[@]}" >"$BUILD_ROOT/aarch64.run" 2>&1 &&
           qemu-aarch64 -cpu cortex-a57 ./$BUILD_ROOT/aarch64/ed_test "${GOLDEN_FILES[@]}" >"$BUILD_ROOT/aarch64-a57.run" 2>&1; then
            printf '%-10s %-44s PASS bit-exact: -cpu max %s; -cpu cortex-a57 %s\n' aarch64 "(qemu-aarch64, static)" \
                "$(summary $BUILD_ROOT/aarch64.run)" "$(summary $BUILD_ROOT/aarch64-a57.run)"
        else
            printf '%-10s %-44s FAIL %s\n' aarch64 "(qemu-aarch64)" "${out:-see csrc/$BUILD_ROOT/aarch64*.run}"
            FAILED=1
        fi
        ;;
    armv7)
        if ! need armv7; then
            printf '%-10s %-44s SKIP: no arm-linux-gnueabihf-gcc/qemu-arm (apt-get install %s)\n' armv7 "" "${PKG_OF[armv7]}"
            continue
        fi
        if out=$(run_tests armv7 CC=arm-linux-gnueabihf-gcc AR=arm-linux-gnueabihf-ar LDFLAGS=-static \
                     ARCH_FLAGS="-march=armv7-a -mfpu=neon -mfloat-abi=hard") &&
           qemu-arm ./$BUILD_ROOT/armv7/ed_test "${GOLDEN_FILES[@]}" >"$BUILD_ROOT/armv7.run" 2>&1; then
            printf '%-10s %-44s PASS bit-exact: %s\n' armv7 "(hard-float, -mfpu=neon; qemu-arm, static)" "$(summary $BUILD_ROOT/armv7.run)"
        else
            printf '%-10s %-44s FAIL %s\n' armv7 "(qemu-arm)" "${out:-see csrc/$BUILD_ROOT/armv7.run}"
            FAILED=1
        fi
        ;;
    cortex-m4)
        if ! need cortex-m4; then
            printf '%-10s %-44s SKIP: no arm-none-eabi-gcc (apt-get install %s)\n' cortex-m4 "" "${PKG_OF[cortex-m4]}"
            continue
        fi
        # Compile only (no emulator run): library size with -Os, no getenv on a microcontroller.
        if make -s BUILD=$BUILD_ROOT/cortex-m4 CC=arm-none-eabi-gcc AR=arm-none-eabi-ar OPT=-Os \
                ARCH_FLAGS="-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -DED_NO_GETENV" lib \
                >"$BUILD_ROOT/cortex-m4.log" 2>&1; then
            sizes=$(arm-none-eabi-size -A $BUILD_ROOT/cortex-m4/libedgedigits.a |
                awk '$1 ~ /^\.text/ {t += $2} $1 ~ /^\.rodata/ {r += $2} $1 ~ /^\.(data|bss)/ {d += $2}
                     END {printf ".text %d bytes, .rodata %d bytes, .data+.bss %d bytes", t, r, d}')
            printf '%-10s %-44s BUILD OK (compile only): %s\n' cortex-m4 "(arm-none-eabi-gcc -Os, thumb, fpv4)" "$sizes"
        else
            printf '%-10s %-44s FAIL (build; see csrc/%s)\n' cortex-m4 "" "$BUILD_ROOT/cortex-m4.log"
            FAILED=1
        fi
        ;;
    *)
        echo "cross_test: unknown target $t (expected native, aarch64, armv7, cortex-m4)" >&2
        FAILED=1
        ;;
    esac
done
echo "cross_test: ${#GOLDEN_FILES[@]} $GOLDEN_NOTE; $([ $FAILED = 0 ] && echo all targets passed || echo FAILED)"
exit $FAILED
