"""The billing documents of bench/admin_data.py (close.md M5 at volume): posted invoices and
issued credit memos dated in the open period and the one before it, and the inbound lines
their posting staged, as ``orders/services/billing.py`` and ``credit_memos.py`` (through
``emission.py``) stage them: one SERVICE batch per document, named by the document's number
and kept in its ``revenue_batch_id``; one INV (CM-R for a return, CM-RO for a reduction or a
cancellation) line per document line, INV_LINE_ID ``<document number>-<line number>``.

Set-based like admin_sql.py: five temporary tables (documents, their lines, what revenue
made of them; ids and numbers taken after the rows already there, so the step also runs on
a database loaded before it), then one ``INSERT … SELECT`` per table. Parameters: the
sizes (``%(orders)s``, ``%(so_lines)s``).

What revenue made of each line is a function of its id (per mille of a hash): 0.8 % never
staged (M5 ``missing``), 3 % stopped (``stopped``), 1.5 % waiting for their SO line
(``waiting``), 1 % collected one minor unit short (``collected`` with a difference), the
rest collected as billed; the open period's documents of its last days are not collected
yet (``new``); 1 % of the invoices and of the credit memos were voided after posting, their
lines withdrawn (``withdrawn``, no batch on the document)."""

from bench.admin_sql import OPEN_PERIOD, number

_YEAR, _MONTH = divmod(OPEN_PERIOD, 100)
OPEN_FIRST = f"date '{_YEAR}-{_MONTH:02d}-01'"
FIRST = f"({OPEN_FIRST} - interval '1 month')::date"  # the period before the open one
LAST = f"({OPEN_FIRST} + interval '1 month - 1 day')::date"
FRESH_DAY = 25  # documents of the open period dated from this day on: not collected yet

# the documents of the two months: none means the step has to run
DOCUMENTS_MISSING = f"""
SELECT NOT EXISTS (SELECT 1 FROM orders_invoice WHERE invoice_date BETWEEN {FIRST} AND {LAST})
"""

# A database whose documents were deleted still holds the batches they staged: those of
# documents that no longer exist go (lines first), so that nothing is staged twice.
_ORPHANS = """
SELECT b.id FROM revenue_inboundbatch b
WHERE b.source = 'SERVICE' AND b.filename ~ '^(INV|CM)-[0-9]+$'
    AND NOT EXISTS (SELECT 1 FROM orders_invoice i WHERE i.number = b.filename)
    AND NOT EXISTS (SELECT 1 FROM orders_creditmemo m WHERE m.number = b.filename)
"""
ORPHAN_LINES = f"DELETE FROM revenue_inboundline WHERE batch_id IN ({_ORPHANS})"
ORPHAN_BATCHES = f"DELETE FROM revenue_inboundbatch WHERE id IN ({_ORPHANS})"

PLACES = "CASE WHEN {cur} = 'JPY' THEN 0 ELSE 2 END"


def _seq(name: str) -> str:
    return f"coalesce((SELECT last_value FROM core_documentsequence WHERE name = '{name}'), 0)"


def _max(table: str, column: str = "id") -> str:
    return f"coalesce((SELECT max({column}) FROM {table}), 0)"


