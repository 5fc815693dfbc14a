"""summary.md -> a self-contained, valid HTML5 index.html (figures embedded as base64).

Handles exactly the Markdown that ``accel.report.summary`` writes: ``#`` headings,
paragraphs, ``- `` bullet lists (wrapped in ``<ul>``), pipe tables (``<thead>`` /
``<tbody>``, numeric cells right-aligned), ``![alt](file.png)`` images, and inline
```code``` / ``**bold**``.  Everything else is escaped text.  The result parses with
html5lib in strict mode (tests/report check it).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:1150px;margin:1.5em auto;padding:0 1em;"
    "line-height:1.45;color:#222}"
    "h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}h3{margin-top:1.4em}"
    "table{border-collapse:collapse;font-size:13px;margin:0.6em 0}"
    "th,td{border:1px solid #ccc;padding:3px 7px}th{background:#f3f3f3}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
    "code{background:#f4f4f4;padding:0 3px;border-radius:3px}"
    "img{max-width:100%;border:1px solid #eee}"
    ".conclusions{background:#f7fbff;border-left:4px solid #4a90d9;padding:0.3em 1em}"
)
_NUMERIC = re.compile(r"^[-+]?[\d,]*\.?\d+\s*(%|×|[A-Za-z/]+)?$")


def inline(text: str) -> str:
    """Escape, then turn `code` and **bold** into elements."""
    out = []
    for i, part in enumerate(re.split(r"`([^`]*)`", text)):
        if i % 2:
            out.append(f"<code>{html.escape(part)}</code>")
        else:
            esc = html.escape(part)
            out.append(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", esc))
    return "".join(out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_to_html(md: str, out: Path, title: str) -> str:
    lines = md.splitlines()
    body: list[str] = []
    i = 0
    in_box = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            block = []
            while i < len(lines) and lines[i].startswith("|"):
                block.append(lines[i])
                i += 1
            head, rows = _cells(block[0]), [_cells(r) for r in block[2:]]
            body.append("<table><thead><tr>" + "".join(f"<th>{inline(c)}</th>" for c in head)
                        + "</tr></thead><tbody>")
            for r in rows:
                body.append("<tr>" + "".join(
                    f"<td class=\"num\">{inline(c)}</td>" if _NUMERIC.match(c) else f"<td>{inline(c)}</td>"
                    for c in r) + "</tr>")
            body.append("</tbody></table>")
            continue
        if line.startswith("- "):
            body.append("<ul>")
            while i < len(lines) and lines[i].startswith("- "):
                body.append(f"<li>{inline(lines[i][2:])}</li>")
                i += 1
            body.append("</ul>")
            continue
        i += 1
        m = re.match(r"^!\[([^\]]*)\]\(([^)]+)\)$", line)
        if m:
            alt, src = m.groups()
            b64 = base64.b64encode((out / src).read_bytes()).decode()
            body.append(f"<p><img alt=\"{html.escape(alt)}\" src=\"data:image/png;base64,{b64}\"></p>")
        elif line.startswith("#"):
            level = min(6, len(line) - len(line.lstrip("#")))
            text = line.lstrip("#").strip()
            if in_box and level <= 3:
                body.append("</div>")
                in_box = False
            body.append(f"<h{level}>{inline(text)}</h{level}>")
            if level == 3 and text.lower().startswith("conclusions"):
                body.append("<div class=\"conclusions\">")
                in_box = True
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
    if in_box:
        body.append("</div>")
    return "\n".join(["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
                      f"<title>{html.escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>",
                      "<body>", *body, "</body>", "</html>", ""])
