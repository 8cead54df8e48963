"""``field__any=[…]``: membership in a long list as one array parameter.

Django writes ``field__in=[…]`` as ``IN (%s, %s, …)``: one placeholder per value, which
the driver parses and binds one by one (a 2,000-id batch query cost about 4 ms in psycopg
before it reached the server). On PostgreSQL ``__any`` writes ``field = ANY(%s::type[])``
with the list as one array, the same plan and index; elsewhere it is ``__in``.
"""

from __future__ import annotations

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return list(dict.fromkeys(self.rhs))

    def as_sql(self, compiler, connection):
        return In(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection) for value in self.rhs]
        if field.is_relation:
            field = field.target_field
        kind = field.cast_db_type(connection)
        return f"{lhs} = ANY(%s::{kind}[])", [*params, values]


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)  # keeps its own lookups: ``line_id__any``
