"""Receive engine: SFD detection, FCS check and strip, size limits, rx_er, address filter.

dma_eth.md, "Ethernet MAC / Receive". Runs in the receive clock domain (written for ``sync`` and
renamed by the top), one byte per ``phy.ce``. Frame bytes are written into the RX frame buffer
as they arrive, four bytes behind the wire so that the FCS is never written; at the end of the
frame the buffer is committed (the frame will be delivered) or rolled back (dropped). Either way
exactly one :data:`RxEvent` reports the frame, so every frame is delivered or counted.

Verdict of a frame of ``n`` bytes (destination address to FCS), first matching rule wins:

1. ``RX_ER``: rx_er was high during rx_dv (IEEE 802.3 clause 35.2.1.6);
2. ``PREAMBLE``: rx_dv fell before an SFD, or a byte other than 0x55/0xD5 came before it;
3. ``UNDERSIZE`` (good FCS) or ``FRAGMENT`` (bad FCS): ``n < 64``;
4. ``OVERSIZE``: ``n`` above 1518 (1522 when VLAN-tagged), or above the jumbo limit with RCW1.jumbo;
5. ``FCS``: the CRC residue is wrong;
6. ``FILTERED``: the address filter rejects the destination;
7. ``OVERFLOW``: the buffer had no room for the frame (RxFifoOvr);
8. ``OK``: delivered.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, enum, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .crc import RESIDUE, crc32_next
from .filter import AddressFilter
from .phy import RxByteSignature


__all__ = ["RxVerdict", "RxEvent", "RxEngine"]


class RxVerdict(enum.Enum, shape=4):
    """What happened to a received frame (one event per frame)."""

    OK = 0
    FCS = 1
    UNDERSIZE = 2
    FRAGMENT = 3
    OVERSIZE = 4
    RX_ER = 5
    PREAMBLE = 6
    FILTERED = 7
    OVERFLOW = 8


RxEvent = data.StructLayout({
    "verdict": RxVerdict,
    "length": 14,           # bytes from the destination address to the FCS, saturating
    "broadcast": 1, "multicast": 1, "vlan": 1,
})

FCS_BYTES = 4
HOLD = FCS_BYTES + 1        # bytes held back: the FCS and the candidate last byte


class RxEngine(wiring.Component):
    """Receive engine.

    Parameters
    ----------
    max_frame, max_frame_vlan, jumbo_frame : int
        Size limits in bytes (destination address to FCS).

    Attributes
    ----------
    phy : In(RxByteSignature)
    enable, jumbo, promiscuous, bcast_reject, mcast_reject : In(1)
        Configuration (synchronised by the top); ``enable`` is sampled at the start of a frame.
    unicast : In(48)
    w_en, w_last : Out(1), w_data : Out(8)
        A byte for the frame buffer (``w_last`` on the last byte before the FCS).
    w_full : In(1)
        The buffer has no room: the byte is not written and the frame will be dropped.
    commit, rollback : Out(1)
        End of frame: keep (with the ``w_last`` write in the same cycle) or discard its bytes.
    event : Out(stream.Signature(RxEvent, always_ready=True))
        One event per frame, a one-cycle pulse.
    """

    def __init__(self, *, max_frame=1518, max_frame_vlan=1522, jumbo_frame=9018):
        self._limits = (max_frame, max_frame_vlan, jumbo_frame)
        super().__init__({
            "phy": In(RxByteSignature()),
            "enable": In(1), "jumbo": In(1),
            "promiscuous": In(1), "bcast_reject": In(1), "mcast_reject": In(1),
            "unicast": In(48),
            "w_en": Out(1), "w_data": Out(8), "w_last": Out(1), "w_full": In(1),
            "commit": Out(1), "rollback": Out(1),
            "event": Out(stream.Signature(RxEvent, always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        max_frame, max_vlan, max_jumbo = self._limits
        phy = self.phy
        byte = phy.data

        m.submodules.filter = flt = AddressFilter()
        m.d.comb += [
            flt.unicast.eq(self.unicast), flt.promiscuous.eq(self.promiscuous),
            flt.bcast_reject.eq(self.bcast_reject), flt.mcast_reject.eq(self.mcast_reject),
        ]

        crc = Signal(32, init=0xFFFFFFFF)
        count = Signal(14)
        # The bytes held back: a delay line of HOLD bytes in a small memory (distributed RAM on
        # ECP5) indexed by the byte count, instead of HOLD shift registers. Byte ``count`` is
        # written at ``count % 8``; byte ``count - HOLD`` is read (asynchronously) meanwhile.
        m.submodules.hold = hold_mem = Memory(shape=8, depth=8, init=[])
        hold_w = hold_mem.write_port()
        hold_r = hold_mem.read_port(domain="comb")
        m.d.comb += [hold_w.addr.eq(count[:3]), hold_w.data.eq(byte),
                     hold_r.addr.eq((count - HOLD)[:3])]
        held = hold_r.data              # byte count - HOLD
        er_seen = Signal()
        overflow = Signal()
        vlan = Signal()
        # The size rules of the verdict on ``count``, registered together with it at each byte,
        # so that the verdict at the end of the frame does not wait for the comparisons.
        short = Signal()                # count < 64
        too_long = Signal()             # count > limit
        min_hold = Signal()             # count >= HOLD
        limit = Mux(self.jumbo, max_jumbo, Mux(vlan, max_vlan, max_frame))

        m.d.sync += self.event.valid.eq(0)

        def report(verdict, length=0):
            m.d.sync += [
                self.event.valid.eq(1),
                self.event.payload.verdict.eq(verdict),
                self.event.payload.length.eq(length),
                self.event.payload.broadcast.eq(flt.broadcast),
                self.event.payload.multicast.eq(flt.multicast),
                self.event.payload.vlan.eq(vlan),
            ]

        with m.FSM(name="rx"):
            with m.State("IDLE"):
                with m.If(phy.ce & phy.dv):
                    m.d.sync += [er_seen.eq(phy.er), overflow.eq(0), vlan.eq(0),
                                 crc.eq(0xFFFFFFFF), count.eq(0),
                                 short.eq(1), too_long.eq(0), min_hold.eq(0)]
                    with m.If(~self.enable):
                        m.next = "IGNORE"
                    with m.Elif(byte == 0xD5):
                        m.next = "DATA"
                    with m.Elif(byte == 0x55):
                        m.next = "PREAMBLE"
                    with m.Else():
                        m.next = "BAD_PREAMBLE"
            with m.State("PREAMBLE"):
                with m.If(phy.ce):
                    m.d.sync += er_seen.eq(er_seen | (phy.dv & phy.er))
                    with m.If(~phy.dv):
                        report(Mux(er_seen, RxVerdict.RX_ER, RxVerdict.PREAMBLE))
                        m.next = "IDLE"
                    with m.Elif(byte == 0xD5):
                        m.next = "DATA"
                    with m.Elif(byte != 0x55):
                        m.next = "BAD_PREAMBLE"
            with m.State("BAD_PREAMBLE"):
                with m.If(phy.ce):
                    m.d.sync += er_seen.eq(er_seen | (phy.dv & phy.er))
                    with m.If(~phy.dv):
                        report(Mux(er_seen, RxVerdict.RX_ER, RxVerdict.PREAMBLE))
                        m.next = "IDLE"
            with m.State("IGNORE"):
                with m.If(phy.ce & ~phy.dv):
                    m.next = "IDLE"
            with m.State("DATA"):
                with m.If(phy.ce & phy.dv):
                    # The new count is count + 1 (saturating at 2**14 - 1): the flags compare
                    # the old count, so no comparison waits for the increment.
                    saturated = count == (1 << 14) - 1
                    over = count >= limit
                    if max_jumbo >= (1 << 14) - 1:      # a saturated count equals the limit
                        over = over & ~(saturated & self.jumbo)
                    m.d.sync += [
                        er_seen.eq(er_seen | phy.er),
                        crc.eq(crc32_next(crc, byte)),
                        count.eq(count + ~saturated),
                        short.eq(count < 64 - 1),
                        too_long.eq(over),
                        min_hold.eq(count >= HOLD - 1),
                    ]
                    m.d.comb += hold_w.en.eq(1)
                    with m.If(count < 6):
                        m.d.comb += [flt.strobe.eq(1), flt.byte.eq(byte), flt.index.eq(count)]
                    with m.If(count == 12):
                        m.d.sync += vlan.eq(byte == 0x81)
                    with m.If(count == 13):
                        m.d.sync += vlan.eq(vlan & (byte == 0x00))
                    # ``held`` is byte count-HOLD: not the last before the FCS, since
                    # byte count-FCS_BYTES follows it.
                    with m.If(count >= HOLD):
                        m.d.comb += [self.w_en.eq(1), self.w_data.eq(held)]
                        with m.If(self.w_full):
                            m.d.sync += overflow.eq(1)
                with m.Elif(phy.ce):                        # rx_dv fell: end of frame
                    n = count
                    crc_ok = crc == RESIDUE
                    last_ok = min_hold & ~self.w_full
                    verdict = Signal(RxVerdict)
                    with m.If(er_seen):
                        m.d.comb += verdict.eq(RxVerdict.RX_ER)
                    with m.Elif(short):
                        m.d.comb += verdict.eq(Mux(crc_ok, RxVerdict.UNDERSIZE, RxVerdict.FRAGMENT))
                    with m.Elif(too_long):
                        m.d.comb += verdict.eq(RxVerdict.OVERSIZE)
                    with m.Elif(~crc_ok):
                        m.d.comb += verdict.eq(RxVerdict.FCS)
                    with m.Elif(~flt.accept):
                        m.d.comb += verdict.eq(RxVerdict.FILTERED)
                    with m.Elif(overflow | ~last_ok):
                        m.d.comb += verdict.eq(RxVerdict.OVERFLOW)
                    with m.Else():
                        m.d.comb += verdict.eq(RxVerdict.OK)
                    with m.If(verdict == RxVerdict.OK):
                        m.d.comb += [self.w_en.eq(1), self.w_data.eq(held),
                                     self.w_last.eq(1), self.commit.eq(1)]
                    with m.Else():
                        m.d.comb += self.rollback.eq(1)
                    report(verdict, n)
                    m.next = "IDLE"
        return m
