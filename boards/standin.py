"""A stand-in for the SoC while hdl/soc/ is being written: the AXI DMA with MM2S looped to S2MM.

Same outer shape as the SoC a board top needs: an AXI4-Lite slave for the host (``s_axil``, the
DMA's registers at ``0x4040_0000``, DECERR elsewhere), an AXI4 master to system memory
(``m_axi``), and interrupt lines (``irq``: bit 0 MM2S, bit 1 S2MM). Used with ``atsoc build
--standin`` to develop and measure the board flow without the SoC.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..hdl.bus.axi4 import AXI4Signature
from ..hdl.bus.axi_lite import AXI4LiteSignature
from ..hdl.dma.axi_dma import AXIDMA
from ..hdl.dma.config import AXIDMAConfig
from .interconnect import AXI4LiteDecoder, Window


__all__ = ["StandInSoc"]


class StandInSoc(wiring.Component):
    """AXI DMA in loopback behind an address decoder.

    Attributes
    ----------
    s_axil : In(AXI4LiteSignature(32, 32))
    m_axi : Out(AXI4Signature(32, 32, id_width=1))
    irq : Out(2)
    """

    DMA_BASE = 0x4040_0000

    def __init__(self):
        self.dma_config = AXIDMAConfig(data_width=32, status_stream=False, base=self.DMA_BASE)
        super().__init__({
            "s_axil": In(AXI4LiteSignature(addr_width=32, data_width=32)),
            "m_axi": Out(AXI4Signature(addr_width=32, data_width=32, id_width=1)),
            "irq": Out(2),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.dma = dma = AXIDMA(self.dma_config)
        m.submodules.decoder = dec = AXI4LiteDecoder(
            [Window("dma", self.DMA_BASE, 1 << self.dma_config.REG_ADDR_WIDTH)])
        wiring.connect(m, wiring.flipped(self.s_axil), dec.s_axil)
        # the DMA sees the low address bits of its window
        for name in dec.m_dma.signature.members:
            src, dst = getattr(dec.m_dma, name), getattr(dma.s_axil, name)
            if name in ("awaddr", "araddr"):
                m.d.comb += dst.eq(src[:len(dst)])
            elif dec.m_dma.signature.members[name].flow == wiring.Out:
                m.d.comb += dst.eq(src)
            else:
                m.d.comb += src.eq(dst)
        wiring.connect(m, dma.m_axi, wiring.flipped(self.m_axi))
        wiring.connect(m, dma.m_axis_mm2s, dma.s_axis_s2mm)
        m.d.comb += [dma.s_axis_s2mm_sts.tvalid.eq(0), dma.m_axis_token.tready.eq(1),
                     self.irq.eq(dma.mm2s_irq | (dma.s2mm_irq << 1))]
        return m
