"""factory-boy factories for every model. Orders and order products are created through
the services, so they carry numbers, prices, totals and audit events like real ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from djmoney.money import Money

from core.models import AuditAction, AuditEvent, DocumentSequence
from orders.models import (
    Account,
    BillingFrequency,
    ChargeType,
    Order,
    OrderItem,
    OrderKind,
    PriceBook,
    PriceBookEntry,
    Product,
    RevenueMethod,
)
from orders.services import order_activate, order_item_save, order_save


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    number = factory.Sequence(lambda n: f"ACC-{n:05d}")
    name = factory.Faker("company")
    currency = "USD"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Widget {n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    charge_type = ChargeType.ONE_TIME
    default_revenue_method = RevenueMethod.IMMEDIATE

    class Params:
        recurring = factory.Trait(
            charge_type=ChargeType.RECURRING,
            default_billing_frequency=BillingFrequency.MONTHLY,
            default_revenue_method=RevenueMethod.RATABLE_DAILY,
        )


class PriceBookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBook

    name = factory.Sequence(lambda n: f"Price book {n}")


class PriceBookEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceBookEntry

    price_book = factory.SubFactory(PriceBookFactory)
    product = factory.SubFactory(ProductFactory)
    list_price = Money("10.00", "USD")


class OrderFactory(factory.django.DjangoModelFactory):
    """A Draft standard order (through ``order_save``: numbered and audited)."""

    class Meta:
        model = Order

    account = factory.SubFactory(AccountFactory)
    price_book = factory.SubFactory(PriceBookFactory)
    currency = "USD"
    effective_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 12, 31)
    kind = OrderKind.STANDARD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return order_save(order=model_class(*args, **kwargs), user=None)


class OrderItemFactory(factory.django.DjangoModelFactory):
    """An order product priced from its order's price book (an entry is made if missing)."""

    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("1")
    unit_price = None
    tax_rate = Decimal("0")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        item = model_class(*args, **kwargs)
        order = item.order
        if order.price_book_id:
            PriceBookEntry.objects.get_or_create(
                price_book=order.price_book,
                product=item.product,
                list_price_currency=str(order.currency),
                defaults={"list_price": Money("10.00", str(order.currency))},
            )
        return order_item_save(item=item, user=None)


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    content_type = factory.LazyFunction(lambda: ContentType.objects.get_for_model(Order))
    object_id = "1"
    object_repr = "ORD-000001"
    action = AuditAction.CHANGED
    actor_label = "system"


class DocumentSequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DocumentSequence
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"SEQ{n}")


def make_order(*, lines=((Decimal("3"), "10.00"),), activate=False, user=None, **kwargs):
    """An order with one product per (quantity, unit price) line, optionally activated."""
    order = OrderFactory(**kwargs)
    for qty, price in lines:
        OrderItemFactory(
            order=order,
            quantity=Decimal(qty),
            unit_price=Money(price, str(order.currency)) if price is not None else None,
        )
    if activate:
        order = order_activate(order=order, user=user)
    order.refresh_from_db()
    return order


def third_party_admin_objects() -> None:
    """Objects for the third-party admins (django-celery-beat / -results) that the demo
    data has none of, so that their change pages can be visited too."""
    from django.utils import timezone
    from django_celery_beat.models import ClockedSchedule, SolarSchedule
    from django_celery_results.models import GroupResult, TaskResult

    if not ClockedSchedule.objects.exists():
        ClockedSchedule.objects.create(clocked_time=timezone.now())
    SolarSchedule.objects.get_or_create(event="sunrise", latitude=0, longitude=0)
    TaskResult.objects.get_or_create(task_id="admin-task", defaults={"status": "SUCCESS"})
    GroupResult.objects.get_or_create(group_id="admin-group")