# Invoices: %(orders)s / 24 orders per month, each billed once, picked by a hash among the
# orders that have a revenue contract (SO lines ``<order number>-<k>``) and are not drafts;
# dated on day 1–28; numbered in date order after the INV series.
INVOICES = f"""
CREATE TEMP TABLE bench_inv ON COMMIT DROP AS
WITH picked AS (
    SELECT o.id AS order_id, o.number AS order_number, o.account_id, o.currency,
        o.effective_date, row_number() OVER (ORDER BY hashint8(o.id + 1000003), o.id) AS r,
        greatest(%(orders)s / 24, 1) AS n
    FROM orders_order o
    WHERE o.id <= (%(so_lines)s + 2) / 3 AND o.status <> 'DRAFT'
), dated AS (
    SELECT p.*, ({FIRST} + make_interval(months => ((r - 1) / n)::int))::date
        + (abs(hashint8(order_id * 3)) %% 28)::int AS day
    FROM picked p WHERE r <= 2 * n
), ranked AS (
    SELECT d.*, row_number() OVER (ORDER BY day, order_id) AS rank FROM dated d
)
SELECT {_max("orders_invoice")} + rank AS id, {number(_seq("INV") + " + rank", "INV")} AS number,
    {_max("revenue_inboundbatch")} + rank AS batch_id, r.order_id, r.order_number,
    r.effective_date, r.account_id, a.number AS customer, r.currency, r.day,
    r.day + time '09:00' AS posted_at,
    r.day >= {OPEN_FIRST} + {FRESH_DAY - 1} AS fresh,
    abs(hashint8(r.order_id * 13)) %% 100 = 0 AS void
FROM ranked r JOIN orders_account a ON a.id = r.account_id
"""
# One line per order product: a recurring one bills the invoice's month (a twelfth of its
# total), a one-time one its whole total on its service start; tax at the product's rate.
INVOICE_LINES = f"""
CREATE TEMP TABLE bench_invline ON COMMIT DROP AS
SELECT {_max("orders_invoiceline")} + row_number() OVER (ORDER BY i.id, it.line_number) AS id,
    i.id AS invoice_id, it.line_number, it.id AS order_item_id, it.quantity, p.sku,
    CASE WHEN it.charge_type = 'RECURRING' THEN date_trunc('month', i.day)::date
        ELSE it.service_start_date END AS period_start,
    CASE WHEN it.charge_type = 'RECURRING'
        THEN (date_trunc('month', i.day) + interval '1 month - 1 day')::date
        ELSE it.service_start_date END AS period_end,
    a.net, round(a.net * it.tax_rate / 100, {PLACES.format(cur="i.currency")}) AS tax
FROM bench_inv i JOIN orders_orderitem it ON it.order_id = i.order_id
    JOIN orders_product p ON p.id = it.product_id, LATERAL (
        SELECT CASE WHEN it.charge_type = 'RECURRING'
            THEN round(it.total / 12, {PLACES.format(cur="i.currency")}) ELSE it.total END AS net
    ) a
"""
_TOTALS = """net_total_currency, net_total, tax_total_currency, tax_total, gross_total_currency,
    gross_total"""
