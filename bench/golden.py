"""The golden corpus of the collection engine (issue 16): what the ledger holds after whole
generated days, kept so that a new engine proves it moved nothing, to the cent.

A case is a day of ``bench/collect_data.py`` (a mix, a seed, a number of lines) collected
with the contra profile Y or N, then two periods closed. Its *digest* is every export of
``revenue_export`` (journal, schedule, lines, staging) and the month-end reports of
close.md (M1 waterfall and M3 balances by contract, M2 roll-forward, M4 checklist):

- ``totals``: each export's rows counted and added up per period, account and currency
  (exact, in cents, readable in a diff);
- ``hashes``: one short hash per SO line and export (its rows sorted, surrogate ids left
  out), so that a difference names the lines that moved;
- ``reports``: each report's totals as they are, and a hash per row group.

``tests/revenue/test_golden.py`` collects every case in the test database and compares it
with ``tests/golden/<case>.json.gz``, on whichever database the suite runs (CI: SQLite and
PostgreSQL). Write the corpus again only when a change of the ledger is intended, and say
why in the commit:

    make golden                          # compare (CI runs it on both databases)
    CONTRA_GOLDEN_WRITE=1 make golden    # write
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "golden"
LINES = 20_000


@dataclass(frozen=True)
class Case:
    mix: str
    contra: str  # CREATE_RORD_CONTRA_ENTRY
    seed: int
    lines: int = LINES
    closes: int = 2

    @property
    def name(self) -> str:
        return f"{self.mix}-contra-{self.contra.lower()}-{self.lines}"

    @property
    def path(self) -> Path:
        return CORPUS / f"{self.name}.json.gz"


CASES = [
    Case(mix, contra, seed=16_000 + i)
    for i, (mix, contra) in enumerate(
        (mix, contra) for mix in ("basic", "reductions", "full") for contra in ("Y", "N")
    )
]


# --- one case ------------------------------------------------------------------------------


def case_collect(case: Case, folder: Path) -> None:
    """Open the day's first period, set the profile, stage the day as ``revenue_import``
    does, collect it as ``revenue_collect`` does, then close ``case.closes`` periods."""
    from django.core.management import call_command

    from bench.collect_data import generate
    from revenue.services.periods import period_close, period_open
    from revenue.services.settings import profile_set
    from revenue.services.splits import period_of

    path = folder / f"{case.name}.csv"
    made = generate(path, case.lines, case.seed, case.mix)
    period_open(period=period_of(made["earliest"]), actor=None)
    profile_set(name="CREATE_RORD_CONTRA_ENTRY", value=case.contra, actor=None)
    call_command("revenue_import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    call_command("revenue_collect", stdout=io.StringIO(), stderr=io.StringIO())
    for _ in range(case.closes):
        period_close(actor=None)
    path.unlink()


def _hash(rows: list) -> str:
    text = "\n".join(",".join(str(cell) for cell in row) for row in sorted(rows, key=str))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _cents(text) -> int:
    return int(Decimal(str(text or 0)) * 100)


def _export_digest() -> tuple[dict, dict]:
    """(totals, hashes) of the four exports."""
    from revenue.selectors import (
        journal_export_rows,
        lines_export_rows,
        schedule_export_rows,
        staging_export_rows,
    )

    totals: dict = {}
    hashes: dict = {}

    def grouped(rows, key, row_of):
        groups = defaultdict(list)
        count = 0
        for row in rows:
            count += 1
            groups[str(key(row))].append(row_of(row))
        return count, {k: _hash(v) for k, v in sorted(groups.items())}

    # journal: period, line, source, type, account, debit, credit, currency, posted
    sums: dict = defaultdict(lambda: [0, 0])
    rows = []
    for row in journal_export_rows():
        rows.append(row)
        period, _line, _source, _type, account, debit, credit, currency, _posted = row
        total = sums[f"{period} {account} {currency}"]
        total[0] += _cents(debit)
        total[1] += _cents(credit)
    count, hashes["journal"] = grouped(rows, lambda r: r[1], lambda r: r)
    totals["journal"] = {"rows": count, "dr_cr_cents": dict(sorted(sums.items()))}

    sums = defaultdict(int)
    rows = []
    for row in schedule_export_rows():  # line, period, source, net
        rows.append(row)
        sums[f"{row[1]} {row[2]}"] += _cents(row[3])
    count, hashes["schedule"] = grouped(rows, lambda r: r[0], lambda r: r)
    totals["schedule"] = {"rows": count, "cents": dict(sorted(sums.items()))}

    sums = defaultdict(int)
    rows = []
    for row in lines_export_rows():  # line, rc, currency, net, …
        rows.append(row)
        sums[row[2]] += _cents(row[3])
    count, hashes["lines"] = grouped(rows, lambda r: r[0], lambda r: r)
    totals["lines"] = {"rows": count, "net_cents": dict(sorted(sums.items()))}

    counts: dict = defaultdict(int)
    rows = []
    for row in staging_export_rows():  # id (left out), type, line, orig, status, codes, review
        rows.append(row[1:])
        counts[f"{row[1]} {row[4]}"] += 1
    count, hashes["staging"] = grouped(rows, lambda r: r[1], lambda r: r)
    totals["staging"] = {"rows": count, "by_type_status": dict(sorted(counts.items()))}
    return totals, hashes


REPORTS = {
    "waterfall": ["waterfall", "--by", "contract"],
    "rollforward": ["rollforward"],
    "balances": ["balances", "--by", "contract"],
    "checklist": ["checklist"],
}


def _report_digest(*, whole: bool = False) -> dict:
    from django.core.management import call_command

    from revenue.selectors import open_period_id
    from revenue.services.splits import period_add

    found = {}
    p = open_period_id()
    for name, args in REPORTS.items():
        if name == "rollforward":
            args = [*args, "--period", str(period_add(p, -3)), "--through", str(p)]
        out = io.StringIO()
        call_command("revenue_report", *args, "--format", "json", stdout=out)
        data = json.loads(out.getvalue())
        rows = data.get("rows", [])
        if whole:
            rows_digest = rows
        elif name in ("waterfall", "balances"):
            by_group = defaultdict(list)
            for row in rows:
                by_group[row["group"]].append(sorted(row.items(), key=str))
            rows_digest = {k: _hash(v) for k, v in sorted(by_group.items())}
        else:
            rows_digest = [{k: v for k, v in row.items() if k != "url"} for row in rows]
        found[name] = {
            "period": data.get("period"),
            "totals": data.get("totals"),
            "rows": rows_digest,
        }
    return found


def case_digest(case: Case) -> dict:
    totals, hashes = _export_digest()
    return {
        "case": case.name,
        "mix": case.mix,
        "contra": case.contra,
        "seed": case.seed,
        "lines": case.lines,
        "closes": case.closes,
        "totals": totals,
        "reports": _report_digest(),
        "hashes": hashes,
    }


# --- the spec's vectors: small, kept whole ------------------------------------------------

VECTORS = CORPUS / "vectors"


def ledger_whole() -> dict:
    """Every export's rows, sorted, surrogate ids left out, and the reports as JSON (M1
    and M3 by contract, M2 over the last four periods, M4) when a period is open: what a
    spec vector leaves, kept whole (a few hundred rows)."""
    from revenue.selectors import (
        journal_export_rows,
        lines_export_rows,
        schedule_export_rows,
        staging_export_rows,
    )

    def text(rows):
        return sorted([",".join(str(cell) for cell in row) for row in rows])

    found = {
        "journal": text(journal_export_rows()),
        "schedule": text(schedule_export_rows()),
        "lines": text(lines_export_rows()),
        "staging": text(row[1:] for row in staging_export_rows()),
    }
    from revenue.selectors import open_period_id

    if open_period_id() is not None:
        found["reports"] = _report_digest(whole=True)
    return found


def vector_path(name: str) -> Path:
    return VECTORS / f"{name}.json"


def vector_read(name: str) -> dict:
    return json.loads(vector_path(name).read_text(encoding="utf-8"))


def vector_write(name: str, found: dict) -> None:
    VECTORS.mkdir(parents=True, exist_ok=True)
    vector_path(name).write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")


def whole_differences(expected: dict, found: dict, *, limit: int = 10) -> list[str]:
    """Rows that left and rows that came, per export; reports that differ."""
    problems = []
    for kind in sorted(set(expected) | set(found)):
        want, got = expected.get(kind), found.get(kind)
        if want == got:
            continue
        if isinstance(want, list) and isinstance(got, list):
            gone = [row for row in want if row not in got][:limit]
            came = [row for row in got if row not in want][:limit]
            problems.append(f"{kind}: rows gone {gone}, rows new {came}")
        else:
            problems.append(f"{kind}: {json.dumps(want)[:2000]} → {json.dumps(got)[:2000]}")
    return problems


def corpus_read(case: Case) -> dict:
    with gzip.open(case.path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def corpus_write(case: Case, digest: dict) -> None:
    CORPUS.mkdir(parents=True, exist_ok=True)
    # mtime 0: the same digest always writes the same bytes
    with open(case.path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped:
        zipped.write(json.dumps(digest, indent=0, sort_keys=True).encode())


def digest_differences(expected: dict, found: dict, *, limit: int = 10) -> list[str]:
    """What moved, in words: totals and report figures in full, then the first SO lines
    (or report groups) whose rows differ."""
    problems = []
    for part in ("totals", "reports"):
        for key in sorted(set(expected[part]) | set(found[part])):
            want, got = expected[part].get(key), found[part].get(key)
            if want == got:
                continue
            if part == "reports" and isinstance(want, dict) and isinstance(got, dict):
                for sub in ("period", "totals"):
                    if want.get(sub) != got.get(sub):
                        problems.append(f"report {key} {sub}: {want.get(sub)} → {got.get(sub)}")
                problems += _keyed(f"report {key} rows", want.get("rows"), got.get("rows"), limit)
            else:
                problems += _keyed(f"{part} {key}", want, got, limit)
    for kind in sorted(set(expected["hashes"]) | set(found["hashes"])):
        problems += _keyed(
            f"{kind} rows of SO line",
            expected["hashes"].get(kind),
            found["hashes"].get(kind),
            limit,
        )
    return problems


def _keyed(label: str, want, got, limit: int) -> list[str]:
    if want == got:
        return []
    if not isinstance(want, dict) or not isinstance(got, dict):
        return [f"{label}: {want!r} → {got!r}"]
    keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    shown = ", ".join(f"{k} ({want.get(k)!r} → {got.get(k)!r})" for k in keys[:limit])
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return [f"{label}: {len(keys)} differ: {shown}{more}"]
