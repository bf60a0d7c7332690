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
from .queues import PriorityQueues
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


def _lowest_first(m, valid, values, fanin=4):
    """The entry of ``values`` with the lowest index whose ``valid`` bit is set (meaningless if
    none is), as a tree of ``fanin``-input priority multiplexers.

    Each level selects among ``fanin`` groups with the group's "any valid" bits, so the depth is
    about two LUT levels per level of the tree.
    """
    width = len(values[0])
    groups = [(valid[n], values[n]) for n in range(len(values))]
    while len(groups) > 1:
        merged = []
        for g in range(0, len(groups), fanin):
            part = groups[g:g + fanin]
            out, any_ = Signal(width), Signal()
            for v, value in reversed(part):
                with m.If(v):
                    m.d.comb += out.eq(value)
            m.d.comb += any_.eq(Cat(*[v for v, _ in part]).any())
            merged.append((any_, out))
        groups = merged
    return groups[0][1]


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
                                               read_latency=self.READ_LATENCY, write_ack=True)

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

        def any_of(select, bits):
            """``bits`` selected by the one-hot ``select`` (an AND-OR, no decoder)."""
            return (select & bits).any()

        # -- state -----------------------------------------------------------------------------
        armed = Signal(NIRQ, init=(1 << NIRQ) - 1)       # gateway open
        irq_pend = Signal(NIRQ)                           # fired, waiting for a handler
        error = Array(Signal(8, name=f"error_{p}") for p in range(NP))
        notify_en = Array(Signal(name=f"notify_en_{p}") for p in range(NP))
        notify_hart = Array(Signal(6, name=f"notify_hart_{p}") for p in range(NP))
        notify_pend = Array(Signal(name=f"notify_pending_{p}") for p in range(NP))
        stream_drops = Signal(32)
        last_was_bus = Signal()      # the last operation issued came from the bus
        # Where the word of the PUSH issued in the previous cycle comes from (see below).
        word_src = Signal(2)

        def set_notify(p_onehot):
            for k in range(NP):
                with m.If(p_onehot[k]):
                    m.d.sync += notify_pend[k].eq(1)

        # -- interrupt gateways and the wake candidate (stage R of an interrupt wake) -------------
        # Gateways: a line seen high while the gateway is open latches a request and closes the
        # gateway in the same edge, whatever the sequencer is doing, so no pulse is ever missed.
        # A gateway re-opened while its previous request still waits latches again only after
        # that request is served, so two requests never merge into one.
        lines = self.irq_sources
        irq_req = Signal(NIRQ)
        reopen = Signal(NIRQ)
        served = Signal(NIRQ)
        rising = lines & armed & ~irq_req            # a new request in this cycle
        m.d.sync += [
            irq_req.eq((irq_req | rising) & ~served),
            armed.eq((armed & ~rising) | reopen),
        ]
        # The wake is chosen a cycle ahead into the candidate registers c_*: every cycle, the
        # lowest line with a request (latched, or rising in this cycle) that can be delivered,
        # whether it has a handler and the handler's owner (one-hot). A candidate is tried when
        # the sequencer gives hardware its turn, unless a handler registration was issued in the
        # previous cycle (it could have changed the line's handlers: the choice is made again).
        # A tried candidate whose owner turned out to be full is not served (its request stays
        # latched, and the next choices leave the line out until its owner has room). The line
        # being tried is left out of the next choice, so a candidate is never chosen twice.
        c_valid, c_take = Signal(), Signal()
        c_line_oh, c_line = Signal(NIRQ), Signal(range(max(2, NIRQ)))
        c_owner_oh, c_owner = Signal(NP), Signal(pb)
        irq_reg_r = Signal()          # a handler registration was issued in the previous cycle
        wake_try = c_valid & ~irq_reg_r
        # Each line's "deliverable" (no handler, or the handler's owner is not full) is registered
        # a cycle ahead: a stale value costs at most a candidate that fails its re-check (the
        # owner filled up) or a cycle of delay (the owner made room), never a wrong wake.
        deliverable = Signal(NIRQ)
        for n in range(NIRQ):
            # The owner's "full" as an AND-OR on the owner's one-hot register (no decoder).
            m.d.sync += deliverable[n].eq(~irqq.nonempty[n] | ~any_of(irq_owner_oh[n], full))
        want = Signal(NIRQ)
        for n in range(NIRQ):
            # irq_req | rising, written without the ~irq_req term of ``rising``.
            m.d.comb += want[n].eq((irq_req[n] | (lines[n] & armed[n])) & deliverable[n]
                                   & ~(c_valid & c_line_oh[n]))
        # The lowest wanting line: one-hot (want & -want, on the carry chain, straight into the
        # candidate register) and, in parallel, its number, whether it has a handler and the
        # handler's owner, through a tree of 4-input priority multiplexers (no carry chain and no
        # wide AND-OR in series).
        irq_first = Signal(NIRQ)
        m.d.comb += irq_first.eq(want & (~want + 1)[:NIRQ])
        # Each line's owner is full (in parallel with ``want``; carried through the tree so that
        # the new candidate's registered "owner full" does not wait for the tree's owner output).
        line_owner_full = [any_of(irq_owner_oh[n], full) for n in range(NIRQ)]
        line_info = [Cat(Const(n, len(c_line)), irqq.nonempty[n], irq_owner_oh[n], irq_owner[n],
                         line_owner_full[n])
                     for n in range(NIRQ)]
        chosen = _lowest_first(m, want, line_info)
        irq_line, irq_take = chosen[:len(c_line)], chosen[len(c_line)]
        irq_take_owner_oh = chosen[len(c_line) + 1:len(c_line) + 1 + NP]
        irq_take_owner = chosen[len(c_line) + 1 + NP:len(c_line) + 1 + NP + pb]
        irq_take_owner_full = chosen[-1]
        wake_issue, wake_ok = Signal(), Signal()
        c_valid_next = Signal()
        m.d.comb += c_valid_next.eq(Mux(wake_try & ~wake_issue, c_valid, want.any()))
        m.d.sync += c_valid.eq(c_valid_next)
        with m.If(~(wake_try & ~wake_issue)):        # a candidate waits for its turn
            m.d.sync += [c_line_oh.eq(irq_first), c_line.eq(irq_line),
                         c_take.eq(irq_take), c_owner_oh.eq(irq_take_owner_oh),
                         c_owner.eq(irq_take_owner)]
        m.d.comb += [irqq.take_queue.eq(c_line), irqq.take_select.eq(c_line_oh)]

        # -- the enqueue stream's input register (stage R of a stream enqueue) --------------------
        # A beat is taken into the register when it is empty and the beat can be served: its
        # process is not full, or it is malformed (to be counted and dropped). So a beat to a full
        # process waits with ``tready`` low, as documented; ``tready`` depends on the beat and on
        # registers only. Its checks are decided here and registered with it.
        enq = self.s_axis_enq
        in_bad = (enq.tdest >= NP) | (enq.tuser >= NL) | (enq.tdata == 0)
        in_oh = onehot(enq.tdest[:pb])
        sv, s_bad, s_word = Signal(), Signal(), Signal(64)
        s_proc, s_oh, s_level = Signal(pb), Signal(NP), Signal(lb)
        stream_issue = Signal()
        m.d.comb += enq.tready.eq(~sv & (in_bad | ~any_of(in_oh, full)))
        s_take = enq.tvalid & enq.tready
        sv_next, s_bad_next, s_oh_next = Signal(), Signal(), Signal(NP)
        m.d.comb += [sv_next.eq(s_take | (sv & ~stream_issue)), s_bad_next.eq(Mux(s_take, in_bad, s_bad)),
                     s_oh_next.eq(Mux(s_take, in_oh, s_oh))]
        m.d.sync += sv.eq(sv_next)
        with m.If(s_take):
            m.d.sync += [s_bad.eq(in_bad), s_word.eq(enq.tdata), s_proc.eq(enq.tdest[:pb]),
                         s_oh.eq(in_oh), s_level.eq(enq.tuser[:lb])]
        # The beat is granted for the next cycle only if its process is not full now and no push is
        # issued now (see the grants below), so a granted beat is always served.
        stream_try_next = sv_next & (s_bad_next | ~any_of(s_oh_next, full))

        # -- the captured bus write (stage R of a bus write) -------------------------------------
        # The AW/W handshake registers the decoded write, the checks that depend on the request
        # alone (zero word, level, target, strobes) and the addressed IPC channel (looked up next);
        # the write is issued from these registers in a later cycle, which decides the response
        # (``w_ack``; B follows). The bridge takes no other transaction until then, so nothing
        # else changes the IPC channel state in between.
        wdata_in = port.w_data
        wp_in = port.w_addr[12:12 + pb] if NP > 1 else Const(0, 1)
        send_q_in, send_k_in = wdata_in[0:16], wdata_in[16:24]
        ipc_k_in = wdec.index.ipc_handler.channel
        line_in = wdec.index.intr_handler.line
        # The IPC channel is looked up in the cycle after the handshake, from the registered
        # channel number (the handshake cycle only decodes it): the lookup's LUT RAM read stays
        # off the path from the bus master's registers. So an IPC write (send, handler
        # registration) is issued two cycles after its handshake at the earliest (B at three).
        w_chan, w_fresh = Signal(ipcq.queue_bits), Signal()
        m.d.sync += w_fresh.eq(port.w_stb)
        with m.If(port.w_stb):
            m.d.sync += w_chan.eq(Mux(wdec.hit.send, Cat(send_k_in[:5], send_q_in[:pb]),
                                      Cat(ipc_k_in, Const(0, 5 - len(ipc_k_in)), wp_in)))
        m.d.comb += [ipcq.lookup.eq(w_fresh), ipcq.lookup_channel.eq(w_chan)]
        w_names = ("enqueue", "send", "ipc_handler", "intr_handler", "error", "notify_ctrl")
        wv = Signal()                                  # a captured write waits to be issued
        w_hit = {name: Signal(name=f"w_hit_{name}") for name in w_names}
        w_reserved, w_full_strobe, w_strb01 = Signal(), Signal(), Signal(2)
        w_p, w_p_oh, w_data, w_zero = Signal(pb), Signal(NP), Signal(64), Signal()
        w_level, w_level_ok = Signal(lb), Signal()
        w_send_bad, w_sq_oh = Signal(), Signal(NP)
        w_line, w_line_oh = Signal(range(max(2, NIRQ))), Signal(NIRQ)
        w_issue = Signal()
        w_enq_ok, w_send_ok, w_ipch_ok, w_intr_ok = Signal(), Signal(), Signal(), Signal()
        line_in_oh = Cat(*[line_in == n for n in range(NIRQ)])
        # The addressed line (one-hot): the captured write's while one waits, else the one on the
        # AW channel (which is the one captured if a handshake happens in this cycle). Selected by
        # a register, not by the strobe, which depends on ``stall``.
        line_sel = Mux(wv, w_line_oh, line_in_oh)
        with m.If(w_issue):
            m.d.sync += wv.eq(0)
        with m.If(port.w_stb):
            level_in = wdec.index.enqueue.level
            m.d.sync += [wv.eq(1), w_p.eq(wp_in), w_p_oh.eq(onehot(wp_in)), w_data.eq(wdata_in),
                         w_zero.eq(wdata_in == 0), w_full_strobe.eq(port.w_strb == 0xFF),
                         w_strb01.eq(port.w_strb[:2]),
                         w_reserved.eq(wdec.reserved if slverr_policy else 0),
                         w_level.eq(level_in[:lb]), w_level_ok.eq(level_in < NL),
                         w_send_bad.eq((send_q_in >= NP) | (send_k_in >= NCH)),
                         w_sq_oh.eq(onehot(send_q_in[:pb])),
                         w_line.eq(line_in), w_line_oh.eq(line_in_oh)]
            m.d.sync += [w_hit[name].eq(getattr(wdec.hit, name)) for name in w_names]
            # Each queue register's checks on the request alone, combined once here.
            full_in, zero_in = port.w_strb == 0xFF, wdata_in == 0
            m.d.sync += [w_enq_ok.eq(wdec.hit.enqueue & full_in & ~zero_in & (level_in < NL)),
                         w_send_ok.eq(wdec.hit.send & full_in
                                      & ~((send_q_in >= NP) | (send_k_in >= NCH))),
                         w_ipch_ok.eq(wdec.hit.ipc_handler & full_in & ~zero_in),
                         w_intr_ok.eq(wdec.hit.intr_handler & full_in & ~zero_in)]

        # -- the write's checks, from the captured registers and the current state ----------------
        # The write's target process (the sender's own for a registration or an enqueue, the
        # receiver for a send) and whether it is full, selected every cycle into a register, like
        # the line's flags below. While a write waits, only hardware pushes can fill a process
        # (the bridge holds every other bus operation off), so the write is not issued in the
        # cycle after a hardware push (``hw_pushed``), when the register may not show it yet.
        tgt_in_oh = Mux(wdec.hit.send, onehot(send_q_in[:pb]), onehot(wp_in))
        w_tgt_oh = Signal(NP)
        with m.If(port.w_stb):
            m.d.sync += w_tgt_oh.eq(tgt_in_oh)
        tgt_sel = Mux(wv, w_tgt_oh, tgt_in_oh)
        full_tgt, hw_pushed = Signal(), Signal()
        m.d.sync += full_tgt.eq(any_of(tgt_sel, full))
        full_wp = full_sq = full_tgt
        send_has_handler = ipcq.count != 0
        send_pend_nonzero = ipcq.pending != 0
        send_pend_at_limit = ipcq.pending == cfg.send_pending_limit
        ipc_bq_full = ipcq.count[-1]
        # A blocked queue's count never exceeds its depth (a power of two): "full" is its top bit.
        icb = irqq.count_bits
        # The addressed line's pending flag and "blocked queue full", selected every cycle into
        # registers (no 32-input selection in series with the decision). Only an interrupt wake
        # of that line changes them while a write waits (nothing else touches either while the
        # bridge holds the bus): a registration is not issued in the cycle after such a wake
        # (``w_line_woken``), when the registers do not show it yet.
        irq_bq_full, line_pending, w_line_woken, w_line_woken_next = Signal(), Signal(), Signal(), Signal()
        # The line's tail slot likewise (only an append changes it, and only the write appends).
        isb = irqq.slot_bits
        w_line_tail = Signal(isb)
        if isb:
            m.d.sync += w_line_tail.eq(Cat(*[
                Cat(*[line_sel[n] & irqq.tails[n * isb + b] for n in range(NIRQ)]).any()
                for b in range(isb)]))
        m.d.sync += [irq_bq_full.eq(any_of(line_sel, Cat(*[irqq.counts[(n + 1) * icb - 1]
                                                            for n in range(NIRQ)]))),
                     line_pending.eq(any_of(line_sel, irq_pend)),
                     w_line_woken.eq(w_line_woken_next)]
        m.d.comb += w_line_woken_next.eq(wake_ok & any_of(c_line_oh, line_sel))
        queue_reg = w_hit["enqueue"] | w_hit["send"] | w_hit["ipc_handler"] | w_hit["intr_handler"]
        werr = Signal(8)

        def bit(cause):
            return 1 << cause

        with m.If(queue_reg & ~w_full_strobe):
            m.d.comb += werr.eq(bit(ErrorCause.PARTIAL_WRITE))
        with m.Elif(w_hit["enqueue"]):
            # One cause per refused operation: malformed requests before state (docs/atsintc.md).
            with m.If(w_zero):
                m.d.comb += werr.eq(bit(ErrorCause.ZERO_WORD))
            with m.Elif(~w_level_ok):
                m.d.comb += werr.eq(bit(ErrorCause.BAD_LEVEL))
            with m.Elif(full_wp):
                m.d.comb += werr.eq(bit(ErrorCause.QUEUE_FULL))
        with m.Elif(w_hit["send"]):
            with m.If(w_send_bad):
                m.d.comb += werr.eq(bit(ErrorCause.BAD_TARGET))
            with m.Elif(send_has_handler):
                m.d.comb += werr.eq(Mux(full_sq, bit(ErrorCause.QUEUE_FULL), 0))
            with m.Elif(send_pend_at_limit):
                m.d.comb += werr.eq(bit(ErrorCause.SEND_FULL))
        with m.Elif(w_hit["ipc_handler"]):
            with m.If(w_zero):
                m.d.comb += werr.eq(bit(ErrorCause.ZERO_WORD))
            with m.Elif(send_pend_nonzero):
                m.d.comb += werr.eq(Mux(full_wp, bit(ErrorCause.QUEUE_FULL), 0))
            with m.Elif(ipc_bq_full):
                m.d.comb += werr.eq(bit(ErrorCause.IPC_QUEUE_FULL))
        with m.Elif(w_hit["intr_handler"]):
            with m.If(w_zero):
                m.d.comb += werr.eq(bit(ErrorCause.ZERO_WORD))
            with m.Elif(line_pending):
                m.d.comb += werr.eq(Mux(full_wp, bit(ErrorCause.QUEUE_FULL), 0))
            with m.Elif(irq_bq_full):
                m.d.comb += werr.eq(bit(ErrorCause.IRQ_QUEUE_FULL))
        m.d.comb += [port.w_ack.eq(w_issue), port.w_err.eq((werr != 0) | w_reserved)]

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

        # -- the sequencer (stage A) ---------------------------------------------------------------
        # One operation is issued per cycle: its checks and the state kept beside them (errors,
        # gateways, IPC state, entries held per process) are decided and updated here; the queues
        # carry out the list manipulation in the next cycle (stage B).
        # Who goes in a cycle is granted at the end of the cycle before, into registers (g_*), from
        # the next values of the request registers; only a dequeue, which is issued in its AR
        # handshake cycle, is decided in its own cycle, and only when no hardware request is
        # granted (``stall``). The checks that depend on the state (a full process, ...) only
        # enable the actions of the operation that goes. Policy: after a bus operation, hardware
        # first; otherwise a captured write first; hardware does not take the bus's turn while a
        # write waits (even a write held for stale registers, so a flood of hardware pushes cannot
        # keep it stale), and a dequeue gets every cycle in which no hardware request is granted.
        # A wake is not granted in the cycle after a push (see ``c_owner_full``); after a bus
        # operation its turn is kept until it goes, so a flood of bus enqueues cannot starve it.
        g_wake, g_stream, g_write = Signal(), Signal(), Signal()
        push_w, push_wake, push_stream, pop_bus = Signal(), Signal(), Signal(), Signal()
        # ``busy``: the queues execute the second cycle of an operation (a register); a granted
        # operation waits for it (it stays granted: its request stays).
        busy = queues.busy
        m.d.comb += port.stall.eq(busy | g_wake | g_stream)
        m.d.comb += [w_issue.eq(g_write & ~busy), wake_issue.eq(g_wake & ~busy),
                     stream_issue.eq(g_stream & ~busy)]
        # The candidate owner's "full" is a register (selected a cycle ahead from the candidate's
        # next owner); a wake is not granted in the cycle after any push, when it might not show
        # that push yet (a pop can only make it stale the safe way: the wake then goes without
        # effect and the line is chosen again).
        c_owner_full = Signal()
        m.d.sync += c_owner_full.eq(Mux(wake_try & ~wake_issue, any_of(c_owner_oh, full),
                                        irq_take_owner_full))
        m.d.comb += wake_ok.eq(wake_issue & ~(c_take & c_owner_full))
        hw_pushed_next, irq_reg_next, lwb_next = Signal(), Signal(), Signal()
        m.d.comb += [hw_pushed_next.eq((wake_ok & c_take) | (stream_issue & ~s_bad)),
                     irq_reg_next.eq(w_issue & w_hit["intr_handler"])]
        m.d.sync += [hw_pushed.eq(hw_pushed_next), irq_reg_r.eq(irq_reg_next), last_was_bus.eq(lwb_next)]
        m.d.comb += lwb_next.eq(Mux(port.r_stb | w_issue, 1,
                                    Mux(wake_issue | stream_issue, 0, last_was_bus)))
        wv_next = port.w_stb | (wv & ~w_issue)
        w_intr_next = Mux(port.w_stb, wdec.hit.intr_handler, w_hit["intr_handler"])
        write_can_next = (wv_next & ~hw_pushed_next & ~(w_intr_next & w_line_woken_next)
                          & ~(port.w_stb & (wdec.hit.send | wdec.hit.ipc_handler)))
        wake_try_next = c_valid_next & ~irq_reg_next
        # Hardware's turn after a bus operation, from registers (a hardware request may appear or
        # go in this cycle: the write then goes a cycle early, or nobody goes for a cycle).
        hw_first = lwb_next & (c_valid | sv)
        hw_may = ~wv_next | hw_first
        m.d.sync += [g_write.eq(write_can_next & ~hw_first),
                     g_wake.eq(wake_try_next & hw_may & ~(push_w | push_wake | push_stream)),
                     g_stream.eq(stream_try_next & ~wake_try_next & hw_may
                                 & ~(push_w | push_wake | push_stream))]

        # The queue operation's operands are flat AND-OR selections by one flag per source (set
        # by the decisions below), not multiplexers nested in the order of the decisions.
        WORD_W, WORD_STREAM, WORD_IRQ, WORD_IPC = range(4)
        rpa = port.r_addr[12:12 + pb] if NP > 1 else Const(0, 1)
        rpa_oh = onehot(rpa)
        w_tgt = Mux(w_hit["send"], w_data[:pb], w_p)
        w_level_q = Mux(w_hit["enqueue"], w_level, 0)

        def sel(flag, value):
            return Mux(flag, value, 0)

        ib = queues.index_bits
        next_fresh = [queues.next_fresh[k * ib:(k + 1) * ib] for k in range(NP)]

        def pick(select):
            """The next never-used entry of the process selected by the one-hot ``select``."""
            return Cat(*[Cat(*[select[k] & next_fresh[k][b] for k in range(NP)]).any()
                         for b in range(ib)])

        m.d.comb += [
            queues.op.eq(Cat(push_w | push_wake | push_stream, pop_bus)),
            queues.pid_onehot.eq(sel(push_w, w_tgt_oh) | sel(push_wake, c_owner_oh)
                                 | sel(push_stream, s_oh) | sel(pop_bus, rpa_oh)),
            queues.pid.eq(sel(push_w, w_tgt) | sel(push_wake, c_owner) | sel(push_stream, s_proc)
                          | sel(pop_bus, rpa)),
            queues.level.eq(sel(push_w, w_level_q) | sel(push_stream, s_level)),
            queues.push_fresh.eq((push_w & any_of(w_tgt_oh, queues.fresh))
                                 | (push_wake & any_of(c_owner_oh, queues.fresh))
                                 | (push_stream & any_of(s_oh, queues.fresh))),
            queues.push_entry.eq(sel(push_w, pick(w_tgt_oh)) | sel(push_wake, pick(c_owner_oh))
                                 | sel(push_stream, pick(s_oh))),
        ]

        def push(src):
            m.d.comb += {WORD_W: push_w, WORD_IPC: push_w, WORD_IRQ: push_wake,
                         WORD_STREAM: push_stream}[src].eq(1)
            m.d.sync += word_src.eq(src)

        # The queues take a PUSH's word in its execution cycle, the cycle after its issue, from
        # where ``word_src`` (registered at the issue) says: a handler taken from a blocked queue
        # (read from its block RAM in the issue cycle), the captured write's data or the stream
        # register (both still hold it then: neither is reloaded before the cycle after the issue).
        m.d.comb += queues.word.eq(Array([w_data, s_word, irqq.data, ipcq.data])[word_src])

        # The three sources below never go in the same cycle (the grants are exclusive, a granted
        # hardware request stalls the bridge, a captured write keeps it busy), so each block is
        # enabled by its own condition only, not by the others' complements.
        with m.If(port.r_stb):
            with m.If(rdec.hit.dequeue):
                m.d.comb += pop_bus.eq(1)
                for k in range(NP):
                    with m.If(rpa_oh[k]):
                        m.d.sync += notify_pend[k].eq(0)

        with m.If(w_issue):
            # Refused operations only record their cause. Each accepted operation below tests its
            # own conditions (the complement of its causes), so no action waits for the whole
            # error multiplexer.
            with m.If(werr != 0):
                m.d.sync += error[w_p].eq(error[w_p] | werr)
            # Flat conditions (each a few registered bits), one per action.
            with m.If(w_enq_ok & ~full_tgt):
                push(WORD_W)
            with m.If(w_send_ok & send_has_handler & ~full_tgt):
                m.d.comb += ipcq.take.eq(1)
                push(WORD_IPC)
                set_notify(w_sq_oh)
            with m.If(w_send_ok & ~send_has_handler & ~send_pend_at_limit):
                m.d.comb += ipcq.pend_inc.eq(1)
            with m.If(w_ipch_ok & send_pend_nonzero & ~full_tgt):
                push(WORD_W)
                set_notify(w_p_oh)
                m.d.comb += ipcq.pend_dec.eq(1)
            with m.If(w_ipch_ok & ~send_pend_nonzero & ~ipc_bq_full):
                m.d.comb += ipcq.append.eq(1)
            with m.If(w_intr_ok & line_pending & ~full_tgt):
                push(WORD_W)
                set_notify(w_p_oh)
                m.d.sync += irq_pend.eq(irq_pend & ~w_line_oh)
            with m.If(w_intr_ok & ~line_pending & ~irq_bq_full):
                m.d.comb += [irqq.op.eq(BlockedOp.APPEND), reopen.eq(w_line_oh)]
            with m.If(w_hit["error"]):
                with m.If(w_strb01[0]):
                    m.d.sync += error[w_p].eq(error[w_p] & ~w_data[:8])
            with m.If(w_hit["notify_ctrl"]):
                with m.If(w_strb01[0]):
                    m.d.sync += notify_en[w_p].eq(w_data[0])
                with m.If(w_strb01[1]):
                    m.d.sync += notify_hart[w_p].eq(w_data[8:14])

        with m.If(wake_issue | stream_issue):
            with m.If(wake_ok):
                m.d.comb += served.eq(c_line_oh)
                with m.If(c_take):
                    m.d.comb += irqq.op.eq(BlockedOp.TAKE)
                    push(WORD_IRQ)
                    # Notify now: the word is in the queue before a woken CPU's dequeue arrives.
                    set_notify(c_owner_oh)
                with m.Else():
                    m.d.sync += irq_pend.eq(irq_pend | c_line_oh)
            with m.Elif(stream_issue):
                with m.If(s_bad):
                    m.d.sync += stream_drops.eq(stream_drops + 1)
                with m.Else():
                    push(WORD_STREAM)
                    set_notify(s_oh)
        # Operands that do not depend on the decision (addresses stay off the decision paths).
        m.d.comb += [ipcq.write.eq(w_issue & (w_hit["send"] | w_hit["ipc_handler"])),
                     ipcq.word.eq(w_data), irqq.word.eq(w_data), irqq.queue.eq(w_line), irqq.tag.eq(w_p),
                     irqq.queue_select.eq(w_line_oh), irqq.append_slot.eq(w_line_tail)]

        # -- notification ------------------------------------------------------------------------
        # Combinational from registers: a process's notification, or a wake candidate with a
        # handler for it whose queue has room now, so ``notify`` rises in the cycle the candidate is
        # registered, normally the cycle the handler is issued and one before it is stored, so a
        # CPU's dequeue accepted in the next cycle finds it. A dequeue that goes before the wake
        # (the bus had its turn) does not clear the candidate's term, and the wake's issue sets the
        # process's notification, which only a later dequeue clears: no wake is left without one.
        # If the candidate is not served after all (its owner filled up meanwhile), its term falls.
        cand_notify = Signal(NP)
        m.d.comb += cand_notify.eq(Mux(c_valid & c_take & ~irq_reg_r, c_owner_oh & ~full, 0))
        for h in range(cfg.harts):
            m.d.comb += self.notify[h].eq(Cat(*[(notify_pend[p] | cand_notify[p]) & notify_en[p]
                                                & (notify_hart[p] == h) for p in range(NP)]).any())
        return m
