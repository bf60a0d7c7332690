"""A small network application on the reference driver's executor: ARP, ICMP echo and UDP echo.

:class:`EchoResponder` is the firmware's packet logic, hand-written on bytes (what a small
network stack on the CPU does): it answers ARP requests for its IPv4 address, ICMP echo requests
to it and UDP datagrams to its echo port, and checks and computes every checksum (IPv4 header,
ICMP, UDP with its pseudo-header). Frames it does not answer are counted by reason.

:class:`NetService` runs it on an :class:`~.executor.Executor` over an
:class:`~.netdev.AxiEthNet`, in either configuration of driver.md's executor:

* ``"plic"``: the DMA and MAC interrupts are PLIC sources; the executor's
  :class:`~.executor.PlicBackend` claims them and runs their handler tasks; the handlers wake the
  application task through the software ready queue;
* ``"atsintc"``: the interrupts are ATSINTC lines whose handler tasks re-register themselves after
  clearing their device (``intr_push``, as the ArceOS drivers do); with ``tokens`` the DMA's
  completion tokens arrive in the same hardware queue and the executor's token handler passes them
  to the device (RX: wake the application; TX: recycle), so no interrupt handler runs for a
  completion (only errors and MAC events interrupt).

The same application task runs in both: drain the RX ring (receive, answer, recycle), then
suspend until the device's ``on_rx``/``on_tx`` wakes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .netdev import Again, AxiEthNet


__all__ = ["EchoResponder", "NetService", "IrqWiring", "checksum", "ETH_ARP", "ETH_IPV4",
           "UDP_ECHO_PORT"]

ETH_ARP, ETH_IPV4 = 0x0806, 0x0800
PROTO_ICMP, PROTO_UDP = 1, 17
UDP_ECHO_PORT = 7
BROADCAST = b"\xff" * 6


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``: one's complement of the one's-complement sum
    of its 16-bit big-endian words (an odd byte is padded with 0)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _u16(data: bytes, off: int) -> int:
    return int.from_bytes(data[off:off + 2], "big")


class EchoResponder:
    """The answering logic (pure: a frame in, a reply frame or ``None`` out).

    Parameters
    ----------
    mac : bytes
        Own Ethernet address.
    ip : bytes
        Own IPv4 address (4 bytes).
    udp_port : int
        The UDP echo port.

    Attributes
    ----------
    answered : Counter
        Replies by kind (``arp``, ``icmp``, ``udp``).
    ignored : Counter
        Frames not answered, by reason (``not_for_us``, ``bad_ip_checksum``, ...).
    """

    def __init__(self, mac: bytes, ip: bytes, udp_port: int = UDP_ECHO_PORT):
        if len(mac) != 6 or len(ip) != 4:
            raise ValueError("mac must be 6 bytes and ip 4 bytes")
        self.mac, self.ip, self.udp_port = bytes(mac), bytes(ip), udp_port
        self.answered: Counter = Counter()
        self.ignored: Counter = Counter()
        self._ip_id = 0

    def _ignore(self, reason: str) -> None:
        self.ignored[reason] += 1

    def handle(self, frame: bytes) -> bytes | None:
        """The reply to ``frame`` (Ethernet header to payload, padding allowed), or ``None``."""
        if len(frame) < 14:
            return self._ignore("runt")
        dst, src, ethertype = frame[0:6], frame[6:12], _u16(frame, 12)
        if dst not in (self.mac, BROADCAST):
            return self._ignore("not_for_us")
        if ethertype == ETH_ARP:
            return self._arp(frame[14:], src)
        if ethertype == ETH_IPV4 and dst == self.mac:
            return self._ipv4(frame[14:], src)
        return self._ignore("ethertype")

    def _arp(self, arp: bytes, src: bytes) -> bytes | None:
        if len(arp) < 28 or arp[0:6] != b"\x00\x01\x08\x00\x06\x04":
            return self._ignore("arp_format")
        if _u16(arp, 6) != 1 or arp[24:28] != self.ip:
            return self._ignore("arp_not_request_for_us")
        sha, spa = arp[8:14], arp[14:18]
        reply = (b"\x00\x01\x08\x00\x06\x04\x00\x02" + self.mac + self.ip + sha + spa)
        self.answered["arp"] += 1
        return src + self.mac + ETH_ARP.to_bytes(2, "big") + reply

    def _ipv4(self, packet: bytes, src_mac: bytes) -> bytes | None:
        if len(packet) < 20 or packet[0] >> 4 != 4:
            return self._ignore("ip_format")
        ihl = (packet[0] & 0xF) * 4
        total = _u16(packet, 2)
        if ihl < 20 or total < ihl or total > len(packet):
            return self._ignore("ip_length")
        if checksum(packet[:ihl]):
            return self._ignore("bad_ip_checksum")
        if packet[16:20] != self.ip:
            return self._ignore("ip_not_for_us")
        if _u16(packet, 6) & 0x3FFF:                   # MF set or a fragment offset
            return self._ignore("fragment")
        packet = packet[:total]                         # strip the Ethernet padding
        proto, src_ip, body = packet[9], packet[12:16], packet[ihl:]
        if proto == PROTO_ICMP:
            reply = self._icmp(body)
        elif proto == PROTO_UDP:
            reply = self._udp(body, src_ip)
        else:
            return self._ignore("ip_protocol")
        if reply is None:
            return None
        proto_out, body_out = reply
        return src_mac + self.mac + ETH_IPV4.to_bytes(2, "big") + self._ip_header(
            proto_out, src_ip, len(body_out)) + body_out

    def _ip_header(self, proto: int, dst_ip: bytes, payload_len: int) -> bytes:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        header = bytearray(b"\x45\x00" + (20 + payload_len).to_bytes(2, "big")
                           + self._ip_id.to_bytes(2, "big") + b"\x40\x00"   # DF
                           + bytes([64, proto]) + b"\0\0" + self.ip + dst_ip)
        header[10:12] = checksum(bytes(header)).to_bytes(2, "big")
        return bytes(header)

    def _icmp(self, icmp: bytes):
        if len(icmp) < 8:
            return self._ignore("icmp_format")
        if checksum(icmp):
            return self._ignore("bad_icmp_checksum")
        if icmp[0] != 8 or icmp[1] != 0:
            return self._ignore("icmp_not_echo_request")
        reply = bytearray(b"\x00\x00\x00\x00" + icmp[4:])
        reply[2:4] = checksum(bytes(reply)).to_bytes(2, "big")
        self.answered["icmp"] += 1
        return PROTO_ICMP, bytes(reply)

    def _udp(self, udp: bytes, src_ip: bytes):
        if len(udp) < 8 or not 8 <= _u16(udp, 4) <= len(udp):
            return self._ignore("udp_length")
        length = _u16(udp, 4)
        udp = udp[:length]
        if _u16(udp, 6) and self._udp_checksum(src_ip, self.ip, udp):
            return self._ignore("bad_udp_checksum")
        if _u16(udp, 2) != self.udp_port:
            return self._ignore("udp_port")
        reply = bytearray(udp[2:4] + udp[0:2] + udp[4:6] + b"\0\0" + udp[8:])
        value = self._udp_checksum(self.ip, src_ip, bytes(reply)) or 0xFFFF
        reply[6:8] = value.to_bytes(2, "big")
        self.answered["udp"] += 1
        return PROTO_UDP, bytes(reply)

    @staticmethod
    def _udp_checksum(src_ip: bytes, dst_ip: bytes, udp: bytes) -> int:
        pseudo = src_ip + dst_ip + bytes([0, PROTO_UDP]) + len(udp).to_bytes(2, "big")
        return checksum(pseudo + udp)


@dataclass(frozen=True)
class IrqWiring:
    """The interrupt numbers the service waits on (PLIC source IDs or ATSINTC lines)."""

    dma_mm2s: int
    dma_s2mm: int
    mac: int


@dataclass
class Wake:
    """One resumption of the application task: when, and how many frames it then handled."""

    cycle: int | None
    frames: int = 0


@dataclass
class NetService:
    """The application on the executor: one application task plus the interrupt handler tasks.

    Parameters
    ----------
    executor : Executor
    dev : AxiEthNet
    app : EchoResponder
    irqs : IrqWiring
        Where the device interrupts arrive, in the executor back-end's numbering.
    tokens : bool
        Completions arrive as DMA completion tokens (AtsIntcBackend only): the executor's token
        handler is the device's :meth:`~.netdev.AxiEthNet.handle_token`.
    clock : callable, optional
        Returns the current time (for :attr:`wakes`).
    work : callable, optional
        ``await work(n)`` spends ``n`` cycles of CPU time (``Mmio.idle``), used with
        ``work_cycles``.
    work_cycles : int
        CPU time the application spends per frame (models a slower firmware).

    Attributes
    ----------
    wakes : list of Wake
        Every resumption of the application task.
    tx_again : int
        Replies that waited for a TX buffer or descriptor.
    """

    executor: object
    dev: AxiEthNet
    app: EchoResponder
    irqs: IrqWiring
    tokens: bool = False
    clock: Callable[[], int] | None = None
    work: Callable[[int], Awaitable[None]] | None = None
    work_cycles: int = 0
    wakes: list = field(default_factory=list)
    tx_again: int = 0
    task_ref: int = 0

    async def start(self) -> None:
        """Spawn the application and the interrupt handler tasks; hook the device's wakes."""
        ex, dev = self.executor, self.dev
        self.task_ref = await ex.spawn(self._serve(), 1, name="net_app", daemon=True)
        dev.on_rx = dev.on_tx = self._wake_app
        if self.tokens:
            ex.token_handler = dev.handle_token
        await ex.spawn_irq_handler(self.irqs.dma_s2mm, lambda: dev.handle_dma_irq(rx=True),
                                   name="dma_s2mm_irq")
        await ex.spawn_irq_handler(self.irqs.dma_mm2s, lambda: dev.handle_dma_irq(rx=False),
                                   name="dma_mm2s_irq")
        await ex.spawn_irq_handler(self.irqs.mac, dev.handle_mac_irq, name="mac_irq")

    async def _wake_app(self) -> None:
        await self.executor.wake(self.task_ref)

    async def _serve(self) -> None:
        ex, dev = self.executor, self.dev
        while True:
            wake = Wake(self.clock() if self.clock else None)
            self.wakes.append(wake)
            while dev.can_receive():
                buf = await dev.receive()
                reply = self.app.handle(buf.packet())
                await dev.recycle_rx_buffer(buf)
                wake.frames += 1
                if self.work_cycles and self.work:
                    await self.work(self.work_cycles)
                if reply is not None:
                    await self._send(reply)
            await ex.suspend()

    async def _send(self, frame: bytes) -> None:
        ex, dev = self.executor, self.dev
        while True:
            dev.recycle_tx_buffers()
            try:
                buf = dev.alloc_tx_buffer(len(frame))
            except Again:
                self.tx_again += 1
                await ex.suspend()                 # woken by a TX completion
                continue
            buf.write(frame)
            try:
                await dev.transmit(buf)
                return
            except Again:
                dev.tx_pool.append(buf)            # give the buffer back and wait for room
                self.tx_again += 1
                await ex.suspend()
