"""The MAC register map: the subset of Xilinx AXI Ethernet (PG138) that the ArceOS axi-ethernet and
Linux axienet drivers touch, at the same offsets (dma_eth.md, "Register map"). The one source of
truth for the RTL register bank, the driver constants, the C header and docs/registers/eth_mac.md.
"""

from ..bus.regmap import Access, Field, Register, RegisterMap
from .config import EthMACConfig


__all__ = ["eth_mac_register_map", "STAT_COUNTERS", "IRQ_BITS"]

#: Interrupt bits of IS/IP/IE (PG138 table "Interrupt Status Register"): (name, bit, doc).
IRQ_BITS = (
    ("rx_cmplt", 2, "A frame was received without error and passed to the RX stream."),
    ("rx_rject", 3, "A received frame was dropped: bad FCS, runt, oversize, rx_er, missing SFD "
                    "or address filter."),
    ("rx_fifo_ovr", 4, "A received frame was dropped because the RX buffer had no room for it."),
    ("tx_cmplt", 5, "A frame was transmitted (also after an underrun)."),
)

#: Statistics counters (PG138 "Statistics Counters", low words; user-defined ones from 0x348):
#: (register name, offset, description).
STAT_COUNTERS = (
    ("rxbl", 0x200, "Bytes of frames received OK (destination address to FCS)."),
    ("txbl", 0x208, "Bytes of frames transmitted (destination address to FCS)."),
    ("rxundrl", 0x210, "Undersize frames received: shorter than 64 bytes with a good FCS; dropped."),
    ("rxfragl", 0x218, "Fragments received: shorter than 64 bytes with a bad FCS; dropped."),
    ("rx64bl", 0x220, "Frames received OK of 64 bytes."),
    ("rx65b127l", 0x228, "Frames received OK of 65..127 bytes."),
    ("rx128b255l", 0x230, "Frames received OK of 128..255 bytes."),
    ("rx256b511l", 0x238, "Frames received OK of 256..511 bytes."),
    ("rx512b1023l", 0x240, "Frames received OK of 512..1023 bytes."),
    ("rx1024bmaxl", 0x248, "Frames received OK of 1024 bytes up to the maximum."),
    ("rxovrl", 0x250, "Oversize frames received (over 1518, 1522 VLAN-tagged, or the jumbo limit); "
                      "dropped."),
    ("tx64bl", 0x258, "Frames transmitted of 64 bytes."),
    ("tx65b127l", 0x260, "Frames transmitted of 65..127 bytes."),
    ("tx128b255l", 0x268, "Frames transmitted of 128..255 bytes."),
    ("tx256b511l", 0x270, "Frames transmitted of 256..511 bytes."),
    ("tx512b1023l", 0x278, "Frames transmitted of 512..1023 bytes."),
    ("tx1024bmaxl", 0x280, "Frames transmitted of 1024 bytes or more."),
    ("rxfl", 0x290, "Frames received OK and delivered to the RX stream."),
    ("rxfcserl", 0x298, "Frames of legal size received with a bad FCS; dropped."),
    ("rxbcstfl", 0x2A0, "Broadcast frames received OK."),
    ("rxmcstfl", 0x2A8, "Multicast (not broadcast) frames received OK."),
    ("rxvlanfl", 0x2C0, "VLAN-tagged frames received OK."),
    ("txfl", 0x2D8, "Frames transmitted without underrun."),
    ("txbcstfl", 0x2E0, "Broadcast frames transmitted."),
    ("txmcstfl", 0x2E8, "Multicast (not broadcast) frames transmitted."),
    ("txundrerl", 0x2F0, "Frames aborted by a TX underrun (ended with tx_er)."),
    ("txvlanfl", 0x300, "VLAN-tagged frames transmitted."),
    ("rxaerl", 0x340, "Frames received with a bad preamble: no SFD, or an SFD on an odd nibble "
                      "(MII); dropped."),
    ("rxerrl", 0x348, "User-defined: frames received with rx_er asserted while rx_dv was high; "
                      "dropped."),
    ("rxfiltl", 0x350, "User-defined: frames dropped by the address filter."),
    ("rxovfl", 0x358, "User-defined: frames dropped because the RX buffer had no room (RxFifoOvr)."),
)


