"""UART and UART -> AXI4-Lite bridge (hdl/bus/uart.py, hdl/bus/uart_axil.py) under amaranth.sim.

The host side is the protocol encoder of atsoc.boards.host driving the bridge's rx pin bit by bit;
the bus side is a Python AXI4-Lite slave with random ready/valid delays, memory below 0x1000
and SLVERR above (DECERR above 0x2000). Random tests print their seed (ATSOC_SEED replays).
"""

import os
import random

import pytest
from amaranth.sim import Simulator

from atsoc.boards.host import (ProtocolError, decode_response, encode_ping, encode_read,
                               encode_write, response_length)
from atsoc.hdl.bus.uart import UARTRx, uart_divisor
from atsoc.hdl.bus.uart_axil import NAK, UARTAXILiteBridge

DIV = 4


def _seed():
    seed = int(os.environ.get("ATSOC_SEED", random.randrange(1 << 30)))
    print(f"seed {seed} (replay with ATSOC_SEED={seed})")
    return seed


async def ticks(ctx, n):
    """``n`` clock edges (plain awaits: background testbenches must not be left suspended in
    ``repeat``/``until``, whose async generators cannot be closed when the simulation ends)."""
    for _ in range(n):
        await ctx.tick()


async def send_bytes(ctx, pin, data, divisor=DIV, stop=1):
    for b in data:
        for bit in [0, *((b >> i) & 1 for i in range(8)), stop]:
            ctx.set(pin, bit)
            await ctx.tick().repeat(divisor)
        ctx.set(pin, 1)


