"""Sharing the AXI4 master between the engine's requesters, with several reads in flight.

The master has no ID signals, so responses come back in request order (AMBA AXI IHI 0022,
A5.3 "transaction ordering" for a single ID). Each arbiter records which requester issued each
address in a small FIFO and routes the R beats / B responses to the requester at its head.

* :class:`AXIReadArbiter`: fixed priority on AR (requester 0 first); up to ``max_outstanding``
  bursts in flight; R beats go to the owner of the oldest burst, popped on RLAST.
* :class:`AXIWriteArbiter`: fixed priority on AW; the W channel belongs to the burst just
  granted until its WLAST (one burst's data at a time, in AW order as AXI requires);
  B responses are routed like R.

A grant is held while its ``*valid`` waits for ``*ready``, so the address channel stays stable
(IHI 0022 A3.2.1: once VALID is asserted the information must not change until the handshake).
"""

from amaranth.hdl import Array, Module, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi4 import AXI4Signature, Burst


#: The master drives ID 0 on AWID/ARID and ignores BID/RID: one ID, so responses come in order.
#: (The ID signals are there because verification IP such as cocotbext-axi requires them.)
ID_WIDTH = 1

__all__ = ["ID_WIDTH", "ReadRequestSignature", "WriteRequestSignature", "AXIReadArbiter", "AXIWriteArbiter"]


def _clog2(n):
    return max(1, (n - 1).bit_length())


class ReadRequestSignature(wiring.Signature):
    """A read requester, seen from the requester (``Out`` = driven by it).

    ``ar_fixed`` asks for a FIXED burst (Keyhole); ``ar_len`` is AxLEN (beats - 1).
    """

    def __init__(self, *, addr_width: int, data_width: int):
        super().__init__({
            "ar_addr": Out(addr_width), "ar_len": Out(8), "ar_fixed": Out(1),
            "ar_valid": Out(1), "ar_ready": In(1),
            "r_data": In(data_width), "r_resp": In(2), "r_last": In(1),
            "r_valid": In(1), "r_ready": Out(1),
        })


