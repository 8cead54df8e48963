"""Admin lists read at volume: the inbound batch counts (I1), the contract search and the
period totals (S2), the journal account filter (S3): each from indexes or kept figures
rather than a scan."""

from __future__ import annotations

from django.contrib.admin import site
from django.db.models import Q, Sum
from django.urls import reverse

from revenue.admin.common import amount_text
from revenue.models import InboundBatch, InboundLine, JournalEntry, Period, RevenueContract, SoLine
from tests.revenue.test_admin import GOOD_CSV, HEADER, so_rows


def test_batch_list_counts_new_collected_and_stopped_lines(admin_client, ledger):
    """I1: the counts the list shows (collected = a batch's lines less its new and stopped
    ones, each count read from an index alone) are its lines' statuses, and the list sorts
    by collected."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_rule", "RPRO-00353", "--enable")
    ledger.stage(GOOD_CSV)
    ledger.collect()  # collected, stopped and waiting lines
    ledger.stage(HEADER + "\n" + so_rows(2, start=5000))  # a second batch, all new
    admin = site._registry[InboundBatch]
    changelist = reverse("admin:revenue_inboundbatch_changelist")
    for query in ({}, {"o": "-9"}, {"o": "9"}):
        response = admin_client.get(changelist, query)
        assert response.status_code == 200
        batches = list(response.context["cl"].result_list)
        shown = [(admin.new(b), admin.collected(b), b._stopped) for b in batches]
        wanted = [
            tuple(
                InboundLine.objects.filter(batch=b, status=status).count()
                for status in ("NEW", "COLLECTED", "ERROR")
            )
            for b in batches
        ]
        assert shown == wanted
        if query:
            collected = [c for _, c, _ in shown]
            assert collected == sorted(collected, reverse=query["o"] == "-9")
    assert {(new > 0, collected > 0, stopped > 0) for new, collected, stopped in shown} == {
        (True, False, False),
        (False, True, True),
    }


def test_contract_search_by_rc_key_or_so_line_id_beginning(admin_client, ledger):
    """Contracts are found by their RC_KEY or one of their SO_LINE_IDs, whole or by its
    beginning, typed in any case; each contract once however many of its lines match."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(GOOD_CSV)
    ledger.collect()
    changelist = reverse("admin:revenue_revenuecontract_changelist")

    def found(term: str) -> list[str]:
        response = admin_client.get(changelist, {"q": term})
        assert response.status_code == 200
        return sorted(c.rc_key for c in response.context["cl"].result_list)

    s1 = SoLine.objects.get(so_line_id="S1-1").contract.rc_key
    assert found("S1-1") == [s1]  # an SO_LINE_ID
    assert found("s1-") == [s1]  # its beginning, lower case: one contract, not one per line
    assert found(s1) == [s1]  # the RC_KEY
    assert found(s1[:-1]) == [k for k in found("") if k.startswith(s1[:-1])]
    assert found("NO-SUCH-KEY") == []
    assert len(found("")) == RevenueContract.objects.count()


def test_period_list_totals_of_a_closed_period_come_from_its_trial_balance(admin_client, ledger):
    """S2: a closed period's entries and debits per currency, read from the trial balance
    kept at its close, are what its entries add up to; the open period's are summed."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(GOOD_CSV)
    ledger.collect()
    ledger.cmd("revenue_period", "close")
    admin = site._registry[Period]
    response = admin_client.get(reverse("admin:revenue_period_changelist"))
    assert response.status_code == 200
    periods = {p.pk: p for p in response.context["cl"].result_list}
    assert periods[202601].status == "CLOSED" and periods[202602].status == "OPEN"
    for pk, period in periods.items():
        entries = JournalEntry.objects.filter(period=pk)
        sums = (
            entries.values_list("amount_currency")
            .annotate(total=Sum("amount"))
            .order_by("amount_currency")
        )
        assert period._entries == entries.count()
        assert period._totals == [(amount_text(t, c), c) for c, t in sums]
    assert periods[202601]._entries > 0 and periods[202602]._entries > 0
    html = response.content.decode()
    assert admin.debits(periods[202601]) in html


def test_journal_account_filter_lists_every_entry_touching_the_account(admin_client, ledger):
    """S3: the account filter lists the entries with the account on either side; for an
    account outside the release pair it reads ``journal_other_accounts`` (entries that
    are not CL / Revenue pairs) and must still list every one of them."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(GOOD_CSV)
    ledger.collect()
    changelist = reverse("admin:revenue_journalentry_changelist")
    seen = set()
    for account in ("AR", "CONTRACT_LIABILITY", "REVENUE", "CONTRA_AR"):
        response = admin_client.get(changelist, {"account": account, "all": ""})
        assert response.status_code == 200
        listed = {e.pk for e in response.context["cl"].queryset}
        touching = JournalEntry.objects.filter(Q(dr_account=account) | Q(cr_account=account))
        assert listed == set(touching.values_list("pk", flat=True))
        seen.add(bool(listed))
    assert seen == {True, False}  # AR and the release accounts have entries, contra AR none
