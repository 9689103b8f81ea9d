#!/usr/bin/env python3
"""A local stand-in for Stripe's API: localstripe, plus the few calls it lacks that the marketplace makes.

    python dev/stripe_sim/run.py --port 8420 [--webhook-url URL --webhook-secret whsec_...]

From localstripe (PyPI), unchanged: customers, payment methods, PaymentIntents, refunds (but see below), events,
and its signed webhook deliveries. Added here, answering with the shapes of Stripe's API reference:
  - Connect: POST/GET /v1/accounts, POST /v1/account_links (with a local onboarding page), POST/GET
    /v1/transfers, and the `account.updated` and `transfer.created` events;
  - Checkout: POST/GET /v1/checkout/sessions, POST /v1/checkout/sessions/{id}/expire (with a local payment
    page), and the `checkout.session.completed` and `checkout.session.expired` events;
  - Refunds: the `refund.created` and `charge.refunded` events, and Stripe's refusal of a refund larger than
    what is left of the charge, which localstripe lacks;
  - Idempotency-Key replay, which localstripe ignores.
It always starts from scratch and keeps nothing on disk (localstripe's own persistence is switched off, see
docs/pitfalls.md), and listens on 127.0.0.1 only.
"""

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checkout  # noqa: E402
import connect  # noqa: E402
import refunds  # noqa: E402
from aiohttp import web  # noqa: E402
from idempotency import idempotency_middleware  # noqa: E402
from localstripe import resources, server  # noqa: E402
from localstripe.webhooks import register_webhook  # noqa: E402

HOSTED_PREFIX = "/hosted/"


@web.middleware
async def auth_unless_hosted(request: web.Request, handler):
    """The payment and onboarding pages are for a browser, as Stripe's own pages are; the API needs a key."""
    if request.path.startswith(HOSTED_PREFIX):
        return await handler(request)
    return await server.auth_middleware(request, handler)


def build_app() -> web.Application:
    # Never read or write localstripe's pickle: every start is from scratch (--from-scratch, always).
    resources.Store.dump_to_disk = lambda self: None
    app = server.app
    middlewares = app.middlewares
    middlewares[middlewares.index(server.auth_middleware)] = auth_unless_hosted
    middlewares.remove(server.save_store_middleware)
    middlewares.insert(1, idempotency_middleware)
    connect.add_routes(app)
    checkout.add_routes(app)
    refunds.install()
    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--from-scratch", action="store_true", help="accepted for localstripe's sake; always so")
    parser.add_argument("--webhook-url", help="deliver every event here, signed with --webhook-secret")
    parser.add_argument("--webhook-secret")
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    app = build_app()
    if args.webhook_url:
        register_webhook("app", args.webhook_url, args.webhook_secret, None)
    logging.basicConfig(level=logging.INFO, format="stripe-sim: %(message)s")
    print(f"stripe-sim listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
