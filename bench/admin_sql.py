"""The SQL of bench/admin_data.py: every table filled by ``INSERT … SELECT`` over
``generate_series`` (parameters: the sizes, ``%(orders)s`` …). Rows are functions of their
number (ids are explicit), so that order totals, schedules and journal amounts agree
without reading back what was written."""

BATCH_LINES = 10_000
OPEN_PERIOD = 202606


def number(expr: str, prefix: str = "ORD") -> str:
    """SQL of ORD-000123 (six digits at least, like sequence_next's :06d)."""
    return f"'{prefix}-' || lpad(({expr})::text, greatest(6, length(({expr})::text)), '0')"


def month(start: str, offset: str) -> str:
    return f"(({start}) + make_interval(months => ({offset})::int))::date"


def yyyymm(day: str) -> str:
    return f"(extract(year from {day})::int * 100 + extract(month from {day})::int)"


# --- orders: reference data, orders, order products ------------------------------------------

ACCOUNTS = """
INSERT INTO orders_account (id, number, name, currency, billing_contact_name,
    billing_contact_email, is_active, created_at)
SELECT a, 'ACC-' || lpad(a::text, 6, '0'), 'Customer ' || a || ' ' || (ARRAY['Ltd', 'GmbH',
    'Inc', 'SA', 'BV'])[1 + a %% 5], 'USD', '', '', true, now()
FROM generate_series(1, %(accounts)s) a
"""
PRODUCTS = """
INSERT INTO orders_product (id, name, sku, charge_type, default_billing_frequency,
    default_billing_type, default_revenue_method, is_fee, is_delivery_charge, is_active)
SELECT p, 'Product ' || p, 'SKU-' || lpad(p::text, 4, '0'),
    CASE WHEN p %% 2 = 1 THEN 'RECURRING' ELSE 'ONE_TIME' END, 'MONTHLY', 'ADVANCE',
    CASE WHEN p %% 2 = 1 THEN 'RATABLE_MONTHLY' ELSE 'IMMEDIATE' END, false, false, true
FROM generate_series(1, %(products)s) p
"""
PRICE_BOOKS = """
INSERT INTO orders_pricebook (id, name, description, is_active)
VALUES (1, 'Bench USD', '', true), (2, 'Bench EUR', '', true)
"""
ENTRIES = """
INSERT INTO orders_pricebookentry (id, price_book_id, product_id, list_price,
    list_price_currency, is_active)
SELECT (b - 1) * %(products)s + p, b, p, 10 + p * 5, (ARRAY['USD', 'EUR'])[b], true
FROM generate_series(1, 2) b, generate_series(1, %(products)s) p
"""


def items_of(o: str) -> str:
    """An order's products are a function of its id (1–3 of them): the order's totals are
    their sum, and the order products are written from the same expression."""
    return f"""
    SELECT k, 1 + (({o}) * 31 + k * 17) %% %(products)s AS product, 1 + (({o}) + k) %% 10 AS qty
    FROM generate_series(1, 1 + ({o}) %% 3) k
    """


