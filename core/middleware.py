"""Bad input refused before any view: NUL characters in a request."""

from __future__ import annotations

from django.http import HttpResponseBadRequest

NUL = "\x00"


class RejectNulMiddleware:
    """A NUL character (U+0000) in the URL, the querystring or a form field is refused
    with 400 naming where it is. No field of Contra holds one (PostgreSQL text cannot),
    and Django hands such values to the database as they come in ids, list filters and
    the hidden keys of formsets: on PostgreSQL a DataError, a 500. Uploaded files are not
    looked at (a NUL there stops its line, I2)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = nul_in(request)
        if where:
            return HttpResponseBadRequest(
                f"Bad request: {where} contains a NUL character (U+0000), which no field "
                "accepts. Remove it and try again.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def nul_in(request) -> str:
    """Where the request carries a NUL character ('' when nowhere)."""
    if NUL in request.path:
        return "the URL"
    sources = [("the querystring", request.GET)]
    if request.method == "POST":
        sources.append(("the form", request.POST))
    for label, data in sources:
        for key, values in data.lists():
            if NUL in key or any(NUL in value for value in values):
                return f"{label} field {key.replace(NUL, '?')[:40]!r}"
    return ""
