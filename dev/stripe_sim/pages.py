"""The simulator's own web pages (Checkout and Connect onboarding), plainly marked as simulated."""

import html

from aiohttp import web

STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; background: #f6f7fb; color: #1a1f36; margin: 0; }
.banner { background: #ffde92; padding: .5rem 1rem; font-weight: 600; }
main { max-width: 32rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
       box-shadow: 0 2px 8px rgba(0,0,0,.08); }
label { display: block; margin-top: .8rem; font-weight: 600; }
input, select { width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
button { margin-top: 1rem; background: #635bff; color: #fff; border: 0; padding: .7rem 1.2rem;
         font-size: 1rem; border-radius: 6px; cursor: pointer; }
.error { color: #b3093c; font-weight: 600; }
.amount { font-size: 2rem; font-weight: 700; }
small { color: #697386; }
"""


def page(title: str, body: str, status: int = 200) -> web.Response:
    text = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head><body>
<div class="banner" role="note">Simulated Stripe — a local test server. No real money moves.</div>
<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return web.Response(text=text, content_type="text/html", status=status)
