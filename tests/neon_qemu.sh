#!/usr/bin/env bash
# NEON for real: the kernel library and its tests cross-compiled for aarch64 and run under
# qemu-aarch64 (the toolchain file's emulator), where kernels_bitexact_<kernel>__neon checks
# the NEON kernels against the scalar reference and the golden hashes that x86-64 matches too.
#
#   neon_qemu.sh SRC BUILD build                  configure and build the aarch64 tree BUILD
#   neon_qemu.sh SRC BUILD run INCLUDE EXCLUDE    run its tests matching INCLUDE (ctest -R, all
#                                                 when empty) and not EXCLUDE (-E); each must
#                                                 pass, none may skip
# Exits 77 (ctest: skipped) with the reason when the cross toolchain, the emulator or arm64
# cmocka is missing; never passes without running.
set -u
src=$1
build=$2
mode=$3
why=""
command -v aarch64-linux-gnu-gcc >/dev/null || why="aarch64-linux-gnu-gcc not installed (Debian: gcc-aarch64-linux-gnu)"
[ -z "$why" ] && [ ! -e /usr/aarch64-linux-gnu/include/stdio.h ] && why="arm64 C library headers not installed (Debian: libc6-dev-arm64-cross)"
[ -z "$why" ] && ! command -v qemu-aarch64 >/dev/null && why="qemu-aarch64 not installed (Debian: qemu-user)"
[ -z "$why" ] && [ ! -e /usr/lib/aarch64-linux-gnu/libcmocka.so ] && why="cmocka for arm64 not installed (Debian: libcmocka-dev:arm64)"
if [ -n "$why" ]; then
  echo "SKIP: NEON tests not run: $why"
  exit 77
fi

case $mode in
build)
  cmake -S "$src" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" \
    -DSPECBIAS_KERNELS_ONLY=ON -DCMAKE_BUILD_TYPE=Release >/dev/null || { echo "FAIL: cross configure"; exit 1; }
  cmake --build "$build" -j"$(nproc)" >/dev/null || { echo "FAIL: cross build"; cmake --build "$build" 2>&1 | tail -20; exit 1; }
  echo "aarch64 kernel library and tests built in $build"
  ;;
run)
  include=${4:-}
  exclude=${5:-}
  [ -e "$build/CTestTestfile.cmake" ] || { echo "FAIL: no aarch64 build in $build (the neon_qemu_build test makes it)"; exit 1; }
  args=(--output-on-failure)
  [ -n "$include" ] && args+=(-R "$include")
  [ -n "$exclude" ] && args+=(-E "$exclude")
  out=$(cd "$build" && ctest "${args[@]}" 2>&1); rc=$?
  echo "$out"
  [ $rc -eq 0 ] || exit 1
  ran=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#' <<<"$out")
  passed=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#.* Passed' <<<"$out")
  [ "$ran" -gt 0 ] || { echo "FAIL: no aarch64 test matches -R '$include' -E '$exclude'"; exit 1; }
  [ "$passed" -eq "$ran" ] || { echo "FAIL: $((ran - passed)) of $ran aarch64 tests did not pass (skipped under qemu?)"; exit 1; }
  ;;
*)
  echo "usage: $0 SRC BUILD build | run INCLUDE EXCLUDE" >&2
  exit 2
  ;;
esac
