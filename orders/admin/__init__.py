from . import orders, reference  # noqa: F401  (registers the admin classes)