async def recv_loop(ctx, pin, sink, divisor=DIV):
    """Background: decode bytes from a UART line into ``sink`` (list)."""
    while True:
        if ctx.get(pin):
            await ctx.negedge(pin)          # the start bit
        await ticks(ctx, divisor // 2)
        value = 0
        for i in range(8):
            await ticks(ctx, divisor)
            value |= ctx.get(pin) << i
        await ticks(ctx, divisor)
        assert ctx.get(pin) == 1, "stop bit low"
        sink.append(value)


class AxilSlave:
    """Per-cycle AXI4-Lite slave model: memory (bytes) below 0x1000, SLVERR below 0x2000,
    DECERR above; random ready/valid delays."""

    def __init__(self, axi, rng, data_width):
        self.axi, self.rng, self.nbytes = axi, rng, data_width // 8
        self.mem = {}
        self.accesses = 0

    def resp(self, addr):
        return 0 if addr < 0x1000 else 2 if addr < 0x2000 else 3

    async def run(self, ctx):
        axi, rng, n = self.axi, self.rng, self.nbytes
        aw = w = b = r = None
        while True:
            if aw is None and w is None and b is None and r is None:
                for sig in (axi.bvalid, axi.rvalid, axi.awready, axi.wready, axi.arready):
                    ctx.set(sig, 0)
                while not (await ctx.tick().sample(axi.awvalid | axi.wvalid | axi.arvalid))[2]:
                    pass
            awready = aw is None and rng.random() < 0.6
            wready = w is None and rng.random() < 0.6
            arready = r is None and rng.random() < 0.6
            ctx.set(axi.awready, awready)
            ctx.set(axi.wready, wready)
            ctx.set(axi.arready, arready)
            ctx.set(axi.bvalid, b is not None)
            ctx.set(axi.bresp, b if b is not None else 0)
            ctx.set(axi.rvalid, r is not None and r[2] == 0)
            if r is not None:
                ctx.set(axi.rdata, r[0])
                ctx.set(axi.rresp, r[1])
            (_, _, awv, awaddr, wv, wdata, wstrb, arv, araddr, bready, rready) = \
                await ctx.tick().sample(axi.awvalid, axi.awaddr, axi.wvalid, axi.wdata, axi.wstrb,
                                        axi.arvalid, axi.araddr, axi.bready, axi.rready)
            if b is not None and bready:
                b = None
            if r is not None and r[2] == 0 and rready:
                r = None
            elif r is not None and r[2] > 0:
                r = (r[0], r[1], r[2] - 1)
            if awv and awready:
                aw = awaddr
            if wv and wready:
                w = (wdata, wstrb)
            if aw is not None and w is not None and b is None:
                self.accesses += 1
                resp = self.resp(aw)
                if resp == 0:
                    base = aw & ~(n - 1)
                    for i in range(n):
                        if (w[1] >> i) & 1:
                            self.mem[base + i] = (w[0] >> (8 * i)) & 0xFF
                b, aw, w = resp, None, None
            if arv and arready:
                self.accesses += 1
                resp = self.resp(araddr)
                base = araddr & ~(n - 1)
                data = sum(self.mem.get(base + i, 0) << (8 * i) for i in range(n)) if resp == 0 else 0
                r = (data, resp, rng.randrange(3))


def run_bridge(data_width, script, *, timeout_bytes=8, seed=1, max_cycles=400_000):
    """Run ``script(ctx, host)`` against a bridge; ``host`` sends requests and returns responses."""
    dut = UARTAXILiteBridge(divisor=DIV, addr_width=32, data_width=data_width,
                            timeout_bytes=timeout_bytes)
    rng = random.Random(seed)
    slave = AxilSlave(dut.m_axil, rng, data_width)
    received = []
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(slave.run, background=True)

    async def receiver(ctx):
        await recv_loop(ctx, dut.tx, received)
    sim.add_testbench(receiver, background=True)

    class Host:
        async def send(self, ctx, data):
            await send_bytes(ctx, dut.rx, data)

        async def response(self, ctx, n):
            start = 0
            for _ in range(max_cycles):
                if len(received) - start >= n:
                    break
                await ctx.tick()
            got = bytes(received[start:start + n])
            del received[start:start + n]
            return got

        async def transact(self, ctx, request):
            start = len(received)
            await self.send(ctx, request)
            n = response_length(request)
            for _ in range(max_cycles):
                if len(received) - start >= n or (received[start:start + 1] == [NAK]
                                                   and len(received) - start >= 1):
                    break
                await ctx.tick()
            # a NAK is one byte; wait a little to be sure nothing else follows
            await ctx.tick().repeat(DIV * 30)
            got = bytes(received[start:])
            del received[start:]
            return got

    result = {}

    async def tb(ctx):
        ctx.set(dut.rx, 1)
        await ctx.tick().repeat(10)
        await script(ctx, Host(), slave, result)

    sim.add_testbench(tb)
    sim.run()
    return result


@pytest.mark.parametrize("data_width", [32, 64])
def test_ping_reports_width(data_width):
    async def script(ctx, host, slave, result):
        result["r"] = await host.transact(ctx, encode_ping())
    r = run_bridge(data_width, script)["r"]
    assert r == bytes([0xA5, data_width // 8])
    assert decode_response(encode_ping(), r) == (0, data_width // 8)


@pytest.mark.parametrize("data_width", [32, 64])
def test_random_accesses_match_memory_model(data_width):
    seed = _seed()
    rng = random.Random(seed)
    n = data_width // 8

    async def script(ctx, host, slave, result):
        model = {}
        addrs = [rng.randrange(0, 0x3000) & ~3 for _ in range(8)] + [0x10, 0x14, 0x18, 0x1C]
        for i in range(40):
            wide = data_width == 64 and rng.random() < 0.4
            width = 64 if wide else 32
            addr = rng.choice(addrs) & ~(width // 8 - 1)
            exp_resp = slave.resp(addr)
            if rng.random() < 0.5:
                value = rng.getrandbits(width)
                strobe = rng.randrange(1, 1 << (width // 8))
                req = encode_write(addr, value, width, strobe)
                resp, data = decode_response(req, await host.transact(ctx, req))
                assert (resp, data) == (exp_resp, None), f"write {addr:#x}"
                if exp_resp == 0:
                    for b in range(width // 8):
                        if (strobe >> b) & 1:
                            model[addr + b] = (value >> (8 * b)) & 0xFF
            else:
                req = encode_read(addr, width)
                resp, data = decode_response(req, await host.transact(ctx, req))
                exp = sum(model.get(addr + b, 0) << (8 * b) for b in range(width // 8)) \
                    if exp_resp == 0 else 0
                assert (resp, data) == (exp_resp, exp), f"read {addr:#x} width {width}"
        # the bus saw exactly one access per request
        result["accesses"] = slave.accesses

    assert run_bridge(data_width, script, seed=seed)["accesses"] == 40


def test_lane_of_32bit_access_on_64bit_bus():
    async def script(ctx, host, slave, result):
        r = await host.transact(ctx, encode_write(0x104, 0xDEADBEEF, 32))
        assert r == bytes([0xA0])
        assert [slave.mem.get(0x100 + i) for i in range(8)] == \
            [None] * 4 + [0xEF, 0xBE, 0xAD, 0xDE]
        req = encode_read(0x100, 64)
        assert decode_response(req, await host.transact(ctx, req)) == (0, 0xDEADBEEF << 32)
        req = encode_read(0x104, 32)
        assert decode_response(req, await host.transact(ctx, req)) == (0, 0xDEADBEEF)
        result["ok"] = True
    assert run_bridge(64, script)["ok"]


def test_unknown_and_unsupported_commands_get_nak():
    async def script(ctx, host, slave, result):
        assert await host.transact(ctx, bytes([0x7E])) == bytes([NAK])
        # 64-bit commands on a 32-bit bus: NAK, and the following bytes are then taken as
        # commands, so send the command byte alone.
        assert await host.transact(ctx, bytes([0x03])) == bytes([NAK])
        with pytest.raises(ProtocolError):
            decode_response(encode_read(0, 64), bytes([NAK]))
        assert await host.transact(ctx, encode_ping()) == bytes([0xA5, 4])
        result["accesses"] = slave.accesses
    assert run_bridge(32, script)["accesses"] == 0


def test_partial_request_times_out_without_bus_access():
    async def script(ctx, host, slave, result):
        await host.send(ctx, encode_write(0x40, 0x1234, 32)[:3])   # command + 2 address bytes
        await ctx.tick().repeat(8 * 10 * DIV + 50)                # > timeout_bytes byte times
        assert await host.transact(ctx, encode_ping()) == bytes([0xA5, 4])
        req = encode_read(0x40, 32)
        assert decode_response(req, await host.transact(ctx, req)) == (0, 0)
        result["accesses"] = slave.accesses
    assert run_bridge(32, script)["accesses"] == 1


def test_back_to_back_requests_are_all_answered():
    async def script(ctx, host, slave, result):
        reqs = [encode_write(0x20 + 4 * i, i * 0x01010101, 32) for i in range(4)]
        reqs += [encode_read(0x20 + 4 * i, 32) for i in range(4)]
        await host.send(ctx, b"".join(reqs))      # no pause between requests
        got = await host.response(ctx, sum(response_length(r) for r in reqs))
        assert got[:4] == bytes([0xA0] * 4)
        for i in range(4):
            chunk = got[4 + 5 * i: 9 + 5 * i]
            assert decode_response(reqs[4 + i], chunk) == (0, i * 0x01010101)
        result["ok"] = True
    assert run_bridge(32, script)["ok"]


def test_uart_receiver_drops_framing_errors():
    dut_rx = UARTRx(DIV)
    sim = Simulator(dut_rx)
    sim.add_clock(1e-8)
    got, errors = [], []

    async def tb(ctx):
        ctx.set(dut_rx.data.ready, 1)
        ctx.set(dut_rx.rx, 1)
        await ctx.tick().repeat(5)
        await send_bytes(ctx, dut_rx.rx, [0x55])
        await send_bytes(ctx, dut_rx.rx, [0xA3], stop=0)
        await ctx.tick().repeat(3 * DIV)
        await send_bytes(ctx, dut_rx.rx, [0x0F])
        await ctx.tick().repeat(3 * DIV)

    async def mon(ctx):
        while True:
            _, _, v, p, fe = await ctx.tick().sample(dut_rx.data.valid, dut_rx.data.payload,
                                                     dut_rx.framing_error)
            if v:
                got.append(p)
            if fe:
                errors.append(1)

    sim.add_testbench(tb)
    sim.add_testbench(mon, background=True)
    sim.run()
    assert got == [0x55, 0x0F]
    assert errors == [1]


@pytest.mark.filterwarnings("ignore:.*created but never used")
def test_divisor_and_parameter_errors():
    assert uart_divisor(125e6, 115200) == 1085
    with pytest.raises(ValueError):
        uart_divisor(10e6, 3e6)
    with pytest.raises(ValueError):
        UARTAXILiteBridge(divisor=2)
    with pytest.raises(ValueError):
        UARTAXILiteBridge(divisor=8, data_width=16)


class FakePort:
    """The bridge protocol answered by a Python model (64-bit bus, memory of bytes, SLVERR at
    0xBAD0..), to test the host side (SerialMmio) byte for byte."""

    def __init__(self):
        self.mem, self.out, self.requests = {}, b"", []

    def write(self, data):
        self.requests.append(bytes(data))
        cmd = data[0]
        if cmd == 0x00:
            self.out += bytes([0xA5, 8])
            return
        addr = int.from_bytes(data[1:5], "little")
        err = 0xBAD0 <= addr < 0xBAE0
        status = bytes([0xA2 if err else 0xA0])
        if cmd in (0x01, 0x03):
            n = 4 if cmd == 0x01 else 8
            base = addr & ~(n - 1)
            self.out += status + bytes(self.mem.get(base + i, 0) for i in range(n))
        else:
            n = 4 if cmd == 0x02 else 8
            strobe, value = data[5], data[6:6 + n]
            if not err:
                for i in range(n):
                    if (strobe >> i) & 1:
                        self.mem[(addr & ~(n - 1)) + i] = value[i]
            self.out += status

    def read(self, n):
        data, self.out = self.out[:n], self.out[n:]
        return data


def test_serial_mmio_accesses_and_errors():
    import asyncio
    from atsoc.boards.host import SerialMmio
    from atsoc.sim.driver.mmio import BusError
    port = FakePort()
    mmio = SerialMmio(port)
    assert mmio.bus_bytes == 8

    async def run():
        await mmio.write(0x100, 0x11223344)
        await mmio.write(0x105, 0xAB, 8)                  # one byte lane
        await mmio.write(0x106, 0xCDEF, 16)
        assert await mmio.read(0x100) == 0x11223344
        assert await mmio.read(0x104) == 0xCDEFAB00
        assert await mmio.read(0x106, 16) == 0xCDEF
        assert await mmio.read(0x105, 8) == 0xAB
        await mmio.write(0x108, 0x0102030405060708, 64)
        assert await mmio.read(0x108, 64) == 0x0102030405060708
        with pytest.raises(BusError):
            await mmio.read(0xBAD4)
        with pytest.raises(BusError):
            await mmio.write(0xBAD0, 1)
    asyncio.run(run())
    # the byte write went out as WR32 at the aligned address with strobe 0b0010
    assert port.requests[2] == bytes([0x02, 0x04, 0x01, 0, 0, 0x02, 0x00, 0xAB, 0, 0])