ORDERS = f"""
INSERT INTO orders_order (id, number, kind, currency, effective_date, end_date, status,
    activated_at, reference, description, net_total_currency, net_total, tax_total_currency,
    tax_total, gross_total_currency, gross_total, created_at, updated_at, account_id,
    price_book_id)
SELECT o, {number("o")}, 'STANDARD', cur, eff, eff + 364, status,
    CASE WHEN status <> 'DRAFT' THEN eff + time '10:00' END, 'PO-' || o, '',
    cur, net, cur, net * 0.2, cur, net * 1.2, eff, eff,
    CASE WHEN abs(hashint8(o)) %% 10 = 0 THEN 1 + abs(hashint8(-o)) %% 20
        ELSE 1 + (o * 7919) %% %(accounts)s END,
    CASE WHEN cur = 'EUR' THEN 2 ELSE 1 END
FROM (
    SELECT o, date '2023-01-01' + (o * 1095 / %(orders)s)::int + (o * 13 %% 15)::int AS eff,
        CASE WHEN abs(hashint8(o + 7)) %% 10 = 0 THEN 'EUR' ELSE 'USD' END AS cur,
        CASE WHEN abs(hashint8(o * 5)) %% 10 = 0 THEN 'DRAFT'
            WHEN abs(hashint8(o * 5)) %% 10 < 5 THEN 'ACTIVATED' ELSE 'FULFILLED' END AS status,
        (SELECT sum(i.qty * (10 + i.product * 5)) FROM ({items_of("o")}) i) AS net
    FROM generate_series(1::bigint, %(orders)s) o
) x
"""
ITEMS = f"""
INSERT INTO orders_orderitem (order_id, line_number, product_id, price_book_entry_id,
    quantity, unit_price, unit_price_currency, list_price, list_price_currency, tax_rate,
    total, total_currency, tax_amount, tax_amount_currency, service_start_date,
    service_end_date, charge_type, billing_frequency, billing_type, revenue_method,
    available_quantity, fulfilled_quantity, return_initiated_quantity, returned_quantity,
    canceled_quantity, contract_action)
SELECT o.id, i.k, i.product, (o.price_book_id - 1) * %(products)s + i.product, i.qty, NULL,
    NULL, 10 + i.product * 5, o.currency, 20, i.qty * (10 + i.product * 5), o.currency,
    i.qty * (10 + i.product * 5) * 0.2, o.currency, o.effective_date,
    CASE WHEN i.product %% 2 = 1 THEN o.end_date END,
    CASE WHEN i.product %% 2 = 1 THEN 'RECURRING' ELSE 'ONE_TIME' END,
    CASE WHEN i.product %% 2 = 1 THEN 'MONTHLY' ELSE '' END, 'ADVANCE',
    CASE WHEN i.product %% 2 = 1 THEN 'RATABLE_MONTHLY' ELSE 'IMMEDIATE' END,
    i.qty, CASE WHEN o.status = 'FULFILLED' THEN i.qty ELSE 0 END, 0, 0, 0, 'NEW'
FROM orders_order o, LATERAL ({items_of("o.id")}) i
ORDER BY o.id, i.k
"""

# --- revenue: periods, contracts, SO lines, schedules, journal ------------------------------

