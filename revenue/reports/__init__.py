"""Month-end close reports (close.md M1–M4): pivots of the journal that tie out to it.

Each report is a module; ``REPORTS`` maps the KIND of ``revenue_report`` to the function
that builds it. A report is a ``base.Report``: columns, streamed rows and per-currency
totals, written by ``output`` as a table, CSV, JSON or XLSX, and shown by the admin.
"""

KINDS = ("waterfall", "rollforward", "balances", "checklist")


def report_build(kind: str, **options):
    """The report of ``kind`` with the options its command accepts (close.md)."""
    from .balances import balances_report
    from .rollforward import rollforward_report
    from .waterfall import waterfall_report

    common = {"period": options.get("period"), "currency": options.get("currency")}
    basis = options.get("basis") or "asc606"
    by = options.get("by") or "contract"
    if kind == "waterfall":
        return waterfall_report(
            **common,
            periods=options.get("periods") or 12,
            by=by,
            basis=basis,
            groups=options.get("groups"),
        )
    if kind == "balances":
        return balances_report(**common, by=by, basis=basis, groups=options.get("groups"))
    if kind == "rollforward":
        return rollforward_report(**common, through=options.get("through"), basis=basis)
    if kind == "checklist":
        from .checklist import checklist_report

        return checklist_report(period=options.get("period"))
    raise ValueError(kind)


def report_totals(kind: str, **options) -> list[dict]:
    """The per-currency totals of the report of ``kind`` (close.md: ``totals`` of the
    JSON), without its rows: an admin page shows them above one page of rows.

    M1 and M3 come from the maintained ledger totals (M6, ``totals``); M2 reads only those
    already; M3 by customer, item or SO line when few contracts are split across groups
    (each contract is netted inside each group); other reports are built and their rows
    drained."""
    from .totals import balances_totals, waterfall_totals

    if kind == "waterfall":
        return waterfall_totals(**_defaults(options))
    if kind == "balances":
        totals = balances_totals(**_defaults(options), by=options.get("by") or "contract")
        if totals is not None:
            return totals
    report = report_build(kind, **options)
    for _ in report.rows:
        pass
    return report.total_rows()


def _defaults(options: dict) -> dict:
    from .ledger import check_options

    check_options(by=options.get("by") or "contract", basis=options.get("basis") or "asc606")
    return {
        "period": options.get("period"),
        "periods": options.get("periods") or 12,
        "currency": options.get("currency"),
        "basis": options.get("basis") or "asc606",
    }
