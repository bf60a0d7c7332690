"""The claim arbiter: which pending, enabled source a claim returns.

RISC-V PLIC specification v1.0.0, "Interrupt Claim Process": the claim returns the ID of the
highest-priority pending interrupt for the target, ties broken towards the lowest ID; priority 0
means "never interrupt" and is never returned.

The search is a two-stage pipeline of max-trees: stage 1 reduces groups of ``group`` candidates to
one ``(priority, index)`` each and registers them; stage 2 reduces the groups to the ID, which the
caller registers.
Claims are serialised by the bus port, so one arbiter serves every context.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


__all__ = ["ClaimArbiter", "group_size"]


def group_size(ids: int) -> int:
    """Group size that balances the two stages: ``2**ceil(log2(ids) / 2)``."""
    bits = max(1, (ids - 1).bit_length())
    return 1 << ((bits + 1) // 2)


def _reduce(m, entries, prio_width, name):
    """Reduce ``[(prio, id), ...]`` (lowest ID first) to the best one with a balanced tree.

    The right (higher ID) entry wins only with a strictly greater priority, so ties go to the
    lowest ID.
    """
    level = 0
    while len(entries) > 1:
        nxt = []
        for k in range(0, len(entries) - 1, 2):
            (pa, ia), (pb, ib) = entries[k], entries[k + 1]
            take_b = pb > pa
            p = Signal(prio_width, name=f"{name}_l{level}_{k // 2}_prio")
            i = Signal(max(len(ia), len(ib)), name=f"{name}_l{level}_{k // 2}_id")
            m.d.comb += [p.eq(Mux(take_b, pb, pa)), i.eq(Mux(take_b, ib, ia))]
            nxt.append((p, i))
        if len(entries) % 2:
            nxt.append(entries[-1])
        entries = nxt
        level += 1
    return entries[0]


class ClaimArbiter(wiring.Component):
    """Two-stage arbiter over ``ids`` candidates.

    Parameters
    ----------
    ids : int
        Number of source IDs (candidate 0 is never chosen).
    priority_bits : int

    Attributes
    ----------
    candidates : Signal(ids), in
        Pending and enabled sources of the claiming context.
    priorities : Signal(ids * priority_bits), in
        Priority of source n at bits ``[n*P, (n+1)*P)``.
    id : Signal(clog2(ids)), out
        The result for the candidates of the previous cycle (stage 1 samples every cycle, so that no
        handshake logic sits in front of the tree), combinational from the stage-1 registers
        (the caller registers it, and clears the claimed pending bit in the same edge); 0 = none.
    """

    def __init__(self, *, ids, priority_bits):
        self._ids = ids
        self._p = priority_bits
        self._group = group_size(ids)
        self._id_bits = max(1, (ids - 1).bit_length())
        super().__init__({
            "candidates": In(ids),
            "priorities": In(ids * priority_bits),
            "id": Out(self._id_bits),
        })

    def elaborate(self, platform):
        m = Module()
        P, g = self._p, self._group
        ngroups = (self._ids + g - 1) // g

        # Stage 1: per group, best (priority, local index); a group without candidates gives
        # priority 0, which no candidate has (priority-0 sources are never candidates).
        stage1 = []
        for k in range(ngroups):
            entries = []
            for j in range(g):
                n = k * g + j
                if n >= self._ids or n == 0:
                    continue
                eff = Mux(self.candidates[n], self.priorities[n * P:(n + 1) * P], 0)
                entries.append((eff, Const(j, max(1, (g - 1).bit_length()))))
            if not entries:
                continue
            p, i = _reduce(m, entries, P, f"g{k}")
            rp = Signal(P, name=f"s1_g{k}_prio")
            ri = Signal(len(i), name=f"s1_g{k}_idx")
            m.d.sync += [rp.eq(p), ri.eq(i)]
            stage1.append((rp, Cat(ri, Const(k, max(1, (ngroups - 1).bit_length())))
                           if ngroups > 1 else ri))

        # Stage 2: across groups.
        p, i = _reduce(m, stage1, P, "top")
        m.d.comb += self.id.eq(Mux(p != 0, i, 0))
        return m
