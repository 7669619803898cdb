# Shared by scripts/test and scripts/bench: dependency installation and the build.
# Sourced, not executed.

SB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

sb_log() { printf '[specbias] %s\n' "$*" >&2; }

# Packages the build and the x86-64 tests need (Debian 12 names).
# libgomp (OpenMP) comes with gcc. The harness reads suites (jansson), PNG photos (libspng),
# computes spectra (FFTW) and the topology (hwloc).
SB_PACKAGES_BUILD=(gcc g++ libc6-dev make cmake pkg-config libjansson-dev libspng-dev
  libfftw3-dev libhwloc-dev libbenchmark-dev libpapi-dev)
# libbenchmark-tools ships Google Benchmark's compare.py (tests/cli_kernels.sh), which needs
# numpy and scipy but does not depend on them.
# strace delivers a signal at the exact moment tests/cli_faults.sh (trace) needs it.
SB_PACKAGES_TEST=(libcmocka-dev libsimde-dev python3 libbenchmark-tools python3-numpy
  python3-scipy strace)
# specbias report: plots with matplotlib, run by Debian's /usr/bin/python3 (scripts/bench and
# the report tests).
SB_PACKAGES_REPORT=(python3-matplotlib)
# The report test opens the HTML in headless Chromium; optional (the check skips without it).
SB_PACKAGES_BROWSER=(chromium)
# The NEON cross build: compiler, emulator, and cmocka for arm64 (Debian multiarch).
# libc6-dev-arm64-cross is only a Recommends of the compiler, and we install without those.
SB_PACKAGES_NEON_TOOLS=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
SB_PACKAGES_NEON_LIBS=(libcmocka-dev:arm64)
# The PyTorch agreement test (tests/torch_agreement.py, run by /usr/bin/python3); optional.
SB_PACKAGES_TORCH=(python3-torch python3-numpy)
# scripts/peers: the peers specbias is timed against (PyTorch; the OpenBLAS- and
# oneDNN-composed trainers and the libxsmm GEMM ceiling of peers/, each built only when its
# library is found); optional. Debian ships libdnnl-dev on amd64 and arm64, libxsmm-dev (an
# x86 JIT) on amd64 only.
SB_PACKAGES_PEERS=(libopenblas-dev libdnnl-dev python3-torch python3-numpy)
[ "$(dpkg --print-architecture 2>/dev/null)" != amd64 ] || SB_PACKAGES_PEERS+=(libxsmm-dev)

# The fleet test (tests/cli_fleet.sh) starts a private localhost Slurm: slurmctld, slurmd and
# the clients (slurm-wlm), and munged for its authentication; optional (the test skips).
SB_PACKAGES_SLURM=(slurm-wlm munge)

# scripts/test's fuzz stage: clang with libFuzzer (Debian ships it in libclang-rt-14-dev) and
# LLVM's OpenMP runtime, which the harness needs when clang builds it.
SB_PACKAGES_FUZZ=(clang libclang-rt-14-dev libomp-14-dev)

sb_missing() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  printf '%s\n' "${missing[@]}"
}

SB_APT_UPDATED=0
# sb_install PKG...: installs what is missing when root; otherwise says what to run.
# Returns non-zero if anything is still missing afterwards.
sb_install() {
  local missing
  mapfile -t missing < <(sb_missing "$@" | sed '/^$/d')
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    sb_log "missing packages: ${missing[*]}"
    sb_log "run as root, or: sudo apt-get install ${missing[*]}"
    return 1
  fi
  local p
  for p in "${missing[@]}"; do
    if [[ $p == *:arm64 ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
      sb_log "enabling the arm64 architecture for ${p%%:*} (multiarch)"
      dpkg --add-architecture arm64 && SB_APT_UPDATED=0
    fi
  done
  if [ "$SB_APT_UPDATED" -eq 0 ]; then
    sb_log "apt-get update"
    apt-get update -qq || sb_log "apt-get update failed"
    SB_APT_UPDATED=1
  fi
  sb_log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || sb_log "apt-get install failed for: ${missing[*]}"
  [ -z "$(sb_missing "$@" | sed '/^$/d')" ]
}

# sb_build DIR BUILD_TYPE [cmake args...]: the build log goes to stderr, so stdout carries only
# what the command itself reports (scripts/bench: the summary table).
sb_build() {
  local dir=$1 type=$2
  shift 2
  cmake -S "$SB_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null \
    && cmake --build "$dir" -j"$(nproc)" >&2
}