INVOICE_ROWS = f"""
INSERT INTO orders_invoice (id, number, invoice_date, status, currency, {_TOTALS},
    posted_at, voided_at, revenue_batch_id, created_at, account_id, order_id)
SELECT i.id, i.number, i.day, CASE WHEN i.void THEN 'VOID' ELSE 'POSTED' END, i.currency,
    i.currency, t.net, i.currency, t.tax, i.currency, t.net + t.tax, i.posted_at,
    CASE WHEN i.void THEN i.posted_at + interval '2 hours' END,
    CASE WHEN NOT i.void THEN i.batch_id END, i.posted_at - interval '1 hour', i.account_id,
    i.order_id
FROM bench_inv i JOIN (
    SELECT invoice_id, sum(net) AS net, sum(tax) AS tax FROM bench_invline GROUP BY 1
) t ON t.invoice_id = i.id
ORDER BY i.id
"""
INVOICE_LINE_ROWS = """
INSERT INTO orders_invoiceline (id, line_number, period_start, period_end, quantity,
    net_currency, net, tax_currency, tax, is_void, invoice_id, order_item_id)
SELECT l.id, l.line_number, l.period_start, l.period_end, l.quantity, i.currency, l.net,
    i.currency, l.tax, i.void, l.invoice_id, l.order_item_id
FROM bench_invline l JOIN bench_inv i ON i.id = l.invoice_id
ORDER BY l.id
"""
# Credit memos: one invoice in ten that stands (not void) is credited a quarter of each of
# its lines a few days later, in the same month; a third each return (CM-R), reduction
# and cancellation (CM-RO). Numbered after the CM series, batches after the invoices'.
CREDIT_MEMOS = f"""
CREATE TEMP TABLE bench_cm ON COMMIT DROP AS
WITH picked AS (
    SELECT i.*, i.day + 1 + (abs(hashint8(i.id * 17)) %% 3)::int AS memo_day,
        row_number() OVER (ORDER BY i.day + 1 + (abs(hashint8(i.id * 17)) %% 3)::int, i.id)
            AS rank
    FROM bench_inv i
    WHERE NOT i.void AND abs(hashint8(i.id + 77)) %% 10 = 0
)
SELECT {_max("orders_creditmemo")} + rank AS id, {number(_seq("CM") + " + rank", "CM")} AS number,
    greatest({_max("revenue_inboundbatch")}, {_max("bench_inv", "batch_id")}) + rank AS batch_id,
    p.id AS invoice_id, p.order_id, p.order_number, p.effective_date, p.account_id,
    p.customer, p.currency, p.memo_day AS day, p.memo_day + time '11:00' AS posted_at,
    p.memo_day >= {OPEN_FIRST} + {FRESH_DAY - 1} AS fresh, s.source,
    CASE WHEN s.source = 'RETURN' THEN 'CM-R' ELSE 'CM-RO' END AS tran,
    abs(hashint8(p.id * 19)) %% 100 = 0 AS void
FROM picked p, LATERAL (SELECT (ARRAY['RETURN', 'REDUCTION', 'CANCELLATION'])[
    1 + abs(hashint8(p.id * 11)) %% 3] AS source) s
"""
CREDIT_MEMO_LINES = f"""
CREATE TEMP TABLE bench_cmline ON COMMIT DROP AS
SELECT {_max("orders_creditmemoline")} + row_number() OVER (ORDER BY m.id, l.line_number) AS id,
    m.id AS credit_memo_id, l.line_number, l.order_item_id, l.id AS invoice_line_id,
    l.period_start, l.period_end, l.quantity, l.sku, a.net,
    round(a.net * 0.2, {PLACES.format(cur="m.currency")}) AS tax
FROM bench_cm m JOIN bench_invline l ON l.invoice_id = m.invoice_id, LATERAL (
    SELECT round(l.net / 4, {PLACES.format(cur="m.currency")}) AS net
) a
"""
CREDIT_MEMO_ROWS = f"""
INSERT INTO orders_creditmemo (id, number, source, memo_date, status, currency, {_TOTALS},
    reason, issued_at, voided_at, revenue_batch_id, created_at, account_id, order_id)
SELECT m.id, m.number, m.source, m.day, CASE WHEN m.void THEN 'VOID' ELSE 'ISSUED' END,
    m.currency, m.currency, t.net, m.currency, t.tax, m.currency, t.net + t.tax,
    'Bench: ' || lower(m.source), m.posted_at,
    CASE WHEN m.void THEN m.posted_at + interval '2 hours' END,
    CASE WHEN NOT m.void THEN m.batch_id END, m.posted_at - interval '1 hour', m.account_id,
    m.order_id
FROM bench_cm m JOIN (
    SELECT credit_memo_id, sum(net) AS net, sum(tax) AS tax FROM bench_cmline GROUP BY 1
) t ON t.credit_memo_id = m.id
ORDER BY m.id
"""
CREDIT_MEMO_LINE_ROWS = """
INSERT INTO orders_creditmemoline (id, line_number, period_start, period_end, quantity,
    net_currency, net, tax_currency, tax, is_void, credit_memo_id, order_item_id,
    invoice_line_id)
SELECT l.id, l.line_number, l.period_start, l.period_end, l.quantity, m.currency, l.net,
    m.currency, l.tax, m.void, l.credit_memo_id, l.order_item_id, l.invoice_line_id
FROM bench_cmline l JOIN bench_cm m ON m.id = l.credit_memo_id
ORDER BY l.id
"""

