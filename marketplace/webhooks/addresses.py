"""Which addresses the platform may call: the lab's own public servers, never the platform's network.

An endpoint's address is checked when it is registered and again before every call (a name may point elsewhere
by then): each address its host resolves to must be public, unless WEBHOOKS_ALLOW_PRIVATE is on (the tests and
the demo, whose receivers run on 127.0.0.1). The call then goes to the address checked, not to a second lookup,
so a name that changes its answer between the check and the call (DNS rebinding) reaches nothing private.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from marketplace.errors import Refusal

MAX_URL = 2000


class AddressRefused(Refusal):
    """The address may not be called; the message says why, for the form's URL field."""

    default_field = "url"


@dataclass(frozen=True)
class Target:
    """Where a call goes: the URL's parts, and the one address checked."""

    scheme: str
    host: str
    port: int
    path: str  # with the query
    address: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(ip, "ipv4_mapped", None)
    return not (mapped or ip).is_global


def check(url: str, *, allow_private: bool, production: bool) -> Target:
    """The target of `url` if the platform may call it; AddressRefused otherwise.

    https always (plain http only to a private address while private addresses are allowed, never in production);
    no user name or password in the address; every address the host resolves to public unless allowed.
    """
    url = (url or "").strip()
    if not url:
        raise AddressRefused("Give the address to call.")
    if len(url) > MAX_URL:
        raise AddressRefused(f"Keep the address under {MAX_URL:,} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("This is not a web address (https://…).") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AddressRefused("The address must start with https:// and name a host.")
    if parts.username or parts.password:
        raise AddressRefused("Leave the user name and password out of the address: the signature proves the caller.")
    if parts.scheme == "http" and (production or not allow_private):
        raise AddressRefused("The address must use https://.")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    if not allow_private and any(_private(ipaddress.ip_address(a)) for a in addresses):
        raise AddressRefused("This address is on a private network or this machine: give a public one.")
    if parts.scheme == "http" and not all(_private(ipaddress.ip_address(a)) for a in addresses):
        raise AddressRefused("The address must use https:// (plain http only reaches a test server on this network).")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, addresses[0])


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> list[str]:
    if _is_ip(host):
        return [host]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise AddressRefused(f"We could not find the host {host}: check the address.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not addresses:
        raise AddressRefused(f"We could not find the host {host}: check the address.")
    return addresses
