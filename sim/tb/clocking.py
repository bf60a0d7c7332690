"""Clock and reset for the cocotb testbenches (one place for the project's conventions: an 8 ns
system clock on ``clk``, ``rst`` active high and synchronous, held for two cycles)."""

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

#: System clock period in the testbenches (125 MHz).
CLOCK_NS = 8


async def start_clock_and_reset(dut, inputs_low=()):
    """Start ``dut.clk``, drive the named inputs to 0, pulse ``dut.rst`` for two cycles."""
    cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
    for name in inputs_low:
        getattr(dut, name).value = 0
    dut.rst.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
