import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from revenue.selectors import journal_nets, schedule_nets


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class Ledger:
    """Drive the sub-ledger through its management commands, as a user would."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.files = 0

    def cmd(self, *args) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    def stage(self, text: str, suffix: str = "csv") -> str:
        self.files += 1
        path = self.tmp / f"lines{self.files}.{suffix}"
        path.write_text(text.strip() + "\n")
        return self.cmd("revenue_import", str(path))

    def collect(self) -> str:
        return self.cmd("revenue_collect")

    def nets(self, **kw) -> dict:
        return journal_nets(**kw)

    def schedule(self) -> dict:
        return schedule_nets()

    def export(self, kind: str) -> list[dict]:
        import csv

        return list(csv.DictReader(io.StringIO(self.cmd("revenue_export", kind))))


@pytest.fixture
def ledger(db, tmp_path):
    return Ledger(tmp_path)


def D(value) -> Decimal:
    return Decimal(str(value))
