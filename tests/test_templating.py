"""The templates' i18n: `_()`, `ngettext` and `{% trans %}` read the project's catalog, and
values are escaped (autoescape on)."""

from __future__ import annotations

import locales
from bot.web.templating import environment

SOURCE = (
    "{{ _('Sign out') }}|{{ ngettext('%(num)d day left', '%(num)d days left', n) }}|"
    "{% trans %}Sign in{% endtrans %}|{{ _('Signed in as %(name)s', name=who) }}"
)


def _render(language: str, n: int) -> str:
    with locales.use(language):
        return environment().from_string(SOURCE).render(n=n, who="<b>Ann</b>")


def test_the_catalog_answers_in_templates_in_both_languages() -> None:
    assert _render("da", 1) == "Log ud|1 dag tilbage|Log ind|Logget ind som &lt;b&gt;Ann&lt;/b&gt;"
    assert _render("da", 3).split("|")[1] == "3 dage tilbage"
    assert _render("en", 3) == ("Sign out|3 days left|Sign in|Signed in as &lt;b&gt;Ann&lt;/b&gt;")
