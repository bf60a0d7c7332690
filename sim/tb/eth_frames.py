"""Frame generators for the Ethernet MAC tests: scapy frames and deliberately bad wire frames."""

from __future__ import annotations

import random

from atsoc.sim.model.eth import PREAMBLE, RxFrame, fcs


__all__ = ["STATION", "OTHER", "scapy_frame", "good_wire", "random_frame_kinds", "bad_frame"]

STATION = bytes.fromhex("020000000001")       # the MAC's unicast address in the tests
OTHER = bytes.fromhex("0200000000ff")         # a unicast address the filter rejects
PEER = bytes.fromhex("020000000002")


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def scapy_frame(rng: random.Random, size: int, dst: bytes = STATION, kind: str | None = None) -> bytes:
    """A frame of ``size`` bytes without FCS (60..1514 normally; more for jumbo tests)."""
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.l2 import ARP, Dot1Q, Ether
    from scapy.packet import Raw

    kind = kind or rng.choice(["arp", "udp", "icmp", "vlan", "raw"])
    eth = Ether(dst=_mac(dst), src=_mac(PEER))
    if kind == "arp":
        pkt = eth / ARP(op=1, psrc="10.0.0.2", pdst="10.0.0.1", hwsrc=_mac(PEER))
    elif kind == "udp":
        pkt = eth / IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=7, dport=7)
    elif kind == "icmp":
        pkt = eth / IP(src="10.0.0.2", dst="10.0.0.1") / ICMP(id=rng.randrange(65536))
    elif kind == "vlan":
        pkt = eth / Dot1Q(vlan=rng.randrange(1, 4095)) / IP(src="10.0.0.2", dst="10.0.0.1") / UDP(sport=7, dport=7)
    else:
        pkt = Ether(dst=_mac(dst), src=_mac(PEER), type=0x88B5)
    head = bytes(pkt)
    if len(head) < size:
        head = bytes(pkt / Raw(bytes(rng.randrange(256) for _ in range(size - len(head)))))
        if kind in ("udp", "icmp", "vlan"):
            # Rebuild so that IP/UDP lengths and checksums cover the padding (tshark checks them).
            from scapy.layers.l2 import Ether as E
            head = bytes(E(head))
    return head[:size] if len(head) > size else head


def good_wire(frame: bytes) -> RxFrame:
    """``frame`` (no FCS, at least 60 bytes for a legal frame) as it arrives from a PHY."""
    return RxFrame(PREAMBLE + frame + fcs(frame))


BAD_KINDS = ("fcs", "rx_er", "runt", "fragment", "oversize", "no_sfd", "filtered")


def bad_frame(rng: random.Random, kind: str) -> RxFrame:
    """A frame that the MAC must drop, of the given kind."""
    if kind == "fcs":
        f = scapy_frame(rng, rng.randrange(60, 1515))
        w = bytearray(PREAMBLE + f + fcs(f))
        w[rng.randrange(8, len(w))] ^= 1 << rng.randrange(8)
        return RxFrame(bytes(w))
    if kind == "rx_er":
        f = scapy_frame(rng, rng.randrange(60, 1515))
        w = PREAMBLE + f + fcs(f)
        err = [0] * len(w)
        err[rng.randrange(8, len(w))] = 1
        return RxFrame(w, err)
    if kind == "runt":
        f = scapy_frame(rng, 60)[:rng.randrange(14, 60)]
        return RxFrame(PREAMBLE + f + fcs(f))
    if kind == "fragment":
        f = scapy_frame(rng, 60)[:rng.randrange(1, 56)]
        return RxFrame(PREAMBLE + f + bytes(4))
    if kind == "oversize":
        f = scapy_frame(rng, rng.randrange(1515, 2000), kind="raw")
        return RxFrame(PREAMBLE + f + fcs(f))
    if kind == "no_sfd":
        f = scapy_frame(rng, rng.randrange(60, 200))
        return RxFrame(b"\x55" * 7 + f + fcs(f))      # first frame byte (0x02) is not an SFD
    if kind == "filtered":
        f = scapy_frame(rng, rng.randrange(60, 1515), dst=OTHER)
        return RxFrame(PREAMBLE + f + fcs(f))
    raise ValueError(kind)
