import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo superuser when no superuser exists yet (prints its login)."

    def handle(self, *args, **options):
        users = get_user_model()
        username = os.environ.get("CONTRA_DEMO_USER", "admin")
        password = os.environ.get("CONTRA_DEMO_PASSWORD", "admin")
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("superuser exists: nothing created")
            return
        users.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(f"created demo superuser {username} / {password}")
