"""Where a webhook may go: http or https, and not into the private network (SPEC §6).

Checked when a subscription is made and again at every attempt, on the addresses the host
resolves to then: a name that resolved to a public address at subscription time can point
at 10.0.0.1 later (DNS rebinding). The attempt then connects to the address it checked,
not to whatever a second lookup would return.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
_RESOLVE_TIMEOUT_SECONDS = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


class UnsafeTarget(ValueError):
    """The URL is malformed, not http(s), or reaches a private address that is not allowed."""


class Unresolvable(OSError):
    """The host does not resolve (now); a delivery retries, a subscription is accepted."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    # The address the attempt connects to: the one that was checked.
    address: IPAddress


# Special-purpose blocks (IANA's IPv4 and IPv6 special-purpose registries) that are not
# globally reachable but that ``is_global`` passes on some Python versions (its table grew in
# 3.11.10, 3.12.4 and 3.13): listed here so the answer does not depend on the patch release.
_NOT_GLOBAL: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments (but see below)
    ipaddress.ip_network("192.88.99.0/24"),  # the deprecated 6to4 relay anycast
    ipaddress.ip_network("64:ff9b:1::/48"),  # local-use IPv4/IPv6 translation
    ipaddress.ip_network("100:0:0:1::/64"),  # dummy IPv6 prefix
    ipaddress.ip_network("2002::/16"),  # 6to4: deprecated, and a door to any IPv4 address
    ipaddress.ip_network("3fff::/20"),  # documentation
    ipaddress.ip_network("5f00::/16"),  # segment routing SIDs
    ipaddress.ip_network("fec0::/10"),  # site-local, deprecated but still routed inside sites
)
# The two globally reachable addresses inside 192.0.0.0/24 (PCP and TURN anycast).
_GLOBAL_EXCEPTIONS = frozenset(ipaddress.ip_address(a) for a in ("192.0.0.9", "192.0.0.10"))

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries and may be routed to: mapped
    (``::ffff:a.b.c.d``), translated (``::ffff:0:a.b.c.d``), IPv4-compatible (``::a.b.c.d``),
    NAT64 (``64:ff9b::a.b.c.d``), 6to4 (``2002:AABB:CCDD::``) and Teredo (server and client)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if any(address in net for net in (_NAT64, _IPV4_TRANSLATED, _IPV4_COMPATIBLE)):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
    return found


def _global(address: IPAddress) -> bool:
    if address in _GLOBAL_EXCEPTIONS:
        return True
    if not address.is_global or address.is_multicast:
        return False
    return not any(address in net for net in _NOT_GLOBAL if net.version == address.version)


def is_private(address: IPAddress) -> bool:
    """Anything but a globally routable unicast address: private ranges, loopback,
    link-local (cloud metadata at 169.254.169.254), CGNAT, multicast, every other
    special-purpose block, and an IPv6 address whose embedded IPv4 address is one of those
    (``[::ffff:127.0.0.1]``, ``[64:ff9b::7f00:1]``, ``[2002:7f00:1::]``...)."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return True  # "fe80::1%eth0": a zone only means something on the local link
    return not _global(address) or not all(_global(v4) for v4 in embedded_ipv4(address))


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(_RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, ValueError) as err:
        # ValueError: a name IDNA cannot encode (UnicodeError is one).
        raise Unresolvable(f"cannot resolve {host}: {err}") from None
    # sockaddr[0] may carry an IPv6 scope ("fe80::1%eth0"): ipaddress parses that too.
    return [ipaddress.ip_address(str(info[4][0])) for info in infos]


def parse(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL; ``UnsafeTarget`` otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"URL longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeTarget(f"malformed URL: {err}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("URL must be http or https")
    if not parts.hostname:
        raise UnsafeTarget("URL has no host")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _refuse_private(host: str, addresses: list[IPAddress]) -> None:
    private = [a for a in addresses if is_private(a)]
    if private:
        raise UnsafeTarget(
            f"{host} is a private, loopback or link-local address ({private[0]}); "
            "set BRAIN_WEBHOOK_ALLOW_PRIVATE=true to allow it"
        )


async def check_subscription_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> None:
    """At subscription time. A host that does not resolve yet is accepted: every attempt
    checks again."""
    _, host, port = parse(url)
    if allow_private:
        return
    literal = _literal(host)
    if literal is not None:
        _refuse_private(host, [literal])
        return
    try:
        _refuse_private(host, await resolver(host, port))
    except Unresolvable:
        return


async def resolve_target(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> Target:
    """At delivery time: the address to connect to, checked (every address the name has
    must be public, so the check cannot be dodged by round-robin answers)."""
    scheme, host, port = parse(url)
    literal = _literal(host)
    addresses = [literal] if literal is not None else await resolver(host, port)
    if not addresses:
        raise Unresolvable(f"{host} has no address")
    if not allow_private:
        _refuse_private(host, addresses)
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])
