"""The ArceOS axi-ethernet driver's MAC register sequences, over :class:`~.mmio.Mmio`.

Mirrors the `axi-ethernet` crate used by ArceOS's `driver_net/src/axi_ethernet.rs` (written from
its behaviour, not copied): ``reset`` (stop, default options, ``init_hw``), ``set_options`` and
``clear_options`` on RCW1/TC/FMI/RAF, the MDIO divisor, ``detect_phy`` (BMSR of every address),
the KSZ9031 auto-negotiation sequence of ``get_phy_speed_ksz9031``, ``set_operating_speed``,
``set_mac_address`` (UAW0/UAW1, since RAF.NewFncEn reads 0), the interrupt enables and ``start``.
Like the crate, writes build the whole register word (svd2rust ``write``), so an enable call
replaces IE instead of adding to it. Offsets and bits are the crate's own constants (PG138); a test
checks them against the register map.
"""

from __future__ import annotations

from .mmio import Mmio


__all__ = ["AxiEthernetDriver", "MdioTimeout"]

# Register offsets (PG138 / the crate's PAC).
RAF, IS, IP, IE = 0x000, 0x00C, 0x010, 0x014
RCW1, TC, FCC, EMMC = 0x404, 0x408, 0x40C, 0x410
MDIO_MC, MDIO_MCR, MDIO_MWD, MDIO_MRD = 0x500, 0x504, 0x508, 0x50C
UAW0, UAW1, FMI = 0x700, 0x704, 0x708

# Bits.
RAF_MCSTREJ, RAF_BCSTREJ, RAF_NEWFNC = 1 << 1, 1 << 2, 1 << 12
INT_RX_CMPLT, INT_RX_RJECT, INT_RX_FIFOOVR, INT_TX_CMPLT = 1 << 2, 1 << 3, 1 << 4, 1 << 5
RCW1_JUM, RCW1_FCS, RCW1_RX, RCW1_VLAN, RCW1_LT_DIS, RCW1_CL_DIS = (
    1 << 30, 1 << 29, 1 << 28, 1 << 27, 1 << 25, 1 << 24)
TC_JUM, TC_FCS, TC_TX, TC_VLAN = 1 << 30, 1 << 29, 1 << 28, 1 << 27
FCC_RXFCE = 1 << 29
FMI_PM = 1 << 31
EMMC_100M, EMMC_1000M = 0b01 << 30, 0b10 << 30
MDIO_MC_EN = 1 << 6
MCR_READY, MCR_INIT, MCR_OP_READ, MCR_OP_WRITE = 1 << 7, 1 << 11, 0b10 << 14, 0b01 << 14

# Options (xaxiethernet.h).
PROMISC, JUMBO, VLAN, FLOW_CONTROL = 0x1, 0x2, 0x4, 0x10
FCS_STRIP, FCS_INSERT, LENTYPE_ERR = 0x20, 0x40, 0x80
TRANSMITTER_ENABLE, RECEIVER_ENABLE, BROADCAST, MULTICAST = 0x100, 0x200, 0x400, 0x800
DEFAULT_OPTIONS = (FLOW_CONTROL | BROADCAST | FCS_INSERT | FCS_STRIP | LENTYPE_ERR
                   | TRANSMITTER_ENABLE | RECEIVER_ENABLE)
MDIO_DIV_DFT = 29
LOOPS = 100_000

# PHY registers (IEEE 802.3 clause 22 and the KSZ9031 ones the crate uses).
PHY_DETECT_MASK = 0x1808
BMCR, BMSR, PHYID1, PHYID2, ANAR, GBCR = 0, 1, 2, 3, 4, 9
COPPER_SPECIFIC_CONTROL, CONTROL_REG_MAC, PAGE_ADDRESS, PHY_CONTROL = 16, 21, 22, 0x1F
BMCR_RESET, BMCR_ANENABLE, BMCR_ANRESTART = 0x8000, 0x1000, 0x0200
BMSR_ANEGCOMPLETE = 0x0020
ADVERTISE_10, ADVERTISE_100, PAUSE, ASYM_PAUSE, ADVERTISE_1000 = 0x0020, 0x0180, 0x0400, 0x0800, 0x0300


class MdioTimeout(Exception):
    """The MDIO master stayed busy (the crate returns silently; we surface it, driver.md Rules)."""


