"""Capture-on-pulse (handshake) clock-domain crossing for values that change rarely.

Per-frame events (one every 20 byte times or more) and configuration registers (written by a
driver while the MAC is stopped) do not need a FIFO or a synchroniser per bit: the source keeps
the value in a register, a toggle crosses through a two-flip-flop synchroniser, the destination
reads the value straight from the source register (stable by then) and acknowledges with a toggle
back. Six flip-flops whatever the width, against two per bit for ``FFSynchronizer`` and a FIFO's
gray-code pointers.

The wire from the source register to the destination logic is a multi-cycle path by construction
(the source value is stable for at least the synchroniser's two destination clocks before it is
used, and until the acknowledgement has crossed back); timing tools see it as a path between
unrelated clocks, which nextpnr does not constrain.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out


__all__ = ["HandshakeCrossing"]


class HandshakeCrossing(wiring.Component):
    """One value at a time from ``i_domain`` to ``o_domain``, with a toggle handshake.

    Parameters
    ----------
    width : int
        Bits of the value.
    i_domain, o_domain : str
        Source and destination clock domains.

    Attributes
    ----------
    i_data : In(width)
        The value, held in a source-domain register: it must not change from the cycle of
        ``i_start`` until ``i_busy`` is low again.
    i_start : In(1)
        Pulse (source domain): ``i_data`` holds a new value. Ignored while ``i_busy``.
    i_busy : Out(1)
        A value is on its way or not yet acknowledged (source domain).
    o_valid : Out(1)
        A value is waiting (destination domain); ``o_data`` is valid while it is high.
    o_data : Out(width)
        ``i_data`` (no register: it is stable while ``o_valid``).
    o_ready : In(1)
        The destination takes the value in this cycle (with ``o_valid``).

    Round trip: about two destination clocks until ``o_valid``, then two source clocks after
    ``o_ready`` until ``i_busy`` falls.
    """

    def __init__(self, width: int, *, i_domain: str, o_domain: str):
        self._i, self._o = i_domain, o_domain
        super().__init__({
            "i_data": In(width), "i_start": In(1), "i_busy": Out(1),
            "o_valid": Out(1), "o_data": Out(width), "o_ready": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        req = Signal()                  # source: toggles once per value
        ack = Signal()                  # destination: follows req once the value is taken
        req_o = Signal()
        ack_i = Signal()
        m.submodules.req_sync = FFSynchronizer(req, req_o, o_domain=self._o)
        m.submodules.ack_sync = FFSynchronizer(ack, ack_i, o_domain=self._i)
        m.d.comb += [self.i_busy.eq(req != ack_i), self.o_valid.eq(req_o != ack),
                     self.o_data.eq(self.i_data)]
        with m.If(self.i_start & ~self.i_busy):
            m.d[self._i] += req.eq(~req)
        with m.If(self.o_valid & self.o_ready):
            m.d[self._o] += ack.eq(req_o)
        return m
