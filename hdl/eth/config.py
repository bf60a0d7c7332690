"""Parameters of the Ethernet MAC, checked when the configuration is made (dma_eth.md, "Ethernet MAC")."""

from dataclasses import dataclass


__all__ = ["EthMACConfig", "PhyInterface"]


class PhyInterface:
    """PHY interface of the generated top.

    ``GMII``: 8-bit GMII, 1 Gb/s (ports ``gmii_*``). ``MII``: 4-bit MII, 10/100 Mb/s (ports
    ``mii_*``). ``RGMII``: 4-bit DDR RGMII through Amaranth DDR I/O buffers (ports ``rgmii_*``).
    """

    GMII = "gmii"
    MII = "mii"
    RGMII = "rgmii"
    ALL = (GMII, MII, RGMII)


def _pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


@dataclass(frozen=True)
class EthMACConfig:
    """Ethernet MAC parameters.

    Parameters
    ----------
    phy : str
        PHY interface: ``gmii`` (default), ``mii`` (nibble mode, 10/100) or ``rgmii`` (DDR I/O).
    data_width : int
        Width in bits of the AXI-Stream data toward the DMA (``s_axis_tx_*``, ``m_axis_rx_*``):
        8 (default), 32 or 64. TKEEP has one bit per byte; wider beats are converted to bytes in
        the system clock domain (``stream_width.py``), so the PHY side stays 8 bits wide and
        line rate holds as long as ``clk`` runs at least at the PHY byte clock.
    tx_fifo_bytes : int
        Depth in bytes of the TX store-and-forward FIFO (power of two, 2048..65536). A frame is
        sent once it is complete in the FIFO; a frame longer than the FIFO starts when the FIFO is
        full (cut-through), and an underrun then ends it with ``tx_er`` (counted).
    rx_buffer_bytes : int
        Depth in bytes of the RX frame buffer (power of two, 2048..65536). A frame that does not
        fit in its free space is dropped whole and counted (RxFifoOvr).
    jumbo_bytes : int
        Largest frame (destination address to FCS) accepted with the jumbo bits of RCW1/TC set,
        1519..16383.
    statistics : bool
        Implement the statistics counters (0x200..0x37C); without them the counters read 0 and
        IS/IP still report every event.
    counter_width : int
        Width of each statistics counter, 16..32 (wraps; the upper word of the AXI Ethernet 64-bit
        counters reads 0).
    mdio : bool
        Implement the MDIO master (ports ``mdc``, ``mdio_i``, ``mdio_o``, ``mdio_oe``).
    base : int
        Bus base address; documentation and generated headers only.
    """

    phy: str = PhyInterface.GMII
    data_width: int = 8
    tx_fifo_bytes: int = 4096
    rx_buffer_bytes: int = 4096
    jumbo_bytes: int = 9018
    statistics: bool = True
    counter_width: int = 32
    mdio: bool = True
    base: int = 0x4000_0000

    #: Address bits of the register window (AXI Ethernet uses 256 KiB; the map ends below 4 KiB).
    ADDR_WIDTH = 12
    DATA_WIDTH = 32
    #: Largest untagged / VLAN-tagged frame without jumbo (IEEE 802.3 clause 3.2.7, 802.1Q).
    MAX_FRAME = 1518
    MAX_FRAME_VLAN = 1522
    MIN_FRAME = 64
    #: Identification register value (AXI Ethernet v9.0 reads 0x0900_0000).
    ID_VALUE = 0x0900_0000

    def __post_init__(self):
        if self.phy not in PhyInterface.ALL:
            raise ValueError(f"phy must be one of {PhyInterface.ALL}, not {self.phy!r}")
        if self.data_width not in (8, 32, 64):
            raise ValueError(f"data_width must be 8, 32 or 64, not {self.data_width}")
        for name in ("tx_fifo_bytes", "rx_buffer_bytes"):
            v = getattr(self, name)
            if not (_pow2(v) and 2048 <= v <= 65536):
                raise ValueError(f"{name} must be a power of two in 2048..65536, not {v}")
        if not 1519 <= self.jumbo_bytes <= 16383:
            raise ValueError(f"jumbo_bytes must be 1519..16383, not {self.jumbo_bytes}")
        if not 16 <= self.counter_width <= 32:
            raise ValueError(f"counter_width must be 16..32, not {self.counter_width}")

    @property
    def length_bits(self) -> int:
        """Width of frame-length counters (saturating above the jumbo limit)."""
        return 14
