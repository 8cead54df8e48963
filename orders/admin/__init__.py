from . import billing, orders, reductions, reference, reports  # noqa: F401  (registers the admins)