class WriteRequestSignature(wiring.Signature):
    """A write requester, seen from the requester (``Out`` = driven by it)."""

    def __init__(self, *, addr_width: int, data_width: int):
        super().__init__({
            "aw_addr": Out(addr_width), "aw_len": Out(8), "aw_fixed": Out(1),
            "aw_valid": Out(1), "aw_ready": In(1),
            "w_data": Out(data_width), "w_strb": Out(data_width // 8), "w_last": Out(1),
            "w_valid": Out(1), "w_ready": In(1),
            "b_resp": In(2), "b_valid": In(1), "b_ready": Out(1),
        })


def _size(data_width):
    return (data_width // 8 - 1).bit_length()


class _Grant:
    """Fixed-priority choice among ``valids``, held while the chosen request waits."""

    def __init__(self, m, valids, handshake_ok, accepted, name):
        n = len(valids)
        self.sel = Signal(range(max(2, n)), name=f"{name}_sel")
        self.any = Signal(name=f"{name}_any")
        hold = Signal(name=f"{name}_hold")
        held = Signal(range(max(2, n)), name=f"{name}_held")
        pick = Signal(range(max(2, n)), name=f"{name}_pick")
        for i in reversed(range(n)):
            with m.If(valids[i]):
                m.d.comb += pick.eq(i)
        with m.If(hold):
            m.d.comb += self.sel.eq(held)
        with m.Else():
            m.d.comb += self.sel.eq(pick)
        m.d.comb += self.any.eq(Array(valids)[self.sel] & handshake_ok)
        with m.If(self.any & ~accepted):
            m.d.sync += [hold.eq(1), held.eq(self.sel)]
        with m.Elif(accepted):
            m.d.sync += hold.eq(0)


class _Arbiter(wiring.Component):
    """What the read and write arbiters share: ``n`` request ports of the subclass's
    ``_request`` signature (``req0``..), the AXI4 master ``axi`` and ``idle``."""

    _request = None

    def __init__(self, n, *, addr_width, data_width, max_outstanding):
        self._n = n
        self._dw = data_width
        self._max = max_outstanding
        members = {f"req{i}": In(self._request(addr_width=addr_width, data_width=data_width))
                   for i in range(n)}
        members["axi"] = Out(AXI4Signature(addr_width=addr_width, data_width=data_width, id_width=ID_WIDTH))
        members["idle"] = Out(1)
        super().__init__(members)


class AXIReadArbiter(_Arbiter):
    """AR arbitration and in-order R routing for ``n`` read requesters.

    Parameters
    ----------
    n : int
        Number of requesters; requester 0 has the highest priority.
    addr_width, data_width : int
    max_outstanding : int
        Bursts in flight at most.

    Attributes
    ----------
    req : list of In(ReadRequestSignature)
    axi : Out(AXI4Signature), the read half is used (the write half is left idle).
    idle : Out(1)
        No burst in flight and no AR offered.
    """

    _request = ReadRequestSignature

    def __init__(self, n, *, addr_width, data_width, max_outstanding):
        super().__init__(n, addr_width=addr_width, data_width=data_width,
                         max_outstanding=max_outstanding)

    def elaborate(self, platform):
        m = Module()
        n, axi = self._n, self.axi
        reqs = [getattr(self, f"req{i}") for i in range(n)]
        m.submodules.owners = owners = fifo.SyncFIFO(width=_clog2(n), depth=self._max)

        accepted = axi.arvalid & axi.arready
        g = _Grant(m, [r.ar_valid for r in reqs], owners.w_rdy, accepted, "ar")
        sel = g.sel
        m.d.comb += [
            axi.arvalid.eq(g.any),
            axi.araddr.eq(Array(r.ar_addr for r in reqs)[sel]),
            axi.arlen.eq(Array(r.ar_len for r in reqs)[sel]),
            axi.arburst.eq(Burst.INCR),
            axi.arsize.eq(_size(self._dw)),
            axi.arcache.eq(0b0011),              # PG021: bufferable, modifiable
            axi.arprot.eq(0),
            owners.w_en.eq(accepted),
            owners.w_data.eq(sel),
        ]
        with m.If(Array(r.ar_fixed for r in reqs)[sel]):
            m.d.comb += axi.arburst.eq(Burst.FIXED)
        for i, r in enumerate(reqs):
            m.d.comb += r.ar_ready.eq(accepted & (sel == i))

        head = owners.r_data
        for i, r in enumerate(reqs):
            mine = owners.r_rdy & (head == i)
            m.d.comb += [
                r.r_data.eq(axi.rdata), r.r_resp.eq(axi.rresp), r.r_last.eq(axi.rlast),
                r.r_valid.eq(axi.rvalid & mine),
            ]
        m.d.comb += [
            axi.rready.eq(owners.r_rdy & Array(r.r_ready for r in reqs)[head]),
            owners.r_en.eq(axi.rvalid & axi.rready & axi.rlast),
            self.idle.eq(~owners.r_rdy & ~axi.arvalid),
        ]
        # The write half of the bundle is not ours.
        m.d.comb += [axi.awvalid.eq(0), axi.wvalid.eq(0), axi.bready.eq(0), axi.arid.eq(0)]
        return m


class AXIWriteArbiter(_Arbiter):
    """AW arbitration, W ownership per burst and in-order B routing for ``n`` write requesters.

    Parameters
    ----------
    n : int
        Number of requesters; requester 0 has the highest priority.
    addr_width, data_width : int
    max_outstanding : int
        Bursts whose B response is awaited, at most.

    Attributes
    ----------
    req : list of In(WriteRequestSignature)
    axi : Out(AXI4Signature), the write half is used.
    idle : Out(1)
        No burst in progress, no B awaited and no AW offered.
    """

    _request = WriteRequestSignature

    def __init__(self, n, *, addr_width, data_width, max_outstanding=8):
        super().__init__(n, addr_width=addr_width, data_width=data_width,
                         max_outstanding=max_outstanding)

    def elaborate(self, platform):
        m = Module()
        n, axi = self._n, self.axi
        reqs = [getattr(self, f"req{i}") for i in range(n)]
        m.submodules.owners = owners = fifo.SyncFIFO(width=_clog2(n), depth=self._max)

        w_busy = Signal()
        w_owner = Signal(range(max(2, n)))
        accepted = axi.awvalid & axi.awready
        g = _Grant(m, [r.aw_valid for r in reqs], owners.w_rdy & ~w_busy, accepted, "aw")
        sel = g.sel
        m.d.comb += [
            axi.awvalid.eq(g.any),
            axi.awaddr.eq(Array(r.aw_addr for r in reqs)[sel]),
            axi.awlen.eq(Array(r.aw_len for r in reqs)[sel]),
            axi.awburst.eq(Burst.INCR),
            axi.awsize.eq(_size(self._dw)),
            axi.awcache.eq(0b0011),
            axi.awprot.eq(0),
            owners.w_en.eq(accepted),
            owners.w_data.eq(sel),
        ]
        with m.If(Array(r.aw_fixed for r in reqs)[sel]):
            m.d.comb += axi.awburst.eq(Burst.FIXED)
        for i, r in enumerate(reqs):
            m.d.comb += r.aw_ready.eq(accepted & (sel == i))
        with m.If(accepted):
            m.d.sync += [w_busy.eq(1), w_owner.eq(sel)]

        wreq = Array(reqs)[w_owner]
        m.d.comb += [
            axi.wvalid.eq(w_busy & wreq.w_valid),
            axi.wdata.eq(wreq.w_data),
            axi.wstrb.eq(wreq.w_strb),
            axi.wlast.eq(wreq.w_last),
        ]
        for i, r in enumerate(reqs):
            m.d.comb += r.w_ready.eq(w_busy & (w_owner == i) & axi.wready)
        with m.If(axi.wvalid & axi.wready & axi.wlast):
            m.d.sync += w_busy.eq(0)

        head = owners.r_data
        for i, r in enumerate(reqs):
            m.d.comb += [r.b_resp.eq(axi.bresp), r.b_valid.eq(axi.bvalid & owners.r_rdy & (head == i))]
        m.d.comb += [
            axi.bready.eq(owners.r_rdy & Array(r.b_ready for r in reqs)[head]),
            owners.r_en.eq(axi.bvalid & axi.bready),
            self.idle.eq(~owners.r_rdy & ~w_busy & ~axi.awvalid),
        ]
        m.d.comb += [axi.arvalid.eq(0), axi.rready.eq(0), axi.awid.eq(0)]
        return m
