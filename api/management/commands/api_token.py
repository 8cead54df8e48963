"""``manage.py api_token USERNAME [--rotate]``: create (or show) the user's API token."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create or show the API token of a user (Authorization: Token <key>)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate",
            "--reset",
            dest="reset",
            action="store_true",
            help="replace the existing token (interchange.md: --rotate; --reset is the same)",
        )

    def handle(self, *args, username, reset=False, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username!r}: create it in the admin first", returncode=2)
        if not user.is_active:
            raise CommandError(f"user {username!r} is not active", returncode=2)
        if reset:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
        self.stderr.write(f"{'created' if created else 'existing'} token of {username}")
