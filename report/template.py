"""The page: one self-contained HTML document with inline CSS (screen and print)."""

from __future__ import annotations

from string import Template

from smartcity.report.charts import text_on
from smartcity.report.html import text
from smartcity.report.sections import Section
from smartcity.report.summary import KeyFigure

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --rule: #d9dee3; --band: #f5f7fa; --accent: #1d4f91; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5; font-size: 15px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
  "Liberation Sans", sans-serif; }
main, header.page { max-width: 1060px; margin: 0 auto; padding: 0 24px; }
header.page { padding-top: 28px; padding-bottom: 8px; border-bottom: 3px solid var(--accent); }
header.page h1 { margin: 0; font-size: 28px; letter-spacing: -0.01em; }
header.page .day { color: var(--accent); }
header.page p.meta { margin: 4px 0 0; color: var(--muted); font-size: 13px; overflow-wrap: anywhere; }
.summary { display: grid; grid-template-columns: repeat(5, 1fr); gap: 12px; margin: 20px 0 8px; }
.tile { border: 1px solid var(--rule); border-radius: 8px; padding: 10px 12px; background: var(--band); }
.tile .label { font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; opacity: 0.8; }
.tile .value { font-size: 26px; font-weight: 700; line-height: 1.2; font-variant-numeric: tabular-nums; }
.tile .note { font-size: 12px; opacity: 0.85; }
nav.toc { font-size: 13px; color: var(--muted); margin: 8px 0 4px; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
section { padding: 18px 0 10px; border-bottom: 1px solid var(--rule); }
section h2 { font-size: 20px; margin: 0 0 6px; }
section p { margin: 4px 0 10px; max-width: 80ch; }
p.empty { color: var(--muted); font-style: italic; background: var(--band); padding: 10px 14px;
  border-radius: 6px; max-width: none; }
figure { margin: 8px 0 12px; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 12px; color: var(--muted); }
table.data { border-collapse: collapse; font-size: 13px; margin: 8px 0 12px; width: 100%;
  font-variant-numeric: tabular-nums; }
table.data caption { text-align: left; font-size: 12px; color: var(--muted); padding-bottom: 4px; }
table.data th { text-align: left; font-weight: 600; border-bottom: 2px solid var(--ink); padding: 4px 8px;
  vertical-align: bottom; }
table.data td { border-bottom: 1px solid var(--rule); padding: 3px 8px; vertical-align: top; }
table.data tbody tr:nth-child(even) td { background: #fafbfc; }
table.data .num { text-align: right; }
table.data td.num { white-space: nowrap; }
footer { max-width: 1060px; margin: 0 auto; padding: 14px 24px 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 760px) { .summary { grid-template-columns: repeat(2, 1fr); } }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main, header.page, footer { max-width: none; padding-left: 0; padding-right: 0; }
  nav.toc { display: none; }
  section { break-inside: avoid-page; }
  figure, table.data tr, .tile { break-inside: avoid; }
  h2 { break-after: avoid; }
  .summary { grid-template-columns: repeat(5, 1fr); }
}
"""

PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header class="page">
<h1>smartcity daily report · <span class="day">$day_long</span></h1>
<p class="meta">$meta</p>
</header>
<main>
<div class="summary">
$tiles
</div>
<nav class="toc">$toc</nav>
$sections
</main>
<footer>$footer</footer>
</body>
</html>
""")


def tile(figure: KeyFigure) -> str:
    """A key figure; its label, value and note (which may name a sensor) are plain text."""
    style = f' style="background:{text(figure.colour)};color:{text_on(figure.colour)}"' if figure.colour else ""
    return (f'<div class="tile"{style}><div class="label">{text(figure.label)}</div>'
            f'<div class="value">{text(figure.value)}</div><div class="note">{text(figure.note)}</div></div>')


def section_html(section: Section) -> str:
    """A section: its id and title are plain text, its body HTML (built escaped by ``smartcity.report.html``)."""
    return f'<section id="{text(section.id)}">\n<h2>{text(section.title)}</h2>\n{section.body}\n</section>'


def page(*, title: str, day_long: str, meta: str, figures: list[KeyFigure], sections: list[Section],
         footer: str) -> str:
    """The whole document; ``title``, ``day_long``, ``meta`` and ``footer`` are plain text, sections are HTML."""
    toc = " ".join(f'<a href="#{text(s.id)}">{text(s.title)}</a>' for s in sections)
    return PAGE.substitute(
        title=text(title), css=CSS, day_long=text(day_long), meta=text(meta),
        tiles="\n".join(tile(f) for f in figures), toc=toc, sections="\n".join(section_html(s) for s in sections),
        footer=text(footer),
    )
