"""One refusal type for a staged line (issue 16): every stop (I2, I7, I9, V rules) is a
``LineRefusal``, stored on the line with the keys the staging page and exports read."""

from revenue.services.refusals import LineRefusal


def test_a_refusal_is_stored_with_code_rule_field_and_message_in_words():
    refusal = LineRefusal.stop(
        code="RPRO-00357", rule="V9", field="EXT_SLL_PRC", detail="below what reductions took"
    )
    assert refusal.as_dict() == {
        "code": "RPRO-00357",
        "rule": "V9",
        "field": "EXT_SLL_PRC",
        "message": "RPRO-00357: below what reductions took",  # the rule ID only in "rule"
    }


def test_a_staged_line_that_does_not_parse_carries_an_i2_refusal(db, tmp_path):
    from django.core.management import call_command

    from revenue.models import InboundLine

    path = tmp_path / "bad.csv"
    path.write_text(
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR\n"
        "SO,S,S-1,2026-13-01,1,10,ten,USD\n"
    )
    call_command("revenue_import", str(path), stdout=None)
    (line,) = InboundLine.objects.all()
    fields = {error["field"] for error in line.parse_errors}
    assert {"SO_DATE", "EXT_SLL_PRC"} <= fields
    assert all(set(error) == {"code", "rule", "field", "message"} for error in line.errors)
    assert {error["rule"] for error in line.parse_errors} == {"I2"}


def test_each_v_rule_constant_is_its_registry_code():
    """V1–V16: the constants the checks use (``grep -n V9`` reaches the check) are the
    codes the registry gives each rule."""
    from revenue.services import validation
    from revenue.services.settings import RULES

    by_rule: dict[str, set[str]] = {}
    for rule, code, *_ in RULES:
        by_rule.setdefault(rule, set()).add(code)
    constants = {
        name: getattr(validation, name)
        for name in dir(validation)
        if name[:1] == "V" and name[1:2].isdigit()
    }
    found: dict[str, set[str]] = {}
    for name, code in constants.items():
        found.setdefault(name.split("_")[0], set()).add(code)
    assert found == by_rule
    assert (validation.V15, validation.V16) == ("INB-007", "INB-008")
    assert {f"V{n}" for n in range(1, 17)} == set(by_rule)