PERIODS = f"""
INSERT INTO revenue_period (id, status, opened_at, closed_at, gl_file, trial_balance)
SELECT {yyyymm("d")}, CASE WHEN {yyyymm("d")} < {OPEN_PERIOD} THEN 'CLOSED' ELSE 'OPEN' END,
    d, CASE WHEN {yyyymm("d")} < {OPEN_PERIOD} THEN d + interval '1 month' END, '', '[]'
FROM generate_series(date '2024-01-01', date '{OPEN_PERIOD // 100}-{OPEN_PERIOD % 100:02d}-01',
    interval '1 month') d
"""
CONTRACTS = f"""
INSERT INTO revenue_revenuecontract (id, rc_key, created_at)
SELECT c, {number("c")}, now() FROM generate_series(1, (%(so_lines)s + 2) / 3) c
"""
# a contract's currency: 1 in 10 EUR, 1 in 10 JPY (whole yen), the rest USD
CURRENCY = "CASE ((s - 1) / 3 + 1) %% 10 WHEN 0 THEN 'EUR' WHEN 5 THEN 'JPY' ELSE 'USD' END"
# SO line s: line k (1–3) of contract c; starts in month (c × 7) mod 24 from 2024-07
SO_LINES = f"""
INSERT INTO revenue_soline (id, so_line_id, contract_id, so_num, so_date, customer, item, f_cur,
    quantity, ext_lst_prc, ext_lst_prc_currency, ext_sll_prc, ext_sll_prc_currency, rev_method,
    start_date, end_date, rev_start_date, rev_end_date, return_flag, rord_sll_prc, cmr_sll_prc,
    reduced_lst_prc, reduced_qty_months, returned_qty, contra_balance, hold, dates_changed,
    manually_released, created_at, updated_at)
SELECT s, {number("c")} || '-' || k, c, {number("c")}, start - 10,
    'ACC-' || lpad((1 + (c * 7919) %% %(accounts)s)::text, 6, '0'),
    'SKU-' || lpad((1 + (c * 31 + k * 17) %% %(products)s)::text, 4, '0'), cur, 1 + s %% 20,
    round(esp * 1.1, CASE WHEN cur = 'JPY' THEN 0 ELSE 2 END), cur, esp, cur, 'RATABLE_MONTHLY',
    start, {month("start", "%(periods)s")} - 1, start, {month("start", "%(periods)s")} - 1,
    'N', 0, 0, 0, 0, 0, 0, false, false, false, start, start
FROM (
    SELECT s, (s - 1) / 3 + 1 AS c, (s - 1) %% 3 + 1 AS k,
        {month("date '2024-07-01'", "(((s - 1) / 3 + 1) * 7) %% 24")} AS start,
        m.cur, CASE WHEN m.cur = 'JPY' THEN round(m.esp * 150) ELSE m.esp END AS esp
    FROM generate_series(1::bigint, %(so_lines)s) s, LATERAL (
        SELECT {CURRENCY} AS cur, 120 + ((s * 7919) %% 1000000)::numeric / 100 AS esp
    ) m
) x
"""
# the currency's minor unit: whole yen, cents otherwise
PLACES = "CASE WHEN l.ext_sll_prc_currency = 'JPY' THEN 0 ELSE 2 END"
# period i of a line: its share by cumulative rounding (the rows add up to EXT_SLL_PRC)
SHARE = (
    f"round(l.ext_sll_prc * (i + 1) / %(periods)s, {PLACES})"
    f" - round(l.ext_sll_prc * i / %(periods)s, {PLACES})"
)
SCHEDULE = f"""
INSERT INTO revenue_schedulerow (line_id, period, source, amount, amount_currency, kind, held,
    inbound_line_id, entry)
SELECT l.id, {yyyymm(month("l.start_date", "i"))},
    CASE WHEN l.contract_id %% 3 = 0 THEN 'INV' ELSE 'SO' END, {SHARE},
    l.ext_sll_prc_currency, 'RELEASE', false, l.id, 'RELEASE'
FROM revenue_soline l, generate_series(0, %(periods)s - 1) i
WHERE l.id BETWEEN %(lo)s AND %(hi)s
ORDER BY l.id, i
"""
# Every period of every line books its release (CL Dr / revenue Cr, source INV for a
# billed line) as its schedule row's entry (releases stored once); the stored entries: a
# billed line (contract mod 3 = 0) has its invoice's INITIAL pair (AR Dr / CL Cr, the
# whole EXT_SLL_PRC, first period) and one billed line in four a credit memo's (CM: CL Dr /
# AR Cr, a quarter, fourth period). Both written a slice of lines at a time (%(lo)s …
# %(hi)s, whole contracts): the triggers keep the ledger totals (M6) per statement, and a
# slice keeps their aggregate in memory.
JOURNAL = f"""
INSERT INTO revenue_journalentry (period, line_id, source_type, entry_type, dr_account,
    cr_account, amount, amount_currency, posted, inbound_line_id)
SELECT e.period, l.id, e.source, e.kind, e.dr, e.cr, e.amount, l.ext_sll_prc_currency,
    e.period < {OPEN_PERIOD}, l.id
FROM revenue_soline l, LATERAL (SELECT l.contract_id %% 3 = 0 AS billed) b, LATERAL (
    SELECT {yyyymm("l.start_date")} AS period, 'INV' AS source, 'INITIAL' AS kind,
        'AR' AS dr, 'CONTRACT_LIABILITY' AS cr, l.ext_sll_prc AS amount, -2 AS i
    WHERE b.billed
    UNION ALL
    SELECT {yyyymm(month("l.start_date", "3"))}, 'CM', 'INITIAL', 'CONTRACT_LIABILITY', 'AR',
        round(l.ext_sll_prc / 4, {PLACES}), -1
    WHERE b.billed AND l.id %% 4 = 0
) e
WHERE l.id BETWEEN %(lo)s AND %(hi)s AND e.amount > 0
ORDER BY l.id, e.i
"""
JOURNAL_SLICE = 60_000  # SO lines per statement (a multiple of 3: whole contracts)

