"""The inbound file of bench/collect.py: contracts of SO lines, their invoices and, in the
``reductions`` mix, term reductions (RORD) and their credit memos (CM-RO).

Mixes (share of the lines):

- ``basic``: 80 % SO, 20 % INV (the mix of revenue part 1).
- ``reductions``: 70 % SO, 15 % INV, 10 % RORD, 5 % CM-RO. Every SO line carries
  an SSP_PCT (80–120 %), so every contract is allocated (A2, A3). A RORD takes the last
  1–6 months off a line that was invoiced (one in twenty takes all 12: a full reduction,
  P2); every other RORD gets its CM-RO for the same amount (P8 removes the contra).
- ``full`` (default of bench/collect.py): 60 % SO, 20 % INV, 10 % RORD, 5 % CM-RO and 5 %
  CM-R: as ``reductions``, and a CM-R returns part of the units of an invoiced line that
  no RORD reduces, for its last 1–6 months (P3, P5); one in ten returns every unit for the
  whole term (P2: return flag Y).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HEADER = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,CUSTOMER,"
    "ITEM,ORD_QTY,INV_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,"
    "SSP_PCT"
)
MIXES = {
    "basic": {"SO": 0.80, "INV": 0.20, "RORD": 0.0, "CM-RO": 0.0, "CM-R": 0.0},
    "reductions": {"SO": 0.70, "INV": 0.15, "RORD": 0.10, "CM-RO": 0.05, "CM-R": 0.0},
    "full": {"SO": 0.60, "INV": 0.20, "RORD": 0.10, "CM-RO": 0.05, "CM-R": 0.05},
}
CENT = Decimal("0.01")


def month_start(index: int) -> dt.date:
    """The first day of month ``index`` counted from January 2025."""
    return dt.date(2025 + index // 12, index % 12 + 1, 1)


def _months_later(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _part(amount: Decimal, months: int) -> Decimal:
    return (amount * months / 12).quantize(CENT, rounding=ROUND_HALF_UP)


class _Counter:
    """Emit the ``target``-th thing once ``done`` of ``total`` SO lines are written."""

    def __init__(self, target: int, total: int):
        self.target, self.every, self.count = target, (total / target if target else 0), 0

    def due(self, written: int) -> bool:
        return self.count < self.target and written >= (self.count + 1) * self.every


def generate(
    path: Path, lines: int, seed: int, mix: str = "reductions", ssp_share: float | None = None
) -> dict:
    """Write ``lines`` rows. SO lines: contracts of 1–5 lines, 12 months ratable monthly,
    starts over 12 months, 90 % USD / 10 % EUR. INV: bills an earlier SO line of the file
    in full, a few contracts later. RORD / CM-RO: as the module says.

    ``ssp_share`` (bench/collect.py --ssp-share): that share of the multi-line contracts
    carry SSPs (every line of them), the others none; drawn from a generator of its own, so
    the day is the same line for line whatever the share (0: a day without carve). None
    (the golden corpus's days): every SO line of a mix other than ``basic`` carries one.

    Returns the counts and what the checks need (Σ ESP per currency, the earliest start).
    """
    shares = MIXES[mix]
    rng = random.Random(seed)
    ssp_rng = random.Random(seed * 7919 + 1)
    with_ssp = 0
    targets = {kind: round(lines * share) for kind, share in shares.items()}
    targets["SO"] = lines - sum(v for k, v in targets.items() if k != "SO")
    so_count = targets["SO"]
    inv = _Counter(targets["INV"], so_count)
    rord = _Counter(targets["RORD"], so_count)
    cm_ro = _Counter(targets["CM-RO"], so_count)
    cm_r = _Counter(targets["CM-R"], so_count)
    pending: list[str] = []  # billing and reduction rows, written after their SO's contract
    invoiced: deque[tuple] = deque()  # invoiced lines not reduced yet
    written_so = contracts = 0
    expected_esp: dict[str, Decimal] = {"USD": Decimal(0), "EUR": Decimal(0)}
    earliest = None
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        while written_so < so_count:
            contracts += 1
            so_num = f"B{contracts:08d}"
            currency = "EUR" if rng.random() < 0.1 else "USD"
            start = month_start(rng.randrange(12))
            end = dt.date(start.year + 1, start.month, 1) - dt.timedelta(days=1)
            earliest = min(earliest or start, start)
            so_date = start - dt.timedelta(days=rng.randrange(30))
            customer = f"CUST-{rng.randrange(5000):05d}"
            size = rng.randint(1, 5)
            if ssp_share is None:
                carries_ssp = mix != "basic"
            else:
                carries_ssp = size > 1 and ssp_rng.random() < ssp_share
            with_ssp += carries_ssp and size > 1
            for number in range(1, size + 1):
                if written_so >= so_count:
                    break
                written_so += 1
                line_id = f"{so_num}-{number}"
                qty = rng.randint(1, 50)
                esp = Decimal(rng.randrange(10_000, 10_000_000)) / 100  # 100.00 … 99,999.99
                elp = esp + Decimal(rng.randrange(0, 500_000)) / 100
                ssp = f"{rng.randrange(80, 121)}" if mix != "basic" else ""
                ssp = ssp if carries_ssp else ""
                expected_esp[currency] += esp
                item = f"ITEM-{rng.randrange(300):03d}"
                out.write(
                    f"SO,{so_num},{line_id},,{so_date},,,,{customer},{item},{qty},,{elp},{esp},"
                    f"{currency},{currency},{start},{end},RATABLE_MONTHLY,{ssp}\n"
                )
                if inv.due(written_so):
                    inv.count += 1
                    n = inv.count
                    pending.append(
                        f"INV,{so_num},{line_id},,,I{n:08d},I{n:08d}-1,{start},{customer},"
                        f"{item},{qty},{qty},{elp},{esp},{currency},{currency},{start},{end},,\n"
                    )
                    invoiced.append((so_num, line_id, qty, elp, esp, currency, start, end))
                if rord.due(written_so):
                    rord.count += 1
                    target = invoiced.popleft() if invoiced else None
                    if target is None:
                        target = (so_num, line_id, qty, elp, esp, currency, start, end)
                    pending.extend(_reduction(target, rord.count, rng, cm_ro, written_so))
                if cm_r.due(written_so) and len(invoiced) > 1:
                    cm_r.count += 1
                    pending.append(_return(invoiced.pop(), cm_r.count, rng))
            if len(pending) >= 3 or written_so >= so_count:
                out.writelines(pending)
                pending = []
        out.writelines(pending)
    counts = {
        "SO": so_count,
        "INV": inv.count,
        "RORD": rord.count,
        "CM-RO": cm_ro.count,
        "CM-R": cm_r.count,
    }
    return {
        "so": so_count,
        "inv": inv.count,
        "counts": counts,
        "contracts": contracts,
        "ssp_contracts": with_ssp,
        "earliest": earliest,
        "esp": expected_esp,
    }


def _reduction(target: tuple, n: int, rng: random.Random, cm_ro: _Counter, written: int):
    """A RORD taking the last k months off ``target`` (k = 12 one time in twenty) and, when
    the CM-RO counter is due, its credit memo for the same amount."""
    so_num, line_id, qty, elp, esp, currency, start, end = target
    months = 12 if n % 20 == 0 else rng.randint(1, 6)
    reduced_esp, reduced_elp = _part(esp, months), _part(elp, months)
    rord_start = _months_later(start, 12 - months)
    rord_id = f"R{n:08d}-1"
    rows = [
        f"RORD,R{n:08d},{rord_id},{line_id},{rord_start},,,,,,{qty},,-{reduced_elp},"
        f"-{reduced_esp},{currency},{currency},{rord_start},{end},,\n"
    ]
    if cm_ro.due(written):
        cm_ro.count += 1
        m = cm_ro.count
        rows.append(
            f"CM-RO,R{n:08d},{rord_id},{line_id},,C{m:08d},C{m:08d}-1,{rord_start},,,,{qty},"
            f"-{reduced_elp},-{reduced_esp},{currency},{currency},{rord_start},{end},,\n"
        )
    return rows


def _return(target: tuple, n: int, rng: random.Random) -> str:
    """A CM-R returning k of the line's units for its last m months (P3, P5); one time in
    ten every unit for the whole term (P2)."""
    so_num, line_id, qty, elp, esp, currency, start, end = target
    if n % 10 == 0 or qty == 1:
        units, months = qty, 12
    else:
        units, months = rng.randint(1, qty - 1), rng.randint(1, 6)
    returned_esp = _part(esp * units / qty, months)
    returned_elp = _part(elp * units / qty, months)
    first = _months_later(start, 12 - months)
    return (
        f"CM-R,{so_num},{line_id},,,M{n:08d},M{n:08d}-1,{first},,ITEM,{units},{units},"
        f"-{returned_elp},-{returned_esp},{currency},{currency},{first},{end},,\n"
    )
