# Helpers shared by the command-line tests (sourced, not run). The sourcing script sets $bin,
# the specbias binary under test.

fail() { echo "FAIL: $*"; exit 1; }

# expect RC PATTERN ARGS...: runs specbias, checks the exit code and that stderr matches.
expect() {
  local want=$1 pattern=$2
  shift 2
  local err rc
  err=$("$bin" "$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq "$want" ] || fail "specbias $* exited $rc, want $want; stderr: $err"
  grep -qE -- "$pattern" <<<"$err" || fail "specbias $*: stderr does not match '$pattern': $err"
}

# suite FILE EXPERIMENT-JSON...: writes a suite file holding those experiments.
suite() {
  local f=$1; shift
  local IFS=,
  printf '{"schema": "specbias-suite/1", "name": "t", "experiments": [%s]}\n' "$*" >"$f"
}
