"""Parameters of the PLIC, checked when the configuration is made."""

from dataclasses import dataclass, field


__all__ = ["PLICConfig", "ReservedPolicy"]


class ReservedPolicy:
    """What an access to a reserved address (or a partial write) answers.

    ``RAZ_WI``: reads 0, writes ignored, response OKAY (the PLIC specification's reserved rule).
    ``SLVERR``: the same absence of side effects, but the AXI response is SLVERR.
    """

    RAZ_WI = "raz_wi"
    SLVERR = "slverr"
    ALL = (RAZ_WI, SLVERR)


@dataclass(frozen=True)
class PLICConfig:
    """PLIC parameters.

    Parameters
    ----------
    sources : int
        Number of interrupt sources, 1..1023. Source IDs are 1..sources; ID 0 is reserved
        ("no interrupt"). ``irq_sources`` is ``sources + 1`` bits wide and its bit 0 is unused.
    contexts : int
        Number of contexts (hart and privilege mode pairs), 1..64. QEMU ``virt`` orders them per
        hart: M-mode is context ``2*hart``, S-mode ``2*hart + 1``.
    priority_bits : int
        Width P of priority and threshold registers (WARL: a write keeps the low P bits), 1..16.
    edge_sources : frozenset of int
        Sources whose gateway is edge-triggered; the others are level-triggered.
    edge_count_limit : int
        Edges seen while an edge gateway waits for its completion that are remembered (each one
        forwards a request after a completion), 0..255; 0 drops extra edges.
    synchronizer : bool
        Put a two-flip-flop synchroniser in front of every source (adds 2 cycles of latency), for
        sources driven from another clock domain.
    reserved_policy : str
        :class:`ReservedPolicy` value.
    base : int
        Bus base address; documentation and generated headers only (the block decodes its window).
    """

    sources: int = 31
    contexts: int = 2
    priority_bits: int = 3
    edge_sources: frozenset = field(default_factory=frozenset)
    edge_count_limit: int = 3
    synchronizer: bool = False
    reserved_policy: str = ReservedPolicy.RAZ_WI
    base: int = 0x0C00_0000

    #: Address bits of the PLIC window (64 MiB, the layout of the PLIC specification).
    ADDR_WIDTH = 26
    DATA_WIDTH = 32

    def __post_init__(self):
        object.__setattr__(self, "edge_sources", frozenset(self.edge_sources))
        if not 1 <= self.sources <= 1023:
            raise ValueError(f"sources must be 1..1023, not {self.sources}")
        if not 1 <= self.contexts <= 64:
            raise ValueError(f"contexts must be 1..64, not {self.contexts}")
        if not 1 <= self.priority_bits <= 16:
            raise ValueError(f"priority_bits must be 1..16, not {self.priority_bits}")
        bad = sorted(s for s in self.edge_sources if not 1 <= s <= self.sources)
        if bad:
            raise ValueError(f"edge_sources {bad} are not source IDs 1..{self.sources}")
        if not 0 <= self.edge_count_limit <= 255:
            raise ValueError(f"edge_count_limit must be 0..255, not {self.edge_count_limit}")
        if self.reserved_policy not in ReservedPolicy.ALL:
            raise ValueError(f"reserved_policy must be one of {ReservedPolicy.ALL}")

    @property
    def ids(self) -> int:
        """Number of source IDs including the reserved ID 0."""
        return self.sources + 1

    @property
    def words(self) -> int:
        """32-bit words of one pending or enable bit vector."""
        return (self.ids + 31) // 32

    @property
    def max_priority(self) -> int:
        return (1 << self.priority_bits) - 1
