from ...services.settings import profile_set
from ..base import RevenueCommand


class Command(RevenueCommand):
    help = "Set a profile value, e.g. CREATE_RORD_CONTRA_ENTRY Y."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("value")

    def handle(self, *args, name, value, **options):
        setting = profile_set(name=name, value=value, actor=None)
        self.stdout.write(f"{setting.name} = {setting.value}")
