"""The boards atsoc builds for, and what each offers (amaranth-boards platforms).

Each :class:`BoardSpec` names the platform class and the resources the board top uses; the pin
numbers themselves come from amaranth-boards. See docs/boards.md for the pin usage per board.
"""

from __future__ import annotations

from dataclasses import dataclass


__all__ = ["BoardSpec", "BOARDS", "get_board"]


@dataclass(frozen=True)
class BoardSpec:
    """One board.

    Attributes
    ----------
    name : str
        Name on the command line.
    platform : str
        ``module:Class`` of the amaranth-boards platform.
    description : str
    clock : str
        Oscillator resource; ``clock_mhz`` its frequency.
    reset : str or None
        Reset button resource (``None``: reset by the PLL lock only).
    uart : int
        UART resource number (host bridge).
    leds : int
        Number of ``led`` resources the top drives (0: none free).
    eth : tuple of int
        Ethernet resource numbers (``eth_rgmii`` or ``eth_mii``) the top connects; the first is
        the SoC's MAC.
    phy : str
        ``rgmii`` or ``mii``.
    open_flow : bool
        True: bitstream with yosys/nextpnr-ecp5/ecppack; False: Verilog and constraints only.
    sys_clk_mhz : float
        System clock the top asks of the PLL (or takes from the oscillator without a PLL).
    ram_bytes : int
        Default on-chip RAM size.
    """

    name: str
    platform: str
    description: str
    clock: str
    clock_mhz: float
    reset: str | None
    uart: int
    leds: int
    eth: tuple
    phy: str
    open_flow: bool
    sys_clk_mhz: float
    ram_bytes: int

    def platform_class(self):
        import importlib
        module, cls = self.platform.split(":")
        return getattr(importlib.import_module(module), cls)


BOARDS = {b.name: b for b in [
    BoardSpec("versa_ecp5", "amaranth_boards.versa_ecp5:VersaECP5Platform",
              "Lattice ECP5 Versa (LFE5UM-45F-8BG381), two RGMII PHYs (RTL8211E)",
              clock="clk100", clock_mhz=100.0, reset="rst", uart=0, leds=8, eth=(0, 1),
              phy="rgmii", open_flow=True, sys_clk_mhz=125.0, ram_bytes=64 * 1024),
    BoardSpec("colorlight_5a75b_r7_0",
              "amaranth_boards.colorlight_5a75b_r7_0:Colorlight_5A75B_R70Platform",
              "Colorlight 5A-75B v7.0 (LFE5U-25F-6BG256), RGMII PHY (B50612D); the UART uses "
              "the LED and button pins of J19",
              clock="clk25", clock_mhz=25.0, reset=None, uart=0, leds=0, eth=(0,),
              phy="rgmii", open_flow=True, sys_clk_mhz=125.0, ram_bytes=32 * 1024),
    BoardSpec("arty_a7", "amaranth_boards.arty_a7:ArtyA7_35Platform",
              "Digilent Arty A7-35T (XC7A35T), MII PHY (DP83848J): Verilog + XDC for Vivado",
              clock="clk100", clock_mhz=100.0, reset="rst", uart=0, leds=4, eth=(0,),
              phy="mii", open_flow=False, sys_clk_mhz=100.0, ram_bytes=64 * 1024),
]}


def get_board(name: str) -> BoardSpec:
    """The board called ``name``; ValueError listing the known boards otherwise."""
    try:
        return BOARDS[name]
    except KeyError:
        raise ValueError(f"unknown board {name!r}; known: {', '.join(sorted(BOARDS))}") from None
