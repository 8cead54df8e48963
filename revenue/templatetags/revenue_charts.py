"""``{% chart_assets %}``: the chart stylesheet, Chart.js and charts.js, once per page.

admin/revenue/includes/chart.html calls it after every chart; the first call of a page's
render emits the tags, the later ones nothing (a page may have several charts). The flag
lives in the render context's root, which every include of one render shares.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

register = template.Library()

KEY = "revenue_chart_assets"
STYLESHEET = "revenue/charts.css"
SCRIPTS = ("revenue/vendor/chart.umd.min.js", "revenue/charts.js")


@register.simple_tag(takes_context=True)
def chart_assets(context) -> str:
    root = context.render_context.dicts[0]
    if root.get(KEY):
        return ""
    root[KEY] = True
    return format_html(
        '<link rel="stylesheet" href="{}">'
        '<script src="{}" defer></script><script src="{}" defer></script>',
        static(STYLESHEET),
        *(static(path) for path in SCRIPTS),
    )
