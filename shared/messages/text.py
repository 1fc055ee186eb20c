"""Any message as plain text, for the log when no webhook is configured (how it looks, pure).

The same facts as the card: the title with its severity, the lines without the card's markdown,
the table with aligned columns (its trend columns when there are trends), the footer.
"""

from __future__ import annotations

from shared.messages.model import Message, Row

_HEADER: tuple[str, ...] = ("Metric", "Coverage", "Threshold", "State", "Change")
_TREND_HEADER = ("7 days", "30 days", "Trend")
_SEVERITY = {"attention": "🔴", "warning": "🟠", "good": "🟢", "default": "ℹ️"}


def render_text(message: Message) -> str:
    """The same facts as the card, for the log when no webhook is configured: plain text, so
    the card's markdown (`**bold**`) is dropped."""
    out = [f"{_SEVERITY.get(message.severity, '')} {message.title}".strip()]
    out += [line.replace("**", "") for line in message.lines]
    out += [fact.replace("**", "") for fact in message.facts]
    if message.rows:
        with_trends = any(row.change_7d for row in message.rows)
        header = _HEADER + _TREND_HEADER if with_trends else _HEADER
        table = [header, *(_text_cells(row, with_trends) for row in message.rows)]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        for cells in table:
            out.append(
                "  "
                + "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()
            )
    if message.footer:
        out.append(message.footer)
    return "\n".join(out)


def _text_cells(row: Row, with_trends: bool) -> tuple[str, ...]:
    coverage = row.coverage if not row.users else f"{row.coverage} ({row.users})"
    cells: tuple[str, ...] = (row.metric, coverage, row.threshold, row.state, row.change)
    if with_trends:
        cells += (row.change_7d or "–", row.change_30d or "–", row.sparkline)
    return cells
