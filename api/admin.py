"""API tokens are made with ``manage.py api_token USERNAME`` (shown once, on the server):
DRF's own token admin, which lists every key in clear, is not offered."""

from django.contrib import admin
from rest_framework.authtoken.models import TokenProxy

if admin.site.is_registered(TokenProxy):
    admin.site.unregister(TokenProxy)
