"""The AXI DMA top (Verilog module ``axi_dma``): PG021-compatible scatter-gather MM2S and S2MM,
or, with ``AXIDMAConfig(scatter_gather=False)``, PG021's simple (direct register) mode.

Structure (one concern per module):

* :mod:`.regfile` - the PG021 register map behind an :class:`AXI4LiteBridge`;
* :mod:`.channel` - the scatter-gather controller of each channel (fetch, checks, write-back,
  tail, errors);
* :mod:`.mm2s`, :mod:`.s2mm` - the data movers;
* :mod:`.coalesce` - IRQThreshold / IRQDelay per channel;
* :mod:`.axi_arbiter` - read requesters (MM2S fetch, S2MM fetch, MM2S data) and write
  requesters (MM2S write-back, S2MM write-back, S2MM data) on the one AXI4 master.

Soft reset (DMACR.Reset of either channel, PG021 "Reset"): both channels stop starting AXI
transactions, the ones in flight complete (MM2S beats in flight are dropped, not sent on the
stream), then everything except the AXI4-Lite bridge returns to its reset state in one cycle.
"""

from amaranth.hdl import Module, Mux, ResetInserter, Signal
from amaranth.lib import fifo, wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi4 import AXI4Signature
from ..bus.axi_lite import AXI4LiteBridge, AXI4LiteSignature, RegisterPortSignature
from ..bus.axi_stream import AXIStreamSignature
from .axi_arbiter import ID_WIDTH, AXIReadArbiter, AXIWriteArbiter
from .channel import ChannelController
from .coalesce import InterruptCoalescer
from .config import AXIDMAConfig
from .mm2s import MM2SDataMover
from .regfile import DMARegisterFile
from .registers import dma_register_map
from .s2mm import S2MMDataMover


__all__ = ["AXIDMA", "DMAEngine"]

TOKEN_FIFO_DEPTH = 16



def _dma_ports(config: AXIDMAConfig) -> dict:
    """The ports the engine and the top share: memory master, streams, tokens, interrupts."""
    aw, dw = config.addr_width, config.data_width
    return {
        "m_axi": Out(AXI4Signature(addr_width=aw, data_width=dw, id_width=ID_WIDTH)),
        "m_axis_mm2s": Out(AXIStreamSignature(data_width=dw)),
        "s_axis_s2mm": In(AXIStreamSignature(data_width=dw)),
        "s_axis_s2mm_sts": In(AXIStreamSignature(data_width=32, keep=False)),
        "m_axis_token": Out(AXIStreamSignature(data_width=64, keep=False)),
        "mm2s_irq": Out(1), "s2mm_irq": Out(1),
    }

