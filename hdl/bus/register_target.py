"""An AXI4-Lite register target: the bridge and the address decoders a block's registers sit behind."""

from amaranth.lib import wiring

from .axi_lite import AXI4LiteBridge
from .regmap import RegisterDecoder


__all__ = ["add_register_target"]


def add_register_target(m, s_axil, regmap, *, read_latency, write_ack=False):
    """Put an :class:`AXI4LiteBridge` behind the slave port ``s_axil`` and decode its write and
    read addresses with ``regmap``.

    Separate decoders on the AW and AR addresses (rather than one on the bridge's multiplexed
    ``addr``) keep the bridge's handshake logic out of the decode and of everything behind it.

    Returns
    -------
    (port, w_decoder, r_decoder)
        The bridge's register port and the two :class:`RegisterDecoder` s.
    """
    m.submodules.bridge = bridge = AXI4LiteBridge(
        addr_width=regmap.addr_width, data_width=regmap.data_width, read_latency=read_latency,
        write_ack=write_ack)
    wiring.connect(m, wiring.flipped(s_axil), bridge.axi)
    port = bridge.reg
    m.submodules.w_decoder = wdec = RegisterDecoder(regmap)
    m.submodules.r_decoder = rdec = RegisterDecoder(regmap)
    m.d.comb += [wdec.addr.eq(port.w_addr), rdec.addr.eq(port.r_addr)]
    return port, wdec, rdec
