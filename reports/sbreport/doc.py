"""A tiny document model rendered twice: as one self-contained HTML page (images inline as
data: URIs, CSS inline, no network reference) and as Markdown with the PNGs beside it."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class Para:
    text: str
    cls: str = ""          # "note", "warn", "bad", "good", "lead"


@dataclass
class Cell:
    text: str
    cls: str = ""          # "bad", "good", "warn", "muted", "num"


@dataclass
class Table:
    headers: list
    rows: list             # list of lists of str | Cell
    caption: str = ""


@dataclass
class Bullets:
    items: list


@dataclass
class Figure:
    item: dict             # a FigureSet item


@dataclass
class Grid:
    """Figures side by side in HTML (one after the other in Markdown)."""
    figures: list = field(default_factory=list)


CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;max-width:1180px;
 padding:12px 24px 48px;color:#1d1d1f;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:.4em 0 .1em}h2{font-size:1.3em;border-bottom:2px solid #ddd;margin-top:1.8em;
 padding-bottom:.2em}h3{font-size:1.08em;margin-top:1.4em}h4{font-size:1em;margin:1em 0 .3em}
p.lead{color:#555;margin-top:0}p.note{color:#555;font-size:.9em}
p.warn,p.bad,p.good{padding:.5em .8em;border-radius:4px;font-weight:600}
p.warn{background:#fff4d6;border-left:5px solid #e0a800}p.bad{background:#fde2e1;border-left:5px solid #c62828}
p.good{background:#e3f4e1;border-left:5px solid #2e7d32}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.86em}
th,td{border:1px solid #d8d8d8;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f5}tr:nth-child(even) td{background:#fafafa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{background:#fde2e1 !important;color:#8e0000;font-weight:600}
td.good{background:#e3f4e1 !important;color:#1b5e20}
td.warn{background:#fff4d6 !important}td.muted{color:#888}
caption{caption-side:top;text-align:left;color:#555;font-size:.95em;padding-bottom:3px}
figure{margin:.6em 0 1.2em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#555;font-size:.85em;max-width:900px}
.grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.grid figure{flex:1 1 520px;max-width:100%}
nav{font-size:.9em;margin:.5em 0 1em}nav a{margin-right:1em}
"""

# After load, record on <body> how many images loaded and how many failed, so a headless
# browser's --dump-dom can check the page (tests/report.sh).
SCRIPT = """
window.addEventListener('load',function(){var im=document.images,ok=0,bad=0;
for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0)ok++;else bad++;}
document.body.setAttribute('data-images-loaded',ok);document.body.setAttribute('data-images-failed',bad);});
"""


def _cell(c):
    return c if isinstance(c, Cell) else Cell("" if c is None else str(c))


def _anchor(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def to_html(title: str, blocks: list, data_uri) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(title)}</title>", f"<style>{CSS}</style>",
           f"<script>{SCRIPT}</script>", "</head><body>"]
    toc = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
    for b in blocks:
        if isinstance(b, Heading):
            a = b.anchor or _anchor(b.text)
            out.append(f'<h{b.level} id="{e(a)}">{e(b.text)}</h{b.level}>')
            if b.level == 1 and toc:
                out.append("<nav>" + "".join(
                    f'<a href="#{e(t.anchor or _anchor(t.text))}">{e(t.text)}</a>' for t in toc)
                    + "</nav>")
        elif isinstance(b, Para):
            cls = f' class="{b.cls}"' if b.cls else ""
            out.append(f"<p{cls}>{e(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{e(str(i))}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            out.append("<table>")
            if b.caption:
                out.append(f"<caption>{e(b.caption)}</caption>")
            out.append("<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in b.headers) + "</tr>")
            for r in b.rows:
                cells = [_cell(c) for c in r]
                out.append("<tr>" + "".join(
                    (f'<td class="{c.cls}">' if c.cls else "<td>") + e(c.text) + "</td>"
                    for c in cells) + "</tr>")
            out.append("</table>")
        elif isinstance(b, (Figure, Grid)):
            figs = [b] if isinstance(b, Figure) else b.figures
            if isinstance(b, Grid):
                out.append('<div class="grid">')
            for f in figs:
                it = f.item
                out.append(f'<figure><img src="{data_uri(it)}" alt="{e(it["title"])}" '
                           f'data-file="{e(it["file"])}">'
                           f'<figcaption><b>{e(it["title"])}.</b> {e(it["caption"])}</figcaption>'
                           "</figure>")
            if isinstance(b, Grid):
                out.append("</div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _md_escape(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list) -> str:
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + b.text + "\n")
        elif isinstance(b, Para):
            prefix = {"warn": "> **Warning:** ", "bad": "> **", "good": "> **"}.get(b.cls, "")
            suffix = "**" if b.cls in ("bad", "good") else ""
            out.append(prefix + b.text + suffix + "\n")
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {i}" for i in b.items) + "\n")
        elif isinstance(b, Table):
            if b.caption:
                out.append(f"*{b.caption}*\n")
            out.append("| " + " | ".join(_md_escape(h) for h in b.headers) + " |")
            out.append("|" + "---|" * len(b.headers))
            for r in b.rows:
                cells = [_cell(c) for c in r]
                out.append("| " + " | ".join(
                    ("**" + _md_escape(c.text) + "**") if c.cls == "bad" and c.text
                    else _md_escape(c.text) for c in cells) + " |")
            out.append("")
        elif isinstance(b, (Figure, Grid)):
            for f in [b] if isinstance(b, Figure) else b.figures:
                it = f.item
                out.append(f"![{_md_escape(it['title'])}]({it['file']})\n")
                out.append(f"*{it['title']}.* {it['caption']}\n")
    return "\n".join(out) + "\n"
