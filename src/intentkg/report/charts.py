"""Inline SVG charts (no JavaScript, no network): horizontal bars (optionally several series per row),
a forest plot of estimates with intervals, a correlation heatmap and a scree plot. Every label is escaped."""

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


def forest_plot(rows: list[tuple[str, float, float, float]], title: str, width: int = 720) -> str:
    """One row per (label, estimate, low, high): a dot with its interval and a line at zero."""
    if not rows:
        return ""
    low = min(0.0, *(r[2] for r in rows))
    high = max(0.0, *(r[3] for r in rows))
    span = (high - low) or 1.0
    low, high = low - 0.05 * span, high + 0.05 * span
    label_w = max(190, min(340, 12 + 7 * max(len(str(r[0])) for r in rows)))  # long labels are not clipped
    right_w, row_h, top = 170, 22, 30
    plot_w = width - label_w - right_w
    height = top + row_h * len(rows) + 24

    def x(v: float) -> float:
        return label_w + plot_w * (v - low) / (high - low)

    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{esc(title)}" font-family="system-ui,sans-serif" font-size="12">',
           f'<text x="0" y="15" font-weight="600">{esc(title)}</text>',
           f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{height - 20}" stroke="#8c959f" '
           f'stroke-dasharray="4 3"/>',
           f'<text x="{x(0):.1f}" y="{height - 6}" text-anchor="middle" fill="#57606a">0</text>']
    for i, (label, est, lo, hi) in enumerate(rows):
        y = top + i * row_h + row_h / 2
        color = PALETTE[0] if lo > 0 else (PALETTE[4] if hi < 0 else PALETTE[5])
        tip = f"{label}: {est:+.3f} (95% CI {lo:+.3f} to {hi:+.3f})"
        out.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" text-anchor="end">{esc(label)}</text>'
                   f'<line x1="{x(lo):.1f}" y1="{y:.1f}" x2="{x(hi):.1f}" y2="{y:.1f}" stroke="{color}" '
                   f'stroke-width="2"><title>{esc(tip)}</title></line>'
                   f'<circle cx="{x(est):.1f}" cy="{y:.1f}" r="4.5" fill="{color}"><title>{esc(tip)}</title></circle>'
                   f'<text x="{width - right_w + 8}" y="{y + 4:.1f}" fill="#57606a">'
                   f'{esc(f"{est:+.3f} [{lo:+.3f}, {hi:+.3f}]")}</text>')
    out.append("</svg>")
    return "".join(out)


def _diverging(value: float) -> str:
    """-1 red, 0 white, +1 blue."""
    v = max(-1.0, min(1.0, value))
    r, g, b = (9, 105, 218) if v >= 0 else (207, 34, 46)
    mix = abs(v)
    return f"rgb({round(255 - (255 - r) * mix)},{round(255 - (255 - g) * mix)},{round(255 - (255 - b) * mix)})"


def heatmap(labels: Sequence[str], matrix: Sequence[Sequence[float]], title: str, cell: int = 0,
            width: int = 720) -> str:
    """A correlation matrix as coloured cells (-1 red .. +1 blue); the value is in each cell's tooltip."""
    n = len(labels)
    if not n:
        return ""
    label_w = min(200, 12 + 7 * max(len(str(label)) for label in labels))
    cell = cell or max(6, min(28, (width - label_w) // n))
    top = 24 + label_w
    size_w, size_h = label_w + cell * n + 4, top + cell * n + 4
    out = [f'<svg viewBox="0 0 {size_w} {size_h}" width="{size_w}" height="{size_h}" role="img" '
           f'aria-label="{esc(title)}" font-family="system-ui,sans-serif" font-size="{min(12, cell)}">',
           f'<text x="0" y="15" font-weight="600">{esc(title)}</text>']
    for i, label in enumerate(labels):
        y = top + i * cell + cell / 2 + 4
        x = label_w + i * cell + cell / 2 + 4
        out.append(f'<text x="{label_w - 4}" y="{y:.1f}" text-anchor="end">{esc(label)}</text>'
                   f'<text transform="translate({x:.1f},{top - 4}) rotate(-90)">{esc(label)}</text>')
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            tip = f"{labels[i]} × {labels[j]}: r = {float(value):+.3f}"
            out.append(f'<rect x="{label_w + j * cell}" y="{top + i * cell}" width="{cell}" height="{cell}" '
                       f'fill="{_diverging(float(value))}"><title>{esc(tip)}</title></rect>')
    out.append("</svg>")
    return "".join(out)


def scree_plot(ratios: Sequence[float], title: str, target: float = 0.95, width: int = 720, height: int = 240) -> str:
    """Explained variance per principal component (bars) and cumulative (line), with the target line."""
    if not len(ratios):
        return ""
    left, right, top, bottom = 44, 12, 28, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / len(ratios)
    cumulative, total = [], 0.0
    for r in ratios:
        total += float(r)
        cumulative.append(total)
    reached = next((k + 1 for k, c in enumerate(cumulative) if c >= target - 1e-12), len(ratios))

    def y(v: float) -> float:
        return top + plot_h * (1 - v)

    out = [f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
           f'aria-label="{esc(title)}" font-family="system-ui,sans-serif" font-size="12">',
           f'<text x="0" y="15" font-weight="600">{esc(title)}</text>',
           f'<line x1="{left}" y1="{y(target):.1f}" x2="{width - right}" y2="{y(target):.1f}" stroke="#8c959f" '
           f'stroke-dasharray="4 3"/><text x="{left - 4}" y="{y(target) + 4:.1f}" text-anchor="end" '
           f'fill="#57606a">{target:.0%}</text>']
    for k, r in enumerate(ratios):
        x = left + k * step
        colour = PALETTE[0] if k < reached else PALETTE[5]
        tip = f"component {k + 1}: {float(r):.1%} (cumulative {cumulative[k]:.1%})"
        out.append(f'<rect x="{x + 1:.1f}" y="{y(float(r)):.1f}" width="{max(1.0, step - 2):.1f}" '
                   f'height="{plot_h * float(r):.1f}" fill="{colour}"><title>{esc(tip)}</title></rect>')
    points = " ".join(f"{left + (k + 0.5) * step:.1f},{y(c):.1f}" for k, c in enumerate(cumulative))
    out.append(f'<polyline points="{points}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>')
    note = f"{reached} of {len(ratios)} components reach {target:.0%} of the variance"
    out.append(f'<text x="{left}" y="{height - 8}" fill="#57606a">{esc(note)}</text>')
    out.append("</svg>")
    return "".join(out)