class DMAEngine(wiring.Component):
    """Everything of the DMA that the soft reset resets (all but the AXI4-Lite bridge).

    Parameters
    ----------
    config : AXIDMAConfig

    Attributes
    ----------
    reg : In(RegisterPortSignature)
    m_axi, m_axis_mm2s, s_axis_s2mm, s_axis_s2mm_sts, m_axis_token, mm2s_irq, s2mm_irq
        As :class:`AXIDMA`.
    stop : In(1)
        Soft reset pending.
    resetting : In(1)
    reset_request : Out(1)
    quiescent : Out(1)
        Both channels halted and no AXI transaction in flight (registered).
    """

    def __init__(self, config: AXIDMAConfig = AXIDMAConfig()):
        self.config = config
        self.regmap = dma_register_map(config)
        super().__init__({
            "reg": In(RegisterPortSignature(addr_width=config.REG_ADDR_WIDTH, data_width=32)),
            **_dma_ports(config),
            "stop": In(1), "resetting": In(1), "reset_request": Out(1), "quiescent": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        aw, dw = cfg.addr_width, cfg.data_width

        m.submodules.regs = regs = DMARegisterFile(self.regmap, simple=not cfg.scatter_gather,
                                                   addr_width=aw,
                                                   completion_tokens=cfg.completion_tokens)
        wiring.connect(m, wiring.flipped(self.reg), regs.port)
        m.d.comb += [self.reset_request.eq(regs.reset_request), regs.resetting.eq(self.resetting)]

        m.submodules.rd_arbiter = rarb = AXIReadArbiter(
            3, addr_width=aw, data_width=dw, max_outstanding=cfg.max_reads_outstanding)
        m.submodules.wr_arbiter = warb = AXIWriteArbiter(3, addr_width=aw, data_width=dw)
        for name, member in self.m_axi.signature.members.items():
            if name.startswith(("ar", "r")):
                src = rarb.axi
            else:
                src = warb.axi
            if member.flow == Out:
                m.d.comb += getattr(self.m_axi, name).eq(getattr(src, name))
            else:
                m.d.comb += getattr(src, name).eq(getattr(self.m_axi, name))

        m.submodules.mm2s = mm2s = ChannelController(s2mm=False, addr_width=aw, data_width=dw,
                                                     simple=not cfg.scatter_gather)
        m.submodules.s2mm = s2mm = ChannelController(s2mm=True, addr_width=aw, data_width=dw,
                                                     status_stream=cfg.status_stream,
                                                     simple=not cfg.scatter_gather)
        m.submodules.mm2s_mover = mm2s_mv = MM2SDataMover(
            addr_width=aw, data_width=dw, max_burst_beats=cfg.max_burst_beats,
            max_outstanding=cfg.max_reads_outstanding)
        m.submodules.s2mm_mover = s2mm_mv = S2MMDataMover(
            addr_width=aw, data_width=dw, max_burst_beats=cfg.max_burst_beats,
            fifo_depth=cfg.s2mm_fifo_depth)

        # Requester order is priority order: descriptor traffic first (short, and it is what
        # keeps the data moving), data last.
        wiring.connect(m, mm2s.rd, rarb.req0)
        wiring.connect(m, s2mm.rd, rarb.req1)
        wiring.connect(m, mm2s_mv.rd, rarb.req2)
        wiring.connect(m, mm2s.wr, warb.req0)
        wiring.connect(m, s2mm.wr, warb.req1)
        wiring.connect(m, s2mm_mv.wr, warb.req2)
        # The channels have no data path of the other direction.
        m.d.comb += [mm2s.sts.tvalid.eq(0)]
        wiring.connect(m, wiring.flipped(self.s_axis_s2mm_sts), s2mm.sts)
        wiring.connect(m, mm2s_mv.stream, wiring.flipped(self.m_axis_mm2s))
        wiring.connect(m, wiring.flipped(self.s_axis_s2mm), s2mm_mv.stream)

        for ch, mv in ((mm2s, mm2s_mv), (s2mm, s2mm_mv)):
            m.d.comb += [
                mv.cmd_addr.eq(ch.cmd_addr), mv.cmd_length.eq(ch.cmd_length),
                mv.cmd_valid.eq(ch.cmd_valid), ch.cmd_ready.eq(mv.cmd_ready),
                ch.done_resp.eq(mv.done_resp),
                ch.mover_busy.eq(mv.busy), mv.flush.eq(self.stop), ch.stop.eq(self.stop),
            ]
        m.d.comb += [
            mm2s_mv.cmd_eof.eq(mm2s.cmd_eof), mm2s_mv.cmd_keyhole.eq(mm2s.cmd_keyhole),
            mm2s.done.eq(mm2s_mv.done_valid), mm2s_mv.done_ack.eq(mm2s.done_ack),
            s2mm.done.eq(s2mm_mv.done), s2mm_mv.done_ack.eq(s2mm.done_ack),
            mm2s.done_bytes.eq(0), mm2s.done_eof.eq(0), mm2s.mover_started.eq(1),
            s2mm.done_bytes.eq(s2mm_mv.done_bytes), s2mm.done_eof.eq(s2mm_mv.done_eof),
            s2mm.mover_started.eq(s2mm_mv.started), s2mm_mv.cancel.eq(s2mm.cancel),
            s2mm_mv.accept.eq(~s2mm.halted & ~self.stop),
        ]

        for name, ch in (("mm2s", mm2s), ("s2mm", s2mm)):
            r = getattr(regs, name)
            m.d.comb += [
                ch.rs.eq(r.rs), ch.cyclic.eq(r.cyclic), ch.keyhole.eq(r.keyhole),
                ch.curdesc_sw.eq(r.curdesc_sw), ch.curdesc_we.eq(r.curdesc_we),
                ch.tail.eq(r.tail), ch.tail_we.eq(r.tail_we),
                ch.sa.eq(r.sa), ch.length.eq(r.length), ch.length_we.eq(r.length_we),
                r.bytes_done.eq(ch.bytes_done), r.bytes_done_we.eq(ch.bytes_done_we),
                r.curdesc.eq(ch.curdesc), r.halted.eq(ch.halted), r.idle.eq(ch.idle),
                r.errors.eq(ch.errors), r.error.eq(ch.error),
            ]
            if cfg.scatter_gather:
                m.submodules[f"{name}_coalescer"] = co = InterruptCoalescer()
                m.d.comb += [
                    co.threshold.eq(r.irq_threshold), co.delay.eq(r.irq_delay),
                    co.threshold_we.eq(r.threshold_we), co.packet_done.eq(ch.packet_done),
                    r.ioc.eq(co.ioc), r.dly.eq(co.dly),
                    r.threshold_count.eq(co.threshold_count), r.delay_count.eq(co.delay_count),
                ]
            else:
                # Simple mode (PG021): IRQThreshold/IRQDelay are not used, IOC per transfer.
                m.d.comb += [r.ioc.eq(ch.packet_done), r.dly.eq(0),
                             r.threshold_count.eq(1), r.delay_count.eq(0)]
        m.d.comb += [self.mm2s_irq.eq(regs.mm2s.irq), self.s2mm_irq.eq(regs.s2mm.irq)]

        # Completion tokens: completed descriptor address | 1, in completion order, from the
        # channels whose DMACR.TokenEn is set (an atsoc extension, reset 0: a stock driver never
        # sees tokens and is never held). A channel completes with the handshake of its STATUS
        # B response, which an enabled channel takes only while the FIFO has room
        # (``token_ready``): a full FIFO holds the completion, never drops it. B responses are
        # routed one at a time, so the two channels never complete together.
        if cfg.completion_tokens:
            m.submodules.tokens = tq = fifo.SyncFIFOBuffered(width=64, depth=TOKEN_FIFO_DEPTH)
            mm2s_tok = mm2s.completed & regs.mm2s.token_en
            s2mm_tok = s2mm.completed & regs.s2mm.token_en
            m.d.comb += [
                mm2s.token_ready.eq(tq.w_rdy | ~regs.mm2s.token_en),
                s2mm.token_ready.eq(tq.w_rdy | ~regs.s2mm.token_en),
                tq.w_en.eq(mm2s_tok | s2mm_tok),
                tq.w_data.eq(Mux(mm2s_tok, mm2s.completed_addr, s2mm.completed_addr) | 1),
                self.m_axis_token.tdata.eq(tq.r_data), self.m_axis_token.tvalid.eq(tq.r_rdy),
                self.m_axis_token.tlast.eq(1), tq.r_en.eq(self.m_axis_token.tready),
            ]
        else:
            m.d.comb += [mm2s.token_ready.eq(1), s2mm.token_ready.eq(1)]

        # Registered: it gates the soft reset of the whole engine (a wide fan-out). One cycle
        # late is safe: while the reset is pending (``stop``) nothing new starts.
        m.d.sync += self.quiescent.eq(mm2s.halted & s2mm.halted & rarb.idle & warb.idle
                                      & ~mm2s_mv.busy & ~s2mm_mv.busy)
        return m


class AXIDMA(wiring.Component):
    """PG021-compatible AXI DMA with scatter-gather MM2S and S2MM channels.

    Parameters
    ----------
    config : AXIDMAConfig

    Attributes
    ----------
    s_axil : In(AXI4LiteSignature), 12-bit address, 32-bit data: the registers.
    m_axi : Out(AXI4Signature), 32-bit address, ``data_width`` data, no IDs.
    m_axis_mm2s : Out(AXIStreamSignature), TDATA/TKEEP/TLAST.
    s_axis_s2mm : In(AXIStreamSignature), TDATA/TKEEP/TLAST.
    s_axis_s2mm_sts : In(AXIStreamSignature), 32-bit TDATA: one beat per received frame, frame
        length in [15:0] (copied whole into APP4 of the frame's last descriptor), TLAST=1.
    m_axis_token : Out(AXIStreamSignature), 64-bit TDATA: completed descriptor address | 1, from
        the channels with DMACR.TokenEn set (``completion_tokens`` builds only).
    mm2s_irq, s2mm_irq : Out(1)
    """

    def __init__(self, config: AXIDMAConfig = AXIDMAConfig()):
        self.config = config
        self.regmap = dma_register_map(config)
        super().__init__({
            "s_axil": In(AXI4LiteSignature(addr_width=config.REG_ADDR_WIDTH, data_width=32)),
            **_dma_ports(config),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.bridge = bridge = AXI4LiteBridge(
            addr_width=self.config.REG_ADDR_WIDTH, data_width=32,
            read_latency=DMARegisterFile.READ_LATENCY)
        wiring.connect(m, wiring.flipped(self.s_axil), bridge.axi)

        resetting = Signal()
        soft_reset = Signal()
        engine = DMAEngine(self.config)
        m.submodules.engine = ResetInserter({"sync": soft_reset})(engine)
        wiring.connect(m, bridge.reg, engine.reg)
        for name in ("m_axi", "m_axis_mm2s", "s_axis_s2mm", "s_axis_s2mm_sts", "m_axis_token"):
            ours, theirs = getattr(self, name), getattr(engine, name)
            for mname, member in ours.signature.members.items():
                a, b = getattr(ours, mname), getattr(theirs, mname)
                outward = (member.flow == Out)
                m.d.comb += (a.eq(b) if outward else b.eq(a))
        m.d.comb += [self.mm2s_irq.eq(engine.mm2s_irq), self.s2mm_irq.eq(engine.s2mm_irq),
                     engine.stop.eq(resetting), engine.resetting.eq(resetting),
                     soft_reset.eq(resetting & engine.quiescent)]
        with m.If(engine.reset_request):
            m.d.sync += resetting.eq(1)
        with m.If(soft_reset):
            m.d.sync += resetting.eq(0)
        return m
