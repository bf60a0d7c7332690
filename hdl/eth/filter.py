"""Destination address filter (dma_eth.md: unicast address, broadcast, multicast, promiscuous).

Fed with the first six bytes of a frame as they arrive; the decision is ready after the sixth.
Acceptance, as AXI Ethernet's RAF/FMI define it: promiscuous accepts everything; broadcast
(FF:FF:FF:FF:FF:FF) unless RAF.bcst_rej; other group addresses (I/G bit, bit 0 of the first byte)
unless RAF.mcst_rej; individual addresses only when equal to UAW0/UAW1.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["AddressFilter"]


class AddressFilter(wiring.Component):
    """Destination address filter.

    Attributes
    ----------
    byte : In(8)
        A byte of the destination address.
    index : In(range(6))
        Its position (0 is the first byte on the wire).
    strobe : In(1)
        ``byte`` is valid; index 0 restarts the comparison.
    unicast : In(48)
        The station address, byte 0 in bits 7:0 (UAW0/UAW1).
    promiscuous, bcast_reject, mcast_reject : In(1)
    broadcast, multicast, accept : Out(1)
        Classification and decision; valid from the cycle after the strobe of byte 5 until
        the next strobe of byte 0. ``multicast`` excludes broadcast.
    """

    def __init__(self):
        super().__init__({
            "byte": In(8), "index": In(range(6)), "strobe": In(1),
            "unicast": In(48), "promiscuous": In(1), "bcast_reject": In(1), "mcast_reject": In(1),
            "broadcast": Out(1), "multicast": Out(1), "accept": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        group = Signal()
        all_ones = Signal()
        match = Signal()
        first = self.index == 0
        expect = self.unicast.word_select(self.index, 8)
        with m.If(self.strobe):
            m.d.sync += [
                group.eq(Mux(first, self.byte[0], group)),
                all_ones.eq((self.byte == 0xFF) & (first | all_ones)),
                match.eq((self.byte == expect) & (first | match)),
            ]
        m.d.comb += [
            self.broadcast.eq(all_ones),
            self.multicast.eq(group & ~all_ones),
            self.accept.eq(self.promiscuous
                           | (all_ones & ~self.bcast_reject)
                           | (group & ~all_ones & ~self.mcast_reject)
                           | (~group & match)),
        ]
        return m