def eth_mac_register_map(config: EthMACConfig = EthMACConfig()) -> RegisterMap:
    """Build the register map for ``config``."""
    cw = config.counter_width
    irq_rw1c = [Field(n, b, 1, Access.RW1C, doc=d) for n, b, d in IRQ_BITS]
    fixed = [
        Field("mgt_rdy", 7, 1, Access.R, reset=1, doc="Management ready: always 1 (no MGT)."),
        Field("phy_rst_cmplt", 8, 1, Access.R, reset=1, doc="PHY reset complete: always 1."),
    ]
    regs = [
        Register("raf", 0x000, [
            Field("mcst_rej", 1, 1, Access.RW, doc="Reject multicast (group) frames that are not "
                  "broadcast, unless promiscuous."),
            Field("bcst_rej", 2, 1, Access.RW, doc="Reject broadcast frames, unless promiscuous."),
        ], doc="Reset and address filter. Other bits (extended functions) are not implemented and "
               "read 0, so drivers use UAW0/UAW1."),
        Register("intr_status", 0x00C, irq_rw1c + fixed,
                 doc="Interrupt status: event bits are set by hardware and cleared by writing 1."),
        Register("intr_pending", 0x010, [Field(n, b, 1, Access.R, doc=f"IS.{n} AND IE.{n}.")
                               for n, b, _ in IRQ_BITS],
                 doc="Interrupt pending: IS AND IE. `mac_irq` is high when any bit is set."),
        Register("intr_enable", 0x014, [Field(n, b, 1, Access.RW, doc=f"Enable IS.{n} onto `mac_irq`.")
                               for n, b, _ in IRQ_BITS]
                 + [Field("mgt_rdy", 7, 1, Access.RW, doc="Stored; MgtRdy never interrupts."),
                    Field("phy_rst_cmplt", 8, 1, Access.RW, doc="Stored; never interrupts.")],
                 doc="Interrupt enable."),
        Register("rcw1", 0x404, [
            Field("rx_en", 28, 1, Access.RW, reset=1, doc="Receiver enable. Frames that start "
                  "while it is 0 are ignored (not counted)."),
            Field("jumbo", 30, 1, Access.RW, doc=f"Accept frames up to {config.jumbo_bytes} bytes."),
        ], doc="Receiver configuration word 1."),
        Register("tc", 0x408, [
            Field("tx_en", 28, 1, Access.RW, reset=1, doc="Transmitter enable; a frame in progress "
                  "is completed."),
            Field("jumbo", 30, 1, Access.RW, doc="Stored (frames of any length are transmitted)."),
        ], doc="Transmitter configuration."),
        Register("emmc", 0x410, [
            Field("speed", 30, 2, Access.RW, reset=0b01 if config.phy == "mii" else 0b10,
                  doc="Link speed: 00 10 Mb/s, 01 100 Mb/s, 10 1 Gb/s. With `phy=rgmii` it selects "
                      "the RGMII mode (10: DDR bytes at 125 MHz; 01/00: nibbles at 25/2.5 MHz); "
                      "change it only while the link is idle. With gmii/mii it is stored only."),
        ], doc="Ethernet MAC mode configuration."),
        Register("id", 0x4F8, [
            Field("id", 0, 32, Access.R, reset=config.ID_VALUE, doc="Identification (version 9.0)."),
        ], doc="Identification."),
        Register("mdio_mc", 0x500, [
            Field("clock_divide", 0, 6, Access.RW, doc="MDC = clk / (2 * (clock_divide + 1))."),
            Field("mdio_en", 6, 1, Access.RW, doc="MDIO enable: MDC runs only while set."),
        ], doc="MDIO setup."),
        Register("mdio_mcr", 0x504, [
            Field("phyad", 24, 5, Access.RW, doc="PHY address."),
            Field("regad", 16, 5, Access.RW, doc="Register address."),
            Field("op", 14, 2, Access.RW, doc="01 write, 10 read."),
            Field("initiate", 11, 1, Access.W, doc="Writing 1 starts the transaction."),
            Field("ready", 7, 1, Access.R, reset=1, doc="1 when the MDIO master is idle."),
        ], doc="MDIO control."),
        Register("mdio_mwd", 0x508, [
            Field("data", 0, 16, Access.RW, doc="Data of the next write transaction."),
        ], doc="MDIO write data."),
        Register("mdio_mrd", 0x50C, [
            Field("data", 0, 16, Access.R, doc="Data of the last read transaction."),
        ], doc="MDIO read data."),
        Register("uaw0", 0x700, [
            Field("addr", 0, 32, Access.RW, doc="Unicast address bytes 0..3 (byte 0, the first on "
                  "the wire, in bits 7:0). Change it only while the receiver is disabled."),
        ], doc="Unicast address word 0."),
        Register("uaw1", 0x704, [
            Field("addr", 0, 16, Access.RW, doc="Unicast address bytes 4..5."),
        ], doc="Unicast address word 1."),
        Register("fmi", 0x708, [
            Field("pm", 31, 1, Access.RW, doc="Promiscuous mode: accept every frame."),
        ], doc="Filter mask index (only the promiscuous bit is implemented)."),
    ]
    regs += [Register(name, off, [Field("count", 0, cw, Access.R, doc=doc)], doc=doc)
             for name, off, doc in STAT_COUNTERS]
    return RegisterMap("eth_mac", regs, data_width=32, size=1 << config.ADDR_WIDTH,
        doc="Ethernet MAC registers, a subset of Xilinx AXI Ethernet (PG138) at its offsets. All "
            "registers are 32 bits. Statistics counters are the low words of PG138's 64-bit "
            f"counters, {cw} bits wide, wrapping; their upper words read 0. The window is "
            f"{1 << config.ADDR_WIDTH:#x} bytes; higher address bits are ignored.",
        reserved_doc="reads 0 and ignores writes (OKAY).")
