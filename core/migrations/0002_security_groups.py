"""The two working groups of the back office (spec README, "Who uses it"):

- **Ops**: orders and returns work — create, edit, activate, deactivate and fulfil orders,
  reduction orders (R1: *Create Reduction Orders*) and cancellations, RMAs from creation to
  refund, simple returns and cancels; billing documents, accounts, products and price
  books read-only.
- **Revenue accountant**: the revenue sub-ledger — inbound lines (upload, fix, delete
  uncollected, RORD review I5), collection runs (I6), periods (open, close S1-S2), the
  journal, SO lines (hold / release / re-date S10), contracts, validation rules and
  profile settings; orders, billing and returns read-only.

Posting and voiding invoices, voiding or issuing credit memos by hand and *Bill now* are
left to superusers (finance supervisors): no group gets them.

A data migration runs before ``post_migrate`` on a fresh database, so the permission rows
are created here first. Running it twice changes nothing; reversing it removes the two
groups (and their memberships)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

APPS = ("core", "orders", "revenue", "returns")
VIEW, EDIT, ALL = ("view",), ("view", "add", "change"), ("view", "add", "change", "delete")


def model_perms(app: str, model: str, actions=VIEW, *custom: str) -> list[str]:
    return [f"{app}.{action}_{model}" for action in actions] + [f"{app}.{c}" for c in custom]


ORDERS_READ = [
    perm
    for model in (
        "account",
        "product",
        "pricebook",
        "pricebookentry",
        "billingrun",
        "invoice",
        "invoiceline",
        "creditmemo",
        "creditmemoline",
    )
    for perm in model_perms("orders", model)
]

OPS = [
    *model_perms(
        "orders",
        "order",
        ALL,  # delete: Draft orders only (O3)
        "activate_order",
        "deactivate_order",
        "fulfil_order",
        "create_reduction_order",  # R1: "Create Reduction Orders"
    ),
    *model_perms("orders", "orderitem", ALL),  # products of Draft orders (O4)
    # reduction orders and cancellations: Activate / Deactivate on their page, delete Draft
    *model_perms("orders", "reductionorder", ("view", "change", "delete")),
    *ORDERS_READ,
    *model_perms(
        "returns",
        "returnorder",
        EDIT,  # add: Create RMA…; change: its status buttons
        "approve_returnorder",
        "process_returnorder",
        "close_returnorder",
        "cancel_returnorder",
        "simple_return",
    ),
    *model_perms("returns", "returnorderline"),
    *model_perms("returns", "returnprocessing"),
    *model_perms("returns", "refund", ("view", "change"), "settle_refund"),
    *model_perms("core", "auditevent"),
]

ACCOUNTANT = [
    *model_perms("revenue", "inboundbatch"),
    # add: upload (I1); change: fix a stopped line (I3, I4); delete: uncollected only (I4)
    *model_perms("revenue", "inboundline", ALL, "review_inboundline"),  # I5
    *model_perms("revenue", "collectionrun", VIEW, "collect_now"),  # I6
    # add: open the first period (S1); change + close_period: close it (S2)
    *model_perms("revenue", "period", EDIT, "close_period"),
    *model_perms("revenue", "journalentry"),
    *model_perms("revenue", "soline", VIEW, "manage_schedule"),  # S10
    *model_perms("revenue", "schedulerow"),
    *model_perms("revenue", "contraentry"),
    *model_perms("revenue", "revenuecontract"),
    *model_perms("revenue", "validationrule", ("view", "change")),
    *model_perms("revenue", "profilesetting", ("view", "change")),
    *model_perms("orders", "order"),
    *model_perms("orders", "orderitem"),
    *model_perms("orders", "reductionorder"),
    *ORDERS_READ,
    *model_perms("returns", "returnorder"),
    *model_perms("returns", "returnorderline"),
    *model_perms("returns", "returnprocessing"),
    *model_perms("returns", "refund"),
    *model_perms("core", "auditevent"),
]

GROUPS = {"Ops": OPS, "Revenue accountant": ACCOUNTANT}


def permissions_create(apps, schema_editor) -> None:
    """The permission rows of our apps (post_migrate has not run yet on a fresh db)."""
    for label in APPS:
        app_config = apps.get_app_config(label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # historical app configs have none
        try:
            create_permissions(
                app_config, verbosity=0, using=schema_editor.connection.alias, apps=apps
            )
        finally:
            app_config.models_module = models_module


def groups_create(apps, schema_editor) -> None:
    """Create or complete the groups; a permission missing from the database is an error
    (a renamed model must not silently drop a right)."""
    permissions_create(apps, schema_editor)
    db = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        wanted = {tuple(perm.split(".", 1)) for perm in perms}
        rows = Permission.objects.using(db).filter(
            content_type__app_label__in={app for app, _ in wanted},
            codename__in={codename for _, codename in wanted},
        )
        found = {
            (p.content_type.app_label, p.codename): p for p in rows.select_related("content_type")
        }
        missing = sorted(f"{app}.{codename}" for app, codename in wanted - found.keys())
        if missing:
            raise RuntimeError(f"group {name!r}: no such permission(s): {', '.join(missing)}")
        group, _ = Group.objects.using(db).get_or_create(name=name)
        group.permissions.add(*(found[key] for key in wanted))


def groups_delete(apps, schema_editor) -> None:
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("orders", "0007_returns_quantities"),
        ("revenue", "0005_inbound_open_ref"),
        ("returns", "0001_initial"),
    ]

    operations = [migrations.RunPython(groups_create, groups_delete)]
