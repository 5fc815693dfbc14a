"""A layout check for report figures, from the renderer's own text extents.

``layout_problems(fig)`` lists every text that a reader would see damaged:

* a text that *crosses* an axes frame: part inside the plotting area, part outside (the
  "1.91×" label struck through by the top frame); a text wholly inside (an annotation) or
  wholly outside (a tick label, a title) is fine;
* a text that leaves the figure;
* two texts that overlap each other (tick labels running together, a number on a title).

Texts are every visible, non-empty ``Text`` of the figure: titles, axis labels, tick
labels, annotations, ``ax.text`` / ``fig.text``, legend entries.  The report runs the check
on every figure it writes (``figures.json`` records the result) and the tests require it
to be empty.
"""

from __future__ import annotations

from matplotlib.text import Text
from matplotlib.transforms import Bbox

PAD = 1.0  # px: boxes closer than this do not count as touching (antialiasing, rounding)


def _texts(fig) -> list[Text]:
    seen, out = set(), []
    for t in fig.findobj(Text):
        if id(t) in seen or not t.get_visible() or not t.get_text().strip():
            continue
        axes = t.axes
        if axes is not None and not axes.get_visible():
            continue
        seen.add(id(t))
        out.append(t)
    return out


def _drawn_ticklabels(fig) -> set[int]:
    """ids of the tick labels actually drawn: matplotlib keeps labels for ticks outside the
    view limits, which it does not draw (``_update_ticks`` is what ``Axis.draw`` uses)."""
    ids = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():
                ids.update(id(lab) for lab in (tick.label1, tick.label2) if lab.get_visible())
    return ids


def _all_ticklabels(fig) -> set[int]:
    ids = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ids.update((id(tick.label1), id(tick.label2)))
    return ids


def _shrink(b: Bbox, px: float) -> Bbox:
    return Bbox.from_extents(b.x0 + px, b.y0 + px, b.x1 - px, b.y1 - px)


def layout_problems(fig) -> list[str]:
    """Human-readable problems with ``fig``'s text layout; [] when there are none."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    drawn, ticks = _drawn_ticklabels(fig), _all_ticklabels(fig)
    texts = [t for t in _texts(fig) if id(t) not in ticks or id(t) in drawn]
    boxes = [(t, t.get_window_extent(r)) for t in texts]
    figbox = fig.bbox
    frames = [ax.get_window_extent(r) for ax in fig.axes if ax.get_visible() and ax.axison]
    out = []
    for t, b in boxes:
        name = repr(t.get_text()[:40])
        inner = _shrink(b, PAD)
        if inner.x0 < figbox.x0 or inner.y0 < figbox.y0 or inner.x1 > figbox.x1 or inner.y1 > figbox.y1:
            out.append(f"{name} leaves the figure")
        for f in frames:
            inside = b.x0 >= f.x0 - PAD and b.x1 <= f.x1 + PAD and b.y0 >= f.y0 - PAD and b.y1 <= f.y1 + PAD
            if inner.overlaps(f) and not inside:
                out.append(f"{name} crosses an axes frame")
                break
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if _shrink(boxes[i][1], PAD).overlaps(_shrink(boxes[j][1], PAD)):
                out.append(f"{boxes[i][0].get_text()[:40]!r} overlaps {boxes[j][0].get_text()[:40]!r}")
    return out
