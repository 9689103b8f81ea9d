"""Programs (the API's clients, identity providers on SCIM) get errors in their own formats, never the site's pages.

Flask looks for a handler of an error's code, in the blueprint and then in the app, before it looks for a handler
of the error's class: a blueprint that handles HTTPException alone still answers with the app's page for every code
the app has a page for. The SCIM blueprint did so for 403, 404, 413 and 429 (a request over the size limit got the
site's HTML page); this holds every such code to a handler of the API's and of SCIM's own.
"""

import pytest


@pytest.mark.parametrize("blueprint", ["api", "scim"])
def test_every_code_the_app_answers_with_a_page_has_the_programs_own_handler(app, blueprint):
    pages = {code for code in app.error_handler_spec[None] if code is not None}
    assert pages >= {403, 404, 413, 429, 500}  # the site's pages this guards against, read from the app itself
    own = {code for code in app.error_handler_spec.get(blueprint, {}) if code is not None}
    assert pages <= own, f"{blueprint} answers these codes with the site's page: {sorted(pages - own)}"
