"""Parameters of the ATSINTC, checked when the configuration is made."""

from dataclasses import dataclass


__all__ = ["ATSINTCConfig"]


def _pow2(n: int) -> bool:
    return n > 0 and not n & (n - 1)


@dataclass(frozen=True)
class ATSINTCConfig:
    """ATSINTC parameters.

    Parameters
    ----------
    processes : int
        Process slots (NPROC), 1..64; slot i's register window is at base + i*0x1000.
    priorities : int
        Priority levels per process (NPRIO), 1..255; level 0 is the highest.
    capacity : int
        Entries per process, shared by its levels and kept in block RAM; a power of two, 2..4096.
    irq_lines : int
        External interrupt lines (NIRQ), 1..64; ``irq_sources`` bit n is line n.
    irq_queue_depth : int
        Handlers one line's blocked queue holds; a power of two, 1..16.
    channels : int
        IPC channels per process (NCHAN), 1..31.
    ipc_queue_depth : int
        Handlers one channel's blocked queue holds; a power of two, 1..16.
    send_pending_limit : int
        Sends kept for a channel that has no handler, 1..255; one more is refused.
    harts : int
        Notification lines (``notify`` bits), 1..64.
    reserved_policy : str
        Reserved addresses: ``raz_wi`` (read 0, writes ignored) or ``slverr`` (same, answered SLVERR).
    base : int
        Bus base address; documentation and generated headers only.
    """

    processes: int = 4
    priorities: int = 8
    capacity: int = 256
    irq_lines: int = 32
    irq_queue_depth: int = 4
    channels: int = 31
    ipc_queue_depth: int = 4
    send_pending_limit: int = 15
    harts: int = 1
    reserved_policy: str = "raz_wi"
    base: int = 0x1000_0000

    DATA_WIDTH = 64
    WINDOW = 0x1000

    def __post_init__(self):
        checks = [
            (1 <= self.processes <= 64, "processes must be 1..64"),
            (1 <= self.priorities <= 255, "priorities must be 1..255"),
            (_pow2(self.capacity) and 2 <= self.capacity <= 4096, "capacity must be a power of two, 2..4096"),
            (1 <= self.irq_lines <= 64, "irq_lines must be 1..64"),
            (_pow2(self.irq_queue_depth) and self.irq_queue_depth <= 16,
             "irq_queue_depth must be a power of two, 1..16"),
            (1 <= self.channels <= 31, "channels must be 1..31"),
            (_pow2(self.ipc_queue_depth) and self.ipc_queue_depth <= 16,
             "ipc_queue_depth must be a power of two, 1..16"),
            (1 <= self.send_pending_limit <= 255, "send_pending_limit must be 1..255"),
            (1 <= self.harts <= 64, "harts must be 1..64"),
            (self.reserved_policy in ("raz_wi", "slverr"), "reserved_policy must be one of ('raz_wi', 'slverr')"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def addr_width(self) -> int:
        """Address bits of the block's window (process slots rounded up to a power of two)."""
        return 12 + max(0, (self.processes - 1).bit_length())
