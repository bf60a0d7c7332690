"""The driver's Mmio protocol bound to RTL through cocotbext-axi's AxiLiteMaster.

This back-end lives beside the testbenches (architecture.md: the back-ends that bind Mmio live
beside what they bind); the driver itself only sees ``read``/``write``/``wait_irq``.
"""

from __future__ import annotations

import logging

from cocotb.triggers import RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from atsoc.sim.driver.mmio import BusError


__all__ = ["AxiLiteMmio"]


class AxiLiteMmio:
    """Mmio over an AXI4-Lite slave port named ``<prefix>_*`` on ``dut``.

    Parameters
    ----------
    dut : cocotb handle
        The simulated top.
    prefix : str
        Port prefix, ``s_axil`` by convention.
    irq : handle or None
        The interrupt output vector that :meth:`wait_irq` watches (for example ``dut.eip``).
    base : int
        Bus address of offset 0 of the port; driver addresses are absolute.
    """

    def __init__(self, dut, prefix="s_axil", *, irq=None, base=0, quiet=True):
        self.dut = dut
        self.master = AxiLiteMaster(AxiLiteBus.from_prefix(dut, prefix), dut.clk, dut.rst)
        if quiet:
            self.master.write_if.log.setLevel(logging.WARNING)
            self.master.read_if.log.setLevel(logging.WARNING)
        self.irq = irq
        self.base = base
        self.reads = 0
        self.writes = 0

    async def read(self, addr: int, width: int = 32) -> int:
        nbytes = width // 8
        resp = await self.master.read(addr - self.base, nbytes)
        self.reads += 1
        if int(resp.resp) != 0:
            raise BusError(addr, int(resp.resp))
        return int.from_bytes(resp.data, "little")

    async def write(self, addr: int, value: int, width: int = 32) -> None:
        nbytes = width // 8
        resp = await self.master.write(addr - self.base, value.to_bytes(nbytes, "little"))
        self.writes += 1
        if int(resp.resp) != 0:
            raise BusError(addr, int(resp.resp))

    async def wait_irq(self, line: int, timeout_cycles: int = 100_000) -> None:
        for _ in range(timeout_cycles):
            if (int(self.irq.value) >> line) & 1:
                return
            await RisingEdge(self.dut.clk)
        raise TimeoutError(f"interrupt line {line} not raised within {timeout_cycles} cycles")
