"""On-chip RAM with an AXI4 slave port (bursts) and an optional AXI4-Lite host port.

The memory is split into banks of ``bank_words`` words, each a ``lib.memory.Memory`` with one
write port (byte lanes) and one synchronous read port, which maps onto block RAM (ECP5: a bank of
512 32-bit words is one DP16KD). Each bank's read data is registered before the banks are
multiplexed: the DP16KD data output is slow (about 4.3 ns clock-to-out on speed 8, and yosys
cannot use its output register), and a multiplexer of 32 banks straight after it cannot meet
125 MHz. Reads and writes run independently, each one beat per cycle:

* Read: a burst is accepted on AR when no read burst is in progress; its beats go through a
  two-stage pipeline (block RAM read, bank register) into an 8-beat FIFO at one per cycle, issued
  only while the FIFO has room for them, so RREADY drives only the FIFO. The first beat of a
  burst is valid five cycles after the AR handshake; one idle cycle separates two bursts.
* Write: a burst is accepted on AW when no write burst and no write response is in progress; its
  W beats are taken as they come (WREADY high during the burst), registered and written one cycle
  after their handshake; the response follows the last beat (counted from AWLEN; WLAST is not
  checked), in the cycle its data is written.
* Bursts (AMBA AXI IHI 0022 A3.4.1): INCR, FIXED and WRAP, any AxSIZE up to the data width
  (narrow transfers: the address advances by 2**AxSIZE, write strobes select the lanes, reads
  return the whole word). AxLEN up to 255.
* Addresses: the RAM answers ``[base, base + size_bytes)``; a beat outside answers SLVERR
  (write ignored, read data undefined), each beat checked on its own address.
* IDs: AWID/ARID are returned on BID/RID; one burst at a time per direction, so responses are
  in order.
* Host port (``host_port=True``): an AXI4-Lite slave ``s_axil`` sharing the memory; it is served
  as a one-beat burst when the AXI4 side does not present a burst in the same cycle (AXI4 has
  priority on each of AR and AW).

A read and a write to the same word in the same cycle return the old data (AXI gives no order
between the read and write channels).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In

from .axi4 import AXI4Signature, Burst
from .axi_lite import AXI4LiteSignature, Resp


__all__ = ["AXI4RAM"]


#: Depth of the read-data FIFO; covers the credit loop (issue to FIFO output and back) so that
#: reads run at one beat per cycle.
R_FIFO_DEPTH = 8


def _log2(n):
    return n.bit_length() - 1


class AXI4RAM(wiring.Component):
    """AXI4 slave RAM.

    Parameters
    ----------
    size_bytes : int
        Capacity, a power of two, at least 4 data words (e.g. 65536).
    data_width : int
        32 or 64.
    addr_width : int
        Width of the AXI addresses (up to 64), large enough for ``base + size_bytes - 1``.
    id_width : int
        Width of AWID/ARID/BID/RID (0 leaves them out).
    base : int
        Bus address of the first byte, a multiple of ``size_bytes``.
    host_port : bool
        Add the AXI4-Lite slave ``s_axil`` (same addresses).
    init : bytes, optional
        Initial contents (at most ``size_bytes``; the rest is zero).
    bank_words : int
        Words per bank (power of two; default 512, one DP16KD at 32 bits). ``size_bytes`` below
        one bank makes a single bank.

    Attributes
    ----------
    s_axi : In(AXI4Signature)
    s_axil : In(AXI4LiteSignature), with ``host_port``
    """

    def __init__(self, *, size_bytes: int, data_width: int = 32, addr_width: int = 32,
                 id_width: int = 1, base: int = 0, host_port: bool = False, init: bytes = b"",
                 bank_words: int = 512):
        if data_width not in (32, 64):
            raise ValueError(f"data_width must be 32 or 64, not {data_width}")
        nb = data_width // 8
        if size_bytes < 4 * nb or size_bytes & (size_bytes - 1):
            raise ValueError(f"size_bytes must be a power of two >= {4 * nb}, not {size_bytes}")
        if base % size_bytes or base < 0:
            raise ValueError(f"base {base:#x} must be a non-negative multiple of size_bytes "
                             f"({size_bytes:#x})")
        if not 1 <= addr_width <= 64 or base + size_bytes > (1 << addr_width):
            raise ValueError(f"addr_width {addr_width} cannot address {base:#x}+{size_bytes:#x}")
        if not 0 <= id_width <= 16:
            raise ValueError(f"id_width must be 0..16, not {id_width}")
        if bank_words < 1 or bank_words & (bank_words - 1):
            raise ValueError(f"bank_words must be a power of two, not {bank_words}")
        if len(init) > size_bytes:
            raise ValueError(f"init has {len(init)} bytes, more than size_bytes {size_bytes}")
        self.size_bytes = size_bytes
        self.data_width = data_width
        self.addr_width = addr_width
        self.id_width = id_width
        self.base = base
        self.host_port = host_port
        self.init = bytes(init)
        self.bank_words = min(bank_words, size_bytes // nb)
        members = {"s_axi": In(AXI4Signature(addr_width=addr_width, data_width=data_width,
                                             id_width=id_width))}
        if host_port:
            members["s_axil"] = In(AXI4LiteSignature(addr_width=addr_width, data_width=data_width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        dw, aw, nb = self.data_width, self.addr_width, self.data_width // 8
        lsb = _log2(nb)
        depth = self.size_bytes // nb
        hi = _log2(self.size_bytes)
        words = [int.from_bytes(self.init[i:i + nb].ljust(nb, b"\0"), "little")
                 for i in range(0, len(self.init), nb)]
        bw = self.bank_words
        nbanks = depth // bw
        bbits = _log2(bw)                   # word address bits within a bank
        banks = []
        for b in range(nbanks):
            mem = Memory(shape=dw, depth=bw, init=words[b * bw:(b + 1) * bw])
            m.submodules[f"bank{b}"] = mem
            banks.append((mem.write_port(granularity=8), mem.read_port()))

        def bank_of(addr):
            return addr[lsb + bbits:hi] if nbanks > 1 else Const(0, 1)
        axi = self.s_axi
        host = self.s_axil if self.host_port else None
        idw = max(self.id_width, 1)

        def in_range(addr):
            if hi >= aw:
                return Const(1)
            return addr[hi:] == (self.base >> hi)

        def next_addr(addr, incr, mask):
            return (addr & ~mask) | ((addr + incr) & mask)

        def burst_regs(name):
            return (Signal(aw, name=f"{name}_addr"), Signal(lsb + 2, name=f"{name}_incr"),
                    Signal(aw, name=f"{name}_mask"), Signal(9, name=f"{name}_left"),
                    Signal(idw, name=f"{name}_id"), Signal(name=f"{name}_host"))

        def start_burst(regs, addr, length, size, burst, ident, from_host):
            r_addr, r_incr, r_mask, r_left, r_id, r_host = regs
            incr = Mux(burst == Burst.FIXED, 0, Const(1, lsb + 2) << size)
            # WRAP: the address wraps within (AxLEN + 1) << AxSIZE bytes (A3.4.1).
            wrap_mask = (((length + 1) << size) - 1)[:aw]
            mask = Mux(burst == Burst.WRAP, wrap_mask, Const((1 << aw) - 1, aw))
            m.d.sync += [r_addr.eq(addr), r_incr.eq(incr), r_mask.eq(mask), r_left.eq(length),
                         r_id.eq(ident), r_host.eq(from_host)]

        full_size = Const(lsb, 3)

        # ---------------------------------------------------------------- read
        # issue (address) -> s1 (block RAM read) -> s2 (bank registers) -> R FIFO -> R channel.
        # The pipeline never stalls: a beat is issued only when the FIFO is sure to have room
        # for it (credits), so RREADY reaches only the FIFO and the credit counter, never the
        # memories' enables (a master's RREADY is often a long combinational path).
        rd = burst_regs("rd")
        rd_addr, rd_incr, rd_mask, rd_left, rd_id, rd_host = rd
        rd_active = Signal()
        credits = Signal(range(R_FIFO_DEPTH + 1), init=R_FIFO_DEPTH)
        issue = rd_active & (credits != 0)

        with m.If(~rd_active):
            with m.If(axi.arvalid):
                m.d.comb += axi.arready.eq(1)
                start_burst(rd, axi.araddr, axi.arlen, axi.arsize, axi.arburst,
                            axi.arid if self.id_width else 0, 0)
                m.d.sync += rd_active.eq(1)
            if host is not None:
                with m.Elif(host.arvalid):
                    m.d.comb += host.arready.eq(1)
                    start_burst(rd, host.araddr, Const(0, 8), full_size, Const(Burst.INCR, 2), 0, 1)
                    m.d.sync += rd_active.eq(1)

        with m.If(issue):
            m.d.sync += [rd_addr.eq(next_addr(rd_addr, rd_incr, rd_mask)),
                         rd_left.eq(rd_left - 1)]
            with m.If(rd_left == 0):
                m.d.sync += rd_active.eq(0)

        meta = data.StructLayout({"last": 1, "id": idw, "err": 1, "host": 1})
        s1_valid = Signal()
        s1_meta = Signal(meta)
        s1_bank = Signal(range(nbanks))
        s2_valid = Signal()
        s2_meta = Signal(meta)
        s2_bank = Signal(range(nbanks))
        bank_q = [Signal(dw, name=f"bank{b}_q") for b in range(nbanks)]
        for (_, rp), q in zip(banks, bank_q):
            m.d.comb += rp.addr.eq(rd_addr[lsb:lsb + bbits])
            m.d.sync += q.eq(rp.data)
        m.d.sync += [s1_valid.eq(issue), s1_meta.last.eq(rd_left == 0), s1_meta.id.eq(rd_id),
                     s1_meta.err.eq(~in_range(rd_addr)), s1_meta.host.eq(rd_host),
                     s1_bank.eq(bank_of(rd_addr)),
                     s2_valid.eq(s1_valid), s2_meta.eq(s1_meta), s2_bank.eq(s1_bank)]
        s2_data = Signal(dw)
        with m.Switch(s2_bank):
            for b in range(nbanks):
                with m.Case(b):
                    m.d.comb += s2_data.eq(bank_q[b])

        m.submodules.r_fifo = r_fifo = SyncFIFOBuffered(width=dw + meta.size, depth=R_FIFO_DEPTH)
        m.d.comb += [r_fifo.w_en.eq(s2_valid), r_fifo.w_data.eq(Cat(s2_data, s2_meta))]
        r_data = r_fifo.r_data[:dw]
        r_meta = meta(r_fifo.r_data[dw:])
        taken = Mux(r_meta.host, host.rready if host is not None else 0, axi.rready)
        pop = r_fifo.r_rdy & taken
        m.d.comb += r_fifo.r_en.eq(pop)
        m.d.sync += credits.eq(credits - issue + pop)

        rresp = Mux(r_meta.err, Resp.SLVERR, Resp.OKAY)
        m.d.comb += [axi.rvalid.eq(r_fifo.r_rdy & ~r_meta.host), axi.rdata.eq(r_data),
                     axi.rresp.eq(rresp), axi.rlast.eq(r_meta.last)]
        if self.id_width:
            m.d.comb += axi.rid.eq(r_meta.id)
        if host is not None:
            m.d.comb += [host.rvalid.eq(r_fifo.r_rdy & r_meta.host), host.rdata.eq(r_data),
                         host.rresp.eq(rresp)]

        # ---------------------------------------------------------------- write
        wr = burst_regs("wr")
        wr_addr, wr_incr, wr_mask, wr_left, wr_id, wr_host = wr
        wr_active = Signal()
        wr_err = Signal()
        bvalid = Signal()
        bhost = Signal()
        bid = Signal(idw)
        berr = Signal()

        with m.If(~wr_active & ~bvalid):
            with m.If(axi.awvalid):
                m.d.comb += axi.awready.eq(1)
                start_burst(wr, axi.awaddr, axi.awlen, axi.awsize, axi.awburst,
                            axi.awid if self.id_width else 0, 0)
                m.d.sync += [wr_active.eq(1), wr_err.eq(0)]
            if host is not None:
                with m.Elif(host.awvalid):
                    m.d.comb += host.awready.eq(1)
                    start_burst(wr, host.awaddr, Const(0, 8), full_size, Const(Burst.INCR, 2), 0, 1)
                    m.d.sync += [wr_active.eq(1), wr_err.eq(0)]

        wvalid = axi.wvalid if host is None else Mux(wr_host, host.wvalid, axi.wvalid)
        wdata = axi.wdata if host is None else Mux(wr_host, host.wdata, axi.wdata)
        wstrb = axi.wstrb if host is None else Mux(wr_host, host.wstrb, axi.wstrb)
        m.d.comb += axi.wready.eq(wr_active & ~wr_host)
        if host is not None:
            m.d.comb += host.wready.eq(wr_active & wr_host)
        beat = wr_active & wvalid
        ok = in_range(wr_addr)
        # The accepted beat is written one cycle later from registers (WVALID and the write
        # data do not reach the memories' enables combinationally). B follows in that cycle, so
        # a read issued after B sees the data.
        wq_en = Signal(nb)
        wq_addr = Signal(bbits)
        wq_bank = Signal(range(nbanks))
        wq_data = Signal(dw)
        m.d.sync += [wq_en.eq(Mux(beat & ok, wstrb, 0)), wq_addr.eq(wr_addr[lsb:lsb + bbits]),
                     wq_bank.eq(bank_of(wr_addr)), wq_data.eq(wdata)]
        for b, (wp, _) in enumerate(banks):
            m.d.comb += [wp.addr.eq(wq_addr), wp.data.eq(wq_data),
                         wp.en.eq(Mux(wq_bank == b, wq_en, 0))]
        with m.If(beat):
            m.d.sync += [wr_addr.eq(next_addr(wr_addr, wr_incr, wr_mask)),
                         wr_left.eq(wr_left - 1), wr_err.eq(wr_err | ~ok)]
            with m.If(wr_left == 0):
                m.d.sync += [wr_active.eq(0), bvalid.eq(1), bhost.eq(wr_host), bid.eq(wr_id),
                             berr.eq(wr_err | ~ok)]
        bresp = Mux(berr, Resp.SLVERR, Resp.OKAY)
        bready = axi.bready if host is None else Mux(bhost, host.bready, axi.bready)
        with m.If(bvalid & bready):
            m.d.sync += bvalid.eq(0)
        m.d.comb += [axi.bvalid.eq(bvalid & ~bhost), axi.bresp.eq(bresp)]
        if self.id_width:
            m.d.comb += axi.bid.eq(bid)
        if host is not None:
            m.d.comb += [host.bvalid.eq(bvalid & bhost), host.bresp.eq(bresp)]
        return m
