#!/usr/bin/env bash
# kernel_list.inc names, per kernel, the file F that holds it; this checks the claim. For
# every listed kernel `op` and every ISA directory kernels/<isa>/ (those with a simd.h):
#   kernels/scalar/F.c  defines op__scalar,  kernels/shared/F.h  defines op_simd,
#   kernels/<isa>/F.c   defines op__<isa>,
# each under its literal name (so grep and ctags find it), and no other file under kernels/
# defines it. Where ctags is installed it must find the same definitions.
set -u
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
list=$src/kernels/include/specbias/kernel_list.inc
cd "$src" || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }

isas=()
for d in kernels/*/simd.h; do isas+=("$(basename "$(dirname "$d")")"); done
[ ${#isas[@]} -gt 0 ] || bad "no kernels/<isa>/simd.h found"

# A definition: the return type at the start of a line, then the name and its parameters.
defs_of() { grep -rnE "^[a-z_A-Z][a-zA-Z0-9_ ]*[ *]$1\(" kernels --include=*.c --include=*.h; }

ctags_defs=""
if command -v ctags >/dev/null && ctags --version 2>/dev/null | grep -q Universal; then
  ctags_defs=$(ctags -x --c-kinds=f --language-force=C -R kernels 2>/dev/null)
fi

n=0
while read -r name file; do
  n=$((n + 1))
  want=("scalar:kernels/scalar/$file.c:${name}__scalar" "shared:kernels/shared/$file.h:${name}_simd")
  for isa in "${isas[@]}"; do want+=("$isa:kernels/$isa/$file.c:${name}__$isa"); done
  for w in "${want[@]}"; do
    IFS=: read -r _ path sym <<<"$w"
    found=$(defs_of "$sym")
    count=$(grep -c . <<<"$found")
    if [ -z "$found" ]; then
      bad "$sym: no definition under kernels/ (kernel_list.inc says $path)"
    elif [ "$count" -ne 1 ]; then
      bad "$sym: $count definitions: $(cut -d: -f1,2 <<<"$found" | tr '\n' ' ')"
    elif [ "${found%%:*}" != "$path" ]; then
      bad "$sym is defined in ${found%%:*}, kernel_list.inc says $path"
    fi
    if [ -n "$ctags_defs" ]; then
      awk -v s="$sym" -v p="$path" '$1 == s && $4 == p {ok = 1} END {exit !ok}' <<<"$ctags_defs" ||
        bad "ctags does not find $sym in $path"
    fi
  done
done < <(sed -nE 's@^SB_KERNEL\((\w+), *\w+\) */\* *(\w+).*@\1 \2@p' "$list")

[ "$n" -eq "$(grep -c '^SB_KERNEL(' "$list")" ] ||
  bad "an SB_KERNEL line of kernel_list.inc names no file: every entry needs /* F ... */"
[ $fail -eq 0 ] && echo "every definition of the $n kernels (scalar, shared, ${isas[*]}) is where kernel_list.inc says"
exit $fail
