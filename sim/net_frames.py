"""Frames of the network demo's wire-side peer, built and checked with scapy: requests (ARP,
ICMP echo, UDP echo), the key that pairs a reply with its request, and the exact check of a reply
(addresses, payload, every checksum). Shared by the system-model tests (tests/test_net.py) and the
RTL SoC's testbench (:mod:`atsoc.sim.soc_system`)."""

from __future__ import annotations

from atsoc.sim.net_system import STATION_IP, STATION_MAC


__all__ = ["STATION_MAC", "STATION_IP", "PEER_MAC", "PEER_IP", "MAC_TEXT", "IP_TEXT", "arp_request",
           "ping", "udp", "request_key", "reply_key", "checksums_ok", "check_reply"]

#: The peer's addresses on the wire.
PEER_MAC = "02:00:00:00:00:01"
PEER_IP = "10.0.0.1"

MAC_TEXT = ":".join(f"{b:02x}" for b in STATION_MAC)
IP_TEXT = ".".join(str(b) for b in STATION_IP)


def arp_request(pdst: str = IP_TEXT) -> bytes:
    from scapy.layers.l2 import ARP, Ether
    return bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=PEER_MAC)
                 / ARP(op=1, hwsrc=PEER_MAC, psrc=PEER_IP, pdst=pdst))


def ping(seq: int, payload: bytes = b"ping") -> bytes:
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    return bytes(Ether(dst=MAC_TEXT, src=PEER_MAC) / IP(src=PEER_IP, dst=IP_TEXT)
                 / ICMP(id=0x1234, seq=seq) / Raw(payload))


def udp(sport: int, payload: bytes, dport: int = 7) -> bytes:
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    return bytes(Ether(dst=MAC_TEXT, src=PEER_MAC) / IP(src=PEER_IP, dst=IP_TEXT)
                 / UDP(sport=sport, dport=dport) / Raw(payload))


def request_key(request: bytes):
    """(kind, key) of the reply a request must get."""
    from scapy.layers.inet import ICMP, UDP
    from scapy.layers.l2 import ARP, Ether
    e = Ether(request)
    if e.haslayer(ARP):
        return "arp", e[ARP].pdst
    if e.haslayer(ICMP):
        return "icmp", e[ICMP].seq
    return "udp", e[UDP].sport


def reply_key(reply: bytes):
    """(kind, key) a reply answers: pairs it with :func:`request_key` of its request."""
    from scapy.layers.inet import ICMP, UDP
    from scapy.layers.l2 import ARP, Ether
    r = Ether(reply)
    if r.haslayer(ARP):
        return "arp", r[ARP].psrc
    if r.haslayer(ICMP):
        return "icmp", r[ICMP].seq
    return "udp", r[UDP].dport


def checksums_ok(frame: bytes) -> bool:
    """Whether every checksum of an IPv4 reply is what scapy computes for it."""
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.l2 import Ether
    ip = Ether(frame)[IP]
    copy = ip.copy()
    copy.chksum = None
    for layer in (UDP, ICMP):
        if copy.haslayer(layer):
            copy[layer].chksum = None
    rebuilt = IP(bytes(copy))
    ok = rebuilt.chksum == ip.chksum
    for layer in (UDP, ICMP):
        if ip.haslayer(layer):
            ok &= rebuilt[layer].chksum == ip[layer].chksum
    return ok


def answered_requests(requests, replies) -> int:
    """Pair each reply with its request (:func:`reply_key` / :func:`request_key`), check every
    pair with :func:`check_reply`, and return how many requests were answered. Two replies to
    one request and a reply to no request are assertion errors."""
    by_key = {}
    for reply in replies:
        key = reply_key(reply)
        assert key not in by_key, f"two replies for {key}"
        by_key[key] = reply
    answered = 0
    for request in requests:
        key = request_key(request)
        if key in by_key:
            check_reply(request, by_key.pop(key))
            answered += 1
    assert not by_key, f"replies to nothing: {list(by_key)}"
    return answered


def check_reply(request: bytes, reply: bytes) -> None:
    """The reply is exactly right for the request (addresses, payload, every checksum)."""
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.l2 import ARP, Ether
    q, r = Ether(request), Ether(reply)
    assert r.dst == PEER_MAC and r.src == MAC_TEXT, (r.dst, r.src)
    if q.haslayer(ARP):
        assert r[ARP].op == 2 and r[ARP].hwsrc == MAC_TEXT and r[ARP].psrc == IP_TEXT
        assert r[ARP].hwdst == PEER_MAC and r[ARP].pdst == PEER_IP
        return
    assert r[IP].src == IP_TEXT and r[IP].dst == PEER_IP and checksums_ok(reply), "IP/checksums"
    if q.haslayer(ICMP):
        assert r[ICMP].type == 0 and (r[ICMP].id, r[ICMP].seq) == (q[ICMP].id, q[ICMP].seq)
        load = bytes(q[ICMP].payload)
        assert bytes(r[ICMP].payload)[:len(load)] == load, "ICMP payload"
    else:
        assert (r[UDP].sport, r[UDP].dport) == (7, q[UDP].sport)
        load = bytes(q[UDP].payload)
        assert r[UDP].len == q[UDP].len and bytes(r[UDP].payload)[:len(load)] == load, "UDP payload"
