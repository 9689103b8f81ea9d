"""The API reference renders in a browser from the app's own files, under the site's content security policy."""

from playwright.sync_api import expect


def test_the_api_reference_renders_every_operation_without_a_policy_violation(page, live_server):
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    page.goto(live_server.url("/api/v1/docs"))
    expect(page.get_by_text("Arm's Length marketplace API")).to_be_visible(timeout=15000)
    expect(page.get_by_text("List the jobs you may see")).to_be_visible()
    expect(page.get_by_text("Award a bid (or ask your approvers)")).to_be_visible()
    assert problems == []  # a style or script the policy blocked is a console error
