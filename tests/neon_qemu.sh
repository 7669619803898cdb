#!/usr/bin/env bash
# Cross-compiles the kernel library and its tests for aarch64 and runs them under
# qemu-aarch64: the NEON kernels bit-for-bit against the scalar reference, and the golden
# output hashes that x86-64 also matches. Exits 77 (ctest: skipped) with the reason when the
# cross toolchain, the emulator or arm64 cmocka is missing; never passes without running.
set -u
src=$1
build=$2
why=""
command -v aarch64-linux-gnu-gcc >/dev/null || why="aarch64-linux-gnu-gcc not installed (Debian: gcc-aarch64-linux-gnu)"
[ -z "$why" ] && [ ! -e /usr/aarch64-linux-gnu/include/stdio.h ] && why="arm64 C library headers not installed (Debian: libc6-dev-arm64-cross)"
[ -z "$why" ] && ! command -v qemu-aarch64 >/dev/null && why="qemu-aarch64 not installed (Debian: qemu-user)"
[ -z "$why" ] && [ ! -e /usr/lib/aarch64-linux-gnu/libcmocka.so ] && why="cmocka for arm64 not installed (Debian: libcmocka-dev:arm64)"
if [ -n "$why" ]; then
  echo "SKIP: NEON tests not run: $why"
  exit 77
fi
cmake -S "$src" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" \
  -DSPECBIAS_KERNELS_ONLY=ON -DCMAKE_BUILD_TYPE=Release >/dev/null || { echo "FAIL: cross configure"; exit 1; }
cmake --build "$build" -j"$(nproc)" >/dev/null || { echo "FAIL: cross build"; cmake --build "$build" 2>&1 | tail -20; exit 1; }
cd "$build"
# Inside the aarch64 build the x86-only tests skip themselves and kernels_bitexact_neon runs.
out=$(ctest --output-on-failure 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] || exit 1
grep -q "kernels_bitexact_neon .*Passed" <<<"$out" || { echo "FAIL: the NEON bit-exact test did not pass under qemu"; exit 1; }
exit 0
