"""The Ethernet MAC top `EthMAC`: engines, frame buffers, clock-domain crossings, registers.

dma_eth.md, "Ethernet MAC"; ports as architecture.md names them. Three clock domains:

* ``sync`` (ports ``clk``/``rst``): AXI4-Lite registers, AXI-Stream toward the DMA, statistics,
  MDIO master;
* ``eth_rx``: the PHY receive clock (``gmii_rx_clk``/``mii_rx_clk``), the receive engine and the
  RX frame buffer;
* ``eth_tx``: the PHY transmit clock (``gmii_tx_clk``/``mii_tx_clk``), the transmit engine.

``rst`` resets all three (through reset synchronisers). Frame data cross in
:class:`~.frame_fifo.AsyncFrameFIFO` (one block-RAM FIFO per direction that is both the frame store
and the crossing: TX publishes its write pointer at a frame's end, RX commits or rolls back each
frame; at 32/64-bit streams the RX store is word-organised and drains a beat per cycle). Per-frame
events and the RX configuration cross with :class:`~.cdc.HandshakeCrossing` (capture on a toggle);
the PHY speed and transmit enable with ``lib.cdc.FFSynchronizer``. docs/eth.md, "Clock domains and
crossings", has the table.
"""

from amaranth.hdl import Cat, ClockDomain, ClockSignal, DomainRenamer, Module, Mux, ResetSignal, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer, ResetSynchronizer
from amaranth.lib.wiring import In, Out

from ..bus.axi_lite import AXI4LiteBridge, AXI4LiteSignature
from ..bus.axi_stream import AXIStreamSignature
from ..bus.regbank import RegisterBank
from .cdc import HandshakeCrossing
from .config import EthMACConfig, PhyInterface
from .frame_fifo import AsyncFrameFIFO
from .gmii import GMIIAdapter
from .mdio import MDIOMaster
from .mii import MIIAdapter
from .rgmii import RGMIIAdapter, RGMIIPins
from .registers import IRQ_BITS, eth_mac_register_map
from .rx import RxEngine, RxEvent
from .stats import Statistics
from .stream_width import TxStreamToBytes
from .tx import TxBeat, TxEngine, TxEvent


__all__ = ["EthMAC"]



