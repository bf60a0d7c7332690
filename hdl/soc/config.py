"""The SoC's configuration: the four block configurations, the memory map, the interrupt wiring
and where the DMA's completion tokens go. One frozen object from which the RTL
(:class:`~atsoc.hdl.soc.soc.Soc`), the C header, the device tree and the memory-map document are
all generated (:mod:`atsoc.hdl.soc.artefacts`).

Default memory map: the one ArceOS's riscv64-axu15eg platform (the ATS-INTC FPGA platform, Rocket
on an Alinx AXU15EG board) gives these devices: PLIC 0x0C00_0000, ATSINTC 0x1000_0000, AXI DMA
0x6010_0000, AXI Ethernet 0x6014_0000 (the DMA and MAC addresses are those of the ArceOS/reL4
axi-ethernet driver glue, ``DMA_ADDRESS``/``ETH_ADDRESS``). Window sizes: the PLIC's 64 MiB of the
PLIC specification, 64 KiB for the DMA (Vivado's default aperture for AXI DMA), 256 KiB for the MAC
(PG138's AXI Ethernet register space), 16 MiB for the ATSINTC (room for 64 process windows of 4
KiB, any NPROC). The platform file's interrupt numbers could not be found: the defaults put the DMA
MM2S, DMA S2MM and MAC interrupts on sources 1, 2, 3 of both controllers (docs/soc.md).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..atsintc.config import ATSINTCConfig
from ..dma.config import AXIDMAConfig
from ..eth.config import EthMACConfig
from ..plic.config import PLICConfig


__all__ = ["SocConfig", "Window", "DEVICES", "IRQ_DEVICES"]

#: Register windows, in memory-map order of the defaults.
DEVICES = ("plic", "atsintc", "dma", "mac")
#: Interrupt outputs of the devices, wired to PLIC sources and ATSINTC lines.
IRQ_DEVICES = ("mm2s", "s2mm", "mac")


@dataclass(frozen=True)
class Window:
    """One device's address window (derived from :class:`SocConfig`)."""

    name: str
    base: int
    size: int
    decoded: int          #: bytes at the start of the window that the block decodes
    data_width: int       #: the block's register port width

    @property
    def end(self) -> int:
        return self.base + self.size


def _pow2(n: int) -> bool:
    return n > 0 and not n & (n - 1)


