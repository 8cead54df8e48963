from ...services.settings import rule_switch
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "V rules: switch a validation rule on or off by its code (e.g. RPRO-00353)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--enable", action="store_true")
        group.add_argument("--disable", action="store_true")

    def handle(self, *args, code, enable, disable, **options):
        rule = rule_switch(code=code, enabled=enable, actor=None)
        self.stdout.write(f"{rule.code} {'enabled' if rule.enabled else 'disabled'} [{rule.rule}]")
