"""The error distribution as inline SVG: one histogram of max ulps per framework × dtype, in decades.

Small multiples: a row per framework, a column per dtype, every panel the same
bins (the edges of ``Distribution.edges``, then one bar for infinite errors),
each bar labelled with its count so the picture reads without colour. The SVG
is plain XML with no namespace prefixes, no external references and no
scripts, so it can sit inline in an HTML page or be parsed by ``xml.etree``.
"""

from __future__ import annotations

import math
from html import escape

from conformance.matrix import Distribution, dtype_order, fmt_number, quantile

PANEL_W, PANEL_H = 230, 150  # one framework × dtype panel
PLOT_W, PLOT_H = 190, 80  # its bars
LEFT, TOP = 92, 58  # room for the framework names and the dtype headings
BAR_FILL = "#4a6fa5"
INF_FILL = "url(#hatch-inf)"


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def edge_text(value: float) -> str:
    """Return a bin edge as a reader sees it: '0', '1', '10', '100', '1e3' ... and 'inf'."""
    if math.isinf(value):
        return "inf"
    if value < 1e3:
        return f"{value:g}"
    return f"1e{round(math.log10(value))}" if value == 10 ** round(math.log10(value)) else f"{value:.0e}"


def bins(edges: tuple[float, ...]) -> list[tuple[float, float, str]]:
    """Return (low, high, label) per bar: [low, high) for the finite bins, then (inf, inf) for infinite errors."""
    result = [(lo, hi, f"{edge_text(lo)}–{edge_text(hi)}" if not math.isinf(hi) else f"≥{edge_text(lo)}")
              for lo, hi in zip(edges, edges[1:])]
    result.append((math.inf, math.inf, "inf"))
    return result


def _summary_line(values: list[float]) -> str:
    return (f"n={len(values)}  median {fmt_number(quantile(values, 0.5))}  p99 {fmt_number(quantile(values, 0.99))}"
            f"  max {fmt_number(max(values) if values else None)}")


def _panel(dist: Distribution, x: float, y: float) -> list[str]:
    """Return the SVG of one histogram whose top-left corner is (x, y)."""
    bars = bins(dist.edges)
    total = sum(dist.counts)
    top = max(dist.counts) or 1
    step = PLOT_W / len(bars)
    base = y + 28 + PLOT_H  # the x axis
    heading = f"{dist.framework} · {dist.dtype}"
    described = "; ".join(f"{label} ulp: {n}" for (_, _, label), n in zip(bars, dist.counts))
    out = [f'<g class="dist" data-framework="{_attr(dist.framework)}" data-dtype="{_attr(dist.dtype)}" '
           f'data-total="{total}">',
           f"<title>{escape(heading)}: {escape(described)}</title>",
           f'<text x="{x:.1f}" y="{y + 12:.1f}" class="ps">{escape(_summary_line(dist.values))}</text>',
           f'<line x1="{x:.1f}" y1="{base:.1f}" x2="{x + PLOT_W:.1f}" y2="{base:.1f}" class="axis"/>',
           f'<line x1="{x:.1f}" y1="{base - PLOT_H:.1f}" x2="{x:.1f}" y2="{base:.1f}" class="axis"/>',
           f'<text x="{x - 3:.1f}" y="{base - PLOT_H + 4:.1f}" class="tick" text-anchor="end">{top}</text>',
           f'<text x="{x - 3:.1f}" y="{base:.1f}" class="tick" text-anchor="end">0</text>']
    for i, ((lo, hi, label), count) in enumerate(zip(bars, dist.counts)):
        height = PLOT_H * count / top
        bx = x + i * step + 2
        fill = INF_FILL if math.isinf(lo) else BAR_FILL
        out.append(f'<rect class="bar" data-bin="{i}" data-lo="{edge_text(lo)}" data-hi="{edge_text(hi)}" '
                   f'data-count="{count}" x="{bx:.1f}" y="{base - height:.1f}" width="{step - 4:.1f}" '
                   f'height="{height:.1f}" fill="{fill}"><title>{escape(label)} ulp: {count}</title></rect>')
        if count:
            out.append(f'<text x="{bx + (step - 4) / 2:.1f}" y="{base - height - 2:.1f}" class="count" '
                       f'text-anchor="middle">{count}</text>')
    for i, (lo, _, _) in enumerate(bars):  # tick labels at the left edge of each bin, 'inf' under its own bar
        tx = x + i * step + (step / 2 if math.isinf(lo) else 0)
        out.append(f'<text x="{tx:.1f}" y="{base + 11:.1f}" class="tick" text-anchor="middle">{edge_text(lo)}</text>')
    out.append("</g>")
    return out


