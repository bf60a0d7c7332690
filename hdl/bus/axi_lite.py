"""AXI4-Lite: the signature, and a slave bridge onto a simple register port.

The bridge turns AXI4-Lite transactions (AMBA AXI and ACE specification, issue H, part B, "AXI4-Lite")
into single-cycle strobes on a :class:`RegisterPort`, one transaction at a time, so that a block
only decodes addresses and supplies read data. Names follow the AMBA signal names in lower case, so
that a Verilog top flattened by :func:`atsoc.hdl.toplevel.verilog_ports` exposes ``s_axil_awaddr``
and so on, which cocotbext-axi's ``AxiLiteBus.from_prefix(dut, "s_axil")`` binds to directly.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.wiring import In, Out


__all__ = ["Resp", "AXI4LiteSignature", "RegisterPortSignature", "AXI4LiteBridge"]


class Resp(enum.Enum, shape=2):
    """AXI response codes (BRESP/RRESP)."""

    OKAY = 0b00
    EXOKAY = 0b01
    SLVERR = 0b10
    DECERR = 0b11


class AXI4LiteSignature(wiring.Signature):
    """AXI4-Lite, seen from the master. A slave port is ``In(AXI4LiteSignature(...))``.

    Parameters
    ----------
    addr_width : int
        Width of ``awaddr``/``araddr``.
    data_width : int
        32 or 64.
    """

    def __init__(self, *, addr_width: int, data_width: int = 32):
        if data_width not in (32, 64):
            raise ValueError("AXI4-Lite data width must be 32 or 64")
        self.addr_width = addr_width
        self.data_width = data_width
        super().__init__({
            "awaddr": Out(addr_width), "awprot": Out(3), "awvalid": Out(1), "awready": In(1),
            "wdata": Out(data_width), "wstrb": Out(data_width // 8), "wvalid": Out(1), "wready": In(1),
            "bresp": In(2), "bvalid": In(1), "bready": Out(1),
            "araddr": Out(addr_width), "arprot": Out(3), "arvalid": Out(1), "arready": In(1),
            "rdata": In(data_width), "rresp": In(2), "rvalid": In(1), "rready": Out(1),
        })

    def __eq__(self, other):
        return (isinstance(other, AXI4LiteSignature) and other.addr_width == self.addr_width
                and other.data_width == self.data_width)

    def __repr__(self):
        return f"AXI4LiteSignature(addr_width={self.addr_width}, data_width={self.data_width})"


class RegisterPortSignature(wiring.Signature):
    """A register access port, seen from the bridge (the initiator).

    Timing contract
    ---------------
    * Write: ``w_stb`` is high for one cycle with ``addr``, ``w_data`` and ``w_strb``; the target
      applies it at the end of that cycle and drives ``w_err`` combinationally in that cycle.
    * Read: ``r_stb`` is high for one cycle with ``addr``. The target drives ``r_data`` and
      ``r_err`` from ``read_latency`` cycles later and holds them until the next ``r_stb``.
    * With ``write_ack`` the write response is deferred: the target raises ``w_ack`` for one cycle,
      in the cycle of the strobe or any later one, and ``w_err`` is sampled in that cycle. No other
      transaction is strobed in between. A target that decides a write a cycle after its strobe
      (from registered operands) uses it.
    * ``stall`` (from the target): while high, the bridge accepts no new transaction (its
      ``awready``/``wready``/``arready`` stay low); a target that is busy with other work uses it.
      It must not depend combinationally on the strobes. Targets that never stall leave it at 0.
    * ``addr`` is the address of the access being strobed (write address when ``w_stb``, else the
      read address). ``w_addr`` and ``r_addr`` are the AW and AR addresses themselves, valid with
      their strobes; a target on a critical timing path decodes them instead of ``addr``, which
      depends on the handshake logic through a multiplexer.

    Parameters
    ----------
    addr_width, data_width : int
    write_ack : bool
        The port has ``w_ack`` (the deferred write response above).
    """

    def __init__(self, *, addr_width: int, data_width: int, write_ack: bool = False):
        self.addr_width = addr_width
        self.data_width = data_width
        self.write_ack = write_ack
        members = {
            "addr": Out(addr_width), "w_addr": Out(addr_width), "r_addr": Out(addr_width),
            "w_stb": Out(1), "w_data": Out(data_width), "w_strb": Out(data_width // 8), "w_err": In(1),
            "r_stb": Out(1), "r_data": In(data_width), "r_err": In(1),
            "stall": In(1),
        }
        if write_ack:
            members["w_ack"] = In(1)
        super().__init__(members)

    def __eq__(self, other):
        return (isinstance(other, RegisterPortSignature) and other.addr_width == self.addr_width
                and other.data_width == self.data_width and other.write_ack == self.write_ack)


class AXI4LiteBridge(wiring.Component):
    """AXI4-Lite slave to :class:`RegisterPortSignature` bridge, one transaction at a time.

    Behaviour
    ---------
    * A write is accepted when both AW and W are valid (``awready`` and ``wready`` rise together),
      so the write happens in the handshake cycle; ``bvalid`` follows one cycle later (with
      ``write_ack``: one cycle after the target's ``w_ack``).
    * A read is accepted on AR; ``rvalid`` rises ``read_latency`` cycles after the handshake.
    * When a write and a read are both offered to an idle bridge, the write goes first.
    * A new transaction may be accepted in the cycle the previous response is taken, so reads are
      sustained at one per ``read_latency`` cycles and writes at one per cycle, unless the target
      raises ``stall``.
    * ``awprot``/``arprot`` are ignored. Responses are OKAY, or SLVERR when the target raises its
      error input for the access.

    Parameters
    ----------
    addr_width : int
    data_width : int
    read_latency : int
        Cycles from ``r_stb`` to valid ``r_data`` (at least 1).
    write_ack : bool
        Defer the write response to the target's ``w_ack`` (see :class:`RegisterPortSignature`).
    """

    def __init__(self, *, addr_width: int, data_width: int = 32, read_latency: int = 1,
                 write_ack: bool = False):
        if read_latency < 1:
            raise ValueError("read_latency must be at least 1")
        self._read_latency = read_latency
        self._write_ack = write_ack
        super().__init__({
            "axi": In(AXI4LiteSignature(addr_width=addr_width, data_width=data_width)),
            "reg": Out(RegisterPortSignature(addr_width=addr_width, data_width=data_width,
                                             write_ack=write_ack)),
        })

    def elaborate(self, platform):
        m = Module()
        axi, reg = self.axi, self.reg

        busy = Signal()                      # a transaction is in flight (response not yet taken)
        # The read strobe delayed by read_latency - 1 cycles raises rvalid at the next edge.
        r_pipe = Signal(self._read_latency)
        b_done = axi.bvalid & axi.bready
        r_done = axi.rvalid & axi.rready
        free = (~busy | b_done | r_done) & ~reg.stall

        do_write = free & axi.awvalid & axi.wvalid
        do_read = free & axi.arvalid & ~do_write

        m.d.comb += [
            axi.awready.eq(do_write),
            axi.wready.eq(do_write),
            axi.arready.eq(do_read),
            reg.w_stb.eq(do_write),
            reg.w_data.eq(axi.wdata),
            reg.w_strb.eq(axi.wstrb),
            reg.r_stb.eq(do_read),
            reg.w_addr.eq(axi.awaddr),
            reg.r_addr.eq(axi.araddr),
        ]
        with m.If(do_write):
            m.d.comb += reg.addr.eq(axi.awaddr)
        with m.Else():
            m.d.comb += reg.addr.eq(axi.araddr)

        m.d.comb += r_pipe[0].eq(do_read)
        m.d.sync += r_pipe[1:].eq(r_pipe[:-1])

        with m.If(b_done):
            m.d.sync += axi.bvalid.eq(0)
        with m.If(r_done):
            m.d.sync += axi.rvalid.eq(0)
        with m.If(b_done | r_done):
            m.d.sync += busy.eq(0)

        with m.If(do_write):
            m.d.sync += busy.eq(1)
        respond = reg.w_ack if self._write_ack else do_write
        with m.If(respond):
            m.d.sync += [axi.bvalid.eq(1), axi.bresp.eq(Mux(reg.w_err, Resp.SLVERR, Resp.OKAY))]
        with m.If(do_read):
            m.d.sync += busy.eq(1)

        with m.If(r_pipe[-1]):
            m.d.sync += axi.rvalid.eq(1)
        # r_data/r_err are held by the target until the next r_stb, so they can drive R directly.
        m.d.comb += [
            axi.rdata.eq(reg.r_data),
            axi.rresp.eq(Mux(reg.r_err, Resp.SLVERR, Resp.OKAY)),
        ]
        return m
