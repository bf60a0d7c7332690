"""Receive engine: SFD detection, FCS check and strip, size limits, rx_er, address filter.

dma_eth.md, "Ethernet MAC / Receive". Runs in the receive clock domain (written for ``sync`` and
renamed by the top), one byte per ``phy.ce``. Frame bytes are written into the RX frame buffer
as they arrive, four bytes behind the wire so that the FCS is never written; at the end of the
frame the buffer is committed (the frame will be delivered) or rolled back (dropped). Either way
exactly one :data:`RxEvent` reports the frame, so every frame is delivered or counted.

Timing (docs/eth.md, "Timing closure"): every output toward the buffer (write, commit, rollback) and the
event come from flip-flops, and the end of a frame is a short pipeline instead of one cycle of
logic from the CRC register to the buffer's pointers:

* cycle E (``rx_dv`` falls): the frame's last byte is written (always, with ``w_last``; a dropped
  frame's bytes are rolled back anyway) and the CRC check is registered (``crc_ok``);
* E+1: the verdict, from single-bit flags (the size flags are registered per byte, the filter's
  decision comes from its registers, a refused last write is seen on ``w_full`` now), is
  registered with ``commit``/``rollback`` and the event;
* E+2: the buffer commits or rolls back.

The frame's registers stay valid during E+1 (a new frame can only clear them at the end of E+1),
and the next frame's first write comes at the earliest at E+8 (SFD, then five bytes held back),
after the commit.

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
        A byte for the frame buffer (``w_last`` on the last byte before the FCS, which ends the
        buffer's word). ``w_en`` and ``w_last`` are registers, ``w_data`` is read from a small
        memory at a registered address.
    w_full : In(1)
        The buffer has no room (a register of the buffer): a ``w_en`` byte in this cycle is not
        written and the frame will be dropped.
    commit, rollback : Out(1)
        End of frame, two cycles after its ``w_last`` write: keep or discard its bytes.
        Registered.
    event : Out(stream.Signature(RxEvent, always_ready=True))
        One event per frame, a one-cycle pulse (registered), with ``commit``/``rollback``.
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
        # The filter sees every byte; only its strobe depends on the state (a data input behind
        # the state's multiplexer would put the state decode before the address comparison).
        m.d.comb += [flt.byte.eq(byte), flt.index.eq(count[:3])]
        # The bytes held back: a delay line of HOLD bytes in a small memory (distributed RAM on
        # ECP5) indexed by the byte count, instead of HOLD shift registers. Byte ``count`` is
        # written at ``count % 8``. The buffer write of byte ``count - HOLD`` is registered, and
        # so is its address here (``held_at``, 3 flip-flops instead of 8 for the byte): the
        # memory is read (asynchronously) in the cycle of the write, when byte count + 1 may
        # be written, never over byte count - HOLD.
        m.submodules.hold = hold_mem = Memory(shape=8, depth=8, init=[])
        hold_w = hold_mem.write_port()
        hold_r = hold_mem.read_port(domain="comb")
        held_at = Signal(3)
        m.d.comb += [hold_w.addr.eq(count[:3]), hold_w.data.eq(byte),
                     hold_r.addr.eq(held_at), self.w_data.eq(hold_r.data)]
        er_seen = Signal()
        overflow = Signal()             # a byte of the frame met a full buffer
        vlan = Signal()
        # The size rules of the verdict on ``count``, registered together with it at each byte,
        # so that the verdict at the end of the frame does not wait for the comparisons.
        short = Signal()                # count < 64
        too_long = Signal()             # count > limit
        min_hold = Signal()             # count >= HOLD
        # The header positions, registered with ``count`` too: the address filter and the VLAN
        # check do not wait for a comparison of the 14-bit count.
        dest = Signal()                 # count < 6: a destination address byte
        type_hi = Signal()              # count == 12: the first EtherType/TPID byte
        type_lo = Signal()              # count == 13
        limit = Mux(self.jumbo, max_jumbo, Mux(vlan, max_vlan, max_frame))
        # End-of-frame pipeline (see the module docstring).
        crc_ok = Signal()               # E+1: the CRC residue was right
        ending = Signal()               # E+1: decide the verdict of the frame that ended

        m.d.sync += [self.event.valid.eq(0), self.w_en.eq(0), self.w_last.eq(0),
                     self.commit.eq(0), self.rollback.eq(0), ending.eq(0)]
        # A registered write meets the buffer's registered "full" one cycle after it was issued
        # (also the frame's last write, in E+1); a new frame (below, later: it wins) clears it.
        refused = self.w_en & self.w_full
        with m.If(refused):
            m.d.sync += overflow.eq(1)

        def report(verdict, length=0):
            m.d.sync += [
                self.event.valid.eq(1),
                self.event.payload.verdict.eq(verdict),
                self.event.payload.length.eq(length),
                self.event.payload.broadcast.eq(flt.broadcast),
                self.event.payload.multicast.eq(flt.multicast),
                self.event.payload.vlan.eq(vlan),
            ]

        # E+1: the verdict of a frame that reached DATA, from registers only (first rule wins).
        with m.If(ending):
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
            with m.Elif(overflow | refused):
                m.d.comb += verdict.eq(RxVerdict.OVERFLOW)
            with m.Else():
                m.d.comb += verdict.eq(RxVerdict.OK)
            ok = verdict == RxVerdict.OK
            m.d.sync += [self.commit.eq(ok), self.rollback.eq(~ok)]
            report(verdict, count)

        with m.FSM(name="rx"):
            with m.State("IDLE"):
                with m.If(phy.ce & phy.dv):
                    m.d.sync += [er_seen.eq(phy.er), overflow.eq(0), vlan.eq(0),
                                 crc.eq(0xFFFFFFFF), count.eq(0),
                                 short.eq(1), too_long.eq(0), min_hold.eq(0),
                                 dest.eq(1), type_hi.eq(0), type_lo.eq(0)]
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
                        dest.eq(count < 6 - 1),
                        type_hi.eq(count == 12 - 1),
                        type_lo.eq(type_hi),
                    ]
                    m.d.comb += hold_w.en.eq(1)
                    m.d.comb += flt.strobe.eq(dest)
                    with m.If(type_hi):
                        m.d.sync += vlan.eq(byte == 0x81)
                    with m.If(type_lo):
                        m.d.sync += vlan.eq(vlan & (byte == 0x00))
                    # Byte count-HOLD: not the last before the FCS, since byte count-FCS_BYTES
                    # follows it.
                    m.d.sync += [self.w_en.eq(min_hold), held_at.eq(count - HOLD)]
                with m.Elif(phy.ce):                        # rx_dv fell: end of frame (E)
                    # The last byte before the FCS, if there is one (else the frame is short
                    # and dropped); the verdict follows in E+1.
                    m.d.sync += [self.w_en.eq(min_hold), held_at.eq(count - HOLD), self.w_last.eq(1),
                                 crc_ok.eq(crc == RESIDUE), ending.eq(1)]
                    m.next = "IDLE"
        return m
