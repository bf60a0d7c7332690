"""The register file of the DMA: the PG021 map of :mod:`.registers` behind the AXI4-Lite port.

DMASR is a generated :class:`~atsoc.hdl.bus.regbank.RegisterBank` (R fields driven by the
channels, IOC_Irq/Dly_Irq/Err_Irq as RW1C). DMACR, CURDESC and TAILDESC have behaviour a plain
RW field cannot express, so they are implemented here on a :class:`RegisterDecoder` of the same
map (the pattern of RegisterBank's docstring; their read data is ORed with the bank's):

* DMACR.RS is cleared by hardware on any error (both channels); a write of 1 is ignored while
  the channel has an error bit set. IRQThreshold: writing 0 stores 1, and a write of that byte
  reloads the threshold counter. Reset (bit 2) of either channel requests the soft reset of
  both and reads 1 until it is done. Bit 1 reads 1. TokenEn (bit 15, an atsoc extension) is
  stored only with ``completion_tokens``; otherwise it reads 0 like the other reserved bits.
* CURDESC is written only while the channel is halted (PG021); otherwise the hardware's value.
* TAILDESC is stored only when the channel is not halted ("halted: no effect"); the channel
  gets a pulse one cycle after the write, when the register already holds the new value. With
  addresses above 32 bits the pulse comes from the TAILDESC_MSB write (PG021: the MSB write
  starts the fetch), the TAILDESC write only stores the low half.

In simple mode (``simple=True``, the map of ``scatter_gather=False``) SA/DA and LENGTH are
stored here; a LENGTH write while the channel is not halted pulses ``length_we`` one cycle
later (register already updated), and ``bytes_done_we`` (S2MM) overwrites LENGTH with the
bytes received. DMASR.SGIncld reads 0.

Interrupt outputs are registered: ``irq = |(DMASR[14:12] & DMACR[14:12])``.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_lite import RegisterPortSignature
from ..bus.regbank import RegisterBank
from ..bus.regmap import RegisterDecoder
from .channel import ErrorLayout
from .registers import CHANNELS


__all__ = ["DMARegisterFile", "ChannelRegsSignature"]


class ChannelRegsSignature(wiring.Signature):
    """What the register file gives one channel (``Out``) and takes from it (``In``)."""

    def __init__(self, addr_width=32):
        super().__init__({
            "rs": Out(1), "cyclic": Out(1), "keyhole": Out(1), "token_en": Out(1),
            "irq_threshold": Out(8, init=1), "irq_delay": Out(8), "threshold_we": Out(1),
            "curdesc_sw": Out(addr_width), "curdesc_we": Out(1),
            "tail": Out(addr_width), "tail_we": Out(1),
            "curdesc": In(addr_width), "halted": In(1, init=1), "idle": In(1),
            "errors": In(ErrorLayout), "error": In(1),
            "ioc": In(1), "dly": In(1),
            "threshold_count": In(8, init=1), "delay_count": In(8),
            "irq": Out(1),
            "sa": Out(addr_width), "length": Out(26), "length_we": Out(1),
            "bytes_done": In(26), "bytes_done_we": In(1),
        })


class DMARegisterFile(wiring.Component):
    """Registers of both channels.

    Parameters
    ----------
    regmap : RegisterMap
        :func:`~.registers.dma_register_map`.
    simple : bool
        Simple (direct register) mode: SA/DA and LENGTH instead of the scatter-gather engine.
    addr_width : int
        Above 32: the *_MSB registers of the map hold the upper address bits, and TAILDESC is
        committed (``tail_we``) by the write of TAILDESC_MSB instead of TAILDESC.
    completion_tokens : bool
        The build has completion tokens: DMACR.TokenEn is stored (``token_en``); otherwise it
        reads 0, ignores writes and ``token_en`` is 0.

    Attributes
    ----------
    port : In(RegisterPortSignature), read latency 1.
    mm2s, s2mm : Out(ChannelRegsSignature)
    reset_request : Out(1)
        Pulse: a 1 was written to DMACR.Reset of either channel.
    resetting : In(1)
        The soft reset is in progress (DMACR.Reset reads 1).
    """

    READ_LATENCY = 1

    def __init__(self, regmap, *, simple=False, addr_width=32, completion_tokens=False):
        self._regmap = regmap
        self._tokens = completion_tokens
        self._simple = simple
        self._aw = addr_width
        super().__init__({
            "port": In(RegisterPortSignature(addr_width=regmap.addr_width, data_width=32)),
            "mm2s": Out(ChannelRegsSignature(addr_width)), "s2mm": Out(ChannelRegsSignature(addr_width)),
            "reset_request": Out(1), "resetting": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        rm, port = self._regmap, self.port
        m.submodules.bank = bank = RegisterBank(
            rm, registers=[f"{c}_dmasr" for c in CHANNELS], read_latency=self.READ_LATENCY)
        for name in ("addr", "w_addr", "r_addr", "w_stb", "w_data", "w_strb", "r_stb"):
            m.d.comb += getattr(bank.port, name).eq(getattr(port, name))
        m.submodules.w_decoder = wdec = RegisterDecoder(rm)
        m.submodules.r_decoder = rdec = RegisterDecoder(rm)
        m.d.comb += [wdec.addr.eq(port.w_addr), rdec.addr.eq(port.r_addr)]

        wmask = Signal(32)
        m.d.comb += wmask.eq(Cat(port.w_strb[i].replicate(8) for i in range(4)))

        def merged(old, new):
            return (old & ~wmask) | (new & wmask)

        read_custom = Signal(32)
        m.d.sync += self.reset_request.eq(0)
        for ch in CHANNELS:
            c = getattr(self, ch)
            cr = rm[f"{ch}_dmacr"]
            dmacr = Signal(32, init=cr.reset & ~cr.field("one").mask, name=f"{ch}_dmacr")
            dmacr_rd = Signal(32, name=f"{ch}_dmacr_rd")
            m.d.comb += dmacr_rd.eq(dmacr | cr.field("one").mask |
                                    Mux(self.resetting, cr.field("reset").mask, 0))
            aw = self._aw
            wide = aw > 32
            tail = Signal(aw, name=f"{ch}_taildesc")
            m.d.sync += [c.threshold_we.eq(0), c.tail_we.eq(0)]
            f = cr.field
            m.d.comb += [
                c.rs.eq(dmacr[f("rs").offset]), c.cyclic.eq(dmacr[f("cyclic").offset]),
                c.keyhole.eq(dmacr[f("keyhole").offset]),
                c.token_en.eq(dmacr[f("token_en").offset] if self._tokens else 0),
                c.irq_threshold.eq(dmacr[16:24]), c.irq_delay.eq(dmacr[24:32]),
                c.tail.eq(tail),
                c.curdesc_sw.eq(Cat(merged(c.curdesc[:32], port.w_data) & ~0x3F, c.curdesc[32:])),
            ]
            has_err = c.errors.as_value() != 0
            with m.If(port.w_stb & wdec.hit[f"{ch}_dmacr"]):
                new = Signal(32, name=f"{ch}_dmacr_new")
                m.d.comb += new.eq(merged(dmacr, port.w_data))
                keep = (f("rs").mask | f("keyhole").mask | f("cyclic").mask | f("ioc_irqen").mask
                        | f("dly_irqen").mask | f("err_irqen").mask | f("irq_delay").mask
                        | (f("token_en").mask if self._tokens else 0))
                thr = Mux(new[16:24] == 0, 1, new[16:24])
                m.d.sync += dmacr.eq((new & keep) | (thr << 16))
                with m.If(has_err | c.error):
                    m.d.sync += dmacr[0].eq(0)
                with m.If(port.w_strb[2]):
                    m.d.sync += c.threshold_we.eq(1)
                with m.If(port.w_strb[0] & port.w_data[f("reset").offset]):
                    m.d.sync += self.reset_request.eq(1)
            with m.If(self.mm2s.error | self.s2mm.error):
                m.d.sync += dmacr[0].eq(0)
            with m.If(port.w_stb & wdec.hit[f"{ch}_curdesc"] & c.halted):
                m.d.comb += c.curdesc_we.eq(1)
            with m.If(port.w_stb & wdec.hit[f"{ch}_taildesc"] & ~c.halted):
                m.d.sync += tail[:32].eq(merged(tail[:32], port.w_data) & ~0x3F)
                if not wide:
                    m.d.sync += c.tail_we.eq(1)
            if wide:
                # PG021, 64-bit addresses: the MSB write commits TAILDESC.
                hi = aw - 32
                with m.If(port.w_stb & wdec.hit[f"{ch}_curdesc_msb"] & c.halted):
                    m.d.comb += [c.curdesc_we.eq(1),
                                 c.curdesc_sw.eq(Cat(c.curdesc[:32], merged(c.curdesc[32:], port.w_data)[:hi]))]
                with m.If(port.w_stb & wdec.hit[f"{ch}_taildesc_msb"] & ~c.halted):
                    m.d.sync += [tail[32:].eq(merged(tail[32:], port.w_data)[:hi]), c.tail_we.eq(1)]
                with m.If(rdec.hit[f"{ch}_curdesc_msb"]):
                    m.d.comb += read_custom.eq(c.curdesc[32:])
                with m.If(rdec.hit[f"{ch}_taildesc_msb"]):
                    m.d.comb += read_custom.eq(tail[32:])

            if self._simple:
                an = f"{ch}_sa" if ch == "mm2s" else f"{ch}_da"
                sa = Signal(aw, name=f"{ch}_{an[5:]}")
                length = Signal(26, name=f"{ch}_length")
                m.d.sync += c.length_we.eq(0)
                m.d.comb += [c.sa.eq(sa), c.length.eq(length)]
                with m.If(port.w_stb & wdec.hit[an]):
                    m.d.sync += sa[:32].eq(merged(sa[:32], port.w_data))
                if wide:
                    with m.If(port.w_stb & wdec.hit[f"{an}_msb"]):
                        m.d.sync += sa[32:].eq(merged(sa[32:], port.w_data)[:aw - 32])
                    with m.If(rdec.hit[f"{an}_msb"]):
                        m.d.comb += read_custom.eq(sa[32:])
                with m.If(port.w_stb & wdec.hit[f"{ch}_length"]):
                    m.d.sync += length.eq(merged(length, port.w_data))
                    with m.If(~c.halted):
                        m.d.sync += c.length_we.eq(1)
                with m.If(c.bytes_done_we):
                    m.d.sync += length.eq(c.bytes_done)
                with m.If(rdec.hit[an]):
                    m.d.comb += read_custom.eq(sa[:32])
                with m.If(rdec.hit[f"{ch}_length"]):
                    m.d.comb += read_custom.eq(length)

            with m.If(rdec.hit[f"{ch}_dmacr"]):
                m.d.comb += read_custom.eq(dmacr_rd)
            with m.If(rdec.hit[f"{ch}_curdesc"]):
                m.d.comb += read_custom.eq(c.curdesc[:32])
            with m.If(rdec.hit[f"{ch}_taildesc"]):
                m.d.comb += read_custom.eq(tail[:32])

            sr = getattr(bank.fields, f"{ch}_dmasr")
            e = c.errors
            m.d.comb += [
                sr.halted.r_data.eq(c.halted), sr.idle.r_data.eq(c.idle), sr.sgincld.r_data.eq(int(not self._simple)),
                sr.dma_int_err.r_data.eq(e.dma_int), sr.dma_slv_err.r_data.eq(e.dma_slv),
                sr.dma_dec_err.r_data.eq(e.dma_dec), sr.sg_int_err.r_data.eq(e.sg_int),
                sr.sg_slv_err.r_data.eq(e.sg_slv), sr.sg_dec_err.r_data.eq(e.sg_dec),
                sr.ioc_irq.set.eq(c.ioc), sr.dly_irq.set.eq(c.dly), sr.err_irq.set.eq(c.error),
                sr.irq_threshold_sts.r_data.eq(c.threshold_count),
                sr.irq_delay_sts.r_data.eq(c.delay_count),
            ]
            m.d.sync += c.irq.eq((sr.ioc_irq.data & dmacr[12]) | (sr.dly_irq.data & dmacr[13])
                                 | (sr.err_irq.data & dmacr[14]))

        r_custom = Signal(32)
        with m.If(port.r_stb):
            m.d.sync += r_custom.eq(read_custom)
        m.d.comb += [port.r_data.eq(bank.port.r_data | r_custom), port.r_err.eq(0),
                     port.w_err.eq(0)]
        return m
