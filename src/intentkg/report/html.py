"""HTML building blocks for the report. Every piece of data text goes through :func:`esc`."""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d1d9}nav{padding:8px 32px;background:#fff;border-bottom:1px solid #d0d7de}
nav a{margin-right:16px;color:#0969da;text-decoration:none}main{padding:8px 32px 48px;max-width:1200px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 20px 16px;margin:16px 0}
h2{font-size:18px;border-bottom:1px solid #d0d7de;padding-bottom:6px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}th,td{border:1px solid #d0d7de;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#656d76}.err{color:#cf222e}.tag{display:inline-block;background:#ddf4ff;color:#0550ae;border-radius:10px;
padding:0 7px;margin:0 3px 2px 0;font-size:12px}.tag.bad{background:#ffebe9;color:#a40e26}
details{margin:4px 0}summary{cursor:pointer;font-weight:600}svg{max-width:100%;height:auto}
.grid{display:flex;flex-wrap:wrap;gap:24px}.grid>div{flex:1 1 420px}
"""


def esc(value: Any) -> str:
    """Escape anything for HTML text or attribute use (titles, queries and tails are untrusted)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return esc(value if value is not None else "")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"
    return esc(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """A table; cells are escaped unless they are already ``Raw``."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            content = cell.html if isinstance(cell, Raw) else fmt(cell)
            cells.append(f'<td class="n">{content}</td>' if i in numeric else f"<td>{content}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class Raw:
    """HTML that is already safe (built from escaped pieces)."""

    def __init__(self, html_text: str):
        self.html = html_text


def tags(values: Iterable[str], bad: bool = False) -> Raw:
    cls = "tag bad" if bad else "tag"
    return Raw("".join(f'<span class="{cls}">{esc(v)}</span>' for v in values))


def page(title: str, subtitle: str, parts: list[tuple[str, str, str]]) -> str:
    """The whole document: ``parts`` are (anchor, heading, body html). No scripts, no external files."""
    nav = "".join(f'<a href="#{esc(anchor)}">{esc(heading)}</a>' for anchor, heading, _ in parts)
    body = "".join(f'<section id="{esc(anchor)}"><h2>{esc(heading)}</h2>{content}</section>'
                   for anchor, heading, content in parts)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            f"img-src data:\"><title>{esc(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><nav>{nav}</nav>"
            f"<main>{body}</main></body></html>")