@dataclass(frozen=True)
class SocConfig:
    """SoC parameters.

    Parameters
    ----------
    plic : PLICConfig
        PLIC parameters (sources, contexts, priority bits, ...). Its ``base`` is replaced by
        ``plic_base``.
    atsintc : ATSINTCConfig
        ATSINTC parameters; its ``base`` is replaced by ``atsintc_base``.
    dma : AXIDMAConfig
        AXI DMA parameters; 32-bit data; ``base`` is replaced by ``dma_base``. ``completion_tokens=True`` wires the tokens to the ATSINTC.
    mac : EthMACConfig
        Ethernet MAC parameters; ``data_width`` 32 (default: the DMA's streams connect directly)
        or 8 (the SoC converts the streams); ``phy`` chooses the PHY pins the SoC passes through (``gmii``,
        ``mii``, or ``rgmii``: the MAC's own RGMII adapter at 10/100/1000 Mb/s following EMMC.speed,
        with ``gtx_clk``; a board passes its RGMII pads to :class:`Soc`). ``base`` is replaced by
        ``mac_base``.
    plic_base : int
        Bus address of the PLIC window; a multiple of ``plic_size``.
    plic_size : int
        Size in bytes of the PLIC window, a power of two, at least the block's register space
        (the rest of the window answers DECERR).
    atsintc_base : int
        Bus address of the ATSINTC window; a multiple of ``atsintc_size``.
    atsintc_size : int
        Size in bytes of the ATSINTC window, a power of two, at least the block's register space
        (the rest of the window answers DECERR).
    dma_base : int
        Bus address of the AXI DMA window; a multiple of ``dma_size``.
    dma_size : int
        Size in bytes of the AXI DMA window, a power of two, at least the block's register space
        (the rest of the window answers DECERR).
    mac_base : int
        Bus address of the Ethernet MAC window; a multiple of ``mac_size``.
    mac_size : int
        Size in bytes of the Ethernet MAC window, a power of two, at least the block's register space
        (the rest of the window answers DECERR).
    plic_irq_mm2s : int
        PLIC source ID of the DMA MM2S (transmit) interrupt (1..plic.sources; the three are distinct).
    plic_irq_s2mm : int
        PLIC source ID of the DMA S2MM (receive) interrupt (1..plic.sources; the three are distinct).
    plic_irq_mac : int
        PLIC source ID of the MAC interrupt (1..plic.sources; the three are distinct).
    atsintc_irq_mm2s : int
        ATSINTC line of the DMA MM2S (transmit) interrupt (0..atsintc.irq_lines-1; the three are distinct).
    atsintc_irq_s2mm : int
        ATSINTC line of the DMA S2MM (receive) interrupt (0..atsintc.irq_lines-1; the three are distinct).
    atsintc_irq_mac : int
        ATSINTC line of the MAC interrupt (0..atsintc.irq_lines-1; the three are distinct).
    token_process : int
        ATSINTC process that receives the DMA completion tokens (0..atsintc.processes-1).
    token_priority : int
        Priority level of the tokens in that process (0..atsintc.priorities-1).
    addr_width : int
        Address width of the CPU port, 32..64.
    """

    plic: PLICConfig = field(default_factory=PLICConfig)
    atsintc: ATSINTCConfig = field(default_factory=ATSINTCConfig)
    dma: AXIDMAConfig = field(default_factory=lambda: AXIDMAConfig(completion_tokens=True))
    mac: EthMACConfig = field(default_factory=lambda: EthMACConfig(data_width=32))
    plic_base: int = 0x0C00_0000
    plic_size: int = 0x0400_0000
    atsintc_base: int = 0x1000_0000
    atsintc_size: int = 0x0100_0000
    dma_base: int = 0x6010_0000
    dma_size: int = 0x0001_0000
    mac_base: int = 0x6014_0000
    mac_size: int = 0x0004_0000
    plic_irq_mm2s: int = 1
    plic_irq_s2mm: int = 2
    plic_irq_mac: int = 3
    atsintc_irq_mm2s: int = 1
    atsintc_irq_s2mm: int = 2
    atsintc_irq_mac: int = 3
    token_process: int = 0
    token_priority: int = 1
    addr_width: int = 32

    #: Data width of the CPU port (an RV64 CPU's natural width; 32-bit blocks get lane conversion).
    DATA_WIDTH = 64

    def __post_init__(self):
        kinds = {"plic": PLICConfig, "atsintc": ATSINTCConfig, "dma": AXIDMAConfig, "mac": EthMACConfig}
        for name, cls in kinds.items():
            if not isinstance(getattr(self, name), cls):
                raise ValueError(f"{name} must be a {cls.__name__}, not {type(getattr(self, name)).__name__}")
        if self.dma.data_width != 32:
            raise ValueError(f"dma.data_width must be 32 in the SoC, not {self.dma.data_width}")
        if self.mac.data_width > self.dma.data_width:
            raise ValueError(f"mac.data_width ({self.mac.data_width}) must not exceed dma.data_width "
                             f"({self.dma.data_width})")
        if self.mac.phy not in ("gmii", "mii", "rgmii"):
            raise ValueError(f"mac.phy must be 'gmii', 'mii' or 'rgmii' in the SoC, not {self.mac.phy!r}")
        if not 32 <= self.addr_width <= 64:
            raise ValueError(f"addr_width must be 32..64, not {self.addr_width}")
        # The map is the one source of truth for base addresses: the blocks' own (documentation)
        # bases follow it, so their generated headers agree with the SoC's.
        for name in DEVICES:
            cfg = getattr(self, name)
            base = getattr(self, f"{name}_base")
            if cfg.base != base:
                object.__setattr__(self, name, dataclasses.replace(cfg, base=base))
        self._check_windows()
        self._check_irqs()
        if not 0 <= self.token_process < self.atsintc.processes:
            raise ValueError(f"token_process must be 0..{self.atsintc.processes - 1}, not {self.token_process}")
        if not 0 <= self.token_priority < self.atsintc.priorities:
            raise ValueError(f"token_priority must be 0..{self.atsintc.priorities - 1}, not {self.token_priority}")

    def _check_windows(self):
        for w in self.windows:
            if not _pow2(w.size):
                raise ValueError(f"{w.name}_size {w.size:#x} must be a power of two")
            if w.size < w.decoded:
                raise ValueError(f"{w.name}_size {w.size:#x} is smaller than the block's register "
                                 f"space {w.decoded:#x}")
            if w.base % w.size:
                raise ValueError(f"{w.name}_base {w.base:#x} must be a multiple of {w.name}_size {w.size:#x}")
            if w.base < 0 or w.end > 1 << self.addr_width:
                raise ValueError(f"{w.name} window {w.base:#x}..{w.end - 1:#x} is outside the "
                                 f"{self.addr_width}-bit address space")
        spans = sorted(self.windows, key=lambda w: w.base)
        for a, b in zip(spans, spans[1:]):
            if b.base < a.end:
                raise ValueError(f"{a.name} window {a.base:#x}..{a.end - 1:#x} overlaps {b.name} "
                                 f"window {b.base:#x}..{b.end - 1:#x}")

    def _check_irqs(self):
        plic = [getattr(self, f"plic_irq_{d}") for d in IRQ_DEVICES]
        for d, n in zip(IRQ_DEVICES, plic):
            if not 1 <= n <= self.plic.sources:
                raise ValueError(f"plic_irq_{d} must be a PLIC source 1..{self.plic.sources}, not {n}")
        if len(set(plic)) != len(plic):
            raise ValueError(f"plic_irq_mm2s/s2mm/mac must be distinct, not {plic}")
        lines = [getattr(self, f"atsintc_irq_{d}") for d in IRQ_DEVICES]
        for d, n in zip(IRQ_DEVICES, lines):
            if not 0 <= n < self.atsintc.irq_lines:
                raise ValueError(f"atsintc_irq_{d} must be an ATSINTC line 0..{self.atsintc.irq_lines - 1}, not {n}")
        if len(set(lines)) != len(lines):
            raise ValueError(f"atsintc_irq_mm2s/s2mm/mac must be distinct, not {lines}")

    # -- derived ---------------------------------------------------------------------------------
    @property
    def windows(self) -> tuple[Window, ...]:
        """The four register windows."""
        return (
            Window("plic", self.plic_base, self.plic_size, 1 << PLICConfig.ADDR_WIDTH, 32),
            Window("atsintc", self.atsintc_base, self.atsintc_size, 1 << self.atsintc.addr_width,
                   ATSINTCConfig.DATA_WIDTH),
            Window("dma", self.dma_base, self.dma_size, 1 << AXIDMAConfig.REG_ADDR_WIDTH, 32),
            Window("mac", self.mac_base, self.mac_size, 1 << EthMACConfig.ADDR_WIDTH, 32),
        )

    def window(self, name: str) -> Window:
        for w in self.windows:
            if w.name == name:
                return w
        raise KeyError(name)

    def plic_irq(self, device: str) -> int:
        """PLIC source ID of ``device`` (``mm2s``, ``s2mm`` or ``mac``)."""
        return getattr(self, f"plic_irq_{device}")

    def atsintc_irq(self, device: str) -> int:
        """ATSINTC line of ``device`` (``mm2s``, ``s2mm`` or ``mac``)."""
        return getattr(self, f"atsintc_irq_{device}")