class AxiEthernetDriver:
    """ArceOS axi-ethernet MAC driver.

    Parameters
    ----------
    mmio : Mmio
    base : int
        Bus address of the MAC's register window.
    """

    def __init__(self, mmio: Mmio, base: int = 0):
        self.mmio = mmio
        self.base = base
        self.options = DEFAULT_OPTIONS
        self.is_started = False
        self.phy_addr = 0
        self.link_up = False

    async def rd(self, off: int) -> int:
        return await self.mmio.read(self.base + off)

    async def wr(self, off: int, value: int) -> None:
        await self.mmio.write(self.base + off, value)

    # -- the crate's MAC operations --------------------------------------------------------
    async def start(self):
        if self.is_started:
            return
        if self.options & TRANSMITTER_ENABLE and not await self.rd(TC) & TC_TX:
            await self.wr(TC, TC_TX)
        if self.options & RECEIVER_ENABLE and not await self.rd(RCW1) & RCW1_RX:
            await self.wr(RCW1, RCW1_RX)
        self.is_started = True

    async def stop(self):
        if not self.is_started:
            return
        await self.wr(IE, 0)
        await self.wr(RCW1, 0)
        if await self.rd(IP) & INT_RX_RJECT:
            await self.wr(IS, INT_RX_RJECT)
        self.is_started = False

    async def reset(self):
        await self.stop()
        self.options = DEFAULT_OPTIONS
        await self.init_hw()

    async def init_hw(self):
        await self.wr(RCW1, 0)
        if await self.rd(IP) & INT_RX_RJECT:
            await self.wr(IS, INT_RX_RJECT)
        await self.set_options(self.options & ~(TRANSMITTER_ENABLE | RECEIVER_ENABLE))
        await self.clear_options(~self.options & 0xFFFF_FFFF)
        await self.set_phy_mdio_divisor(MDIO_DIV_DFT)

    async def set_options(self, options: int):
        assert not self.is_started
        self.options |= options
        dep = self.options
        rcw1 = await self.rd(RCW1)
        tc = await self.rd(TC)
        new_rcw1, new_tc = rcw1, tc
        if dep & JUMBO:
            new_tc |= TC_JUM
            new_rcw1 |= RCW1_JUM
        if dep & VLAN:
            new_tc |= TC_VLAN
            new_rcw1 |= RCW1_VLAN
        if dep & FCS_STRIP:
            new_rcw1 &= ~RCW1_FCS
        if dep & FCS_INSERT:
            new_tc &= ~TC_FCS
        if dep & LENTYPE_ERR:
            new_rcw1 &= ~RCW1_LT_DIS
        if dep & TRANSMITTER_ENABLE:
            new_tc |= TC_TX
        if dep & RECEIVER_ENABLE:
            new_rcw1 |= RCW1_RX
        if tc != new_tc:
            await self.wr(TC, new_tc)
        if rcw1 != new_rcw1:
            await self.wr(RCW1, new_rcw1)
        if dep & FLOW_CONTROL:
            await self.wr(FCC, FCC_RXFCE)
        if dep & PROMISC:
            await self.wr(FMI, FMI_PM)
        if dep & BROADCAST:
            await self.wr(RAF, 0)               # bcst_rej cleared (whole-word write)
        if dep & MULTICAST:
            await self.wr(RAF, 0)

    async def clear_options(self, options: int):
        assert not self.is_started
        self.options &= ~options
        dep = ~self.options & options
        rcw1 = await self.rd(RCW1)
        tc = await self.rd(TC)
        new_rcw1, new_tc = rcw1, tc
        if dep & JUMBO:
            new_tc &= ~TC_JUM
            new_rcw1 &= ~RCW1_JUM
        if dep & VLAN:
            new_tc &= ~TC_VLAN
            new_rcw1 &= ~RCW1_VLAN
        if dep & FCS_STRIP:
            new_rcw1 |= RCW1_FCS
        if dep & FCS_INSERT:
            new_tc |= TC_FCS
        if dep & LENTYPE_ERR:
            new_rcw1 |= RCW1_LT_DIS
        if dep & TRANSMITTER_ENABLE:
            new_tc &= ~TC_TX
        if dep & RECEIVER_ENABLE:
            new_rcw1 &= ~RCW1_RX
        if tc != new_tc:
            await self.wr(TC, new_tc)
        if rcw1 != new_rcw1:
            await self.wr(RCW1, new_rcw1)
        if dep & FLOW_CONTROL:
            await self.wr(FCC, 0)
        if dep & PROMISC:
            await self.wr(FMI, 0)
        if dep & BROADCAST:
            await self.wr(RAF, RAF_BCSTREJ)
        if dep & MULTICAST:
            await self.wr(RAF, RAF_MCSTREJ)

    async def set_phy_mdio_divisor(self, divisor: int):
        await self.wr(RCW1, RCW1_CL_DIS)
        await self.wr(MDIO_MC, divisor | MDIO_MC_EN)

    async def set_mac_address(self, mac: bytes):
        assert not self.is_started
        assert not await self.rd(RAF) & RAF_NEWFNC, "extended functions are not implemented"
        await self.wr(UAW0, int.from_bytes(mac[:4], "little"))
        await self.wr(UAW1, int.from_bytes(mac[4:6], "little"))

    async def get_mac_address(self) -> bytes:
        return ((await self.rd(UAW0)).to_bytes(4, "little")
                + ((await self.rd(UAW1)) & 0xFFFF).to_bytes(2, "little"))

    async def set_operating_speed(self, speed: int):
        if speed == 100:
            await self.wr(EMMC, EMMC_100M)
        elif speed in (1000, 2500):
            await self.wr(EMMC, EMMC_1000M)

    async def enable_rx_memovr(self):
        await self.wr(IE, INT_RX_FIFOOVR)

    async def enable_rx_rject(self):
        await self.wr(IE, INT_RX_RJECT)

    async def enable_rx_cmplt(self):
        await self.wr(IE, INT_RX_CMPLT)

    async def clear_intr(self, mask: int):
        await self.wr(IS, mask & 0x3F)

    # -- MDIO ---------------------------------------------------------------------------------
    async def _mdio_wait(self):
        for _ in range(LOOPS):
            if await self.rd(MDIO_MCR) & MCR_READY:
                return
        raise MdioTimeout("MDIO master not ready")

    async def phy_read(self, phy: int, reg: int) -> int:
        await self._mdio_wait()
        await self.wr(MDIO_MCR, (phy << 24) | (reg << 16) | MCR_INIT | MCR_OP_READ)
        await self._mdio_wait()
        return await self.rd(MDIO_MRD) & 0xFFFF

    async def phy_write(self, phy: int, reg: int, value: int):
        await self._mdio_wait()
        await self.wr(MDIO_MWD, value & 0xFFFF)
        await self.wr(MDIO_MCR, (phy << 24) | (reg << 16) | MCR_INIT | MCR_OP_WRITE)
        await self._mdio_wait()

    async def detect_phy(self) -> int | None:
        for addr in range(32):
            status = await self.phy_read(addr, BMSR)
            if status != 0xFFFF and status & PHY_DETECT_MASK == PHY_DETECT_MASK:
                await self.phy_read(addr, PHYID1)
                self.phy_addr = addr
                return addr
            await self.phy_read(addr, PHYID1)       # Xilinx PCS/PMA probe (never matches here)
        return None

    async def get_phy_speed_ksz9031(self, max_polls: int = 1000) -> int:
        a = self.phy_addr
        await self.phy_write(a, PAGE_ADDRESS, 2)
        control = await self.phy_read(a, CONTROL_REG_MAC)
        await self.phy_write(a, CONTROL_REG_MAC, control & ~0x10)
        await self.phy_write(a, PAGE_ADDRESS, 0)
        control = await self.phy_read(a, ANAR)
        await self.phy_write(a, ANAR, control | ASYM_PAUSE | PAUSE | ADVERTISE_100 | ADVERTISE_10)
        control = await self.phy_read(a, GBCR)
        control |= ADVERTISE_1000
        await self.phy_write(a, GBCR, control)
        await self.phy_write(a, PAGE_ADDRESS, control)     # as the crate does
        control = await self.phy_read(a, COPPER_SPECIFIC_CONTROL)
        await self.phy_write(a, COPPER_SPECIFIC_CONTROL, control | 7 << 12 | 1 << 11)
        control = await self.phy_read(a, BMCR)
        await self.phy_write(a, BMCR, control | BMCR_ANENABLE | BMCR_ANRESTART)
        control = await self.phy_read(a, BMCR)
        await self.phy_write(a, BMCR, control | BMCR_RESET)
        for _ in range(max_polls):
            if not await self.phy_read(a, BMCR) & BMCR_RESET:
                break
        else:
            raise MdioTimeout("PHY reset did not complete")
        for _ in range(max_polls):
            if await self.phy_read(a, BMSR) & BMSR_ANEGCOMPLETE:
                break
        else:
            raise MdioTimeout("auto-negotiation did not complete")
        caps = await self.phy_read(a, PHY_CONTROL)
        return 1000 if caps & 0x40 else 100 if caps & 0x20 else 10 if caps & 0x10 else 0

    # -- the ArceOS driver_net initialisation ---------------------------------------------------
    async def arceos_init(self, mac: bytes) -> int:
        """``AxiEth::init``'s MAC half: returns the negotiated speed."""
        await self.reset()
        await self.set_options(self.options | JUMBO)
        await self.detect_phy()
        speed = await self.get_phy_speed_ksz9031()
        await self.set_operating_speed(speed)
        self.link_up = speed != 0
        await self.set_mac_address(mac)
        await self.enable_rx_memovr()
        await self.enable_rx_rject()
        await self.enable_rx_cmplt()
        await self.start()
        return speed
