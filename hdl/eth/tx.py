"""Transmit engine: preamble and SFD, padding to 60 bytes, FCS, inter-frame gap, underrun.

dma_eth.md, "Ethernet MAC / Transmit". Runs in the transmit clock domain (written for ``sync``
and renamed by the top) and advances one byte per ``phy.ce``. Frames come from the TX FIFO as
bytes with a ``last`` flag; the top tells the engine when a whole frame is in the FIFO
(``frame_ready``), so a frame, once started, never waits for the DMA (store and forward).

Timing (in byte times, IEEE 802.3 clause 4.2.3.2.2 and clause 35): 7 bytes of 0x55, the SFD
0xD5, the frame, zero padding up to 60 bytes, 4 FCS bytes (complemented CRC, LSB first), then
exactly 12 idle bytes before the next preamble when another frame is ready: 8 + L + 12 byte times
per frame of L bytes, line rate.
"""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .crc import crc32_next
from .phy import TxByteSignature


__all__ = ["TxBeat", "TxEvent", "TxEngine"]

#: One byte of a frame from the TX FIFO.
TxBeat = data.StructLayout({"data": 8, "last": 1})

#: Reported once per frame at its end, toward the statistics.
TxEvent = data.StructLayout({
    "underrun": 1,          # the FIFO ran dry mid-frame: the frame was ended with tx_er
    "length": 14,           # bytes sent after the SFD (FCS included), saturating
    "broadcast": 1, "multicast": 1, "vlan": 1,
})

PREAMBLE_BYTES = 7
MIN_PAYLOAD = 60            # frame without FCS (IEEE 802.3 clause 3.2.8, 64 with FCS)
IFG_BYTES = 12              # IEEE 802.3 clause 4.4.2


