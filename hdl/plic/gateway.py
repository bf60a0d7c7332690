"""Interrupt gateways: turn source lines into requests, one outstanding request per source.

RISC-V PLIC specification v1.0.0, "Interrupt Gateways": a gateway forwards at most one request
at a time to the PLIC core and forwards no further request until it has received the completion
of the previous one.
"""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out


__all__ = ["GatewayArray"]


class GatewayArray(wiring.Component):
    """The gateways of sources 1..N, as bit vectors (bit n = source n; bit 0 is unused and 0).

    Level gateway (default, spec "level-triggered"): while the line is high and the gateway is
    open, a request is forwarded and the gateway closes. A line that falls after that does not
    retract the request.

    Edge gateway: a rising edge on an open gateway forwards a request. Rising edges seen while
    the gateway is closed are counted, saturating at ``edge_count_limit``; after each completion
    one counted edge forwards one request. With a limit of 0 extra edges are dropped.

    Timing: ``fwd`` is combinational from the line and the gateway state; a completion re-opens
    the gateway at the end of the cycle, so a level line still high forwards again one cycle
    after the completion.

    Parameters
    ----------
    ids : int
        Number of source IDs including the unused ID 0.
    edge_sources : set of int
        IDs with edge-triggered gateways.
    edge_count_limit : int
    synchronizer : bool
        Two-flip-flop synchroniser in front of every line.

    Attributes
    ----------
    lines : Signal(ids), in
        Raw source lines.
    complete : Signal(ids), in
        One-hot (or zero): re-open this gateway.
    fwd : Signal(ids), out
        Requests forwarded in this cycle (they set the pending bits at the end of the cycle).
    """

    def __init__(self, *, ids, edge_sources=frozenset(), edge_count_limit=3, synchronizer=False):
        self._ids = ids
        self._edge = frozenset(edge_sources)
        self._limit = edge_count_limit
        self._sync = synchronizer
        super().__init__({
            "lines": In(ids),
            "complete": In(ids),
            "fwd": Out(ids),
        })

    def elaborate(self, platform):
        m = Module()
        n = self._ids
        line = Signal(n)
        if self._sync:
            m.submodules.sync = FFSynchronizer(self.lines, line, stages=2)
        else:
            m.d.comb += line.eq(self.lines)

        # Gateway open (may forward). ID 0 never forwards.
        armed = Signal(n, init=(1 << n) - 2)
        fwd = [Const(0, 1)]
        for i in range(1, n):
            if i in self._edge:
                fwd.append(self._edge_gateway(m, i, line[i], armed[i]))
            else:
                fwd.append(line[i] & armed[i])
        m.d.comb += self.fwd.eq(Cat(*fwd))
        m.d.sync += armed.eq(((armed & ~self.fwd) | self.complete) & ~1)
        return m

    def _edge_gateway(self, m, i, line, armed):
        prev = Signal(name=f"prev{i}")
        rising = line & ~prev
        m.d.sync += prev.eq(line)
        fwd = Signal(name=f"fwd{i}")
        if self._limit == 0:
            m.d.comb += fwd.eq(armed & rising)
            return fwd
        limit = self._limit
        cnt = Signal(range(limit + 1), name=f"edges{i}")
        with m.If(armed):
            with m.If(cnt != 0):
                m.d.comb += fwd.eq(1)
                # One remembered edge is used; a new edge in this cycle is remembered instead.
                with m.If(~rising):
                    m.d.sync += cnt.eq(cnt - 1)
            with m.Else():
                m.d.comb += fwd.eq(rising)
        with m.Elif(rising & (cnt != limit)):
            m.d.sync += cnt.eq(cnt + 1)
        return fwd
