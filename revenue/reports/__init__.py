"""Month-end close reports (close.md M1–M4): pivots of the journal that tie out to it.

Each report is a module; ``REPORTS`` maps the KIND of ``revenue_report`` to the function
that builds it. A report is a ``base.Report``: columns, streamed rows and per-currency
totals, written by ``output`` as a table, CSV, JSON or XLSX, and shown by the admin.
"""
