"""ATSINTC top: register port, sequencer, interrupt gateways, IPC, notification, enqueue stream.

Behaviour: docs/atsintc.md (the contract shared with the reference model sim/model/atsintc.py),
built on ../shared/spec/atsintc.md. Every queue operation goes through one sequencer, one at a
time; while it is busy the bus is stalled, interrupt requests wait in their gateways and the
enqueue stream waits, so simultaneous events are served in a documented order and none is lost.
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..bus.axi_lite import AXI4LiteSignature
from ..bus.register_target import add_register_target
from .blocked import BlockedOp, BlockedQueues
from .channels import ChannelQueues
from .config import ATSINTCConfig
from .queues import PriorityQueues, QueueOp
from .registers import ErrorCause, atsintc_register_map


__all__ = ["ATSINTC", "EnqueueStreamSignature"]


class EnqueueStreamSignature(wiring.Signature):
    """The hardware enqueue stream, seen from the source (AXI4-Stream naming).

    ``tdata`` is the 64-bit word, ``tdest`` the process, ``tuser`` the priority level.
    """

    def __init__(self):
        super().__init__({"tdata": Out(64), "tdest": Out(8), "tuser": Out(8),
                          "tvalid": Out(1), "tready": In(1)})


def _p2(n):
    return 1 << max(0, (n - 1).bit_length())


class ATSINTC(wiring.Component):
    """Asynchronous task scheduler and interrupt controller.

    Parameters
    ----------
    config : ATSINTCConfig

    Attributes
    ----------
    s_axil : AXI4-Lite slave, 64-bit data; the address is the offset in the block's window.
    irq_sources : Signal(irq_lines), in
    notify : Signal(harts), out
    s_axis_enq : hardware enqueue stream, in
    """

    READ_LATENCY = 2

    def __init__(self, config: ATSINTCConfig = ATSINTCConfig()):
        self.config = config
        self.regmap = atsintc_register_map(config)
        super().__init__({
            "s_axil": In(AXI4LiteSignature(addr_width=config.addr_width, data_width=64)),
            "irq_sources": In(config.irq_lines),
            "notify": Out(config.harts),
            "s_axis_enq": In(EnqueueStreamSignature()),
        })

    def elaborate(self, platform):
        m = Module()
        cfg = self.config
        NP, NL, NIRQ, NCH = cfg.processes, cfg.priorities, cfg.irq_lines, cfg.channels
        slverr_policy = cfg.reserved_policy == "slverr"

        port, wdec, rdec = add_register_target(m, self.s_axil, self.regmap,
                                               read_latency=self.READ_LATENCY)

        m.submodules.queues = queues = PriorityQueues(processes=NP, priorities=NL, capacity=cfg.capacity)
        pb, lb, cb = queues.proc_bits, queues.level_bits, queues.count_bits
        m.submodules.irq_queues = irqq = BlockedQueues(
            queues=_p2(NIRQ), depth=cfg.irq_queue_depth, tag_bits=pb, separate_take_queue=True)
        m.submodules.ipc_queues = ipcq = ChannelQueues(channels=_p2(NP) * 32, depth=cfg.ipc_queue_depth,
                                                       pending_limit=cfg.send_pending_limit)

        full = queues.full
        total = Array(queues.total[p * cb:(p + 1) * cb] for p in range(NP))
        irq_owner = Array(irqq.head_tags[n * pb:(n + 1) * pb] for n in range(NIRQ))
        irq_owner_oh = [irqq.head_tags_onehot[n << pb:(n << pb) + NP] for n in range(NIRQ)]

        def onehot(p):
            """One-hot process select (``NP`` bits) of a process number."""
            return Cat(*[p == k for k in range(NP)]) if NP > 1 else Const(1, 1)

        # -- state -----------------------------------------------------------------------------
        armed = Signal(NIRQ, init=(1 << NIRQ) - 1)       # gateway open
        irq_pend = Signal(NIRQ)                           # fired, waiting for a handler
        error = Array(Signal(8, name=f"error_{p}") for p in range(NP))
        notify_en = Array(Signal(name=f"notify_en_{p}") for p in range(NP))
        notify_hart = Array(Signal(6, name=f"notify_hart_{p}") for p in range(NP))
        notify_pend = Array(Signal(name=f"notify_pending_{p}") for p in range(NP))
        stream_drops = Signal(32)
        last_was_bus = Signal()
        late_from_irq = Signal()     # a PUSH issued with ``late`` takes its word from the irq queues

        def set_notify(p_onehot):
            for k in range(NP):
                with m.If(p_onehot[k]):
                    m.d.sync += notify_pend[k].eq(1)

        # -- hardware requests ---------------------------------------------------------------------
        # Gateways: a line seen high while the gateway is open latches a request and closes the
        # gateway in the same edge, whatever the sequencer is doing, so no pulse is ever missed.
        # A gateway re-opened while its previous request still waits latches again only after
        # that request is served, so two requests never merge into one.
        # A request can also be served in the very cycle its line rises (bypassing the latch).
        lines = self.irq_sources
        irq_req = Signal(NIRQ)
        reopen = Signal(NIRQ)
        served = Signal(NIRQ)
        rising = lines & armed & ~irq_req            # a new request in this cycle
        m.d.sync += [
            irq_req.eq((irq_req | rising) & ~served),
            armed.eq((armed & ~rising) | reopen),
        ]
        # With ``wake_lookahead`` the wake is chosen a cycle ahead into the candidate registers
        # c_* and issued from them in the next cycle, after a re-check from registers: the owner
        # is still not full and no handler registration came in between (which could have
        # changed the line's handlers); otherwise the choice is made again. The line being
        # chosen is left out of the next choice, so a candidate is never chosen twice.
        la = cfg.wake_lookahead
        c_valid, c_take = Signal(), Signal()
        c_line_oh, c_line = Signal(NIRQ), Signal(range(max(2, NIRQ)))
        c_owner_oh, c_owner = Signal(NP), Signal(pb)
        irq_reg_r = Signal()          # a registration (intr_handler write) in the previous cycle
        if la:
            m.d.sync += irq_reg_r.eq(port.w_stb & wdec.hit.intr_handler)
        cand_ok = c_valid & ~irq_reg_r & ~(c_take & (c_owner_oh & full).any())
        want = Signal(NIRQ)
        for n in range(NIRQ):
            # The owner's "full" as an AND-OR on the owner's one-hot register (no decoder).
            deliverable = ~irqq.nonempty[n] | ~(irq_owner_oh[n] & full).any()
            # irq_req | rising, written without the ~irq_req term of ``rising``.
            m.d.comb += want[n].eq((irq_req[n] | (lines[n] & armed[n])) & deliverable
                                   & (~(c_valid & c_line_oh[n]) if la else 1))
        # The lowest wanting line, one-hot (want & -want), its number (an OR encoder), whether it
        # has a handler and the handler's owner (AND-OR selections), without a priority chain.
        irq_first = Signal(NIRQ)
        m.d.comb += irq_first.eq(want & (~want + 1)[:NIRQ])
        irq_line = Signal(range(max(2, NIRQ)))
        for b in range(len(irq_line)):
            m.d.comb += irq_line[b].eq(Cat(*[irq_first[n] for n in range(NIRQ) if (n >> b) & 1]).any()
                                       if NIRQ > (1 << b) else 0)
        irq_has = Signal(NIRQ)
        m.d.comb += irq_has.eq(irqq.nonempty[:NIRQ])
        irq_take = (irq_first & irq_has).any()
        irq_take_owner = Signal(pb)
        for b in range(pb):
            m.d.comb += irq_take_owner[b].eq(
                Cat(*[irq_owner[n][b] & irq_first[n] for n in range(NIRQ)]).any())
        irq_take_owner_oh = Signal(NP)
        for k in range(NP):
            m.d.comb += irq_take_owner_oh[k].eq(
                Cat(*[irq_owner_oh[n][k] & irq_first[n] for n in range(NIRQ)]).any())
        cand_issued = Signal()
        if la:
            # The wake issued in this cycle: the registered candidate.
            wake_ok, wake_line_oh, wake_line = cand_ok, c_line_oh, c_line
            wake_take, wake_owner_oh, wake_owner = c_take, c_owner_oh, c_owner
            with m.If(~(cand_ok & ~cand_issued)):        # a valid candidate waits for its turn
                m.d.sync += [c_valid.eq(want.any()), c_line_oh.eq(irq_first), c_line.eq(irq_line),
                             c_take.eq(irq_take), c_owner_oh.eq(irq_take_owner_oh),
                             c_owner.eq(irq_take_owner)]
        else:
            # The wake issued in this cycle: the choice of this cycle (a rising line is served at once).
            wake_ok, wake_line_oh, wake_line = want.any(), irq_first, irq_line
            wake_take, wake_owner_oh, wake_owner = irq_take, irq_take_owner_oh, irq_take_owner
        m.d.comb += [irqq.take_queue.eq(wake_line), irqq.take_select.eq(wake_line_oh)]

        enq = self.s_axis_enq
        s_proc, s_level, s_word = enq.tdest, enq.tuser, enq.tdata
        s_bad = (s_proc >= NP) | (s_level >= NL) | (s_word == 0)
        s_full = full.bit_select(s_proc[:pb], 1)
        stream_req = enq.tvalid & (s_bad | ~s_full)
        hw_req = wake_ok | stream_req

        # The bus is held off while the sequencer is busy, or when the previous operation was a
        # bus transaction and hardware was waiting in the previous cycle. ``stall`` depends only
        # on registers (not on the lines, the stream or the queue state through ``want``), which
        # keeps the bridge's handshake off the long paths. The hardware branch still re-checks
        # ``want``/``stream_req`` before acting, so a stale flag can only cost one idle cycle.
        hw_waiting = Signal()
        m.d.sync += hw_waiting.eq(stream_req if la else hw_req)
        # ``busy``: the queues execute the second cycle of an operation (a register).
        busy = queues.busy
        m.d.comb += port.stall.eq(busy | ((hw_waiting | (c_valid if la else 0)) & last_was_bus))

        # -- bus writes --------------------------------------------------------------------------
        wp = port.w_addr[12:12 + pb] if NP > 1 else Const(0, 1)
        wdata = port.w_data
        full_strobe = port.w_strb == 0xFF
        queue_reg = wdec.hit.enqueue | wdec.hit.send | wdec.hit.ipc_handler | wdec.hit.intr_handler
        werr = Signal(8)
        zero = wdata == 0

        level_w = wdec.index.enqueue.level
        send_q, send_k = wdata[0:16], wdata[16:24]
        send_bad = (send_q >= NP) | (send_k >= NCH)
        sq, sk = send_q[:pb], send_k[:5]
        wp_oh, sq_oh = onehot(wp), onehot(sq)
        ipc_k = wdec.index.ipc_handler.channel
        # The IPC state memory is addressed by the send's target or by the registration's channel.
        m.d.comb += ipcq.channel.eq(Mux(wdec.hit.send, Cat(sk, sq), Cat(ipc_k, Const(0, 5 - len(ipc_k)), wp)))
        send_has_handler = ipcq.count != 0
        send_pend_nonzero = ipcq.pending != 0
        send_pend_at_limit = ipcq.pending == cfg.send_pending_limit
        line_w = wdec.index.intr_handler.line
        # A blocked queue's count never exceeds its depth (a power of two): "full" is its top bit,
        # so a 1-bit selection replaces a count selection and a compare.
        icb = irqq.count_bits
        irq_bq_full = Cat(*[irqq.counts[(n + 1) * icb - 1] for n in range(NIRQ)]).bit_select(line_w, 1)
        ipc_bq_full = ipcq.count[-1]

        def bit(cause):
            return 1 << cause

        with m.If(queue_reg & ~full_strobe):
            m.d.comb += werr.eq(bit(ErrorCause.PARTIAL_WRITE))
        with m.Elif(wdec.hit.enqueue):
            # One cause per refused operation: malformed requests before state (docs/atsintc.md).
            with m.If(zero):
                m.d.comb += werr.eq(bit(ErrorCause.ZERO_WORD))
            with m.Elif(level_w >= NL):
                m.d.comb += werr.eq(bit(ErrorCause.BAD_LEVEL))
            with m.Elif(full.bit_select(wp, 1)):
                m.d.comb += werr.eq(bit(ErrorCause.QUEUE_FULL))
        with m.Elif(wdec.hit.send):
            with m.If(send_bad):
                m.d.comb += werr.eq(bit(ErrorCause.BAD_TARGET))
            with m.Elif(send_has_handler):
                m.d.comb += werr.eq(Mux(full.bit_select(sq, 1), bit(ErrorCause.QUEUE_FULL), 0))
            with m.Elif(send_pend_at_limit):
                m.d.comb += werr.eq(bit(ErrorCause.SEND_FULL))
        with m.Elif(wdec.hit.ipc_handler):
            with m.If(zero):
                m.d.comb += werr.eq(bit(ErrorCause.ZERO_WORD))
            with m.Elif(send_pend_nonzero):
                m.d.comb += werr.eq(Mux(full.bit_select(wp, 1), bit(ErrorCause.QUEUE_FULL), 0))
            with m.Elif(ipc_bq_full):
                m.d.comb += werr.eq(bit(ErrorCause.IPC_QUEUE_FULL))
        with m.Elif(wdec.hit.intr_handler):
            with m.If(zero):
                m.d.comb += werr.eq(bit(ErrorCause.ZERO_WORD))
            with m.Elif(irq_pend.bit_select(line_w, 1)):
                m.d.comb += werr.eq(Mux(full.bit_select(wp, 1), bit(ErrorCause.QUEUE_FULL), 0))
            with m.Elif(irq_bq_full):
                m.d.comb += werr.eq(bit(ErrorCause.IRQ_QUEUE_FULL))
        m.d.comb += port.w_err.eq((werr != 0) | (wdec.reserved if slverr_policy else 0))

        # -- bus reads ---------------------------------------------------------------------------
        # The AR handshake cycle only registers the decoded address; the value is chosen in the
        # next cycle (when every earlier operation has reached the queues' state) and held in
        # ``r_data``; a dequeue's word comes from the queues' read port two cycles after the
        # handshake, when R is valid.
        reads = ("enqueue", "error", "count", "notify_ctrl", "irq_pending", "stream_drops", "info",
                 "dequeue")
        r_hit = {name: Signal(name=f"r_hit_{name}") for name in reads}
        r_proc, r_level = Signal(pb), Signal(8)
        r_reserved = Signal()
        s1_valid = Signal()
        m.d.sync += s1_valid.eq(port.r_stb)
        with m.If(port.r_stb):
            m.d.sync += [r_hit[name].eq(getattr(rdec.hit, name)) for name in reads]
            m.d.sync += [r_proc.eq(port.r_addr[12:12 + pb] if NP > 1 else 0),
                         r_level.eq(rdec.index.enqueue.level),
                         r_reserved.eq(rdec.reserved if slverr_policy else 0)]
        rp = r_proc
        m.d.comb += [queues.sel_process.eq(rp), queues.sel_level.eq(r_level[:lb])]
        read_data = Signal(64)
        info = self.regmap["info"].reset
        with m.If(r_hit["enqueue"]):
            m.d.comb += read_data.eq(Mux(r_level < NL, queues.level_count, 0))
        with m.Elif(r_hit["error"]):
            m.d.comb += read_data.eq(error[rp])
        with m.Elif(r_hit["count"]):
            m.d.comb += read_data.eq(total[rp])
        with m.Elif(r_hit["notify_ctrl"]):
            m.d.comb += read_data.eq(Cat(notify_en[rp], Const(0, 7), notify_hart[rp]))
        with m.Elif(r_hit["irq_pending"]):
            m.d.comb += read_data.eq(irq_pend)
        with m.Elif(r_hit["stream_drops"]):
            m.d.comb += read_data.eq(stream_drops)
        with m.Elif(r_hit["info"]):
            m.d.comb += read_data.eq(info)

        r_data, r_err, r_pop = Signal(64), Signal(), Signal()
        with m.If(s1_valid):
            m.d.sync += [r_data.eq(read_data), r_err.eq(r_reserved), r_pop.eq(r_hit["dequeue"])]
        m.d.comb += [port.r_data.eq(Mux(r_pop, queues.pop_word, r_data)), port.r_err.eq(r_err)]

        # -- the sequencer -----------------------------------------------------------------------
        # One operation is issued per cycle (stage A): its checks and the state kept beside them
        # (errors, gateways, IPC state, entries held per process) are decided and updated here;
        # the queues carry out the list manipulation in the next cycle (stage B).
        def push(p, p_onehot, level, word, late=False):
            m.d.comb += [queues.op.eq(QueueOp.PUSH), queues.pid.eq(p), queues.pid_onehot.eq(p_onehot),
                         queues.level.eq(level), queues.word.eq(word), queues.late.eq(late)]

        # A handler taken from a blocked queue is pushed with ``late``: its word is read from the
        # blocked queue's block RAM in this cycle and written to the queues in the next.
        m.d.comb += queues.late_word.eq(Mux(late_from_irq, irqq.data, ipcq.data))

        with m.If(busy):
            pass

        with m.Elif(port.w_stb):
            m.d.sync += last_was_bus.eq(1)
            # Refused operations only record their cause. Each accepted operation below tests its
            # own conditions (the complement of its causes), so no action waits for the whole
            # error multiplexer.
            with m.If(werr != 0):
                m.d.sync += error[wp].eq(error[wp] | werr)
            with m.If(wdec.hit.enqueue):
                with m.If(full_strobe & ~zero & (level_w < NL) & ~full.bit_select(wp, 1)):
                    push(wp, wp_oh, level_w[:lb], wdata)
            with m.Elif(wdec.hit.send):
                with m.If(full_strobe & ~send_bad):
                    with m.If(send_has_handler):
                        with m.If(~full.bit_select(sq, 1)):
                            m.d.comb += ipcq.take.eq(1)
                            push(sq, sq_oh, 0, 0, late=True)
                            m.d.sync += late_from_irq.eq(0)
                            set_notify(sq_oh)
                    with m.Elif(~send_pend_at_limit):
                        m.d.comb += ipcq.pend_inc.eq(1)
            with m.Elif(wdec.hit.ipc_handler):
                with m.If(full_strobe & ~zero):
                    with m.If(send_pend_nonzero):
                        with m.If(~full.bit_select(wp, 1)):
                            push(wp, wp_oh, 0, wdata)
                            set_notify(wp_oh)
                            m.d.comb += ipcq.pend_dec.eq(1)
                    with m.Elif(~ipc_bq_full):
                        m.d.comb += [ipcq.append.eq(1), ipcq.word.eq(wdata)]
            with m.Elif(wdec.hit.intr_handler):
                with m.If(full_strobe & ~zero):
                    with m.If(irq_pend.bit_select(line_w, 1)):
                        with m.If(~full.bit_select(wp, 1)):
                            push(wp, wp_oh, 0, wdata)
                            set_notify(wp_oh)
                            m.d.sync += irq_pend.bit_select(line_w, 1).eq(0)
                    with m.Elif(~irq_bq_full):
                        m.d.comb += [irqq.op.eq(BlockedOp.APPEND), irqq.queue.eq(line_w),
                                     irqq.word.eq(wdata), irqq.tag.eq(wp),
                                     reopen.bit_select(line_w, 1).eq(1)]
            with m.Elif(wdec.hit.error):
                with m.If(port.w_strb[0]):
                    m.d.sync += error[wp].eq(error[wp] & ~wdata[:8])
            with m.Elif(wdec.hit.notify_ctrl):
                with m.If(port.w_strb[0]):
                    m.d.sync += notify_en[wp].eq(wdata[0])
                with m.If(port.w_strb[1]):
                    m.d.sync += notify_hart[wp].eq(wdata[8:14])

        with m.Elif(port.r_stb):
            m.d.sync += last_was_bus.eq(1)
            with m.If(rdec.hit.dequeue):
                rpa = port.r_addr[12:12 + pb] if NP > 1 else Const(0, 1)
                rpa_oh = onehot(rpa)
                m.d.comb += [queues.op.eq(QueueOp.POP), queues.pid.eq(rpa), queues.pid_onehot.eq(rpa_oh)]
                for k in range(NP):
                    with m.If(rpa_oh[k]):
                        m.d.sync += notify_pend[k].eq(0)

        with m.Elif(hw_req):
            m.d.sync += last_was_bus.eq(0)
            with m.If(wake_ok):
                m.d.comb += [served.eq(wake_line_oh), cand_issued.eq(1)]
                with m.If(wake_take):
                    m.d.comb += irqq.op.eq(BlockedOp.TAKE)
                    push(wake_owner, wake_owner_oh, 0, 0, late=True)
                    m.d.sync += late_from_irq.eq(1)
                    # Notify now: the word is in the queue before a woken CPU's dequeue arrives.
                    set_notify(wake_owner_oh)
                with m.Else():
                    m.d.sync += irq_pend.eq(irq_pend | wake_line_oh)
            with m.Else():
                m.d.comb += enq.tready.eq(1)
                with m.If(s_bad):
                    m.d.sync += stream_drops.eq(stream_drops + 1)
                with m.Else():
                    s_oh = onehot(s_proc[:pb])
                    push(s_proc[:pb], s_oh, s_level[:lb], s_word)
                    set_notify(s_oh)

        # -- notification ------------------------------------------------------------------------
        # Combinational from registers, so the line rises in the cycle after the wake.
        for h in range(cfg.harts):
            m.d.comb += self.notify[h].eq(Cat(*[notify_pend[p] & notify_en[p] & (notify_hart[p] == h)
                                                for p in range(NP)]).any())
        return m
