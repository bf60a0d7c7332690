"""AXI4-Lite interconnect: one master port, an address decoder, several slave ports of 32- or 64-bit
data, DECERR for addresses that no slave decodes.

The interconnect carries one transaction at a time (a CPU's uncached MMIO accesses are issued one
after another anyway) and registers everything it drives, so that it adds no combinational path
between the master and the slaves: the decode sits between two registers and the slaves see a
registered AXI4-Lite master. Cost: 2 cycles more per access than a slave port reached directly.

Lane conversion, for a master port of 64-bit data and a slave of 32-bit data (AMBA AXI, part B:
AXI4-Lite has no transfer size, so narrow accesses are told apart by WSTRB on writes and by the
address on reads):

* Writes: the byte strobes say which 32-bit half is written: low lanes -> the slave's register at
  ``addr & ~4``, high lanes -> ``addr | 4``. A write that strobes both halves (a 64-bit store) becomes
  two slave writes, low half first; its response is the worse of the two.
* Reads: ARADDR bit 2 chooses the register (``addr & ~7`` or ``addr | 4``, the byte address a 32-bit
  load puts on ARADDR; cocotbext-axi's AxiLiteMaster and RISC-V cores do). Exactly one slave read
  happens (a read can have side effects, such as a PLIC claim), and its 32-bit data is returned on
  both halves of RDATA, so the master finds it on the lanes of its address. A 64-bit load of a
  32-bit device therefore returns one register twice; drivers of 32-bit devices use 32-bit loads.

Decode: a slave's window is ``[base, base + size)`` with ``size`` a power of two and ``base`` a
multiple of ``size``; the slave sees ``addr - base`` truncated to its address width, and only the
part of the window below ``2**addr_width`` reaches it (the rest of the window answers DECERR like
an address outside every window).
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .axi_lite import AXI4LiteSignature, Resp


__all__ = ["Target", "AXI4LiteInterconnect"]


@dataclass(frozen=True)
class Target:
    """A slave of the interconnect.

    Parameters
    ----------
    name : str
        Name of its port on the interconnect (a Python identifier).
    base : int
        Bus address of its window, a multiple of ``size``.
    size : int
        Window size in bytes, a power of two, at least ``2**addr_width``.
    addr_width : int
        Address width of the slave port; the slave decodes ``2**addr_width`` bytes.
    data_width : int
        32 or 64; at most the master's.
    """

    name: str
    base: int
    size: int
    addr_width: int
    data_width: int = 32

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"target name {self.name!r} must be an identifier")
        if self.size <= 0 or self.size & (self.size - 1):
            raise ValueError(f"{self.name}: window size {self.size:#x} must be a power of two")
        if self.base % self.size:
            raise ValueError(f"{self.name}: base {self.base:#x} must be a multiple of its size {self.size:#x}")
        if self.size < (1 << self.addr_width):
            raise ValueError(f"{self.name}: window size {self.size:#x} is smaller than the slave's "
                             f"register space {1 << self.addr_width:#x}")
        if self.data_width not in (32, 64):
            raise ValueError(f"{self.name}: data_width must be 32 or 64, not {self.data_width}")

    @property
    def decoded(self) -> int:
        """Bytes of the window that reach the slave."""
        return 1 << self.addr_width


class AXI4LiteInterconnect(wiring.Component):
    """One AXI4-Lite master port to several slave ports, with an address decoder.

    Parameters
    ----------
    targets : sequence of Target
        The slaves; their windows must not overlap.
    addr_width : int
        Address width of the master port (``s_axil``).
    data_width : int
        32 or 64; every target's data width is at most this.

    Attributes
    ----------
    s_axil : In(AXI4LiteSignature(addr_width, data_width))
        The master port (from the CPU).
    <target.name> : Out(AXI4LiteSignature(target.addr_width, target.data_width))
        One master port per target.
    """

    def __init__(self, targets, *, addr_width: int = 32, data_width: int = 64):
        targets = tuple(targets)
        if data_width not in (32, 64):
            raise ValueError(f"data_width must be 32 or 64, not {data_width}")
        if not targets:
            raise ValueError("an interconnect needs at least one target")
        names = [t.name for t in targets]
        if len(set(names)) != len(names) or "s_axil" in names:
            raise ValueError(f"target names must be unique and not 's_axil': {names}")
        spans = sorted((t.base, t.base + t.size, t.name) for t in targets)
        for (b0, e0, n0), (b1, _e1, n1) in zip(spans, spans[1:]):
            if b1 < e0:
                raise ValueError(f"windows of {n0} ({b0:#x}..{e0 - 1:#x}) and {n1} (from {b1:#x}) overlap")
        for t in targets:
            if t.data_width > data_width:
                raise ValueError(f"{t.name}: data width {t.data_width} is wider than the master's {data_width}")
            if t.base + t.size > 1 << addr_width:
                raise ValueError(f"{t.name}: window ends above the {addr_width}-bit address space")
        self.targets = targets
        self._addr_width = addr_width
        self._data_width = data_width
        members = {"s_axil": In(AXI4LiteSignature(addr_width=addr_width, data_width=data_width))}
        for t in targets:
            members[t.name] = Out(AXI4LiteSignature(addr_width=t.addr_width, data_width=t.data_width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        up = self.s_axil
        aw, dw = self._addr_width, self._data_width
        narrow = dw == 64                      # 32-bit targets need lane conversion
        n = len(self.targets)

        # -- the accepted transaction (registered) --------------------------------------------
        addr = Signal(aw)
        wdata = Signal(dw)
        wstrb = Signal(dw // 8)
        sel = Signal(n)                        # one-hot target, 0 = hole
        upper = Signal()                       # 32-bit target: the half being accessed
        second = Signal()                      # a 64-bit write to a 32-bit target: high half left
        resp = Signal(2)
        rdata = Signal(dw)

        accept_w = Signal()
        accept_r = Signal()
        a_in = Signal(aw)
        m.d.comb += a_in.eq(Mux(accept_w, up.awaddr, up.araddr))
        hit = Signal(n)
        for i, t in enumerate(self.targets):
            m.d.comb += hit[i].eq((a_in >> t.addr_width) == (t.base >> t.addr_width))

        narrow_sel = Cat(*[Const(int(t.data_width == 32 and narrow), 1) for t in self.targets])
        lo_strb = up.wstrb[:4]
        hi_strb = up.wstrb[4:] if narrow else Const(0, 4)

        # Per-target request signals (registered) and the selected response (AND-OR mux).
        t_awvalid = Signal()
        t_wvalid = Signal()
        t_arvalid = Signal()
        t_bready = Signal()
        t_rready = Signal()
        aw_ok = Signal(n)                      # target's awready/wready/arready/bvalid/rvalid
        w_ok = Signal(n)
        ar_ok = Signal(n)
        b_ok = Signal(n)
        r_ok = Signal(n)
        b_resp = Signal(2)
        r_resp = Signal(2)
        r_data = Signal(dw)
        b_terms, r_terms, d_terms = [], [], []
        for i, t in enumerate(self.targets):
            port = getattr(self, t.name)
            s = sel[i]
            tdw = t.data_width
            if tdw == dw:
                m.d.comb += [port.wdata.eq(wdata), port.wstrb.eq(wstrb), port.awaddr.eq(addr),
                             port.araddr.eq(addr)]
            else:
                # 32-bit target behind a 64-bit master: the half chosen by ``upper``.
                a = Cat(addr[:2], upper, addr[3:])
                m.d.comb += [port.awaddr.eq(a), port.araddr.eq(a),
                             port.wdata.eq(Mux(upper, wdata[32:], wdata[:32])),
                             port.wstrb.eq(Mux(upper, wstrb[4:], wstrb[:4]))]
            m.d.comb += [
                port.awprot.eq(0), port.arprot.eq(0),
                port.awvalid.eq(t_awvalid & s), port.wvalid.eq(t_wvalid & s),
                port.arvalid.eq(t_arvalid & s),
                port.bready.eq(t_bready & s), port.rready.eq(t_rready & s),
                aw_ok[i].eq(port.awready & s), w_ok[i].eq(port.wready & s),
                ar_ok[i].eq(port.arready & s), b_ok[i].eq(port.bvalid & s),
                r_ok[i].eq(port.rvalid & s),
            ]
            data = port.rdata if tdw == dw else Cat(port.rdata, port.rdata)
            b_terms.append(Mux(s, port.bresp, 0))
            r_terms.append(Mux(s, port.rresp, 0))
            d_terms.append(Mux(s, data, 0))

        def any_of(terms):
            out = terms[0]
            for term in terms[1:]:
                out = out | term
            return out
        m.d.comb += [b_resp.eq(any_of(b_terms)), r_resp.eq(any_of(r_terms)), r_data.eq(any_of(d_terms))]

        aw_done = Signal()
        w_done = Signal()

        def worse(a, b):
            # DECERR (3) > SLVERR (2) > OKAY (0): the numerically larger code wins.
            return Mux(a > b, a, b)

        with m.FSM(name="xbar"):
            with m.State("IDLE"):
                m.d.comb += [
                    accept_w.eq(up.awvalid & up.wvalid),
                    accept_r.eq(up.arvalid & ~(up.awvalid & up.wvalid)),
                    up.awready.eq(accept_w), up.wready.eq(accept_w), up.arready.eq(accept_r),
                ]
                is_narrow = (hit & narrow_sel).any()
                m.d.sync += [addr.eq(a_in), wdata.eq(up.wdata), wstrb.eq(up.wstrb), sel.eq(hit),
                             resp.eq(Resp.OKAY), aw_done.eq(0), w_done.eq(0)]
                with m.If(accept_w):
                    # Low half first when it is strobed, then the high half (if strobed too).
                    m.d.sync += [upper.eq(is_narrow & (lo_strb == 0)),
                                 second.eq(is_narrow & (lo_strb != 0) & (hi_strb != 0))]
                    with m.If(hit.any()):
                        m.d.sync += [t_awvalid.eq(1), t_wvalid.eq(1)]
                        m.next = "WRITE"
                    with m.Else():
                        m.d.sync += resp.eq(Resp.DECERR)
                        m.next = "B"
                with m.Elif(accept_r):
                    m.d.sync += [upper.eq(up.araddr[2] if narrow else 0), second.eq(0)]
                    with m.If(hit.any()):
                        m.d.sync += t_arvalid.eq(1)
                        m.next = "READ"
                    with m.Else():
                        m.d.sync += [resp.eq(Resp.DECERR), rdata.eq(0)]
                        m.next = "R"

            with m.State("WRITE"):
                aw_now = aw_done | aw_ok.any()
                w_now = w_done | w_ok.any()
                with m.If(aw_ok.any()):
                    m.d.sync += [t_awvalid.eq(0), aw_done.eq(1)]
                with m.If(w_ok.any()):
                    m.d.sync += [t_wvalid.eq(0), w_done.eq(1)]
                with m.If(aw_now & w_now):
                    m.d.sync += t_bready.eq(1)
                    m.next = "WRITE_B"

            with m.State("WRITE_B"):
                with m.If(b_ok.any()):
                    m.d.sync += [t_bready.eq(0), resp.eq(worse(resp, b_resp)),
                                 aw_done.eq(0), w_done.eq(0)]
                    with m.If(second):
                        m.d.sync += [second.eq(0), upper.eq(1), t_awvalid.eq(1), t_wvalid.eq(1)]
                        m.next = "WRITE"
                    with m.Else():
                        m.next = "B"

            with m.State("B"):
                m.d.comb += [up.bvalid.eq(1), up.bresp.eq(resp)]
                with m.If(up.bready):
                    m.next = "IDLE"

            with m.State("READ"):
                with m.If(ar_ok.any()):
                    m.d.sync += [t_arvalid.eq(0), t_rready.eq(1)]
                    m.next = "READ_R"

            with m.State("READ_R"):
                with m.If(r_ok.any()):
                    m.d.sync += [t_rready.eq(0), rdata.eq(r_data), resp.eq(r_resp)]
                    m.next = "R"

            with m.State("R"):
                m.d.comb += [up.rvalid.eq(1), up.rresp.eq(resp), up.rdata.eq(rdata)]
                with m.If(up.rready):
                    m.next = "IDLE"
        return m