class EthMAC(wiring.Component):
    """Ethernet MAC with AXI Ethernet-compatible registers.

    Parameters
    ----------
    config : EthMACConfig
    rgmii_pads : object, optional
        With ``phy="rgmii"`` on a board: the platform's RGMII I/O ports
        (``platform.request("eth_rgmii", 0, dir="-")``); the adapter then uses
        ``amaranth.lib.io.DDRBuffer`` on them and the component has no ``rgmii_*`` members.

    Attributes
    ----------
    s_axil : AXI4-Lite slave, 12-bit address, 32-bit data.
    s_axis_tx : AXI-Stream slave, ``data_width``-bit TDATA, TKEEP, TLAST. One frame per packet,
        destination address first, without FCS. With ``data_width=8`` TKEEP is ignored (every
        beat is a byte); wider, bytes whose TKEEP bit is 0 are null bytes and skipped.
    m_axis_rx : AXI-Stream master, ``data_width``-bit TDATA, TKEEP, TLAST, TUSER (always 0: bad
        frames are dropped, never delivered). FCS stripped. Wider than 8 bits, bytes are packed
        from lane 0 and only the last beat of a frame can have TKEEP bits at 0.
    m_axis_rxs : AXI-Stream master, 32-bit TDATA, TLAST (always 1): one beat per received frame,
        TDATA[15:0] the frame length in bytes (for the DMA's APP4), in the order of the frames.
    mac_irq : Out(1)
        OR of IS AND IE (registered).
    gmii_rx_clk, gmii_rxd, gmii_rx_dv, gmii_rx_er, gmii_tx_clk, gmii_txd, gmii_tx_en, gmii_tx_er
        With ``phy="gmii"``; ``mii_*`` (4-bit data) with ``phy="mii"``.
    gtx_clk : In(1)
        With ``phy="rgmii"``: the 125 MHz transmit clock (at every speed).
    rgmii_rx_clk, rgmii_rx_ctl, rgmii_rxd, rgmii_tx_clk, rgmii_tx_ctl, rgmii_txd
        With ``phy="rgmii"`` and no ``rgmii_pads``: the RGMII pins, behind behavioural DDR
        registers (simulation, Verilog). See :mod:`.rgmii`.
    mdc, mdio_i, mdio_o, mdio_oe
        MDIO (with ``mdio=True``): ``mdio_oe`` high drives ``mdio_o`` onto the pin.
    """

    READ_LATENCY = 1

    def __init__(self, config: EthMACConfig = EthMACConfig(), *, rgmii_pads=None):
        if rgmii_pads is not None and config.phy != PhyInterface.RGMII:
            raise ValueError(f"rgmii_pads given but phy is {config.phy!r}, not 'rgmii'")
        self.config = config
        self.regmap = eth_mac_register_map(config)
        self._rgmii_pads = rgmii_pads
        p = config.phy
        members = {
            "s_axil": In(AXI4LiteSignature(addr_width=config.ADDR_WIDTH, data_width=32)),
            "s_axis_tx": In(AXIStreamSignature(data_width=config.data_width, keep=True)),
            "m_axis_rx": Out(AXIStreamSignature(data_width=config.data_width, user_width=1, keep=True)),
            "m_axis_rxs": Out(AXIStreamSignature(data_width=32, keep=False)),
            "mac_irq": Out(1),
        }
        if p == PhyInterface.RGMII:
            # The transmit clock (125 MHz at every speed; the MAC forwards it on rgmii_tx_clk).
            members["gtx_clk"] = In(1)
            if rgmii_pads is None:
                members.update({f"rgmii_{n}": flow for n, flow in RGMIIPins().members.items()})
        else:
            dw = 8 if p == PhyInterface.GMII else 4
            members.update({
                f"{p}_rx_clk": In(1), f"{p}_rxd": In(dw), f"{p}_rx_dv": In(1), f"{p}_rx_er": In(1),
                f"{p}_tx_clk": In(1), f"{p}_txd": Out(dw), f"{p}_tx_en": Out(1), f"{p}_tx_er": Out(1),
            })
        if config.mdio:
            members.update({"mdc": Out(1), "mdio_i": In(1), "mdio_o": Out(1), "mdio_oe": Out(1)})
        super().__init__(members)

    def _pin(self, name):
        return getattr(self, f"{self.config.phy}_{name}")

    def elaborate(self, platform):
        m = Module()
        cfg = self.config

        # -- clock domains and PHY adapter ---------------------------------------------------
        m.domains.eth_rx = ClockDomain("eth_rx", local=True)
        m.domains.eth_tx = ClockDomain("eth_tx", local=True)
        m.submodules.rx_reset = ResetSynchronizer(ResetSignal("sync"), domain="eth_rx")
        m.submodules.tx_reset = ResetSynchronizer(ResetSignal("sync"), domain="eth_tx")
        if cfg.phy == PhyInterface.RGMII:
            m.submodules.phy = phy = RGMIIAdapter(self._rgmii_pads, rx_domain="eth_rx",
                                                  tx_domain="eth_tx")
            m.d.comb += [ClockSignal("eth_rx").eq(phy.rx_clk), ClockSignal("eth_tx").eq(self.gtx_clk)]
            if self._rgmii_pads is None:
                for name in RGMIIPins().members:
                    port, pin = getattr(self, f"rgmii_{name}"), getattr(phy.pins, name)
                    m.d.comb += (pin.eq(port) if name.startswith("rx") else port.eq(pin))
        else:
            m.d.comb += [ClockSignal("eth_rx").eq(self._pin("rx_clk")),
                         ClockSignal("eth_tx").eq(self._pin("tx_clk"))]
            if cfg.phy == PhyInterface.GMII:
                m.submodules.phy = phy = GMIIAdapter(rx_domain="eth_rx")
            else:
                m.submodules.phy = phy = MIIAdapter(rx_domain="eth_rx", tx_domain="eth_tx")
            m.d.comb += [
                phy.pins.rxd.eq(self._pin("rxd")), phy.pins.rx_dv.eq(self._pin("rx_dv")),
                phy.pins.rx_er.eq(self._pin("rx_er")),
                self._pin("txd").eq(phy.pins.txd), self._pin("tx_en").eq(phy.pins.tx_en),
                self._pin("tx_er").eq(phy.pins.tx_er),
            ]

        # -- registers ----------------------------------------------------------------------
        m.submodules.bridge = bridge = AXI4LiteBridge(
            addr_width=cfg.ADDR_WIDTH, data_width=32, read_latency=self.READ_LATENCY)
        wiring.connect(m, wiring.flipped(self.s_axil), bridge.axi)
        m.submodules.regs = bank = RegisterBank(self.regmap, read_latency=self.READ_LATENCY)
        f = bank.fields

        if cfg.phy == PhyInterface.RGMII:
            # EMMC.speed selects the RGMII mode (1000: DDR bytes; 10/100: nibbles).
            m.submodules.rx_speed_sync = FFSynchronizer(f.emmc.speed.data, phy.rx_speed,
                                                        o_domain="eth_rx", init=0b10)
            m.submodules.tx_speed_sync = FFSynchronizer(f.emmc.speed.data, phy.tx_speed,
                                                        o_domain="eth_tx", init=0b10)

        # -- transmit: store-and-forward FIFO (frame_fifo.py), engine ------------------------
        m.submodules.tx_fifo = tx_fifo = AsyncFrameFIFO(
            9, cfg.tx_fifo_bytes, w_domain="sync", r_domain="eth_tx", rollback=False, r_register=True)
        if cfg.data_width == 8:
            # One byte per beat (TKEEP ignored): straight into the FIFO.
            tx_bytes = stream.Signature(TxBeat).flip().create()
            axis_tx = self.s_axis_tx
            m.d.comb += [tx_bytes.valid.eq(axis_tx.tvalid), tx_bytes.payload.data.eq(axis_tx.tdata),
                         tx_bytes.payload.last.eq(axis_tx.tlast), axis_tx.tready.eq(tx_bytes.ready)]
        else:
            # Wider beats are split into bytes in the system clock (stream_width.py).
            m.submodules.tx_width = tx_width = TxStreamToBytes(cfg.data_width)
            wiring.connect(m, wiring.flipped(self.s_axis_tx), tx_width.axis)
            tx_bytes = tx_width.bytes
        # A frame is published to the transmit side with its last byte (store and forward).
        # A frame longer than the FIFO: once it fills the FIFO alone (every published byte has
        # been read), the FIFO is in cut-through mode and publishes every byte until the
        # frame's last; if the DMA then falls behind, the engine ends the frame with tx_er.
        tx_cut = Signal()
        tx_written_last = tx_bytes.valid & tx_fifo.w_rdy & tx_bytes.payload.last
        with m.If(tx_written_last):
            m.d.sync += tx_cut.eq(0)
        with m.Elif(tx_bytes.valid & ~tx_fifo.w_rdy & tx_fifo.w_drained):
            m.d.sync += tx_cut.eq(1)
        m.d.comb += [
            tx_bytes.ready.eq(tx_fifo.w_rdy),
            tx_fifo.w_en.eq(tx_bytes.valid), tx_fifo.w_data.eq(tx_bytes.payload),
            tx_fifo.commit.eq(tx_written_last | tx_cut),
        ]
        m.submodules.tx = tx = DomainRenamer("eth_tx")(TxEngine())
        tx_enable = Signal()
        m.submodules.tx_enable_sync = FFSynchronizer(f.tc.tx_en.data, tx_enable, o_domain="eth_tx")
        m.d.comb += [
            tx.beats.valid.eq(tx_fifo.r_rdy),
            tx.beats.payload.eq(tx_fifo.r_data),
            tx_fifo.r_en.eq(tx.beats.ready),
            # Published bytes are a whole frame, or a frame in cut-through mode.
            tx.frame_ready.eq(tx_fifo.r_rdy),
            tx.enable.eq(tx_enable),
        ]
        wiring.connect(m, tx.phy, phy.tx)
        # One event per frame (at least 21 byte times apart), held in the engine's event
        # register while it crosses (cdc.py).
        m.submodules.tx_events = tx_events = HandshakeCrossing(
            TxEvent.size, i_domain="eth_tx", o_domain="sync")
        m.d.comb += [tx_events.i_start.eq(tx.event.valid), tx_events.i_data.eq(tx.event.payload)]

        # -- receive: engine, frame buffer, crossings ---------------------------------------
        m.submodules.rx = rx = DomainRenamer("eth_rx")(RxEngine(
            max_frame=cfg.MAX_FRAME, max_frame_vlan=cfg.MAX_FRAME_VLAN,
            jumbo_frame=cfg.jumbo_bytes))
        wiring.connect(m, phy.rx, rx.phy)
        # Receive configuration: captured into the receive domain on a handshake (cdc.py) after
        # every register write (and once after reset), not synchronised bit by bit. The copy
        # has the registers' reset values.
        rx_cfg_fields = ((f.rcw1.rx_en.data, rx.enable, 1), (f.rcw1.jumbo.data, rx.jumbo, 0),
                         (f.fmi.pm.data, rx.promiscuous, 0),
                         (f.raf.bcst_rej.data, rx.bcast_reject, 0),
                         (f.raf.mcst_rej.data, rx.mcast_reject, 0),
                         (Cat(f.uaw0.addr.data, f.uaw1.addr.data), rx.unicast, 0))
        rx_cfg_src = Cat(src for src, _, _ in rx_cfg_fields)
        rx_cfg = Signal(len(rx_cfg_src),
                        init=sum(v << off for off, v in zip(
                            [sum(len(d) for _, d, _ in rx_cfg_fields[:i]) for i in range(len(rx_cfg_fields))],
                            [v for _, _, v in rx_cfg_fields])))
        m.submodules.rx_cfg_cross = rx_cfg_cross = HandshakeCrossing(
            len(rx_cfg_src), i_domain="sync", o_domain="eth_rx")
        rx_cfg_dirty = Signal(init=1)
        m.d.comb += [rx_cfg_cross.i_data.eq(rx_cfg_src), rx_cfg_cross.o_ready.eq(1),
                     rx_cfg_cross.i_start.eq(rx_cfg_dirty & ~rx_cfg_cross.i_busy)]
        with m.If(bridge.reg.w_stb):
            m.d.sync += rx_cfg_dirty.eq(1)
        with m.Elif(rx_cfg_cross.i_start):
            m.d.sync += rx_cfg_dirty.eq(0)
        with m.If(rx_cfg_cross.o_valid):
            m.d.eth_rx += rx_cfg.eq(rx_cfg_cross.o_data)
        m.d.comb += Cat(dst for _, dst, _ in rx_cfg_fields).eq(rx_cfg)
        # The RX frame buffer is also the crossing into the system clock (frame_fifo.py). An
        # entry is a lane per byte of an ``m_axis_rx`` beat (8-bit: one lane), 9 bits each: the
        # byte and its ``last`` flag; the receive engine writes a lane per byte, the system clock
        # side drains a whole beat per cycle (dma_eth.md, "Receive": store the frame, drop it
        # whole; the drain at the stream's width keeps the latency after the frame's end short).
        lanes = cfg.data_width // 8
        m.submodules.rx_buffer = rxbuf = AsyncFrameFIFO(
            9, cfg.rx_buffer_bytes // lanes, w_domain="eth_rx", r_domain="sync", lanes=lanes)
        m.d.comb += [
            rxbuf.w_en.eq(rx.w_en), rxbuf.w_data.eq(Cat(rx.w_data, rx.w_last)),
            rxbuf.w_end.eq(rx.w_last),
            rx.w_full.eq(~rxbuf.w_rdy), rxbuf.commit.eq(rx.commit), rxbuf.rollback.eq(rx.rollback),
        ]
        # Frame lengths for the status stream, counted as the beats leave (system clock). After
        # a frame's last beat the count is the status beat's length, and the beats of the next
        # frame wait until the status has been taken (the DMA takes it right after the frame's
        # data). The stall depends on no byte in the memory's read data (timing).
        axis_rx, axis_rxs = self.m_axis_rx, self.m_axis_rxs
        rx_status_full = Signal()
        m.d.comb += [axis_rxs.tvalid.eq(rx_status_full), axis_rxs.tlast.eq(1), axis_rx.tuser.eq(0)]
        if lanes == 1:
            rx_head = TxBeat(rxbuf.r_data)
            rx_frame_len = Signal(cfg.length_bits)
            rx_pop = rxbuf.r_rdy & ~rx_status_full & axis_rx.tready
            m.d.comb += [
                rxbuf.r_en.eq(rx_pop),
                axis_rx.tvalid.eq(rxbuf.r_rdy & ~rx_status_full), axis_rx.tdata.eq(rx_head.data),
                axis_rx.tlast.eq(rx_head.last), axis_rx.tkeep.eq(1),
                axis_rxs.tdata.eq(rx_frame_len),
            ]
            with m.If(rx_pop):
                m.d.sync += rx_frame_len.eq(rx_frame_len + 1)
                with m.If(rx_head.last):
                    m.d.sync += rx_status_full.eq(1)
            with m.If(axis_rxs.tvalid & axis_rxs.tready):
                m.d.sync += [rx_status_full.eq(0), rx_frame_len.eq(0)]
        else:
            # A beat per system clock, through an output register (TDATA/TKEEP/TLAST come from
            # flip-flops, not from the block RAM). The lanes of a frame's last entry above its
            # last byte hold older bytes (and maybe older ``last`` flags): the lowest flag set
            # marks the end, since every lane below it was written by this frame with flag 0.
            flags = Cat(rxbuf.r_data[9 * i + 8] for i in range(lanes))
            rx_pop = rxbuf.r_rdy & ~rx_status_full & (~axis_rx.tvalid | axis_rx.tready)
            m.d.comb += rxbuf.r_en.eq(rx_pop)
            with m.If(rx_pop):
                m.d.sync += [
                    axis_rx.tvalid.eq(1),
                    axis_rx.tdata.eq(Cat(rxbuf.r_data[9 * i:9 * i + 8] for i in range(lanes))),
                    axis_rx.tkeep.eq(flags ^ (flags - 1)),     # lanes up to the lowest flag
                    axis_rx.tlast.eq(flags.any()),
                ]
            with m.Elif(axis_rx.tready):
                m.d.sync += axis_rx.tvalid.eq(0)
            # Beats are counted (the count's enable depends on no read data: timing); the last
            # one's TKEEP (held in the output register until the status beat is taken: no beat
            # leaves the buffer meanwhile) gives the bytes in it: length = (beats - 1) * W +
            # (last lane + 1).
            rx_beats = Signal(cfg.length_bits - (lanes.bit_length() - 1))
            with m.If(rx_pop):
                m.d.sync += rx_beats.eq(rx_beats + 1)
                with m.If(flags.any()):
                    m.d.sync += rx_status_full.eq(1)
            with m.If(axis_rxs.tvalid & axis_rxs.tready):
                m.d.sync += [rx_status_full.eq(0), rx_beats.eq(0)]
            last_lane = sum(axis_rx.tkeep[i] for i in range(1, lanes))
            m.d.comb += axis_rxs.tdata.eq(
                (Cat(last_lane[:lanes.bit_length() - 1], rx_beats) - (lanes - 1))[:cfg.length_bits])
        m.submodules.rx_events = rx_events = HandshakeCrossing(
            RxEvent.size, i_domain="eth_rx", o_domain="sync")
        m.d.comb += [rx_events.i_start.eq(rx.event.valid), rx_events.i_data.eq(rx.event.payload)]

        # -- statistics and interrupts ------------------------------------------------------
        m.submodules.stats = stats = Statistics(counter_width=cfg.counter_width,
                                                enabled=cfg.statistics, addr_width=cfg.ADDR_WIDTH)
        # The statistics counters answer reads of their words from their own memory; the bank
        # answers everything else (its counter fields read 0), so the read data is an OR.
        reg, port = bridge.reg, bank.port
        for name in ("addr", "w_addr", "r_addr", "w_stb", "w_data", "w_strb", "r_stb"):
            m.d.comb += getattr(port, name).eq(getattr(reg, name))
        m.d.comb += [reg.w_err.eq(port.w_err), reg.r_err.eq(port.r_err), reg.stall.eq(port.stall),
                     reg.r_data.eq(port.r_data | stats.r_data),
                     stats.r_stb.eq(reg.r_stb), stats.r_addr.eq(reg.r_addr)]
        m.d.comb += [
            stats.rx.valid.eq(rx_events.o_valid), stats.rx.payload.eq(rx_events.o_data),
            rx_events.o_ready.eq(stats.rx.ready),
            stats.tx.valid.eq(tx_events.o_valid), stats.tx.payload.eq(tx_events.o_data),
            tx_events.o_ready.eq(stats.tx.ready),
        ]
        irq = 0
        for name, _, _ in IRQ_BITS:
            status = getattr(f.intr_status, name)
            enable = getattr(f.intr_enable, name).data
            m.d.comb += [status.set.eq(getattr(stats, name)),
                         getattr(f.intr_pending, name).r_data.eq(status.data & enable)]
            irq = irq | (status.data & enable)
        m.d.sync += self.mac_irq.eq(irq)

        # -- MDIO ---------------------------------------------------------------------------
        if cfg.mdio:
            m.submodules.mdio = mdio = MDIOMaster()
            mcr = f.mdio_mcr
            m.d.comb += [
                mdio.divider.eq(f.mdio_mc.clock_divide.data), mdio.enable.eq(f.mdio_mc.mdio_en.data),
                mdio.start.eq(mcr.initiate.w_stb & mcr.initiate.w_data),
                mdio.op.eq(mcr.op.data), mdio.phyad.eq(mcr.phyad.data), mdio.regad.eq(mcr.regad.data),
                mdio.wdata.eq(f.mdio_mwd.data.data),
                mcr.ready.r_data.eq(mdio.ready), f.mdio_mrd.data.r_data.eq(mdio.rdata),
                self.mdc.eq(mdio.mdc), self.mdio_o.eq(mdio.mdio_o), self.mdio_oe.eq(mdio.mdio_oe),
                mdio.mdio_i.eq(self.mdio_i),
            ]
        else:
            m.d.comb += f.mdio_mcr.ready.r_data.eq(1)
        return m

