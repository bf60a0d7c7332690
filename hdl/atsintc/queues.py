"""Per-process priority queues kept as linked lists in block RAM.

Each process owns ``capacity`` entries shared by its ``priorities`` levels. An entry is a 64-bit
word in ``words`` and a link in ``links``; each level is a FIFO threaded through the links
(head, tail, count in registers). Free entries come first from a bump counter (never used since
reset, so reset needs no initialisation pass) and then from a free list threaded through the same
links.

Operations (one at a time; the caller checks legality first: word non-zero, level in range, the
process not full for a push):

* ``PUSH``: 1 cycle when the entry comes from the bump counter, 2 when it comes from the free list
  (the second cycle reads the next free entry). ``busy`` is high in the second cycle.
* ``POP``: 2 cycles; the word (0 when the process is empty) is on ``pop_word`` in the second
  cycle, when ``busy`` is high.
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import enum, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out


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
    op, pid, level, word : in
        The operation issued in this cycle (only while ``busy`` is low).
    busy : out
        Second cycle of a two-cycle operation.
    pop_word : out
        Result of a POP, valid while ``busy`` in the POP's second cycle.
    full : out, one bit per process
        The process holds ``capacity`` entries.
    total : out, ``processes`` counts
        Entries per process (flattened, ``count_bits`` each).
    sel_process, sel_level : in / level_count : out
        Occupancy of one level, for register reads.
    """

    def __init__(self, *, processes, priorities, capacity):
        self._np, self._nl, self._cap = processes, priorities, capacity
        self.index_bits = max(1, (capacity - 1).bit_length())
        self.count_bits = capacity.bit_length()
        self.proc_bits = max(1, (processes - 1).bit_length())
        self.level_bits = max(1, (priorities - 1).bit_length())
        super().__init__({
            "op": In(QueueOp), "pid": In(self.proc_bits), "level": In(self.level_bits),
            "word": In(64),
            "busy": Out(1), "pop_word": Out(64),
            "full": Out(processes), "total": Out(processes * self.count_bits),
            "sel_process": In(self.proc_bits), "sel_level": In(self.level_bits),
            "level_count": Out(self.count_bits),
        })

    def elaborate(self, platform):
        m = Module()
        NP, NL, CAP = self._np, self._nl, self._cap
        ib, cb = self.index_bits, self.count_bits

        def addr(p, e):
            return Cat(e[:ib], p[:self.proc_bits]) if NP > 1 else e[:ib]

        depth = NP * CAP
        m.submodules.words = words = Memory(shape=64, depth=depth, init=[])
        m.submodules.links = links = Memory(shape=ib, depth=depth, init=[])
        words_w, words_r = words.write_port(), words.read_port()
        links_w, links_r = links.write_port(), links.read_port()

        head = Array(Array(Signal(ib, name=f"head_{p}_{l}") for l in range(NL)) for p in range(NP))
        tail = Array(Array(Signal(ib, name=f"tail_{p}_{l}") for l in range(NL)) for p in range(NP))
        cnt = Array(Array(Signal(cb, name=f"count_{p}_{l}") for l in range(NL)) for p in range(NP))
        # Level non-empty flags, kept beside the counts so that no decision waits for a compare.
        nonempty = Array(Signal(NL, name=f"nonempty_{p}") for p in range(NP))
        total = Array(Signal(cb, name=f"total_{p}") for p in range(NP))
        bump = Array(Signal(cb, name=f"bump_{p}") for p in range(NP))
        free_top = Array(Signal(ib, name=f"free_top_{p}") for p in range(NP))

        # total and bump never exceed CAP (a power of two), so their top bit is "== CAP".
        for p in range(NP):
            m.d.comb += [self.full[p].eq(total[p][cb - 1]),
                         self.total[p * cb:(p + 1) * cb].eq(total[p])]
        m.d.comb += self.level_count.eq(
            Mux(self.sel_level < NL, cnt[self.sel_process][self.sel_level[:self.level_bits]], 0)
            if NL < (1 << self.level_bits) else cnt[self.sel_process][self.sel_level])

        # Per process, from registers only: the best (lowest non-empty) level and its head, so that
        # a POP only selects among processes once the sequencer has decided.
        best_p = Array(Signal(self.level_bits, name=f"best_{p}") for p in range(NP))
        head_best = Array(Signal(ib, name=f"head_best_{p}") for p in range(NP))
        for pp in range(NP):
            for lv in reversed(range(NL)):
                with m.If(nonempty[pp][lv]):
                    m.d.comb += best_p[pp].eq(lv)
            m.d.comb += head_best[pp].eq(head[pp][best_p[pp]])

        # State of a two-cycle operation.
        second = Signal(QueueOp)        # which operation is in its second cycle
        r_proc = Signal(self.proc_bits)
        r_level = Signal(self.level_bits)
        r_entry = Signal(ib)
        r_has = Signal()
        m.d.comb += self.busy.eq(second != QueueOp.NONE)
        m.d.sync += second.eq(QueueOp.NONE)

        p, l = self.pid, self.level
        # Decoded bit by bit (PUSH = 1, POP = 2, never 3), so that each operation's enables depend
        # only on the conditions of that operation.
        is_push = self.op.as_value()[0]
        is_pop = self.op.as_value()[1]
        pop_done = (second == QueueOp.POP) & r_has

        # Counters: each keeps its own incrementer/decrementer, enabled by decoded selects, so the
        # run-time indices only reach the enables (no wide multiplexer before an adder).
        for pp in range(NP):
            p_hit = (p == pp) if NP > 1 else Const(1)
            rp_hit = (r_proc == pp) if NP > 1 else Const(1)
            with m.If(is_push & p_hit):
                m.d.sync += total[pp].eq(total[pp] + 1)
            with m.Elif(pop_done & rp_hit):
                m.d.sync += total[pp].eq(total[pp] - 1)
            for ll in range(NL):
                with m.If(is_push & p_hit & (l == ll)):
                    m.d.sync += [cnt[pp][ll].eq(cnt[pp][ll] + 1), nonempty[pp][ll].eq(1)]
                with m.Elif(pop_done & rp_hit & (r_level == ll)):
                    m.d.sync += [cnt[pp][ll].eq(cnt[pp][ll] - 1),
                                 nonempty[pp][ll].eq(cnt[pp][ll] != 1)]

        # Word addresses independent of the operation (the write is enabled only by a PUSH, the
        # read data is used only after a POP).
        from_bump = ~bump[p][cb - 1]
        entry = Signal(ib)
        m.d.comb += [entry.eq(Mux(from_bump, bump[p][:ib], free_top[p])),
                     words_w.addr.eq(addr(p, entry)), words_w.data.eq(self.word),
                     words_r.addr.eq(addr(p, head_best[p]))]
        with m.If(is_push):
            m.d.comb += words_w.en.eq(1)
            with m.If(nonempty[p].bit_select(l, 1)):
                m.d.comb += [links_w.addr.eq(addr(p, tail[p][l])), links_w.data.eq(entry),
                             links_w.en.eq(1)]
            with m.Else():
                m.d.sync += head[p][l].eq(entry)
            m.d.sync += tail[p][l].eq(entry)
            with m.If(from_bump):
                m.d.sync += bump[p].eq(bump[p] + 1)
            with m.Else():
                # The free list's next entry is the link of the entry just taken.
                m.d.comb += links_r.addr.eq(addr(p, free_top[p]))
                m.d.sync += [second.eq(QueueOp.PUSH), r_proc.eq(p)]

        with m.Elif(is_pop):
            e = head_best[p]
            m.d.comb += links_r.addr.eq(addr(p, e))
            m.d.sync += [second.eq(QueueOp.POP), r_proc.eq(p), r_level.eq(best_p[p]), r_entry.eq(e),
                         r_has.eq(nonempty[p].any())]

        with m.If(second == QueueOp.PUSH):
            m.d.sync += free_top[r_proc].eq(links_r.data)
        with m.If(second == QueueOp.POP):
            m.d.comb += self.pop_word.eq(Mux(r_has, words_r.data, 0))
            with m.If(r_has):
                # The level's next head (meaningless when the level empties: a push to an empty
                # level sets its head).
                m.d.sync += [head[r_proc][r_level].eq(links_r.data), free_top[r_proc].eq(r_entry)]
                # The freed entry links to the previous top of the free list.
                m.d.comb += [links_w.addr.eq(addr(r_proc, r_entry)), links_w.data.eq(free_top[r_proc]),
                             links_w.en.eq(1)]
        return m
