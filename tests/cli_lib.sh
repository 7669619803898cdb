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

# Tiny experiments for the tests of commands made of child runs (cli_scaling.sh,
# cli_throughput.sh): a 1D and a 2D one of a few steps, one that diverges (exit 3) and a 1D one
# of 40000 steps, long enough to signal a run during it (NAME: its name).
sb_exp_1d='{"name": "a/raw", "target": {"kind": "sines1d", "n": 256, "frequencies": [3, 7]},
        "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 6}, "checkpoints": 3}'
sb_exp_2d='{"name": "b/zone", "target": {"kind": "zoneplate", "size": 16},
        "encoding": {"kind": "gauss", "features": 8, "sigma": 3},
        "model": {"depth": 1, "width": 8, "output": "sigmoid"}, "train": {"lr": 0.01, "steps": 4},
        "checkpoints": 2}'
sb_exp_diverge='{"name": "c/diverge", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
          "model": {"depth": 2, "width": 16}, "train": {"optimizer": "sgd", "lr": 100000, "steps": 50}}'
sb_exp_long() {
  printf '{"name": "%s", "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
       "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 40000}, "checkpoints": 3}' "$1"
}