def render_svg(distributions: list[Distribution], title: str | None = None) -> str:
    """Return an SVG of small-multiple histograms of max ulps, a row per framework and a column per dtype."""
    title = title or "Error distribution: max ulps per check, by framework and dtype"
    frameworks = sorted({d.framework for d in distributions})
    dtypes = sorted({d.dtype for d in distributions}, key=dtype_order)
    width = LEFT + PANEL_W * max(len(dtypes), 1) + 10
    height = TOP + PANEL_H * max(len(frameworks), 1) + 24
    out = _opening(title, width, height)
    if not distributions:
        out.append(f'<text x="10" y="{TOP + 20}" class="ps">no compared checks</text>')
    out.extend(_grid(distributions, frameworks, dtypes))
    for col in range(len(dtypes)):
        out.append(f'<text x="{LEFT + col * PANEL_W + 18 + PLOT_W / 2:.1f}" y="{height - 8}" class="tick" '
                   'text-anchor="middle">max ulp (decades)</text>')
    out.append("</svg>")
    return "\n".join(out)


def _opening(title: str, width: int, height: int) -> list[str]:
    """Return the SVG's opening: element, title, the hatch for infinite errors, style, heading, axis note."""
    return [f'<svg class="chart" role="img" aria-labelledby="chart-title" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">',
           f'<title id="chart-title">{escape(title)}</title>',
           '<defs><pattern id="hatch-inf" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f3d9d9"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#a32020" stroke-width="3"/></pattern></defs>',
           '<style>text{font:11px system-ui,sans-serif;fill:#222}.ph{font-weight:600;font-size:12px}'
           '.ps,.tick,.count{font-size:9.5px}.ps{fill:#555}.axis{stroke:#333;stroke-width:1}'
           '.h{font-size:13px;font-weight:600}.fw{font-size:12px;font-weight:600}</style>',
           f'<text x="10" y="18" class="h">{escape(title)}</text>',
           '<text x="10" y="34" class="tick">x: max ulp of each compared check, binned at decades (bars: '
           '[low, high), the hatched bar: infinite error); y: number of checks (each panel its own scale)</text>']


def _grid(distributions: list[Distribution], frameworks: list[str], dtypes: list[str]) -> list[str]:
    """Return the panels, a row per framework and a column per dtype, with their row and column labels."""
    out = []
    for col, dtype in enumerate(dtypes):
        out.append(f'<text x="{LEFT + col * PANEL_W + 18 + PLOT_W / 2:.1f}" y="{TOP - 6}" class="fw" '
                   f'text-anchor="middle">{escape(dtype)}</text>')
    by_key = {(d.framework, d.dtype): d for d in distributions}
    for row, framework in enumerate(frameworks):
        y = TOP + row * PANEL_H
        out.append(f'<text x="10" y="{y + 28 + PLOT_H / 2:.1f}" class="fw">{escape(framework)}</text>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 28 + PLOT_H / 2:.1f}" class="tick" text-anchor="middle" '
                   f'transform="rotate(-90 {LEFT - 8} {y + 28 + PLOT_H / 2:.1f})">checks</text>')
        for col, dtype in enumerate(dtypes):
            x = LEFT + col * PANEL_W
            if (framework, dtype) in by_key:
                out.extend(_panel(by_key[(framework, dtype)], x + 18, y))
            else:
                out.append(f'<text x="{x + 18:.1f}" y="{y + 28 + PLOT_H / 2:.1f}" class="ps">'
                           f'{escape(framework)} · {escape(dtype)}: no compared checks</text>')
    return out


__all__ = ["bins", "edge_text", "render_svg"]
