"""The SoC's memory map, interrupt wiring and completion-token routing: one table of numbers.

The numbers are the defaults of the SoC's own configuration, ``atsoc.hdl.soc.config.SocConfig``
(the source of truth once it is on the main branch; ``tests/test_net.py`` checks that the two
agree whenever that module is importable).

The system reference model (:mod:`atsoc.sim.model.soc`), the network driver's set-up
(:mod:`atsoc.sim.driver.netapp`) and the tests read these numbers from here; the RTL SoC
(``hdl/soc/``) must use the same ones. Gateware never imports ``sim/`` (architecture.md,
"Dependency rules"), so when ``hdl/soc`` grows its own configuration this module should
re-export it instead of defining the numbers (this file imports nothing, so moving it is a copy).

Interrupt wiring (architecture.md, "Data and interrupt flow"): the SoC's interrupt vector has one
bit per device output, ``IRQ_VECTOR`` order. Bit ``k`` drives PLIC source ``k + 1`` (source 0
does not exist) and ATSINTC line ``k + 1``: the DMA MM2S, DMA S2MM and MAC interrupts are sources
and lines 1, 2, 3 of both controllers.

Completion tokens (atsintc.md, "DMA completions through the queue"): the DMA's token stream
(completed descriptor address | 1, both channels) enters the ATSINTC's hardware enqueue stream
with ``tdest = TOKEN_PROCESS`` and ``tuser = TOKEN_PRIORITY``.
"""

__all__ = [
    "PLIC_BASE", "PLIC_SIZE", "ATSINTC_BASE", "ATSINTC_SIZE", "DMA_BASE", "DMA_SIZE", "MAC_BASE",
    "MAC_SIZE", "RAM_BASE", "RAM_SIZE", "IRQ_VECTOR", "IRQ_DMA_MM2S", "IRQ_DMA_S2MM", "IRQ_MAC",
    "plic_source", "atsintc_line", "PLIC_CONTEXT", "HART", "EXECUTOR_PROCESS", "TOKEN_PROCESS",
    "TOKEN_PRIORITY",
]

# -- memory map (bus addresses) -----------------------------------------------------------------
#: PLIC (QEMU ``virt`` layout; 64 MiB window).
PLIC_BASE, PLIC_SIZE = 0x0C00_0000, 0x0400_0000
#: ATSINTC, process 0's window; one 4 KiB window per process (16 MiB: room for 64 processes).
ATSINTC_BASE, ATSINTC_SIZE = 0x1000_0000, 0x0100_0000
#: AXI DMA registers (PG021 map; the block decodes the first 4 KiB of a 64 KiB window).
DMA_BASE, DMA_SIZE = 0x6010_0000, 0x0001_0000
#: Ethernet MAC registers (PG138 subset; the block decodes the first 4 KiB of a 256 KiB window).
MAC_BASE, MAC_SIZE = 0x6014_0000, 0x0004_0000
#: System memory (descriptor rings and buffers). The size is the reference model's; the RTL
#: SoC may have less, the driver needs about 512 KiB with its default rings.
RAM_BASE, RAM_SIZE = 0x8000_0000, 0x0040_0000

# -- interrupt wiring -----------------------------------------------------------------------------
#: Bit of each device interrupt output in the SoC's interrupt vector.
IRQ_DMA_MM2S = 0     # DMA mm2s_irq (transmit channel)
IRQ_DMA_S2MM = 1     # DMA s2mm_irq (receive channel)
IRQ_MAC = 2          # MAC mac_irq
IRQ_VECTOR = ("dma_mm2s", "dma_s2mm", "mac")


def plic_source(bit: int) -> int:
    """PLIC source ID wired to interrupt-vector bit ``bit``."""
    return bit + 1


def atsintc_line(bit: int) -> int:
    """ATSINTC interrupt line wired to interrupt-vector bit ``bit``."""
    return bit + 1


# -- who listens ------------------------------------------------------------------------------------
#: The PLIC context of hart 0 in S-mode (contexts per hart: M then S).
PLIC_CONTEXT = 1
#: The hart whose ATSINTC ``notify`` bit wakes the executor.
HART = 0
#: Where DMA completion tokens are enqueued (ATSINTC hardware enqueue stream tdest / tuser).
TOKEN_PROCESS = 0
TOKEN_PRIORITY = 1
#: ATSINTC process slot the network executor runs in (the one that receives the tokens).
EXECUTOR_PROCESS = TOKEN_PROCESS
