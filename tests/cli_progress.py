#!/usr/bin/python3
"""`specbias run`'s progress bar on a terminal: under a pseudo-terminal of a given size, every
frame it draws fits the width (at most width - 1 characters, so it never wraps) and frames
replace each other in place ("\\r" and erase to the end of the line), never by new lines.
The width comes from TIOCGWINSZ, else $COLUMNS, else 80. --quiet draws no bar.

Usage: cli_progress.py SPECBIAS. The oracle is the terminal size the test sets with TIOCSWINSZ
and the bytes the run wrote to the terminal."""
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import tty

BIN = sys.argv[1]
ERASE = "\x1b[K"
# A long name, so that the narrow widths must shorten it, and steps enough to run until the
# test stops it.
SUITE = """{"schema": "specbias-suite/1", "name": "t", "experiments": [
 {"name": "a-rather-long-family-name/and-a-long-variant-name",
  "target": {"kind": "sines1d", "n": 256, "frequencies": [3]},
  "model": {"depth": 2, "width": 16}, "train": {"lr": 0.001, "steps": 100000000},
  "checkpoints": 3}]}"""


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run(tmp, cols, columns_env=None, quiet=False, frames_wanted=4):
    """Runs the suite with stderr on a pty of `cols` columns until it has drawn frames_wanted
    frames (or 60 s), then SIGINT. Returns what the terminal received, as text."""
    master, slave = pty.openpty()
    tty.setraw(slave)  # no \n -> \r\n translation: the bytes are the program's own
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns_env is not None:
        env["COLUMNS"] = columns_env
    out = os.path.join(tmp, "out-%d-%s-%d" % (cols, columns_env, quiet))
    args = [BIN, "run", "--suite", os.path.join(tmp, "s.json"), "--out", out, "--threads", "1"]
    if quiet:
        args.append("--quiet")
    with open(os.path.join(tmp, "stdout"), "wb") as so:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=so, stderr=slave, env=env)
    os.close(slave)
    data, deadline, sent, written = b"", time.monotonic() + 60, False, None
    while True:
        # --quiet draws nothing: stop it once training has begun (results.json is written
        # just before the signal handler is installed and the first step)
        if quiet and written is None and os.path.exists(os.path.join(out, "results.json")):
            written = time.monotonic()
        if not sent and (data.count(b"\r") >= frames_wanted or time.monotonic() > deadline
                         or (written is not None and time.monotonic() > written + 1)):
            p.send_signal(signal.SIGINT)
            sent = True
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the program closed its end
                break
            if not chunk:
                break
            data += chunk
        elif p.poll() is not None and sent:
            break
    os.close(master)
    rc = p.wait()
    if rc != 130:
        fail("cols %d: exit %d, want 130 (SIGINT); terminal: %r" % (cols, rc, data[-500:]))
    return data.decode("utf-8", "replace")


def frames(text):
    """The bar's frames: the text after each "\\r" + erase, up to the next control."""
    out = []
    for part in text.split("\r")[1:]:
        if part.startswith(ERASE):
            frame = part[len(ERASE):].split("\n")[0]
            if frame:
                out.append(frame)
    return out


def check(tmp, cols, width, columns_env=None):
    text = run(tmp, cols, columns_env)
    f = frames(text)
    if len(f) < 2:
        fail("cols %d COLUMNS %s: fewer than 2 frames drawn in place: %r" % (cols, columns_env, text[:400]))
    for fr in f:
        if len(fr) > width - 1:
            fail("cols %d COLUMNS %s: a frame of %d characters for %d columns: %r"
                 % (cols, columns_env, len(fr), width, fr))
        if "\x1b" in fr or "\t" in fr:
            fail("a frame holds another control sequence: %r" % fr)
        if not fr.startswith("[1/1] a-rather") or "ETA" not in fr:
            fail("cols %d: frame lacks the experiment or the ETA: %r" % (cols, fr))
    # Every line the terminal shows: no line of text (between newlines) outgrows the width
    # either, once each "\r" has returned the cursor.
    for line in text.split("\n"):
        for seg in line.split("\r"):
            if len(seg.replace(ERASE, "")) > width - 1 and not seg.startswith("specbias run:"):
                fail("cols %d: %d characters written on one row: %r" % (cols, len(seg), seg))
    return f


with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "s.json"), "w") as s:
        s.write(SUITE)
    os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
    wide = check(tmp, 200, 200)
    if not any("loss" in fr and "step" in fr and " [" in fr for fr in wide):
        fail("200 columns: no full frame (bar, step, loss): %r" % wide[:3])
    check(tmp, 80, 80)
    narrow = check(tmp, 40, 40)
    check(tmp, 0, 50, columns_env="50")  # no size from the terminal: $COLUMNS
    check(tmp, 0, 80)                    # neither: 80
    check(tmp, 0, 80, columns_env="junk")
    if any("loss" in fr for fr in narrow):
        fail("40 columns kept the loss field over the others: %r" % narrow[:3])
    text = run(tmp, 80, quiet=True, frames_wanted=1)
    if frames(text):
        fail("--quiet drew a progress bar: %r" % text[:300])
print("cli_progress: all checks passed")
