"""Which addresses may reach an org's Admin API. An empty whitelist lets every address in
(a new org must be able to log in to configure it); the first entry closes the door to all
others. Entries are single addresses or CIDR networks, IPv4 or IPv6. The caller's address
is API Gateway's `sourceIp`, never a client-set header.

Removing the last entry that admits the caller itself is refused, so an owner cannot lock
every admin out by mistake (an empty list admits all, so removing the very last entry is fine).
"""
from __future__ import annotations

import ipaddress
from typing import Optional

from chalicelib.domain.errors import InvalidParameter, IpNotAllowed, NotFound
from chalicelib.store import admin_whitelist as store


def normalize(network: str) -> str:
    try:
        return str(ipaddress.ip_network((network or "").strip(), strict=False))
    except ValueError:
        raise InvalidParameter("ip", "Give an IP address or a CIDR network") from None


def _admits(networks: list[str], ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for network in networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def allowed(org_id: str, ip: str) -> bool:
    networks = [e["network"] for e in store.entries(org_id)]
    return not networks or _admits(networks, ip)


def check(org_id: str, ip: str) -> None:
    if not allowed(org_id, ip):
        raise IpNotAllowed(f"Address {ip or 'unknown'} is not on this org's admin whitelist")


def list_entries(org_id: str) -> list[dict]:
    return store.entries(org_id)


def add(org_id: str, network: str, note: str, created_by: str, caller_ip: str) -> dict:
    network = normalize(network)
    current = [e["network"] for e in store.entries(org_id)]
    if not current and not _admits([network], caller_ip):
        raise InvalidParameter("ip", "The first whitelist entry must admit your own address "
                                     f"({caller_ip}); otherwise nobody could reach the back office")
    return store.add(org_id, network, (note or "")[:200], created_by)


def remove(org_id: str, network: str, caller_ip: str) -> Optional[dict]:
    network = normalize(network)
    entry = store.get(org_id, network)
    if entry is None:
        raise NotFound("No such whitelist entry")
    rest = [e["network"] for e in store.entries(org_id) if e["network"] != network]
    if rest and not _admits(rest, caller_ip):
        raise InvalidParameter("ip", "Removing this entry would shut out your own address")
    store.remove(org_id, network)
    return entry
