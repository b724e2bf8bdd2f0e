"""Inline SVG charts (no JavaScript, no network): horizontal bars, optionally several series per row."""

from __future__ import annotations

from typing import Sequence

from intentkg.report.html import esc

PALETTE = ("#0969da", "#bf8700", "#1a7f37", "#8250df", "#cf222e", "#57606a")


def bar_chart(labels: Sequence[str], series: dict[str, Sequence[float]], title: str = "",
              value_format: str = "{:,.0f}", width: int = 720, bar_height: int = 14,
              shares_of: Sequence[float] | None = None) -> str:
    """Horizontal bars: one row per label, one bar per series. ``shares_of`` adds 'n (x%)' text per
    series when given (one denominator per series)."""
    names = list(series)
    if not labels or not names:
        return '<p class="muted">nothing to chart</p>'
    label_w = min(260, 12 + 7 * max(len(str(label)) for label in labels))
    chart_w = width - label_w - 130
    peak = max((max(values) if len(values) else 0) for values in series.values()) or 1
    row_h = bar_height * len(names) + 8
    legend_h = 22 if len(names) > 1 else 0
    top = (22 if title else 4) + legend_h
    height = top + row_h * len(labels) + 6
    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{esc(title)}" font-family="system-ui,sans-serif" font-size="12">']
    if title:
        out.append(f'<text x="0" y="15" font-weight="600">{esc(title)}</text>')
    if legend_h:
        x = label_w
        for k, name in enumerate(names):
            out.append(f'<rect x="{x}" y="{top - 18}" width="10" height="10" fill="{PALETTE[k % len(PALETTE)]}"/>'
                       f'<text x="{x + 14}" y="{top - 9}">{esc(name)}</text>')
            x += 24 + 7 * len(name)
    for i, label in enumerate(labels):
        y = top + i * row_h
        out.append(f'<text x="{label_w - 6}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end">{esc(label)}</text>')
        for k, name in enumerate(names):
            value = float(series[name][i])
            w = max(0.0, chart_w * value / peak)
            by = y + 4 + k * bar_height
            text = value_format.format(value)
            if shares_of is not None and shares_of[k]:
                text += f" ({100 * value / shares_of[k]:.1f}%)"
            tip = f"{label} · {name}: {text}"
            out.append(f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_height - 2}" '
                       f'fill="{PALETTE[k % len(PALETTE)]}"><title>{esc(tip)}</title></rect>'
                       f'<text x="{label_w + w + 4:.1f}" y="{by + bar_height - 4}" fill="#57606a">{esc(text)}</text>')
    out.append("</svg>")
    return "".join(out)
