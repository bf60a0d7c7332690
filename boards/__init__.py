"""Board tops on amaranth-boards platforms and the ``atsoc build`` flow (docs/boards.md).

* :mod:`.catalog`: the boards and the resources each top uses.
* :mod:`.top`: :class:`~.top.BoardTop`, the SoC with PLL, reset, UART host bridge, RAM, Ethernet
  PHY pins and LEDs.
* :mod:`.soc_config`: the SoC configuration of a build (presets and ``--soc`` options).
* :mod:`.pll`: ECP5 EHXPLLL divider calculation and instance.
* :mod:`.build`: the open ECP5 flow (YoWASP tools), reports, Verilog for vendor tools.
* :mod:`.host`: the host side of the UART bridge protocol and a pyserial ``Mmio`` back-end.
"""
