"""cocotb testbench: the network driver, executor and echo application (sim/driver) on the RTL
SoC (``soc``) under Verilator, against a scapy peer on the GMII pins (docs/soc.md, "End to end").

The configuration (``plic``, ``atsintc`` or ``atsintc-irq``; docs/net.md) arrives in
``ATSOC_NET_CONFIG``; random choices use cocotb's seed (``ATSOC_SEED`` replays a pytest run).
"""

from __future__ import annotations

import os

import cocotb

from atsoc.sim import soc_system as S
from atsoc.sim.driver.mmio import Resp
from atsoc.sim.driver.netdev import Coalesce

GAP = 3000          # cycles between isolated frames (the system is idle when each arrives)


def config() -> str:
    return os.environ.get("ATSOC_NET_CONFIG", "plic")


async def started(dut, **kwargs) -> S.SocSystem:
    system = S.build(dut, config(), **kwargs)
    await S.reset(dut)
    await system.start()
    dut._log.info("%s: device up at %d cycles", system.config, S.now_ps() // S.SYS_PS)
    return system


async def send_spaced(system: S.SocSystem, frames, gap) -> list[S.WireFrame]:
    """Send each frame once the previous one has left, ``gap()`` cycles later."""
    sent = []
    for frame in frames:
        await S.cycles(system.dut, gap())
        sent.append(await system.peer.send(frame))
        await system.peer.idle()
    return sent


async def finish(system: S.SocSystem, requests) -> dict:
    await system.quiet()
    await system.stop()
    result = await S.conservation(system, requests)
    s = system.dev.stats
    system.dut._log.info("%s: %d requests, %d answered, MAC dropped %d, driver %s, app ignored %s",
                         system.config, len(requests), result["answered"], result["mac_dropped"],
                         s, dict(system.app.ignored))
    return result


@cocotb.test()
async def ping(dut):
    """ARP, then pings: each answered exactly right."""
    system = await started(dut)
    requests = [S.arp_request()] + [S.ping(i, bytes(range(i * 8))) for i in range(4)]
    await send_spaced(system, requests, lambda: GAP)
    result = await finish(system, requests)
    assert result["answered"] == len(requests)
    assert system.app.answered == {"arp": 1, "icmp": 4}
