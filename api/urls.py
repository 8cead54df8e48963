"""``/api/v1/`` (interchange.md "HTTP API"), the OpenAPI schema and its docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from .views import billing, orders, returns, revenue

router = DefaultRouter()
router.register("inbound-lines", revenue.InboundLineViewSet, basename="inbound-line")
router.register("collection-runs", revenue.CollectionRunViewSet, basename="collection-run")
router.register("periods", revenue.PeriodViewSet, basename="period")
router.register("lines", revenue.SoLineViewSet, basename="so-line")
router.register("orders", orders.OrderViewSet, basename="order")
router.register("reduction-orders", orders.ReductionOrderViewSet, basename="reduction-order")
router.register("cancellations", orders.CancellationViewSet, basename="cancellation")
router.register("invoices", billing.InvoiceViewSet, basename="invoice")
router.register("credit-memos", billing.CreditMemoViewSet, basename="credit-memo")
router.register("returns", returns.ReturnOrderViewSet, basename="return-order")
router.register("refunds", returns.RefundViewSet, basename="refund")

v1 = [
    *router.urls,
    path("journal/", revenue.JournalView.as_view(), name="journal"),
    path("schedule/", revenue.ScheduleView.as_view(), name="schedule"),
    path("reports/<str:kind>/", revenue.ReportView.as_view(), name="report"),
    path("billing-reconcile/", billing.BillingReconcileView.as_view(), name="billing-reconcile"),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="v1")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
