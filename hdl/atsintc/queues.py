"""Per-process priority queues kept as linked lists in block RAM, in two pipeline stages.

Each process owns ``capacity`` entries shared by its ``priorities`` levels. An entry is a 64-bit
word in ``words`` and a link in ``links``; each level is a FIFO threaded through the links
(head, tail, count in registers). Free entries come first from a bump counter (never used since
reset, so reset needs no initialisation pass) and then from a free list threaded through the same
links.

An operation is *issued* in one cycle (stage A) and *executed* in the following one (stage B):

* stage A keeps what the caller decides with: the entries held by each process (``total``,
  ``full``) and the bump counter, updated at the end of the issue cycle, so that back-to-back
  operations are checked against the state that includes every operation already issued;
* stage B is the list manipulation, from registered operands only (no path from the caller's
  decision logic into the level state or the block RAM addresses).

Operations (the caller checks legality first: word non-zero, level in range, process not full):

* ``PUSH``: executed in 1 cycle when the entry comes from the bump counter, 2 when it comes from
  the free list (the second cycle reads the next free entry). Its word is the one on ``word`` in
  the execution cycle (the cycle after the issue), so the caller supplies it from registers (or
  from a block RAM read in the issue cycle) and the word's multiplexer stays off the issue path.
* ``POP``: executed in 2 cycles; the word (0 when the process was empty) is on ``pop_word`` from the
  cycle after its execution starts (two cycles after issue) until the next POP is executed.

``busy`` (a register) is high in the cycle after a two-cycle operation is issued: nothing may be
issued then. So a one-cycle PUSH can be issued every cycle and a POP every other cycle.
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..toplevel import NO_INIT, NO_INIT_NO_RW_CHECK


__all__ = ["QueueOp", "PriorityQueues"]


class QueueOp(enum.Enum, shape=2):
    NONE = 0
    PUSH = 1
    POP = 2


class PriorityQueues(wiring.Component):
    """Linked-list priority queues.

    Parameters
    ----------
    processes, priorities, capacity : int
        As in :class:`~atsoc.hdl.atsintc.config.ATSINTCConfig`.

    Attributes
    ----------
    op, pid, level : in
        The operation issued in this cycle (only while ``busy`` is low).
    fresh : out, one bit per process
        The process still has never-used entries (its next PUSH takes one cycle); a register bit.
    next_fresh : out, ``processes`` entry indices
        Each process's next never-used entry (flattened, ``index_bits`` each; registers).
    push_fresh, push_entry : in
        With a PUSH: ``fresh`` and ``next_fresh`` of its process, selected by the caller (in
        parallel with its decision, from the same one-hot selects, so that neither ``busy`` nor
        the entry register waits for a selection behind ``pid_onehot``).
    pid_onehot : in
        ``pid`` as a one-hot vector (``processes`` bits): the per-process counters of the issue
        stage are enabled from it, so they do not wait for a decoder of the multiplexed ``pid``
        (each request source decodes its own process number, in parallel with its checks).
    word : in
        The word of a PUSH, in the cycle after its issue.
    busy : out
        No operation may be issued in this cycle (a register).
    pop_word : out
        Result of the last POP, from two cycles after its issue until the next POP executes.
    full : out, one bit per process
        The process holds ``capacity`` entries, counting every operation issued (a register).
    total : out, ``processes`` counts
        Entries per process, counting every operation issued (flattened, ``count_bits`` each).
    sel_process, sel_level : in / level_count : out
        Occupancy of one level, for register reads (counts operations executed).
    """

    def __init__(self, *, processes, priorities, capacity):
        self._np, self._nl, self._cap = processes, priorities, capacity
        self.index_bits = max(1, (capacity - 1).bit_length())
        self.count_bits = capacity.bit_length()
        self.proc_bits = max(1, (processes - 1).bit_length())
        self.level_bits = max(1, (priorities - 1).bit_length())
        super().__init__({
            "op": In(QueueOp), "pid": In(self.proc_bits), "pid_onehot": In(processes),
            "fresh": Out(processes), "push_fresh": In(1),
            "next_fresh": Out(processes * self.index_bits), "push_entry": In(self.index_bits),
            "level": In(self.level_bits),
            "word": In(64),
            "busy": Out(1), "pop_word": Out(64),
            "full": Out(processes), "total": Out(processes * self.count_bits),
            "sel_process": In(self.proc_bits), "sel_level": In(self.level_bits),
            "level_count": Out(self.count_bits),
        })

    def elaborate(self, platform):
        m = Module()
        NP, NL, CAP = self._np, self._nl, self._cap
        ib, cb, pb, lb = self.index_bits, self.count_bits, self.proc_bits, self.level_bits

        def addr(p, e):
            return Cat(e[:ib], p[:pb]) if NP > 1 else e[:ib]

        # -- stage A: entries held and the bump counter, per process ---------------------------
        total = Array(Signal(cb, name=f"total_{p}") for p in range(NP))
        bump = Array(Signal(cb, name=f"bump_{p}") for p in range(NP))
        # total and bump never exceed CAP (a power of two), so their top bit is "== CAP".
        for p in range(NP):
            m.d.comb += [self.full[p].eq(total[p][cb - 1]),
                         self.total[p * cb:(p + 1) * cb].eq(total[p])]

        # Decoded bit by bit (PUSH = 1, POP = 2, never 3), so that each operation's enables depend
        # only on the conditions of that operation.
        is_push = self.op.as_value()[0]
        is_pop = self.op.as_value()[1]
        for pp in range(NP):
            p_hit = self.pid_onehot[pp]
            with m.If(is_push & p_hit):
                m.d.sync += total[pp].eq(total[pp] + 1)
                with m.If(~bump[pp][cb - 1]):
                    m.d.sync += bump[pp].eq(bump[pp] + 1)
            with m.Elif(is_pop & p_hit & (total[pp] != 0)):
                m.d.sync += total[pp].eq(total[pp] - 1)

        # The operation, registered for stage B. The selections by process are AND-OR trees on
        # the one-hot select.
        b_push, b_pop, b_fresh = Signal(), Signal(), Signal()
        b_pid, b_level, b_entry = Signal(pb), Signal(lb), Signal(ib)
        m.d.comb += self.fresh.eq(Cat(*[~bump[pp][cb - 1] for pp in range(NP)]))
        fresh = self.push_fresh
        m.d.comb += self.next_fresh.eq(Cat(*[bump[pp][:ib] for pp in range(NP)]))
        entry_a = self.push_entry
        # The process and level also one-hot, so that each level's counter is enabled by an AND
        # of two registered bits.
        b_pid_oh, b_level_oh = Signal(NP), Signal(NL)
        m.d.sync += [b_pid_oh.eq(self.pid_onehot),
                     b_level_oh.eq(Cat(*[self.level == ll for ll in range(NL)]))]
        m.d.sync += [b_push.eq(is_push), b_pop.eq(is_pop), b_pid.eq(self.pid), b_level.eq(self.level),
                     b_fresh.eq(fresh),
                     b_entry.eq(entry_a),
                     self.busy.eq(is_pop | (is_push & ~fresh))]

        # -- stage B: the linked lists ----------------------------------------------------------
        depth = NP * CAP
        # Never read before written (entries come from the bump counter first): no initial contents.
        # Stage B carries out one operation at a time, so no word is read and written in the same
        # cycle (a push writes ``words``, a pop reads it; a push reads the link of the free entry it
        # takes and writes the link of its level's tail, another entry; a pop's second cycle, the
        # only other link write, overlaps no operation): no read-during-write logic.
        m.submodules.words = words = Memory(shape=64, depth=depth, init=[], attrs=NO_INIT_NO_RW_CHECK)
        m.submodules.links = links = Memory(shape=ib, depth=depth, init=[], attrs=NO_INIT_NO_RW_CHECK)
        words_w, words_r = words.write_port(), words.read_port()
        links_w, links_r = links.write_port(), links.read_port()

        head = Array(Array(Signal(ib, name=f"head_{p}_{l}") for l in range(NL)) for p in range(NP))
        tail = Array(Array(Signal(ib, name=f"tail_{p}_{l}") for l in range(NL)) for p in range(NP))
        cnt = Array(Array(Signal(cb, name=f"count_{p}_{l}") for l in range(NL)) for p in range(NP))
        # Level non-empty and "holds one entry" flags, kept beside the counts so that no decision
        # waits for a compare.
        nonempty = Array(Signal(NL, name=f"nonempty_{p}") for p in range(NP))
        single = Array(Signal(NL, name=f"single_{p}") for p in range(NP))
        free_top = Array(Signal(ib, name=f"free_top_{p}") for p in range(NP))

        m.d.comb += self.level_count.eq(
            Mux(self.sel_level < NL, cnt[self.sel_process][self.sel_level[:lb]], 0)
            if NL < (1 << lb) else cnt[self.sel_process][self.sel_level])

        # Per process: the best (lowest non-empty) level, a register updated with the non-empty
        # flags (from their next values), and its head, a selection by that register.
        best_p = Array(Signal(lb, name=f"best_{p}") for p in range(NP))
        nonempty_next = Array(Signal(NL, name=f"nonempty_next_{p}") for p in range(NP))
        head_best = Array(Signal(ib, name=f"head_best_{p}") for p in range(NP))
        for pp in range(NP):
            m.d.comb += nonempty_next[pp].eq(nonempty[pp])
            m.d.sync += nonempty[pp].eq(nonempty_next[pp])
            m.d.comb += head_best[pp].eq(head[pp][best_p[pp]])

        # Second cycle of a two-cycle operation.
        second_push, second_pop = Signal(), Signal()
        r_proc, r_level, r_entry, r_has = Signal(pb), Signal(lb), Signal(ib), Signal()
        # The popped level one-hot, and whether the pop takes its last entry (registered in the
        # pop's first cycle, so that the second decides nothing).
        r_proc_oh, r_level_oh, r_last = Signal(NP), Signal(NL), Signal()
        # The process's best level once the popped level has emptied (the lowest non-empty level
        # above it), also registered in the pop's first cycle.
        r_next_best = Signal(lb)
        m.d.sync += [second_push.eq(0), second_pop.eq(0)]
        pop_done = second_pop & r_has

        # Level counters: each keeps its own incrementer/decrementer, enabled by decoded selects.
        for pp in range(NP):
            for ll in range(NL):
                with m.If(b_push & b_pid_oh[pp] & b_level_oh[ll]):
                    m.d.sync += [cnt[pp][ll].eq(cnt[pp][ll] + 1), single[pp][ll].eq(~nonempty[pp][ll])]
                    m.d.comb += nonempty_next[pp][ll].eq(1)
                with m.Elif(pop_done & r_proc_oh[pp] & r_level_oh[ll]):
                    m.d.sync += [cnt[pp][ll].eq(cnt[pp][ll] - 1), single[pp][ll].eq(cnt[pp][ll] == 2)]
                    m.d.comb += nonempty_next[pp][ll].eq(~r_last)

        p, l = b_pid, b_level
        entry = Signal(ib)
        # A push's word is written one cycle after its list work (stage C), from registers: the
        # word may come straight from a blocked queue's block RAM output (slow clock-to-output),
        # which then meets a register rather than this memory's data input. A pop in the cycle of
        # that write whose head is the pushed entry takes the word from the stage-C register
        # (``fwd``): the entry is the head of the process's best level exactly when its level was
        # empty and no better level held an entry.
        c_en, c_addr, c_word = Signal(), Signal(len(words_w.addr)), Signal(64)
        c_best, c_pid_oh = Signal(), Signal(NP)
        m.d.sync += c_en.eq(b_push)
        with m.If(b_push):
            # The levels better than l (none is better than the largest value l can take).
            lower = Cat(*[(l > ll) if ll < (1 << lb) - 1 else Const(0, 1) for ll in range(NL)])
            m.d.sync += [c_addr.eq(addr(p, entry)), c_word.eq(self.word), c_pid_oh.eq(b_pid_oh),
                         c_best.eq(~nonempty[p].bit_select(l, 1) & ~(nonempty[p] & lower).any())]
        m.d.comb += [entry.eq(Mux(b_fresh, b_entry, free_top[p])),
                     words_w.addr.eq(c_addr), words_w.data.eq(c_word), words_w.en.eq(c_en),
                     words_r.addr.eq(addr(p, head_best[p])),
                     words_r.en.eq(b_pop)]
        fwd, fwd_word = Signal(), Signal(64)
        with m.If(b_pop):
            m.d.sync += [fwd.eq(c_en & c_best & (c_pid_oh & b_pid_oh).any()), fwd_word.eq(c_word)]
        with m.If(b_push):
            with m.If(nonempty[p].bit_select(l, 1)):
                m.d.comb += links_w.en.eq(1)
            with m.Else():
                m.d.sync += head[p][l].eq(entry)
            m.d.sync += tail[p][l].eq(entry)
            with m.If(~b_fresh):
                # The free list's next entry is the link of the entry just taken.
                m.d.comb += links_r.addr.eq(addr(p, free_top[p]))
                m.d.sync += [second_push.eq(1), r_proc.eq(p)]

        with m.Elif(b_pop):
            e = head_best[p]
            m.d.comb += links_r.addr.eq(addr(p, e))
            m.d.sync += [second_pop.eq(1), r_proc.eq(p), r_level.eq(best_p[p]), r_entry.eq(e),
                         r_has.eq(nonempty[p].any()), r_proc_oh.eq(b_pid_oh),
                         r_level_oh.eq(Cat(*[best_p[p] == ll for ll in range(NL)])),
                         r_last.eq(single[p].bit_select(best_p[p], 1))]
            above = nonempty[p] & (nonempty[p] - 1)[:NL]          # without the lowest set bit
            for lv in reversed(range(NL)):
                with m.If(above[lv]):
                    m.d.sync += r_next_best.eq(lv)

        # Best levels: a push to an empty process or to a better level makes that level the best;
        # a pop that empties the best level makes the next one the best (0 if none: then the
        # process is empty and the value does not matter). The two never share a cycle.
        for pp in range(NP):
            with m.If(b_push & b_pid_oh[pp]):
                with m.If(~nonempty[pp].any() | (b_level < best_p[pp])):
                    m.d.sync += best_p[pp].eq(b_level)
            with m.Elif(pop_done & r_proc_oh[pp] & r_last):
                m.d.sync += best_p[pp].eq(r_next_best)
        with m.If(second_push):
            m.d.sync += free_top[r_proc].eq(links_r.data)
        with m.If(pop_done):
            # The level's next head (meaningless when the level empties: a push to an empty
            # level sets its head).
            m.d.sync += [head[r_proc][r_level].eq(links_r.data), free_top[r_proc].eq(r_entry)]
            # The freed entry links to the previous top of the free list.
            m.d.comb += links_w.en.eq(1)
        # The link write's address and data depend only on which of the two writers it is (the
        # pop's second cycle, or a push linking its level's old tail), not on the decisions that
        # enable it.
        m.d.comb += [links_w.addr.eq(Mux(second_pop, addr(r_proc, r_entry), addr(p, tail[p][l]))),
                     links_w.data.eq(Mux(second_pop, free_top[r_proc], entry))]
        # r_has is held until the next POP executes, and so is the word read port (enabled only
        # by a POP), so pop_word holds the result as long as the bus needs it.
        m.d.comb += self.pop_word.eq(Mux(r_has, Mux(fwd, fwd_word, words_r.data), 0))
        return m
