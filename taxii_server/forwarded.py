"""Who sent a request: ``X-Forwarded-*`` headers believed only from our own proxies.

Behind reverse proxies the client's address (what failed logins are counted under,
what the audit log records) and the public scheme and host (discovery URLs) arrive in
the proxies' ``X-Forwarded-For``, ``-Proto`` and ``-Host`` headers.  Any client can
send those headers too, so they are believed only when the request comes from a proxy:

* ``server.trusted_proxies = N`` says how many proxies stand in front of the server
  (werkzeug's ``ProxyFix`` then takes the N-th value from the right of each header,
  the one the outermost proxy wrote);
* ``server.trusted_proxy_addresses`` lists the addresses or networks those proxies
  connect from.  The headers count only when the connection comes from one of them
  and, through a chain of proxies, when the hops ``X-Forwarded-For`` records between
  them are listed too.  Otherwise every ``X-Forwarded-*`` header is dropped and the
  client is the connection's own address, or, when it reached one of our inner proxies
  from outside the chain, the address that proxy recorded: a client cannot choose the
  address its failed logins count under by sending the header itself.

A request with forwarded headers from an address not listed is logged once per
process, so a proxy missing from the list shows up in the log rather than as every
client sharing the proxy's address.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from werkzeug.http import parse_list_header
from werkzeug.middleware.proxy_fix import ProxyFix

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["FORWARDED_HEADERS", "ForwardedFromProxies", "parse_networks"]

_log = logging.getLogger(__name__)

#: The WSGI keys of the headers a proxy sets (werkzeug's ProxyFix reads these).
FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(addresses: Iterable[str]) -> tuple[Network, ...]:
    """Addresses (``10.0.0.5``) and networks (``10.0.0.0/24``) as networks; raises
    ``ValueError`` naming the first that is neither."""
    networks = []
    for text in addresses:
        try:
            networks.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or network") from None
    return tuple(networks)


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        parsed = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped  # ::ffff:10.0.0.5 is 10.0.0.5
    return parsed


class ForwardedFromProxies:
    """WSGI middleware: ``ProxyFix`` for ``proxies`` hops, applied only to requests
    that come from ``addresses``; forwarded headers are dropped from all others."""

    def __init__(self, app: WSGIApplication, *, proxies: int, addresses: Sequence[str]) -> None:
        self._app = app
        self._proxied = ProxyFix(app, x_for=proxies, x_proto=proxies, x_host=proxies)
        self._hops = proxies
        self._networks = parse_networks(addresses)
        self._warned = False

    def _trusted(self, text: str | None) -> bool:
        address = _address(text)
        return address is not None and any(address in network for network in self._networks)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        peer = environ.get("REMOTE_ADDR")
        hops = parse_list_header(environ.get("HTTP_X_FORWARDED_FOR", ""))
        if self._trusted(peer):
            # Each proxy appended the address that reached it: walking from the right,
            # the entries of our inner proxies, then the client.
            inner = 0
            while inner < self._hops - 1 and inner < len(hops) and self._trusted(hops[-1 - inner]):
                inner += 1
            if inner == self._hops - 1 and (self._hops == 1 or len(hops) > inner):
                return self._proxied(environ, start_response)  # through the whole chain
            if hops:
                # Someone reached one of our proxies from outside the chain: that
                # address is the client's; nothing else forwarded is believed.
                environ["REMOTE_ADDR"] = hops[-1 - min(inner, len(hops) - 1)]
        elif hops and not self._warned:
            self._warned = True
            _log.warning(
                "X-Forwarded-For from %s ignored: that address is not in "
                "server.trusted_proxy_addresses (logged once per process)",
                peer,
            )
        for header in FORWARDED_HEADERS:
            environ.pop(header, None)
        return self._app(environ, start_response)