class TxEngine(wiring.Component):
    """Transmit engine.

    Attributes
    ----------
    beats : In(stream.Signature(TxBeat))
        Frame bytes (the TX FIFO's read side; ``ready`` pops).
    frame_ready : In(1)
        A frame may start: a whole frame is in the FIFO (or the FIFO is full).
    enable : In(1)
        TC.tx_en (synchronised); checked before each frame.
    phy : Out(TxByteSignature)
    last_taken : Out(1)
        Pulses when the byte with ``last`` is popped (frame accounting of the top).
    event : Out(stream.Signature(TxEvent))
        One event per frame; ``valid`` is a one-cycle pulse (no back-pressure).
    """

    def __init__(self):
        super().__init__({
            "beats": In(stream.Signature(TxBeat)),
            "frame_ready": In(1),
            "enable": In(1),
            "phy": Out(TxByteSignature()),
            "last_taken": Out(1),
            "event": Out(stream.Signature(TxEvent, always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        ce = self.phy.ce
        beat = self.beats.payload
        # The CRC absorbs each frame byte one cycle after it is sent, from the output register
        # ``phy.data`` (not from the TX FIFO's block RAM output, whose clock-to-output would
        # leave too little of the cycle for the CRC equations). ``crc_cur`` is the CRC of all
        # bytes sent so far.
        crc = Signal(32, init=0xFFFFFFFF)
        crc_en = Signal()                # phy.data holds a frame byte not yet in ``crc``
        crc_cur = Signal(32)
        m.d.comb += crc_cur.eq(Mux(crc_en, crc32_next(crc, self.phy.data), crc))
        m.d.sync += [crc.eq(crc_cur), crc_en.eq(0)]
        count = Signal(14)               # bytes after the SFD so far
        # count + 1 < MIN_PAYLOAD (the byte being sent needs padding after it), registered with
        # ``count``: the end-of-data decision waits for no adder and comparator chain.
        short = Signal()
        # One small counter serves the states that count: the idle byte times since the last
        # frame (IDLE, DISCARD), the preamble bytes (PREAMBLE) and the FCS byte (FCS).
        phase = Signal(range(IFG_BYTES + 1), init=IFG_BYTES)
        pre = ifg = phase
        fcs_idx = phase[:2]
        bcast = Signal()
        mcast = Signal()
        vlan = Signal()
        # Destination class and VLAN tag, also from the sent byte in ``phy.data`` one cycle
        # later; ``at_*`` is the position of that byte. ``*_cur`` include it.
        # (``count`` already includes that byte: it is byte count - 1.)
        at_first = count == 1
        at_addr = count <= 6
        at_12 = count == 13
        at_13 = count == 14
        sent = self.phy.data
        sent_ff = sent == 0xFF
        bcast_cur = Signal()
        mcast_cur = Signal()
        vlan_cur = Signal()
        m.d.comb += [
            bcast_cur.eq(Mux(crc_en & at_addr, sent_ff & (at_first | bcast), bcast)),
            mcast_cur.eq(Mux(crc_en & at_first, sent[0], mcast)),
            vlan_cur.eq(Mux(crc_en & at_12, sent == 0x81,
                            Mux(crc_en & at_13, vlan & (sent == 0x00), vlan))),
        ]
        m.d.sync += [bcast.eq(bcast_cur), mcast.eq(mcast_cur), vlan.eq(vlan_cur)]

        def emit(byte, en=1, er=0):
            m.d.sync += [self.phy.data.eq(byte), self.phy.en.eq(en), self.phy.er.eq(er)]

        def frame_byte(byte):
            """Account one frame byte (data or padding, ``byte``, emitted in the same cycle)."""
            m.d.sync += [crc_en.eq(1), count.eq(count + (count != (1 << 14) - 1)),
                         short.eq(count < MIN_PAYLOAD - 2)]

        def report(underrun):
            m.d.sync += [
                self.event.valid.eq(1),
                self.event.payload.underrun.eq(underrun),
                self.event.payload.length.eq(count + (0 if underrun else 4)),
                self.event.payload.broadcast.eq(bcast_cur),
                self.event.payload.multicast.eq(mcast_cur & ~bcast_cur),
                self.event.payload.vlan.eq(vlan_cur),
            ]

        m.d.sync += self.event.valid.eq(0)

        with m.FSM(name="tx"):
            with m.State("IDLE"):
                with m.If(ce):
                    with m.If((ifg == IFG_BYTES) & self.frame_ready & self.enable):
                        emit(0x55)
                        m.d.sync += [pre.eq(1), crc.eq(0xFFFFFFFF), count.eq(0), short.eq(1)]
                        m.next = "PREAMBLE"
                    with m.Else():
                        emit(0, en=0)
                        m.d.sync += ifg.eq(ifg + (ifg != IFG_BYTES))
            with m.State("PREAMBLE"):
                with m.If(ce):
                    with m.If(pre == PREAMBLE_BYTES):
                        emit(0xD5)
                        m.next = "DATA"
                    with m.Else():
                        emit(0x55)
                        m.d.sync += pre.eq(pre + 1)
            with m.State("DATA"):
                with m.If(ce):
                    with m.If(self.beats.valid):
                        m.d.comb += self.beats.ready.eq(1)
                        emit(beat.data)
                        frame_byte(beat.data)
                        with m.If(beat.last):
                            m.d.comb += self.last_taken.eq(1)
                            with m.If(short):
                                m.next = "PAD"
                            with m.Else():
                                m.d.sync += phase.eq(0)
                                m.next = "FCS"
                    with m.Else():
                        # Underrun (dma_eth.md: ends the frame with tx_er, counted): the byte
                        # time carries tx_er; the rest of the frame is then discarded.
                        emit(0, en=1, er=1)
                        report(underrun=1)
                        m.d.sync += ifg.eq(0)
                        m.next = "DISCARD"
            with m.State("PAD"):
                with m.If(ce):
                    emit(0x00)
                    frame_byte(Const(0, 8))
                    with m.If(~short):
                        m.d.sync += phase.eq(0)
                        m.next = "FCS"
            with m.State("FCS"):
                with m.If(ce):
                    emit((~crc_cur).word_select(fcs_idx, 8))
                    m.d.sync += phase.eq(phase + 1)
                    with m.If(fcs_idx == 3):
                        report(underrun=0)
                        m.d.sync += ifg.eq(0)
                        m.next = "IDLE"
            with m.State("DISCARD"):
                with m.If(ce):
                    emit(0, en=0)
                    m.d.sync += ifg.eq(ifg + (ifg != IFG_BYTES))
                m.d.comb += self.beats.ready.eq(1)
                with m.If(self.beats.valid & beat.last):
                    m.d.comb += self.last_taken.eq(1)
                    m.next = "IDLE"
        return m
