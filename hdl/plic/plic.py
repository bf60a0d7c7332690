"""The RISC-V Platform-Level Interrupt Controller top: registers, gateways, notification, claims.

RISC-V PLIC specification v1.0.0; the choices it leaves open are those of ../shared/spec/plic.md,
documented in docs/plic.md.

Timing (cycle-exact; the reference model in sim/model/plic.py follows it):

* a line high in cycle t sets the pending bit in t+1 and ``eip`` in t+2 (registered output);
* a write handshake in cycle w takes effect at the end of cycle w; B follows in w+1;
* a read handshake in cycle a reads the state of cycle a; R follows in a+2; a claim clears the
  claimed pending bit at the end of cycle a+1.
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_lite import AXI4LiteSignature
from ..bus.register_target import add_register_target
from .arbiter import ClaimArbiter
from .config import PLICConfig, ReservedPolicy
from .gateway import GatewayArray
from .registers import plic_register_map


__all__ = ["PLIC"]


class PLIC(wiring.Component):
    """RISC-V PLIC with an AXI4-Lite register port.

    Parameters
    ----------
    config : PLICConfig

    Attributes
    ----------
    s_axil : AXI4-Lite slave, 26-bit address (offset in the PLIC window), 32-bit data.
    irq_sources : Signal(sources + 1), in
        Bit n is the line of source n; bit 0 is unused.
    eip : Signal(contexts), out
        External interrupt pending of each context (registered).
    """

    READ_LATENCY = 2

    def __init__(self, config: PLICConfig = PLICConfig()):
        self.config = config
        self.regmap = plic_register_map(config)
        super().__init__({
            "s_axil": In(AXI4LiteSignature(addr_width=config.ADDR_WIDTH, data_width=32)),
            "irq_sources": In(config.ids),
            "eip": Out(config.contexts),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        N, C, P, W = cfg.ids, cfg.contexts, cfg.priority_bits, cfg.words
        valid_ids = ((1 << N) - 1) & ~1          # bit 0 (source 0) never exists

        port, wdec, rdec = add_register_target(m, self.s_axil, self.regmap,
                                               read_latency=self.READ_LATENCY)

        m.submodules.gateways = gw = GatewayArray(
            ids=N, edge_sources=cfg.edge_sources, edge_count_limit=cfg.edge_count_limit,
            synchronizer=cfg.synchronizer)
        m.d.comb += gw.lines.eq(self.irq_sources)

        m.submodules.arbiter = arb = ClaimArbiter(ids=N, priority_bits=P)

        # -- state ------------------------------------------------------------------------------
        prio = [Const(0, P)] + [Signal(P, name=f"prio{n}") for n in range(1, N)]
        prio_flat = Cat(*prio)
        enable = [Signal(N, name=f"enable{c}") for c in range(C)]
        threshold = [Signal(P, name=f"threshold{c}") for c in range(C)]
        pending = Signal(N)

        # -- writes (applied at the end of the handshake cycle) --------------------------------
        full = port.w_strb == 0xF
        we = port.w_stb & full
        with m.If(we & wdec.hit.priority):
            for n in range(1, N):
                with m.If(wdec.index.priority.source == n):
                    m.d.sync += prio[n].eq(port.w_data[:P])
        with m.If(we & wdec.hit.enable):
            for c in range(C):
                for w in range(W):
                    with m.If((wdec.index.enable.context == c) & (wdec.index.enable.word == w)):
                        lo, hi = 32 * w, min(32 * w + 32, N)
                        mask = (valid_ids >> lo) & ((1 << (hi - lo)) - 1)
                        m.d.sync += enable[c][lo:hi].eq(port.w_data[:hi - lo] & mask)
        with m.If(we & wdec.hit.threshold):
            for c in range(C):
                with m.If(wdec.index.threshold.context == c):
                    m.d.sync += threshold[c].eq(port.w_data[:P])

        # Complete: re-open the gateway of the written ID if it is a source enabled for the context
        # (spec "Interrupt Completion"; plic.md: otherwise ignored, no check of who claimed it).
        enable_w = Array(enable)[wdec.index.claim.context] if C > 1 else enable[0]
        id_bits = max(1, (N - 1).bit_length())
        id_w = port.w_data[:id_bits]
        id_ok = (port.w_data[id_bits:] == 0) & (id_w != 0) & (id_w < N)
        onehot = Signal(N)
        m.d.comb += onehot.eq(Const(1, N) << id_w)
        complete = Signal(N)
        with m.If(we & wdec.hit.claim & id_ok):
            m.d.comb += complete.eq(onehot & enable_w)
        m.d.comb += gw.complete.eq(complete)

        # -- reads: stage 1 (state of the handshake cycle), stage 2 (claim result or data) -------
        read_data = Signal(32)
        with m.If(rdec.hit.priority):
            m.d.comb += read_data.eq(prio_flat.word_select(rdec.index.priority.source, P))
        with m.Elif(rdec.hit.pending):
            m.d.comb += read_data.eq(pending.word_select(rdec.index.pending.word, 32)
                                     if W > 1 else pending)
        with m.Elif(rdec.hit.enable):
            words = Array(Array(enable[c].word_select(w, 32) if N > 32 else enable[c]
                                for w in range(W)) for c in range(C))
            m.d.comb += read_data.eq(words[rdec.index.enable.context][rdec.index.enable.word])
        with m.Elif(rdec.hit.threshold):
            m.d.comb += read_data.eq(Array(threshold)[rdec.index.threshold.context])

        enable_r = Array(enable)[rdec.index.claim.context] if C > 1 else enable[0]
        m.d.comb += [
            arb.candidates.eq(pending & enable_r),
            arb.priorities.eq(prio_flat),
        ]

        slverr = cfg.reserved_policy == ReservedPolicy.SLVERR
        s1_data = Signal(32)
        s1_claim = Signal()
        s1_err = Signal()
        s1_valid = Signal()
        m.d.sync += s1_valid.eq(port.r_stb)
        with m.If(port.r_stb):
            m.d.sync += [
                s1_data.eq(read_data),
                s1_claim.eq(rdec.hit.claim),
                s1_err.eq(rdec.reserved if slverr else 0),
            ]
        r_data = Signal(32)
        r_err = Signal()
        with m.If(s1_valid):
            m.d.sync += [r_data.eq(Mux(s1_claim, arb.id, s1_data)), r_err.eq(s1_err)]
        m.d.comb += [port.r_data.eq(r_data), port.r_err.eq(r_err)]
        if slverr:
            m.d.comb += port.w_err.eq(wdec.reserved | ~full)

        # -- pending bits: a forwarded request wins over a claim clear in the same edge ----------
        claim_clear = Signal(N)
        with m.If(s1_valid & s1_claim):
            m.d.comb += claim_clear.eq(Const(1, N) << arb.id)
        m.d.sync += pending.eq(((pending & ~claim_clear) | gw.fwd) & valid_ids)

        # -- notification: EIP(c) = some source pending, enabled and above the threshold --------
        for c in range(C):
            above = Cat(*[(prio[n] > threshold[c]) if n else Const(0) for n in range(N)])
            m.d.sync += self.eip[c].eq((pending & enable[c] & above).any())
        return m

