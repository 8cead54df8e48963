from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Contra back office"
admin.site.site_title = "Contra"
admin.site.index_title = "Orders, returns and revenue"
admin.site.enable_nav_sidebar = False  # the width goes to the tables

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
