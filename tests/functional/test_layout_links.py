"""The layout's links (marketplace.presentation.kept_url_for): built once and kept, under the script root the app
is served at."""

from werkzeug.routing import MapAdapter

from tests.factories import BuyerFactory


def _counting_builds(monkeypatch) -> list[str]:
    """Werkzeug's address builds from now on, by endpoint."""
    built: list[str] = []
    build = MapAdapter.build

    def counted(adapter, endpoint, *args, **kwargs):
        built.append(endpoint)
        return build(adapter, endpoint, *args, **kwargs)

    monkeypatch.setattr(MapAdapter, "build", counted)
    return built


def test_the_layouts_links_are_built_once_then_kept(app, client, login_as, monkeypatch):
    login_as(BuyerFactory())
    client.get("/notifications/")
    built = _counting_builds(monkeypatch)

    page = client.get("/notifications/").get_data(as_text=True)

    assert 'href="/jobs/"' in page
    assert 'href="/contracts"' in page
    assert "jobs.index" not in built
    assert "contracts.index" not in built
    assert "notifications.index" not in built


def test_the_kept_links_follow_the_script_root(app, client, login_as):
    login_as(BuyerFactory())
    at_root = client.get("/notifications/").get_data(as_text=True)

    under_a_prefix = client.get("/notifications/", base_url="http://localhost/market/").get_data(as_text=True)

    assert 'href="/jobs/"' in at_root
    assert 'href="/market/jobs/"' in under_a_prefix
    assert 'href="/jobs/"' not in under_a_prefix
    assert 'href="/market/jobs/"' not in client.get("/notifications/").get_data(as_text=True)
