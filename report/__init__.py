"""The daily HTML report: one self-contained file per day, built from the lake's marts.

``build_report(root, date)`` reads the day's marts (computing those not stored, without writing
them) and the raw ``alerts`` dataset, draws the charts with matplotlib and writes
``<lake>/reports/smartcity-report-YYYY-MM-DD.html``: inline CSS, PNG charts as ``data:`` URIs, no
script and no external resource, so it opens offline and prints.
"""

from smartcity.core.errors import ReportError
from smartcity.report.build import build_report, render_report, report_path

__all__ = ["ReportError", "build_report", "render_report", "report_path"]