# Every document line as emission.py sends it (signed as revenue receives it: ``billed``)
# and what became of it: WITHDRAWN (void document), MISSING (never staged), NEW, STOPPED,
# WAITING, OFF (collected one minor unit short: an edit in staging) or COLLECTED.
_OUTCOME = """CASE WHEN d.void THEN 'WITHDRAWN'
    WHEN h < 8 THEN 'MISSING' WHEN d.fresh THEN 'NEW' WHEN h < 38 THEN 'STOPPED'
    WHEN h < 53 THEN 'WAITING' WHEN h < 63 THEN 'OFF' ELSE 'COLLECTED' END"""
_DOCUMENT = """d.batch_id, l.line_number, d.number,
    d.number || '-' || l.line_number AS inv_line_id, d.order_number, d.effective_date,
    d.customer, d.currency, d.day, d.posted_at, l.sku, l.quantity, l.period_start,
    l.period_end, d.order_number || '-' || l.line_number AS so_line_id"""
EMITTED = f"""
CREATE TEMP TABLE bench_emitted ON COMMIT DROP AS
SELECT e.*, CASE WHEN outcome = 'OFF'
        THEN billed - power(10::numeric, -{PLACES.format(cur="currency")}) ELSE billed END AS esp,
    CASE outcome WHEN 'WAITING' THEN 'INB-004'
        WHEN 'STOPPED' THEN (ARRAY['INB-001', 'RPRO-00082', 'INB-999'])[1 + k] ELSE '' END
        AS codes
FROM (
    SELECT {_DOCUMENT}, 'INV' AS tran, '' AS orig, l.net AS billed, {_OUTCOME} AS outcome,
        h %% 3 AS k
    FROM bench_invline l JOIN bench_inv d ON d.id = l.invoice_id,
        LATERAL (SELECT abs(hashint8(l.id * 7 + 3)) %% 1000 AS h) x
    UNION ALL
    SELECT {_DOCUMENT}, d.tran,
        CASE WHEN d.tran = 'CM-RO' THEN d.order_number || '-' || l.line_number ELSE '' END,
        -l.net, {_OUTCOME}, h %% 3
    FROM bench_cmline l JOIN bench_cm d ON d.id = l.credit_memo_id,
        LATERAL (SELECT abs(hashint8(l.id * 7 + 5)) %% 1000 AS h) x
) e
"""
# one SERVICE batch per document, named by its number (the lines it staged counted)
BATCHES = """
INSERT INTO revenue_inboundbatch (id, source, filename, created_at, line_count, error_count)
SELECT d.batch_id, 'SERVICE', d.number, d.posted_at, coalesce(n.lines, 0), 0
FROM (SELECT batch_id, number, posted_at FROM bench_inv
    UNION ALL SELECT batch_id, number, posted_at FROM bench_cm) d
LEFT JOIN (
    SELECT batch_id, count(*) AS lines FROM bench_emitted WHERE outcome <> 'MISSING' GROUP BY 1
) n ON n.batch_id = d.batch_id
ORDER BY 1
"""
_RAW = """jsonb_strip_nulls(jsonb_build_object('TRAN_TYPE', tran, 'SO_NUM', order_number,
    'SO_LINE_ID', so_line_id, 'ORIG_SO_LINE_ID', nullif(orig, ''),
    'SO_DATE', effective_date::text, 'INV_NUM', number, 'INV_LINE_ID', inv_line_id,
    'INV_DATE', day::text, 'CUSTOMER', customer, 'ITEM', sku,
    'ORD_QTY', CASE WHEN tran = 'INV' THEN quantity::text END, 'INV_QTY', quantity::text,
    'EXT_LST_PRC', esp::text, 'EXT_SLL_PRC', esp::text, 'CURR', currency, 'F_CUR', currency,
    'START_DATE', period_start::text, 'END_DATE', period_end::text))"""
