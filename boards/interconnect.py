"""The board's host bus: one AXI4-Lite master (the UART bridge) to address windows.

:class:`AXI4LiteDecoder` routes each transaction by its address to one of its windows (a prefix
of the top address bits) and answers DECERR itself outside every window. One transaction per
direction at a time: the window of a read is chosen at its AR handshake and kept until its R
beat; a write's AW and W go together to the window of AWADDR (W waits for AW to be presented),
which is kept until the B response.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..hdl.bus.axi_lite import AXI4LiteSignature, Resp


__all__ = ["Window", "AXI4LiteDecoder"]


class Window:
    """An address window: ``[base, base + size)``, ``size`` a power of two, ``base`` aligned."""

    def __init__(self, name: str, base: int, size: int):
        if size <= 0 or size & (size - 1) or base % size:
            raise ValueError(f"window {name}: size {size:#x} must be a power of two and base "
                             f"{base:#x} a multiple of it")
        self.name, self.base, self.size = name, base, size

    def __repr__(self):
        return f"Window({self.name!r}, {self.base:#x}, {self.size:#x})"


class AXI4LiteDecoder(wiring.Component):
    """AXI4-Lite 1-to-N address decoder.

    Parameters
    ----------
    windows : list of Window
        Non-overlapping windows; port ``m_<name>`` per window, with the full address.
    addr_width, data_width : int

    Attributes
    ----------
    s_axil : In(AXI4LiteSignature)
    m_<name> : Out(AXI4LiteSignature) per window
    """

    def __init__(self, windows, *, addr_width: int = 32, data_width: int = 32):
        spans = sorted((w.base, w.base + w.size, w.name) for w in windows)
        for (b0, e0, n0), (b1, e1, n1) in zip(spans, spans[1:]):
            if b1 < e0:
                raise ValueError(f"windows {n0} and {n1} overlap")
        for w in windows:
            if w.base + w.size > 1 << addr_width:
                raise ValueError(f"window {w.name} lies beyond {addr_width}-bit addresses")
        self.windows = list(windows)
        self.addr_width = addr_width
        sig = AXI4LiteSignature(addr_width=addr_width, data_width=data_width)
        members = {"s_axil": In(sig)}
        for w in self.windows:
            members[f"m_{w.name}"] = Out(sig)
        super().__init__(members)

    def _hits(self, addr):
        hits = []
        for w in self.windows:
            lo = w.size.bit_length() - 1
            hits.append(addr[lo:] == (w.base >> lo) if lo < self.addr_width else addr == addr)
        return hits

    def elaborate(self, platform):
        m = Module()
        s = self.s_axil
        ports = [getattr(self, f"m_{w.name}") for w in self.windows]
        n = len(ports)
        for p in ports:
            m.d.comb += [p.awaddr.eq(s.awaddr), p.awprot.eq(s.awprot), p.wdata.eq(s.wdata),
                         p.wstrb.eq(s.wstrb), p.araddr.eq(s.araddr), p.arprot.eq(s.arprot)]

        # -- read: the window is chosen at the AR handshake and kept until the R beat
        r_sel = Signal(range(n + 1))       # n: no window (DECERR)
        r_busy = Signal()
        hits = self._hits(s.araddr)
        with m.If(~r_busy):
            for i, p in enumerate(ports):
                m.d.comb += p.arvalid.eq(s.arvalid & hits[i])
                with m.If(p.arvalid & p.arready):
                    m.d.comb += s.arready.eq(1)
                    m.d.sync += [r_sel.eq(i), r_busy.eq(1)]
            with m.If(s.arvalid & ~any_of(hits)):
                m.d.comb += s.arready.eq(1)
                m.d.sync += [r_sel.eq(n), r_busy.eq(1)]
        with m.Else():
            with m.If(r_sel == n):
                m.d.comb += [s.rvalid.eq(1), s.rresp.eq(Resp.DECERR)]
            for i, p in enumerate(ports):
                with m.If(r_sel == i):
                    m.d.comb += [s.rvalid.eq(p.rvalid), s.rresp.eq(p.rresp), s.rdata.eq(p.rdata),
                                 p.rready.eq(s.rready)]
            with m.If(s.rvalid & s.rready):
                m.d.sync += r_busy.eq(0)

        # -- write: AW and W go to the window of AWADDR together (slaves such as
        # AXI4LiteBridge accept them only together); the window is kept until the B response.
        w_sel = Signal(range(n + 1))
        aw_done = Signal()
        w_done = Signal()
        hits = self._hits(s.awaddr)
        for i, p in enumerate(ports):
            route = (aw_done & (w_sel == i)) | (~aw_done & s.awvalid & hits[i])
            m.d.comb += [p.awvalid.eq(~aw_done & s.awvalid & hits[i]),
                         p.wvalid.eq(~w_done & s.wvalid & route),
                         p.bready.eq(aw_done & w_done & (w_sel == i) & s.bready)]
            with m.If(p.awvalid & p.awready):
                m.d.comb += s.awready.eq(1)
                m.d.sync += [w_sel.eq(i), aw_done.eq(1)]
            with m.If(p.wvalid & p.wready):
                m.d.comb += s.wready.eq(1)
                m.d.sync += w_done.eq(1)
            with m.If(aw_done & w_done & (w_sel == i)):
                m.d.comb += [s.bvalid.eq(p.bvalid), s.bresp.eq(p.bresp)]
        with m.If(~aw_done & s.awvalid & ~any_of(hits)):
            m.d.comb += s.awready.eq(1)
            m.d.sync += [w_sel.eq(n), aw_done.eq(1)]
        with m.If(aw_done & ~w_done & (w_sel == n)):
            m.d.comb += s.wready.eq(1)
            with m.If(s.wvalid):
                m.d.sync += w_done.eq(1)
        with m.If(aw_done & w_done & (w_sel == n)):
            m.d.comb += [s.bvalid.eq(1), s.bresp.eq(Resp.DECERR)]
        with m.If(s.bvalid & s.bready):
            m.d.sync += [aw_done.eq(0), w_done.eq(0)]
        return m


def any_of(values):
    out = 0
    for v in values:
        out = out | v
    return out
