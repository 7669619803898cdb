#!/usr/bin/env bash
# The report as a person sees it: index.html (left by the `report` test in DIR) opened in
# headless Chromium (Debian `chromium`). The page records on <body>, after load, how many
# images loaded and how many failed (naturalWidth 0); every figure of figures.json must have
# loaded, none failed. A screenshot must not be blank. Skipped, with the reason, without
# chromium or PIL.
set -u
dir=$1
py=/usr/bin/python3
fail() { echo "FAIL: $*"; exit 1; }
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || { echo "SKIP: chromium not found (Debian package chromium)"; exit 77; }
$py -c 'import PIL' 2>/dev/null || { echo "SKIP: PIL missing for $py (python3-pil)"; exit 77; }
[ -f "$dir/index.html" ] || fail "$dir/index.html missing: run the report test first"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=(--headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile" --hide-scrollbars
       --virtual-time-budget=10000)
url="file://$(cd "$dir" && pwd)/index.html"

timeout 120 "$chrome" "${flags[@]}" --dump-dom "$url" >"$tmp/dom.html" 2>"$tmp/err" \
  || fail "chromium --dump-dom exited $?: $(tail -3 "$tmp/err")"
want=$($py -c "import json,sys; print(len(json.load(open(sys.argv[1]))['figures']))" "$dir/figures.json")
loaded=$(grep -o 'data-images-loaded="[0-9]*"' "$tmp/dom.html" | grep -o '[0-9]*')
failed=$(grep -o 'data-images-failed="[0-9]*"' "$tmp/dom.html" | grep -o '[0-9]*')
[ -n "$loaded" ] || fail "the page's load script did not run (no data-images-loaded on <body>)"
[ "$failed" = 0 ] || fail "$failed image(s) failed to load"
[ "$loaded" = "$want" ] || fail "$loaded images loaded, figures.json lists $want"

timeout 120 "$chrome" "${flags[@]}" --window-size=1280,2400 --screenshot="$tmp/shot.png" "$url" \
  >/dev/null 2>"$tmp/err" || fail "chromium --screenshot exited $?: $(tail -3 "$tmp/err")"
$py - "$tmp/shot.png" <<'PY' || fail "the screenshot looks blank"
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
assert im.size == (1280, 2400), im.size
g = im.convert("L")
hist = g.histogram()
nonwhite = sum(hist[:240]) / (im.size[0] * im.size[1])
colours = len(im.getcolors(1 << 20) or [])
print(f"screenshot: {nonwhite:.1%} non-white pixels, {colours} colours")
assert nonwhite > 0.03 and colours > 200, (nonwhite, colours)
PY
echo "report_chromium: $loaded of $want images loaded; all checks passed"