# A closed period keeps its trial balance (revenue.services.periods.trial_balance: debits
# and credits per account and currency, entry sides counted), here read from the totals.
TRIAL_BALANCES = f"""
UPDATE revenue_period p SET trial_balance = tb.rows
FROM (
    SELECT period, jsonb_agg(jsonb_build_object('account', account, 'currency', currency,
        'dr', (dr / 100.0)::numeric(20, 2)::text, 'cr', (cr / 100.0)::numeric(20, 2)::text,
        'n', n) ORDER BY account, currency) AS rows
    FROM (
        SELECT period, account, currency, sum(dr) AS dr, sum(cr) AS cr, sum(n) AS n
        FROM (
            SELECT period, dr_account AS account, currency, amount_minor AS dr, 0 AS cr,
                entries AS n
            FROM revenue_ledgertotal
            UNION ALL
            SELECT period, cr_account, currency, 0, amount_minor, entries FROM revenue_ledgertotal
        ) sides
        GROUP BY 1, 2, 3
    ) accounts
    GROUP BY period
) tb
WHERE p.id = tb.period AND p.id < {OPEN_PERIOD}
"""
# M6: the totals against the journal, per period, currency, account pair and types
_JOURNAL_KEYS = """
SELECT period, amount_currency AS currency, dr_account, cr_account, entry_type, source_type,
    sum(round(amount * 100))::numeric AS minor, count(*)::numeric AS n
FROM revenue_journal GROUP BY 1, 2, 3, 4, 5, 6
"""
_TOTALS_KEYS = """
SELECT period, currency, dr_account, cr_account, entry_type, source_type,
    sum(amount_minor)::numeric AS minor, sum(entries)::numeric AS n
FROM revenue_ledgertotal GROUP BY 1, 2, 3, 4, 5, 6
HAVING sum(amount_minor) <> 0 OR sum(entries) <> 0
"""
TOTALS_CHECK = f"""
WITH j AS ({_JOURNAL_KEYS}), t AS ({_TOTALS_KEYS})
SELECT (SELECT count(*) FROM j), (SELECT coalesce(sum(n), 0) FROM j),
    (SELECT count(*) FROM revenue_ledgertotal),
    (SELECT count(*) FROM ((SELECT * FROM j EXCEPT SELECT * FROM t)
        UNION ALL (SELECT * FROM t EXCEPT SELECT * FROM j)) d),
    (SELECT string_agg(currency || ' ' || minor, ', ' ORDER BY currency)
        FROM (SELECT currency, sum(minor) AS minor FROM t GROUP BY 1) c)
"""

# --- revenue: inbound batches and lines -----------------------------------------------------

BATCHES = f"""
INSERT INTO revenue_inboundbatch (id, source, filename, created_at, line_count, error_count)
SELECT b, 'COMMAND', 'bench-' || lpad(b::text, 4, '0') || '.csv',
    now() - make_interval(hours => (%(inbound)s / {BATCH_LINES} - b)::int),
    least({BATCH_LINES}, %(inbound)s - (b - 1) * {BATCH_LINES}), 0
FROM generate_series(1, (%(inbound)s + {BATCH_LINES} - 1) / {BATCH_LINES}) b
"""
RAW = """jsonb_build_object('TRAN_TYPE', tran, 'SO_NUM', l.so_num, 'SO_LINE_ID', own_id,
    'ORIG_SO_LINE_ID', orig, 'INV_NUM', inv_num, 'INV_LINE_ID', inv_line_id,
    'CUSTOMER', l.customer, 'ITEM', l.item, 'ORD_QTY', l.quantity::text,
    'EXT_LST_PRC', elp::text, 'EXT_SLL_PRC', esp::text, 'CURR', l.ext_sll_prc_currency,
    'F_CUR', l.f_cur, 'START_DATE', l.start_date::text, 'END_DATE', l.end_date::text,
    'REV_METHOD', method)"""
