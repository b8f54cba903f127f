"""Where the safe fetcher may connect: URL rules and the IP address policy.

Every address a host resolves to must be public (or inside the test-only allowed networks);
embedded IPv4 addresses (IPv4-mapped, NAT64, 6to4, Teredo) are judged as IPv4.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
        "2001:db8::/32",
        "100::/64",
        "2001:10::/28",
        "2001:20::/28",
        "5f00::/16",
        "3fff::/20",
    )
)
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class Refused(Exception):
    """The fetcher will not make this request; `code` is the reason clients may see."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


def parse_target(url):
    """Split a URL into (scheme, host, port), refusing what the fetcher never requests."""
    if not isinstance(url, str) or len(url) > 2048 or any(c in url for c in "\r\n\t\\ "):
        raise Refused("url_not_allowed", "malformed URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused("url_not_allowed", "malformed URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused("url_not_allowed", f"scheme {scheme or '(none)'}")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("url_not_allowed", "credentials in URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("url_not_allowed", "no host")
    try:
        host = host.encode("idna").decode("ascii") if not _is_ip_literal(host) else host
    except UnicodeError as exc:
        raise Refused("url_not_allowed", "invalid host name") from exc
    return scheme, host.lower(), port or DEFAULT_PORTS[scheme]


def _is_ip_literal(host):
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def embedded_ipv4(ip):
    """The IPv4 address an IPv6 address stands for, if it carries one."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip):
    inner = embedded_ipv4(ip)
    if inner is not None:
        return is_public(inner)
    if any(ip in net for net in BLOCKED_NETWORKS if net.version == ip.version):
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


class AddressPolicy:
    """Decides which resolved addresses and ports a request may reach."""

    def __init__(self, allowed_networks=(), resolver=socket.getaddrinfo):
        self.allowed_networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        self._resolver = resolver

    def _allowed_privately(self, ip):
        inner = embedded_ipv4(ip) or ip
        return any(inner in net for net in self.allowed_networks if net.version == inner.version)

    def resolve(self, host, port, default_port):
        """All (address, port) pairs of `host`; each address must pass, or the request is
        refused before connecting. The port is the resolver's answer (the URL's port, unless a
        test resolver points the name somewhere else)."""
        try:
            infos = self._resolver(host, port, 0, socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise Refused("dns_failed", host) from exc
        addresses = []
        for info in infos:
            entry = (ipaddress.ip_address(info[4][0].split("%", 1)[0]), info[4][1])
            if entry not in addresses:
                addresses.append(entry)
        if not addresses:
            raise Refused("dns_failed", host)
        for ip, _port in addresses:
            if self._allowed_privately(ip):
                continue
            if not is_public(ip):
                raise Refused("address_not_allowed", str(ip))
            if port != default_port:
                raise Refused("port_not_allowed", str(port))
        return addresses
