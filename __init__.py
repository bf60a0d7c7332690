"""atsoc: synthesizable Amaranth blocks and an SoC for operating systems built on async tasks.

Subpackages
-----------
hdl
    Gateware: the bus layer (``hdl.bus``) and the blocks (``hdl.plic``, ...).
sim
    What runs around the gateware in simulation: reference models, the reference driver,
    cocotb testbenches and the Verilator runner.
scripts
    The ``atsoc`` command line (generate, sim, bench, regs).
"""
