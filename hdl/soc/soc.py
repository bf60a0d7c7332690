"""The SoC top (Verilog module ``soc``): PLIC, ATSINTC, AXI DMA and Ethernet MAC behind one AXI4-Lite
CPU port, the DMA's AXI4 master as the memory port, the MAC's PHY pins passed through.

architecture.md, "Data and interrupt flow"; docs/soc.md has the block diagram and the maps.

Wiring (all from :class:`SocConfig`):

* CPU port ``s_axil`` (64-bit data) -> :class:`AXI4LiteInterconnect` -> the four register ports
  (32-bit ones through its lane conversion); holes answer DECERR.
* DMA ``m_axi`` -> SoC ``m_axi`` (system memory).
* DMA MM2S -> MAC TX and MAC RX -> DMA S2MM, 32-bit both (with ``mac.data_width=8``, through
  :class:`AXIStreamDownsizer` / :class:`AXIStreamUpsizer`); MAC RX status (frame length) -> DMA S2MM status,
  so APP4 of a frame's last descriptor holds the received length (dma_eth.md).
* ``mm2s_irq``, ``s2mm_irq``, ``mac_irq`` -> PLIC sources and ATSINTC lines of the configured
  numbers, each ORed with the same bit of the ``irq_sources`` input (external interrupts, e.g. a
  board's UART, reach both controllers on the other numbers).
* DMA completion tokens -> the ATSINTC hardware enqueue port, process ``token_process``, level
  ``token_priority`` (atsintc.md, "DMA completions through the queue").
* Outputs ``eip`` (PLIC contexts) and ``notify`` (ATSINTC harts); the MAC's ``gmii_*`` (or
  ``mii_*``) pins with their own clocks and the MDIO pins pass through unchanged.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..atsintc.atsintc import ATSINTC
from ..bus.axi4 import AXI4Signature
from ..bus.axi_lite import AXI4LiteSignature
from ..bus.axil_interconnect import AXI4LiteInterconnect, Target
from ..bus.axis_width import AXIStreamDownsizer, AXIStreamUpsizer
from ..dma.axi_arbiter import ID_WIDTH
from ..dma.axi_dma import AXIDMA
from ..eth.mac import EthMAC
from ..plic.plic import PLIC
from .config import IRQ_DEVICES, SocConfig


__all__ = ["Soc"]

#: Port-name prefixes of the MAC that the SoC passes through to its own ports.
_PHY_PREFIXES = ("gmii_", "mii_", "rgmii_", "gtx_clk")
_MDIO_PORTS = ("mdc", "mdio_i", "mdio_o", "mdio_oe")


class Soc(wiring.Component):
    """The integrated SoC.

    Parameters
    ----------
    config : SocConfig
    rgmii_pads : object, optional
        With ``mac.phy="rgmii"`` on a board: the platform's RGMII I/O ports, handed to the MAC's
        RGMII adapter (DDR I/O buffers on them; the SoC then has no ``rgmii_*`` members). Without
        them the ``rgmii_*`` pins are ports, behind behavioural DDR registers (simulation).

    Attributes
    ----------
    s_axil : In(AXI4LiteSignature(addr_width, 64))
        CPU port: the registers of every block at its address in the memory map.
    m_axi : Out(AXI4Signature(32, 32, id_width=1))
        The DMA's memory port (descriptors and buffers).
    irq_sources : In(plic.sources + 1)
        External interrupt lines: bit n is ORed into PLIC source n and, when n < atsintc.irq_lines,
        ATSINTC line n. Bit 0 is unused.
    eip : Out(plic.contexts)
        PLIC external interrupt pending per context.
    notify : Out(atsintc.harts)
        ATSINTC notification per hart.
    gmii_rx_clk, gmii_rxd, gmii_rx_dv, gmii_rx_er, gmii_tx_clk, gmii_txd, gmii_tx_en, gmii_tx_er
        The MAC's PHY pins (``mii_*`` with ``mac.phy="mii"``); RX and TX have their own clocks.
    gtx_clk, rgmii_rx_clk, rgmii_rx_ctl, rgmii_rxd, rgmii_tx_clk, rgmii_tx_ctl, rgmii_txd
        With ``mac.phy="rgmii"``: the 125 MHz transmit clock (at every speed) and the RGMII pins
        (the pins only without ``rgmii_pads``). The MAC's RGMII adapter follows EMMC.speed
        (10/100/1000 Mb/s), synchronised into its receive and transmit domains by the MAC.
    mdc, mdio_i, mdio_o, mdio_oe
        MDIO (with ``mac.mdio``).
    """

    def __init__(self, config: SocConfig = SocConfig(), *, rgmii_pads=None):
        self.config = config
        cfg = config
        self._mac = EthMAC(cfg.mac, rgmii_pads=rgmii_pads)
        self._mac_members = {n: mb for n, mb in self._mac.signature.members.items()
                             if n.startswith(_PHY_PREFIXES) or n in _MDIO_PORTS}
        members = {
            "s_axil": In(AXI4LiteSignature(addr_width=cfg.addr_width, data_width=cfg.DATA_WIDTH)),
            "m_axi": Out(AXI4Signature(addr_width=cfg.dma.addr_width, data_width=cfg.dma.data_width,
                                       id_width=ID_WIDTH)),
            "irq_sources": In(cfg.plic.ids),
            "eip": Out(cfg.plic.contexts),
            "notify": Out(cfg.atsintc.harts),
        }
        members.update(self._mac_members)
        super().__init__(members)

    def targets(self):
        """The interconnect's targets, from the memory map."""
        cfg = self.config
        widths = {"plic": cfg.plic.ADDR_WIDTH, "atsintc": cfg.atsintc.addr_width,
                  "dma": cfg.dma.REG_ADDR_WIDTH, "mac": cfg.mac.ADDR_WIDTH}
        return [Target(w.name, w.base, w.size, widths[w.name], w.data_width) for w in cfg.windows]

    def elaborate(self, platform):
        m = Module()
        cfg = self.config

        m.submodules.plic = plic = PLIC(cfg.plic)
        m.submodules.atsintc = atsintc = ATSINTC(cfg.atsintc)
        m.submodules.dma = dma = AXIDMA(cfg.dma)
        m.submodules.mac = mac = self._mac

        # -- registers ------------------------------------------------------------------------
        m.submodules.xbar = xbar = AXI4LiteInterconnect(
            self.targets(), addr_width=cfg.addr_width, data_width=cfg.DATA_WIDTH)
        wiring.connect(m, wiring.flipped(self.s_axil), xbar.s_axil)
        for name, block in (("plic", plic), ("atsintc", atsintc), ("dma", dma), ("mac", mac)):
            wiring.connect(m, getattr(xbar, name), block.s_axil)

        # -- memory -------------------------------------------------------------------------
        wiring.connect(m, dma.m_axi, wiring.flipped(self.m_axi))

        # -- Ethernet data path: DMA streams <-> MAC streams ---------------------------------
        rx = mac.m_axis_rx                           # TUSER (always 0: bad frames are dropped)
        if cfg.mac.data_width == cfg.dma.data_width:
            wiring.connect(m, dma.m_axis_mm2s, mac.s_axis_tx)
            rx_sink = dma.s_axis_s2mm
        else:
            m.submodules.tx_width = tx_width = AXIStreamDownsizer(in_width=cfg.dma.data_width,
                                                                  out_width=cfg.mac.data_width)
            m.submodules.rx_width = rx_width = AXIStreamUpsizer(in_width=cfg.mac.data_width,
                                                                out_width=cfg.dma.data_width)
            wiring.connect(m, dma.m_axis_mm2s, tx_width.s_axis)
            wiring.connect(m, tx_width.m_axis, mac.s_axis_tx)
            wiring.connect(m, rx_width.m_axis, dma.s_axis_s2mm)
            rx_sink = rx_width.s_axis
        m.d.comb += [
            rx_sink.tdata.eq(rx.tdata), rx_sink.tkeep.eq(rx.tkeep),
            rx_sink.tlast.eq(rx.tlast), rx_sink.tvalid.eq(rx.tvalid),
            rx.tready.eq(rx_sink.tready),
        ]
        wiring.connect(m, mac.m_axis_rxs, dma.s_axis_s2mm_sts)

        # -- interrupts -----------------------------------------------------------------------
        lines = {"mm2s": dma.mm2s_irq, "s2mm": dma.s2mm_irq, "mac": mac.mac_irq}
        plic_in = Signal(cfg.plic.ids)
        ats_in = Signal(cfg.atsintc.irq_lines)
        n_ext = min(cfg.plic.ids, cfg.atsintc.irq_lines)
        plic_bits = {cfg.plic_irq(d): lines[d] for d in IRQ_DEVICES}
        ats_bits = {cfg.atsintc_irq(d): lines[d] for d in IRQ_DEVICES}
        for n in range(cfg.plic.ids):
            m.d.comb += plic_in[n].eq(self.irq_sources[n] | plic_bits.get(n, 0))
        for n in range(cfg.atsintc.irq_lines):
            ext = self.irq_sources[n] if n < n_ext else 0
            m.d.comb += ats_in[n].eq(ext | ats_bits.get(n, 0))
        m.d.comb += [plic.irq_sources.eq(plic_in), atsintc.irq_sources.eq(ats_in),
                     self.eip.eq(plic.eip), self.notify.eq(atsintc.notify)]

        # -- completion tokens -> ATSINTC hardware enqueue -------------------------------------
        tok, enq = dma.m_axis_token, atsintc.s_axis_enq
        if cfg.dma.completion_tokens:
            m.d.comb += [
                enq.tdata.eq(tok.tdata), enq.tvalid.eq(tok.tvalid), tok.tready.eq(enq.tready),
                enq.tdest.eq(cfg.token_process), enq.tuser.eq(cfg.token_priority),
            ]
        else:
            m.d.comb += enq.tvalid.eq(0)

        # -- PHY and MDIO pins ------------------------------------------------------------------
        for name, member in self._mac_members.items():
            ours, theirs = getattr(self, name), getattr(mac, name)
            m.d.comb += theirs.eq(ours) if member.flow == In else ours.eq(theirs)
        return m