INBOUND = f"""
INSERT INTO revenue_inboundline (id, batch_id, row_number, raw, parse_errors, tran_type, so_num,
    so_line_id, orig_so_line_id, so_date, inv_num, inv_line_id, inv_date, customer, item,
    ord_qty, inv_qty, ext_lst_prc, ext_sll_prc, curr, f_cur, start_date, end_date, rev_method,
    rc_key, cancel_flag, return_flag, rord_review_completed, line_key, ref_line_id,
    content_hash, status, error_codes, errors, waiting, retry, line_id, collected_at,
    created_at, withdrawn_at, withdrawn_reason)
SELECT {_max("revenue_inboundline")} + row_number() OVER (ORDER BY batch_id, line_number),
    batch_id, line_number, {_RAW}, '[]', tran, order_number, so_line_id, orig,
    effective_date, number, inv_line_id, day, customer, sku,
    CASE WHEN tran = 'INV' THEN quantity END, quantity, esp, esp, currency, currency,
    period_start, period_end, '', '', '', '', 'N', inv_line_id,
    CASE WHEN tran = 'CM-RO' THEN orig ELSE so_line_id END, md5(inv_line_id || tran),
    CASE outcome WHEN 'OFF' THEN 'COLLECTED' WHEN 'STOPPED' THEN 'ERROR'
        WHEN 'WAITING' THEN 'ERROR' ELSE outcome END, codes,
    CASE WHEN codes = '' THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object(
        'code', codes, 'rule', '', 'field', '', 'message', codes || ': stopped (bench data)'))
        END,
    outcome = 'WAITING', false,
    CASE WHEN outcome IN ('COLLECTED', 'OFF') THEN line_id END,
    CASE WHEN outcome IN ('COLLECTED', 'OFF') THEN day + 1 + time '06:00' END, posted_at,
    CASE WHEN outcome = 'WITHDRAWN' THEN posted_at + interval '2 hours' END,
    CASE WHEN outcome = 'WITHDRAWN' THEN number || ' voided' ELSE '' END
FROM (
    SELECT e.*, s.id AS line_id
    FROM bench_emitted e LEFT JOIN revenue_soline s ON s.so_line_id = e.so_line_id
    WHERE e.outcome <> 'MISSING'
) e
ORDER BY 1
"""

STATEMENTS = (
    ORPHAN_LINES,
    ORPHAN_BATCHES,
    INVOICES,
    "ANALYZE bench_inv",
    INVOICE_LINES,
    "ANALYZE bench_invline",
    INVOICE_ROWS,
    INVOICE_LINE_ROWS,
    CREDIT_MEMOS,
    "ANALYZE bench_cm",
    CREDIT_MEMO_LINES,
    "ANALYZE bench_cmline",
    CREDIT_MEMO_ROWS,
    CREDIT_MEMO_LINE_ROWS,
    EMITTED,
    "ANALYZE bench_emitted",
    BATCHES,
    INBOUND,
)
# the document series continue after the bench's numbers
DOCUMENT_SEQUENCES = """
INSERT INTO core_documentsequence (name, last_value)
SELECT name, n FROM (
    SELECT 'INV' AS name, coalesce(max(substr(number, 5)::bigint), 0) AS n
    FROM orders_invoice WHERE number ~ '^INV-[0-9]+$'
    UNION ALL
    SELECT 'CM', coalesce(max(substr(number, 4)::bigint), 0)
    FROM orders_creditmemo WHERE number ~ '^CM-[0-9]+$'
) s
ON CONFLICT (name) DO UPDATE SET last_value = greatest(core_documentsequence.last_value,
    excluded.last_value)
"""
TABLES = ("orders_invoice", "orders_invoiceline", "orders_creditmemo", "orders_creditmemoline")
# what the step writes, analysed after it
TOUCHED = (*TABLES, "revenue_inboundbatch", "revenue_inboundline")
