"""Python reference model of the Ethernet MAC's frame processing (docs/eth.md, "Behaviour").

Independent of the RTL: it implements dma_eth.md's receive and transmit rules directly on bytes
(with ``zlib.crc32`` for the FCS) and keeps the statistics counters under the register names of
the register map (``atsoc.hdl.eth.registers``, the one shared description). The testbenches use
it as the scoreboard: what must be delivered, which counter each dropped frame lands in.
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field


__all__ = ["RxFrame", "RxConfig", "EthMACModel", "fcs", "tx_wire_frame", "VERDICT_COUNTER"]

PREAMBLE = b"\x55" * 7 + b"\xd5"
MIN_FRAME, MAX_FRAME, MAX_FRAME_VLAN = 64, 1518, 1522

#: Counter that a dropped frame increments, by verdict (rtl: RxVerdict).
VERDICT_COUNTER = {
    "FCS": "rxfcserl", "UNDERSIZE": "rxundrl", "FRAGMENT": "rxfragl", "OVERSIZE": "rxovrl",
    "RX_ER": "rxerrl", "PREAMBLE": "rxaerl", "FILTERED": "rxfiltl", "OVERFLOW": "rxovfl",
}
SIZE_BINS = ((64, "64bl"), (65, "65b127l"), (128, "128b255l"), (256, "256b511l"),
             (512, "512b1023l"), (1024, "1024bmaxl"))


def fcs(payload: bytes) -> bytes:
    """FCS of ``payload`` in wire order."""
    return zlib.crc32(payload).to_bytes(4, "little")


def tx_wire_frame(payload: bytes) -> bytes:
    """What the transmitter puts on the wire for ``payload``: preamble, SFD, padded frame, FCS."""
    padded = payload + bytes(max(0, 60 - len(payload)))
    return PREAMBLE + padded + fcs(padded)


@dataclass
class RxFrame:
    """A frame as it is offered on the wire (GMII bytes after rx_dv rises).

    Attributes
    ----------
    wire : bytes
        Every byte while rx_dv is high: preamble, SFD, frame, FCS (or anything else).
    error : list of int, optional
        rx_er per byte (None: never).
    """

    wire: bytes
    error: list | None = None


@dataclass
class RxConfig:
    """The receive-side register state the model needs."""

    unicast: bytes = bytes(6)
    promiscuous: bool = False
    bcast_reject: bool = False
    mcast_reject: bool = False
    jumbo: bool = False
    jumbo_bytes: int = 9018
    rx_enable: bool = True


@dataclass
class EthMACModel:
    """Receive classification and statistics.

    Attributes
    ----------
    config : RxConfig
    counters : Counter
        By register name (``rxfl``, ``rxfcserl``, ...).
    delivered : list of bytes
        Frames (FCS stripped) in delivery order.
    """

    config: RxConfig = field(default_factory=RxConfig)
    counters: Counter = field(default_factory=Counter)
    delivered: list = field(default_factory=list)

    def classify(self, frame: RxFrame) -> tuple[str, bytes]:
        """Verdict of one received frame and its bytes from the destination address to the FCS."""
        wire, err = frame.wire, frame.error or [0] * len(frame.wire)
        rx_er = any(err[:len(wire)])
        i = 0
        while i < len(wire) and wire[i] == 0x55:
            i += 1
        if i >= len(wire) or wire[i] != 0xD5:
            return ("RX_ER" if rx_er else "PREAMBLE"), b""
        body = wire[i + 1:]
        n = len(body)
        if rx_er:
            return "RX_ER", body
        crc_ok = n >= 4 and fcs(body[:-4]) == body[-4:]
        if n < MIN_FRAME:
            return ("UNDERSIZE" if crc_ok else "FRAGMENT"), body
        vlan = body[12:14] == b"\x81\x00"
        limit = self.config.jumbo_bytes if self.config.jumbo else (MAX_FRAME_VLAN if vlan else MAX_FRAME)
        if n > limit:
            return "OVERSIZE", body
        if not crc_ok:
            return "FCS", body
        if not self.accepts(body[:6]):
            return "FILTERED", body
        return "OK", body

    def accepts(self, dest: bytes) -> bool:
        c = self.config
        bcast = dest == b"\xff" * 6
        group = bool(dest[0] & 1)
        return (c.promiscuous or (bcast and not c.bcast_reject)
                or (group and not bcast and not c.mcast_reject) or (not group and dest == c.unicast))

    def receive(self, frame: RxFrame, *, overflow: bool = False) -> str:
        """Process one frame; ``overflow`` says the buffer had no room (decided by the caller)."""
        verdict, body = self.classify(frame)
        if verdict == "OK" and overflow:
            verdict = "OVERFLOW"
        if verdict == "OK":
            self._count_ok("rx", body)
            self.delivered.append(body[:-4])
        else:
            self.counters[VERDICT_COUNTER[verdict]] += 1
        return verdict

    def transmit(self, payload: bytes) -> bytes:
        """Count one transmitted frame; returns its wire bytes."""
        wire = tx_wire_frame(payload)
        self._count_ok("tx", wire[8:])
        return wire

    def _count_ok(self, d: str, body: bytes) -> None:
        n = len(body)
        self.counters[f"{d}fl"] += 1
        self.counters[f"{d}bl"] += n
        if body[:6] == b"\xff" * 6:
            self.counters[f"{d}bcstfl"] += 1
        elif body[0] & 1:
            self.counters[f"{d}mcstfl"] += 1
        if body[12:14] == b"\x81\x00":
            self.counters[f"{d}vlanfl"] += 1
        for i, (low, suffix) in enumerate(SIZE_BINS):
            high = SIZE_BINS[i + 1][0] if i + 1 < len(SIZE_BINS) else 1 << 30
            if low <= n < high:
                self.counters[f"{d}{suffix}"] += 1

    def dropped(self) -> int:
        """Frames counted as dropped."""
        return sum(self.counters[c] for c in VERDICT_COUNTER.values())