# line g > SO lines: type by g mod 10; status and error code by two hashes of g
INBOUND = f"""
INSERT INTO revenue_inboundline (id, batch_id, row_number, raw, parse_errors, tran_type, so_num,
    so_line_id, orig_so_line_id, so_date, inv_num, inv_line_id, inv_date, customer, item,
    ord_qty, inv_qty, ext_lst_prc, ext_sll_prc, curr, f_cur, start_date, end_date, rev_method,
    rc_key, cancel_flag, return_flag, rord_review_completed, line_key, ref_line_id,
    content_hash, status, error_codes, errors, waiting, retry, line_id, collected_at,
    created_at, withdrawn_reason)
WITH src AS (
    SELECT g, g AS sid, 'SO' AS tran, 'COLLECTED' AS status, 0 AS e
    FROM generate_series(1::bigint, least(%(so_lines)s, %(inbound)s)) g
    UNION ALL
    SELECT g, 1 + (g * 7919) %% %(so_lines)s,
        CASE WHEN g %% 10 < 5 THEN 'INV' WHEN g %% 10 < 8 THEN 'RORD'
            WHEN g %% 10 = 8 THEN 'CM-RO' ELSE 'CM-R' END,
        CASE WHEN abs(hashint8(-g)) %% 20 < 8 THEN 'COLLECTED'
            WHEN abs(hashint8(-g)) %% 20 < 13 THEN 'NEW' ELSE 'ERROR' END,
        abs(hashint8(g)) %% 40
    FROM generate_series(%(so_lines)s + 1::bigint, %(inbound)s) g
)
SELECT g, 1 + (g - 1) / {BATCH_LINES}, 1 + (g - 1) %% {BATCH_LINES}, {RAW}, '[]', tran,
    l.so_num, own_id, orig, l.so_date, inv_num, inv_line_id,
    CASE WHEN tran = 'SO' THEN NULL ELSE l.start_date END, l.customer, l.item, l.quantity,
    CASE WHEN tran = 'SO' THEN NULL ELSE l.quantity END, elp, esp, l.ext_sll_prc_currency,
    l.f_cur, l.start_date, l.end_date, method, '', '', '', 'N',
    CASE WHEN tran IN ('SO', 'RORD') THEN own_id ELSE inv_line_id END, sol,
    md5(g::text), status, codes,
    CASE WHEN codes = '' THEN '[]'::jsonb ELSE (
        SELECT jsonb_agg(jsonb_build_object('code', c, 'rule', '', 'field', '',
            'message', c || ': stopped (bench data)'))
        FROM unnest(string_to_array(codes, ';')) c) END,
    codes = 'INB-004', false, CASE WHEN status = 'COLLECTED' THEN l.id END,
    CASE WHEN status = 'COLLECTED' THEN l.start_date + time '06:00' END,
    now() - make_interval(secs => (%(inbound)s - g)::int), ''
FROM src JOIN revenue_soline l ON l.id = src.sid, LATERAL (
    SELECT l.so_line_id AS sol,
        CASE WHEN status <> 'ERROR' THEN ''
            WHEN tran = 'RORD' AND e < 24 THEN 'RPRO-00353'
            WHEN tran = 'RORD' AND e < 30 THEN 'RPRO-00356'
            WHEN tran = 'RORD' AND e < 34 THEN 'RPRO-00353;RPRO-00356'
            WHEN e < 30 THEN 'INB-004' WHEN e < 35 THEN 'INB-001' WHEN e < 38 THEN 'RPRO-00082'
            WHEN e = 38 THEN 'INB-999' ELSE 'RPRO-00620' END AS codes,
        CASE WHEN tran IN ('SO', 'INV') THEN l.ext_sll_prc
            ELSE -round(l.ext_sll_prc / 4, 2) END AS esp,
        CASE WHEN tran IN ('SO', 'INV') THEN l.ext_lst_prc
            ELSE -round(l.ext_lst_prc / 4, 2) END AS elp,
        CASE WHEN tran IN ('SO', 'RORD') THEN 'RATABLE_MONTHLY' ELSE '' END AS method,
        CASE WHEN tran = 'SO' THEN '' ELSE 'INV-' || g END AS inv_num,
        CASE WHEN tran = 'SO' THEN '' ELSE 'INV-' || g || '-1' END AS inv_line_id,
        CASE WHEN tran = 'RORD' THEN l.so_line_id ELSE '' END AS orig,
        CASE WHEN tran = 'RORD' THEN 'RO-' || g || '-1' ELSE l.so_line_id END AS own_id
) v
ORDER BY g
"""

STEPS = (  # (label, table counted, statements)
    (
        "accounts, products, price books",
        "orders_account",
        (ACCOUNTS, PRODUCTS, PRICE_BOOKS, ENTRIES),
    ),
    ("orders", "orders_order", (ORDERS,)),
    ("order products", "orders_orderitem", (ITEMS,)),
    ("periods, revenue contracts", "revenue_revenuecontract", (PERIODS, CONTRACTS)),
    ("SO lines", "revenue_soline", (SO_LINES,)),
    ("schedule rows", "revenue_schedulerow", (SCHEDULE,)),
    ("journal entries (+ ledger totals)", "revenue_journalentry", (JOURNAL,)),
    ("inbound lines", "revenue_inboundline", (BATCHES, INBOUND)),
)
