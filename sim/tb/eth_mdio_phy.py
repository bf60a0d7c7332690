"""A clause-22 MDIO PHY model for cocotb (cocotbext-eth has none): a KSZ9031-like register file
with reset and auto-negotiation that completes a fixed number of MDC cycles after a restart."""

from __future__ import annotations

import cocotb
from cocotb.triggers import FallingEdge, RisingEdge


__all__ = ["MdioPhy"]


class MdioPhy:
    """Answers MDIO frames addressed to ``address``; other addresses see the pull-up (0xFFFF).

    Parameters
    ----------
    mdc, mdio_o, mdio_oe, mdio_i : cocotb handles
        The MAC's MDIO ports (the model drives ``mdio_i``).
    address : int
    an_delay : int
        MDC cycles from an auto-negotiation restart (or reset) to completion.
    """

    def __init__(self, mdc, mdio_o, mdio_oe, mdio_i, *, address: int = 3, an_delay: int = 400):
        self.mdc, self.mdio_o, self.mdio_oe, self.mdio_i = mdc, mdio_o, mdio_oe, mdio_i
        self.address = address
        self.an_delay = an_delay
        self.regs = {0: 0x1140, 1: 0x7949, 2: 0x0022, 3: 0x1622, 4: 0x01E1, 5: 0xCDE1,
                     9: 0x0200, 10: 0x3C00, 16: 0, 21: 0x0010, 22: 0, 0x1F: 0x0040}
        self.log = []                      # (op, phy, reg, data) of every frame seen
        self._an_countdown = 0
        self._reset_countdown = 0
        mdio_i.value = 1
        cocotb.start_soon(self._run())

    def _tick(self):
        if self._reset_countdown:
            self._reset_countdown -= 1
            if not self._reset_countdown:
                self.regs[0] &= ~0x8000
        if self._an_countdown:
            self._an_countdown -= 1
            if not self._an_countdown:
                self.regs[1] |= 0x0024            # AN complete, link up
                self.regs[0] &= ~0x0200

    def _write(self, reg, value):
        if reg == 0:
            if value & 0x8000:
                self._reset_countdown = 50
            if value & 0x0200 or value & 0x8000:
                self.regs[1] &= ~0x0024
                self._an_countdown = self.an_delay
        self.regs[reg] = value & 0xFFFF

    async def _bit(self) -> int:
        await RisingEdge(self.mdc)
        self._tick()
        return int(self.mdio_o.value) if int(self.mdio_oe.value) else 1

    async def _run(self):
        while True:
            ones = 0
            while True:                        # preamble then ST = 01
                b = await self._bit()
                if b:
                    ones += 1
                elif ones >= 32:
                    break
                else:
                    ones = 0
            if await self._bit() != 1:
                continue
            fields = 0
            for _ in range(12):                # OP(2) PHYAD(5) REGAD(5)
                fields = fields << 1 | await self._bit()
            op, phy, reg = fields >> 10, (fields >> 5) & 0x1F, fields & 0x1F
            if op == 0b10:                     # read: turnaround, then 16 data bits
                await self._bit()              # TA1 (released by the master)
                mine = phy == self.address
                value = self.regs.get(reg, 0) if mine else 0xFFFF
                if mine:
                    self.mdio_i.value = 0      # TA0 driven 0 for the next rising edge
                await self._bit()
                for i in range(15, -1, -1):
                    if mine:
                        self.mdio_i.value = (value >> i) & 1
                    await self._bit()
                self.mdio_i.value = 1
                self.log.append(("read", phy, reg, value))
            elif op == 0b01:
                data = 0
                for _ in range(18):            # TA(2) + 16 data bits
                    data = data << 1 | await self._bit()
                data &= 0xFFFF
                if phy == self.address:
                    self._write(reg, data)
                self.log.append(("write", phy, reg, data))
