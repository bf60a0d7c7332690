"""MDIO master (IEEE 802.3 clause 22.2.4.5): one read or write frame per request.

Frame: 32 preamble ones, start 01, opcode (01 write, 10 read), PHY address, register address,
turnaround (write: 10 driven; read: released, the PHY drives 0), 16 data bits, MSB first. MDIO
changes after the falling edge of MDC and is sampled at its rising edge; MDC runs at
``clk / (2 * (divider + 1))`` and only during a transaction.

The frame is not copied into a shift register: each bit is selected by the bit counter from the
request inputs, which are register-bank fields that the drivers leave unchanged while the master
is busy (they wait for MCR.ready before writing MCR, MWD again).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["MDIOMaster"]

FRAME_BITS = 64
TA_BIT = 46                 # first turnaround bit
DATA_BIT = 48               # first data bit


class MDIOMaster(wiring.Component):
    """MDIO master.

    Attributes
    ----------
    divider : In(6)
        MDIO_MC.clock_divide.
    enable : In(1)
        MDIO_MC.mdio_en; requests are ignored while 0.
    start : In(1)
        Pulse: start a transaction with ``op``, ``phyad``, ``regad``, ``wdata``.
    op : In(2), phyad : In(5), regad : In(5), wdata : In(16)
        Must stay unchanged until ``ready`` returns (they are read bit by bit).
    ready : Out(1)
        No transaction in progress.
    rdata : Out(16)
        Data of the last read, valid when ``ready`` returns.
    mdc, mdio_o, mdio_oe : Out(1)
    mdio_i : In(1)
    """

    def __init__(self):
        super().__init__({
            "divider": In(6), "enable": In(1), "start": In(1),
            "op": In(2), "phyad": In(5), "regad": In(5), "wdata": In(16),
            "ready": Out(1, init=1), "rdata": Out(16),
            "mdc": Out(1), "mdio_o": Out(1), "mdio_oe": Out(1),
            "mdio_i": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        bit = Signal(range(FRAME_BITS))
        tick_cnt = Signal(6)
        is_read = Signal()
        busy = Signal()
        m.d.comb += self.ready.eq(~busy)
        # MSB first on the wire: 32 preamble ones, then ST 01, OP, PHYAD, REGAD, TA 10, DATA
        # (``body``, bit 31 first). Frame bit bit + 1 goes out at the next falling edge.
        body = Cat(self.wdata, Const(0b10, 2), self.regad, self.phyad, self.op, Const(0b01, 2))
        next_bit = Signal()
        m.d.comb += next_bit.eq(Mux(bit < 31, 1, body.bit_select((62 - bit)[:5], 1)))

        with m.If(~busy):
            with m.If(self.start & self.enable):
                m.d.sync += [
                    busy.eq(1), bit.eq(0), tick_cnt.eq(0),
                    is_read.eq(self.op == 0b10),
                    self.mdc.eq(0), self.mdio_oe.eq(1), self.mdio_o.eq(1),
                ]
        with m.Else():
            with m.If(tick_cnt == self.divider):
                m.d.sync += tick_cnt.eq(0)
                with m.If(~self.mdc):                         # rising edge: the PHY samples
                    m.d.sync += self.mdc.eq(1)
                    with m.If(is_read & (bit >= DATA_BIT)):
                        m.d.sync += self.rdata.eq(Cat(self.mdio_i, self.rdata[:-1]))
                with m.Else():                                # falling edge: next bit
                    m.d.sync += self.mdc.eq(0)
                    with m.If(bit == FRAME_BITS - 1):
                        m.d.sync += [busy.eq(0), self.mdio_oe.eq(0), self.mdio_o.eq(1)]
                    with m.Else():
                        m.d.sync += [bit.eq(bit + 1), self.mdio_o.eq(next_bit)]
                        with m.If(is_read & (bit + 1 == TA_BIT)):
                            m.d.sync += self.mdio_oe.eq(0)
            with m.Else():
                m.d.sync += tick_cnt.eq(tick_cnt + 1)
        return m
