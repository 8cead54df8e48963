from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The HTTP API (interchange.md "HTTP API"): thin views over the apps' services."""

    name = "api"
    verbose_name = "API"
