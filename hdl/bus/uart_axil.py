"""A UART to AXI4-Lite bridge: a host reads and writes bus words over a serial line.

Protocol (docs/boards.md, "Host bridge protocol"); multi-byte fields little-endian:

============  ==========================================  =====================================
command byte  request bytes that follow                   response
============  ==========================================  =====================================
``0x00`` PING  none                                       ``0xA5``, bus data width in bytes
``0x01`` RD32  address (4)                                status, data (4)
``0x02`` WR32  address (4), strobe (1, bits 3:0), data (4)  status
``0x03`` RD64  address (4)                                status, data (8)
``0x04`` WR64  address (4), strobe (1, bits 7:0), data (8)  status
``0x05`` IRQ   none                                       ``0xA0``, the ``irq`` input (8)
other         none                                        ``0xFF`` (NAK)
============  ==========================================  =====================================

* status is ``0xA0 | resp``, resp the AXI response code (0 OKAY, 2 SLVERR, 3 DECERR). A read
  answered with an error still returns its data bytes (what the slave drove, usually 0).
* On a 32-bit bus, RD64/WR64 are answered with NAK (their request bytes are not expected).
* IRQ returns the ``irq`` input (interrupt lines of the design, sampled when the command byte
  is taken; zero-extended to 64 bits) so a host can wait for an interrupt by polling; a bridge
  built with ``irq_width=0`` answers it with NAK. No bus access.
* On a 64-bit bus, RD32/WR32 use the lane of address bit 2 (the strobe is shifted, the data
  replicated on both halves; the read returns the addressed half).
* A request whose bytes stop arriving for ``timeout_bytes`` byte times is abandoned (no bus
  access, no response), so a host resynchronises by waiting that long; then PING answers.
* One bus transaction at a time; the bridge holds ``awaddr``/``araddr`` and ``wdata`` stable from
  the request until the next one, so an address decoder downstream may route on them. The bridge
  waits for the slave without a time limit (the slave must answer every request).
* Received bytes go through a 16-byte FIFO, so a host may send its next request while the
  response of the previous one is being transmitted.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from .axi_lite import AXI4LiteSignature
from .uart import UARTRx, UARTTx, _check_divisor


__all__ = ["Command", "STATUS_BASE", "PING_REPLY", "NAK", "UARTAXILiteBridge"]


class Command:
    """Command byte values."""

    PING = 0x00
    RD32 = 0x01
    WR32 = 0x02
    RD64 = 0x03
    WR64 = 0x04
    IRQ = 0x05


STATUS_BASE = 0xA0
PING_REPLY = 0xA5
NAK = 0xFF


class UARTAXILiteBridge(wiring.Component):
    """UART host port, AXI4-Lite master.

    Parameters
    ----------
    divisor : int
        Clock cycles per UART bit (see :func:`atsoc.hdl.bus.uart.uart_divisor`).
    addr_width : int
        Width of ``m_axil`` addresses (1..32; the request's upper address bits are dropped).
    data_width : int
        32 or 64.
    timeout_bytes : int
        Byte times without a byte after which a partial request is abandoned (>= 2).
    irq_width : int
        Width of the ``irq`` input that the IRQ command reports (0..64; 0: no input, NAK).

    Attributes
    ----------
    rx : In(1), tx : Out(1)
        The UART pins.
    m_axil : Out(AXI4LiteSignature)
    busy : Out(1)
        High from a complete request until its response is sent (for an activity LED).
    framing_error, overrun : Out(1)
        The receiver's error pulses.
    irq : In(irq_width)
        With ``irq_width`` > 0: the lines the IRQ command reports (in the bridge's domain).
    """

    def __init__(self, *, divisor: int, addr_width: int = 32, data_width: int = 32,
                 timeout_bytes: int = 64, irq_width: int = 0):
        _check_divisor(divisor)
        if not 1 <= addr_width <= 32:
            raise ValueError(f"addr_width must be 1..32, not {addr_width}")
        if data_width not in (32, 64):
            raise ValueError(f"data_width must be 32 or 64, not {data_width}")
        if timeout_bytes < 2:
            raise ValueError(f"timeout_bytes must be >= 2, not {timeout_bytes}")
        if not isinstance(irq_width, int) or not 0 <= irq_width <= 64:
            raise ValueError(f"irq_width must be 0..64, not {irq_width!r}")
        self.irq_width = irq_width
        self.divisor = divisor
        self.addr_width = addr_width
        self.data_width = data_width
        self.timeout_cycles = timeout_bytes * 10 * divisor
        members = {
            "rx": In(1, init=1), "tx": Out(1, init=1),
            "m_axil": Out(AXI4LiteSignature(addr_width=addr_width, data_width=data_width)),
            "busy": Out(1), "framing_error": Out(1), "overrun": Out(1),
        }
        if irq_width:
            members["irq"] = In(irq_width)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        dw = self.data_width
        m.submodules.urx = urx = UARTRx(self.divisor)
        m.submodules.utx = utx = UARTTx(self.divisor)
        m.submodules.rx_fifo = fifo = SyncFIFOBuffered(width=8, depth=16)
        m.d.comb += [
            urx.rx.eq(self.rx), self.tx.eq(utx.tx),
            self.framing_error.eq(urx.framing_error), self.overrun.eq(urx.overrun),
            fifo.w_data.eq(urx.data.payload), fifo.w_en.eq(urx.data.valid),
            urx.data.ready.eq(fifo.w_rdy),
        ]

        axi = self.m_axil
        cmd = Signal(8)
        addr = Signal(32)
        strb = Signal(8)
        data = Signal(64)
        wide = Signal()                      # a 64-bit command
        count = Signal(range(16))            # bytes left to receive / send
        resp = Signal(2)
        rdata = Signal(64)
        out = Signal(9 * 8)                  # response bytes, first in the low byte
        timer = Signal(range(self.timeout_cycles + 1))
        aw_done = Signal()
        w_done = Signal()

        lane = addr[2] if dw == 64 else Const(0)
        m.d.comb += [
            axi.awaddr.eq(addr), axi.araddr.eq(addr),
            axi.wdata.eq(data if dw == 32 else Mux(wide, data, Cat(data[:32], data[:32]))),
            axi.wstrb.eq(strb if dw == 32 else Mux(wide, strb, Mux(lane, strb[:4] << 4, strb[:4]))),
            utx.data.payload.eq(out[:8]),
        ]

        byte = fifo.r_data
        with m.If(fifo.r_en & fifo.r_rdy):
            m.d.sync += timer.eq(0)
        with m.Elif(timer != self.timeout_cycles):
            m.d.sync += timer.eq(timer + 1)
        timed_out = timer == self.timeout_cycles

        def send(nbytes, value):
            m.d.sync += [out.eq(value), count.eq(nbytes)]
            m.next = "SEND"

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += fifo.r_en.eq(1)
                with m.If(fifo.r_rdy):
                    m.d.sync += [cmd.eq(byte), count.eq(4), wide.eq(0)]
                    with m.Switch(byte):
                        with m.Case(Command.PING):
                            send(2, Cat(Const(PING_REPLY, 8), Const(dw // 8, 8)))
                        with m.Case(Command.RD32, Command.WR32):
                            m.next = "ADDR"
                        if dw == 64:
                            with m.Case(Command.RD64, Command.WR64):
                                m.d.sync += wide.eq(1)
                                m.next = "ADDR"
                        if self.irq_width:
                            with m.Case(Command.IRQ):
                                send(9, Cat(Const(STATUS_BASE, 8), self.irq))
                        with m.Default():
                            send(1, NAK)
            with m.State("ADDR"):
                m.d.comb += fifo.r_en.eq(1)
                with m.If(fifo.r_rdy):
                    m.d.sync += [addr.eq(Cat(addr[8:], byte)), count.eq(count - 1)]
                    with m.If(count == 1):
                        with m.If((cmd == Command.WR32) | (cmd == Command.WR64)):
                            m.next = "STRB"
                        with m.Else():
                            m.next = "READ"
                with m.Elif(timed_out):
                    m.next = "IDLE"
            with m.State("STRB"):
                m.d.comb += fifo.r_en.eq(1)
                with m.If(fifo.r_rdy):
                    m.d.sync += [strb.eq(byte), count.eq(Mux(wide, 8, 4)), data.eq(0)]
                    m.next = "DATA"
                with m.Elif(timed_out):
                    m.next = "IDLE"
            with m.State("DATA"):
                m.d.comb += fifo.r_en.eq(1)
                with m.If(fifo.r_rdy):
                    # Little-endian: each byte enters at the top of the field and moves down,
                    # so the first byte ends in the low byte (bits 31:0 for a 32-bit command).
                    with m.If(wide):
                        m.d.sync += data.eq(Cat(data[8:], byte))
                    with m.Else():
                        m.d.sync += data.eq(Cat(data[8:32], byte, Const(0, 32)))
                    m.d.sync += count.eq(count - 1)
                    with m.If(count == 1):
                        m.d.sync += [aw_done.eq(0), w_done.eq(0)]
                        m.next = "WRITE"
                with m.Elif(timed_out):
                    m.next = "IDLE"
            with m.State("WRITE"):
                m.d.comb += [self.busy.eq(1), axi.awvalid.eq(~aw_done), axi.wvalid.eq(~w_done),
                             axi.bready.eq(aw_done & w_done)]
                with m.If(axi.awvalid & axi.awready):
                    m.d.sync += aw_done.eq(1)
                with m.If(axi.wvalid & axi.wready):
                    m.d.sync += w_done.eq(1)
                with m.If(axi.bvalid & axi.bready):
                    send(1, STATUS_BASE | axi.bresp)
            with m.State("READ"):
                m.d.comb += [self.busy.eq(1), axi.arvalid.eq(1)]
                with m.If(axi.arready):
                    m.next = "RDATA"
            with m.State("RDATA"):
                m.d.comb += [self.busy.eq(1), axi.rready.eq(1)]
                with m.If(axi.rvalid):
                    word = axi.rdata
                    if dw == 64:
                        word = Mux(wide, axi.rdata, Mux(lane, axi.rdata[32:], axi.rdata[:32]))
                    send(Mux(wide, 9, 5), Cat(STATUS_BASE | axi.rresp, word))
            with m.State("SEND"):
                m.d.comb += [self.busy.eq(1), utx.data.valid.eq(1)]
                with m.If(utx.data.ready):
                    m.d.sync += [out.eq(out >> 8), count.eq(count - 1)]
                    with m.If(count == 1):
                        m.next = "IDLE"
        return m
