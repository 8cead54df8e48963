from . import billing, orders, reductions, reference  # noqa: F401  (registers the admin classes)
