"""Register-map framework: description checks, address decode (Python and RTL), generated
artefacts, and the RegisterBank field semantics through the real AXI4-Lite bridge (amaranth.sim).

The random decoder comparison prints its seed; ``ATSOC_SEED`` replays it.
"""

import os
import random
import subprocess

import pytest
from amaranth.hdl import Array, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.sim import Simulator

from atsoc.hdl.bus.axi_lite import AXI4LiteBridge, AXI4LiteSignature, Resp
from atsoc.hdl.bus.regbank import RegisterBank
from atsoc.hdl.bus.regmap import (Access, Dim, Field, Register, RegisterDecoder, RegisterMap,
                                  RegisterMapError)

from amaranth_axil import axil_read, axil_write


# Components built only to look at their signature are never elaborated.
pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")

RW, R, W, RW1C = Access.RW, Access.R, Access.W, Access.RW1C


# -- description checks -----------------------------------------------------------------------

def _map(*regs, size=0x100, data_width=32):
    return RegisterMap("t", regs, size=size, data_width=data_width)


def _reg(name="a", offset=0, dims=(), fields=None):
    return Register(name, offset, fields or [Field("f", 0, 8, RW)], dims=dims)


@pytest.mark.parametrize("build, match", [
    (lambda: Register("a", 0, [Field("x", 0, 8, RW), Field("y", 4, 4, RW)]),
     r"register 'a': field 'y' overlaps another field"),
    (lambda: Field("x", 0, 4, RW, reset=0x10),
     r"field 'x': reset 0x10 does not fit 4 bits"),
    (lambda: Dim("n", 4, 12),
     r"dimension 'n': stride 0xc is not a power of two"),
    (lambda: _map(_reg(dims=[Dim("i", 4, 4), Dim("j", 4, 8)])),
     r"t\.a: index bits of 'j' overlap another index"),
    (lambda: _map(_reg("a", 0x10), _reg("b", 0x10)),
     r"t: b shares address 0x10 with a"),
    (lambda: _map(_reg("a", 0x00, dims=[Dim("i", 3, 4)]), _reg("b", 0x08)),
     r"t: b shares address 0x8 with a\[2\]"),
    (lambda: _map(_reg("a", 0x0, dims=[Dim("i", 80, 4)])),
     r"t\.a: element at 0x13c is outside the window"),
    (lambda: _map(_reg("a", 0x100)),
     r"t\.a: element at 0x100 is outside the window"),
    (lambda: _map(_reg("a", 0x6)),
     r"t\.a: offset 0x6 is not word aligned"),
    (lambda: _map(_reg("a", 0x4), data_width=64),
     r"t\.a: offset 0x4 is not word aligned"),
    (lambda: _map(_reg(fields=[Field("x", 30, 4, RW)])),
     r"t\.a\.x exceeds the data width"),
    (lambda: _map(_reg(dims=[Dim("i", 4, 2)])),
     r"t\.a: stride 0x2 below the word size"),
    (lambda: _map(_reg("a"), _reg("a", 4)),
     r"t: duplicate register 'a'"),
    (lambda: Register("a", 0, [Field("x", 0, 1, RW), Field("x", 1, 1, RW)]),
     r"register 'a': duplicate field 'x'"),
    (lambda: RegisterMap("t", [], size=0x300),
     r"size 0x300 is not a power of two"),
])
def test_validation_errors(build, match):
    with pytest.raises(RegisterMapError, match=match):
        build()


def test_registerbank_rejects_arrays_and_unknown_names():
    rm = _map(_reg("a", 0), _reg("arr", 0x40, dims=[Dim("i", 4, 4)]))
    with pytest.raises(RegisterMapError, match=r"t\.arr is an array"):
        RegisterBank(rm, registers=["a", "arr"])
    with pytest.raises(KeyError, match="no register 'nope'"):
        RegisterBank(rm, registers=["nope"])
    with pytest.raises(RegisterMapError, match="listed twice"):
        RegisterBank(rm, registers=["a", "a"])
    with pytest.raises(ValueError, match="read_latency"):
        RegisterBank(rm, read_latency=0)
    assert [r.name for r in RegisterBank(rm).registers] == ["a"]


# -- decode ------------------------------------------------------------------------------------

def decode_map():
    """Plain registers, a 1-D and a 2-D array with non power-of-two counts."""
    return RegisterMap("dec", [
        Register("ctrl", 0x000, [Field("en", 0, 1, RW)]),
        Register("status", 0x004, [Field("busy", 0, 1, R)]),
        Register("prio", 0x100, [Field("p", 0, 3, RW)], dims=[Dim("n", 5, 4)]),
        Register("enable", 0x1000, [Field("e", 0, 32, RW)],
                 dims=[Dim("ctx", 3, 0x100), Dim("word", 6, 4)]),
        Register("last", 0x1ffc, [Field("x", 0, 1, W)]),
        # Offset bits where the index lies: decoded by subtraction (0x808 + 8*k, 0x008 + 8*p style).
        Register("queue", 0x808, [Field("w", 0, 32, W)], dims=[Dim("k", 31, 8)]),
        Register("win", 0x1808, [Field("w", 0, 32, W)], dims=[Dim("p", 3, 0x20), Dim("l", 3, 8)]),
    ], size=0x2000)


def test_decode_arithmetic():
    """Registers whose offset overlaps their index bits are decoded by subtraction."""
    rm = decode_map()
    queue, win = rm["queue"], rm["win"]
    assert rm.arithmetic(queue) and rm.arithmetic(win) and not rm.arithmetic(rm["enable"])
    assert rm.decode(0x808) == (queue, (0,))
    assert rm.decode(0x8f8) == (queue, (30,))
    assert rm.decode(0x900) is None and rm.decode(0x800) is None
    assert rm.decode(0x1808) == (win, (0, 0))
    assert rm.decode(0x1818) == (win, (0, 2))
    assert rm.decode(0x1820) is None                           # l = 3 of p = 0
    assert rm.decode(0x1828) == (win, (1, 0))
    assert rm.decode(0x1800) is None


def test_decode():
    rm = decode_map()
    ctrl, status, prio, enable = rm["ctrl"], rm["status"], rm["prio"], rm["enable"]
    assert rm.decode(0x000) == (ctrl, ())
    assert rm.decode(0x004) == (status, ())
    assert rm.decode(0x007) == (status, ())                   # lane bits ignored
    assert rm.decode(0x100) == (prio, (0,))
    assert rm.decode(0x110) == (prio, (4,))
    assert rm.decode(0x113) == (prio, (4,))
    assert rm.decode(0x114) is None                            # n = 5: out of range
    assert rm.decode(0x11c) is None                            # n = 7
    assert rm.decode(0x1000) == (enable, (0, 0))
    assert rm.decode(0x1214) == (enable, (2, 5))
    assert rm.decode(0x1216) == (enable, (2, 5))
    assert rm.decode(0x1218) is None                           # word = 6
    assert rm.decode(0x1300) is None                           # ctx = 3
    assert rm.decode(0x1ffe) == (rm["last"], ())
    assert rm.decode(0x008) is None                            # reserved
    assert rm.decode(0x0f0) is None
    assert rm.decode(0x2000) == (ctrl, ())                     # above the window: wraps
    for reg in rm:
        for idx, addr in reg.elements():
            assert rm.decode(addr) == (reg, idx)


def test_decoder_rtl_matches_decode():
    rm = decode_map()
    seed = int(os.environ.get("ATSOC_SEED", random.randrange(1 << 32)))
    print(f"seed {seed} (ATSOC_SEED={seed} replays)")
    rnd = random.Random(seed)
    element_addrs = [a for reg in rm for _, a in reg.elements()]
    addrs = []
    for _ in range(3000):
        if rnd.random() < 0.5:
            addrs.append(rnd.randrange(rm.size))
        else:                                                  # near an element: hits and misses
            a = rnd.choice(element_addrs) + rnd.choice([0, 0, 0, 1, 2, 3, 4, 8, 0x100])
            addrs.append(a % rm.size)
    dut = RegisterDecoder(rm)
    stats = {"hit": 0, "reserved": 0}

    async def testbench(ctx):
        for a in addrs:
            ctx.set(dut.addr, a)
            expect = rm.decode(a)
            hits = {reg.name: ctx.get(getattr(dut.hit, reg.name)) for reg in rm}
            assert ctx.get(dut.reserved) == (expect is None), hex(a)
            if expect is None:
                stats["reserved"] += 1
                assert not any(hits.values()), hex(a)
                continue
            stats["hit"] += 1
            reg, idx = expect
            assert hits == {r.name: int(r is reg) for r in rm}, hex(a)
            for d, i in zip(reg.dims, idx):
                assert ctx.get(getattr(getattr(dut.index, reg.name), d.name)) == i, hex(a)

    sim = Simulator(dut)
    sim.add_testbench(testbench)
    sim.run()
    assert stats["hit"] > 500 and stats["reserved"] > 500, stats


# -- generated artefacts -----------------------------------------------------------------------

def test_python_module_executes_and_agrees():
    rm = decode_map()
    ns = {}
    exec(compile(rm.python_module(source="tests/test_regmap.py"), "<dec_regs>", "exec"), ns)
    assert ns["NAME"] == "dec" and ns["DATA_WIDTH"] == 32 and ns["SIZE"] == 0x2000
    for reg in rm:
        up = reg.name.upper()
        assert ns[up] == reg.offset
        assert ns[f"{up}_COUNT"] == tuple(d.count for d in reg.dims)
        assert ns[f"{up}_STRIDE"] == tuple(d.stride for d in reg.dims)
        assert ns[f"{up}_RESET"] == reg.reset
        for idx, addr in reg.elements():
            assert ns[reg.name](*idx) == addr == reg.address(*idx)
        for f in reg.fields:
            fu = f"{up}_{f.name.upper()}"
            assert (ns[f"{fu}_SHIFT"], ns[f"{fu}_WIDTH"], ns[f"{fu}_MASK"], ns[f"{fu}_RESET"]) == \
                (f.offset, f.width, f.mask, f.reset)


@pytest.mark.parametrize("data_width", [32, 64])
def test_c_header_compiles(tmp_path, data_width):
    rm = bank_map(data_width) if data_width == 64 else decode_map()
    header = tmp_path / f"{rm.name}_regs.h"
    header.write_text(rm.c_header(source="tests/test_regmap.py"))
    p = rm.name.upper()
    if data_width == 32:
        checks = [
            f"{p}_ENABLE(2, 5) == {rm['enable'].address(2, 5):#x}u",
            f"{p}_PRIO(4) == {rm['prio'].address(4):#x}u",
            f"{p}_STATUS() == 0x4u",
            f"{p}_ENABLE_CTX_COUNT == 3u",
            f"{p}_PRIO_P_MASK == 0x7u",
            f"{p}_SIZE == 0x2000u",
        ]
    else:
        checks = [
            f"{p}_CTRL_HI_MASK == 0xffffffff00000000ull",
            f"{p}_CTRL_RESET == {rm['ctrl'].reset:#x}ull",
            f"{p}_IRQ() == {rm['irq'].offset:#x}u",
        ]
    src = tmp_path / "check.c"
    src.write_text(f'#include "{header.name}"\n' + "".join(
        f'_Static_assert({c}, "{c}");\n' for c in checks))
    for cmd in (["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-x", "c", str(header)],
                ["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only", str(src)]):
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
        assert res.returncode == 0, res.stderr


def test_markdown_lists_everything():
    for rm in (decode_map(), bank_map(32), bank_map(64)):
        md = rm.markdown(source="tests/test_regmap.py")
        for reg in rm:
            assert f"## {reg.name}\n" in md
            assert f"| {reg.name}" in md
            for f in reg.fields:
                assert f"| {f.name} | {f.access.value} |" in md


# -- RegisterBank through the AXI4-Lite bridge ---------------------------------------------------

def bank_map(data_width=32):
    if data_width == 32:
        return RegisterMap("bank", [
            Register("ctrl", 0x00, [
                Field("enable", 0, 1, RW, reset=1, doc="Enable."),
                Field("mode", 2, 3, RW, reset=5),
                Field("divisor", 16, 16, RW, reset=0x1234),
            ], doc="Control."),
            Register("status", 0x04, [Field("busy", 0, 1, R), Field("count", 8, 8, R, reset=0x5a)]),
            Register("doorbell", 0x08, [Field("ring", 0, 1, W), Field("value", 8, 16, W)]),
            Register("irq", 0x0c, [Field("flags", 0, 8, RW1C, reset=0x80), Field("err", 16, 1, RW1C)]),
            Register("scratch", 0x10, [Field("data", 0, 32, RW, reset=0xdeadbeef)]),
            Register("table", 0x40, [Field("v", 0, 8, RW)], dims=[Dim("i", 3, 4)]),
        ], size=0x80, data_width=32, reserved_doc="Reads 0, writes ignored (or SLVERR).")
    return RegisterMap("bank64", [
        Register("ctrl", 0x00, [Field("lo", 0, 8, RW, reset=0x11), Field("hi", 32, 32, RW, reset=0xcafef00d)]),
        Register("irq", 0x08, [Field("flags", 36, 4, RW1C), Field("stat", 0, 16, R)]),
        Register("kick", 0x10, [Field("cmd", 40, 16, W)]),
    ], size=0x40, data_width=64)


def run_bank(rm, testbench, *, processes=(), **kwargs):
    """Simulate bridge + bank; ``testbench(ctx, axi, bank)``."""
    latency = kwargs.get("read_latency", 1)
    bank = RegisterBank(rm, **kwargs)
    bridge = AXI4LiteBridge(addr_width=rm.addr_width, data_width=rm.data_width, read_latency=latency)
    m = Module()
    m.submodules.bank = bank
    m.submodules.bridge = bridge
    wiring.connect(m, bridge.reg, bank.port)
    sim = Simulator(m)
    sim.add_clock(1e-8)

    async def tb(ctx):
        await testbench(ctx, bridge.axi, bank)
    for proc in processes:
        sim.add_process(proc(bank))
    sim.add_testbench(tb)
    sim.run()


def pulse_monitor(log, *paths):
    """A process recording, per field path, the w_data (or 1) of every cycle its w_stb is high."""
    def make(bank):
        ifaces = {p: getattr(getattr(bank.fields, p.split(".")[0]), p.split(".")[1]) for p in paths}

        async def proc(ctx):
            sigs = []
            for iface in ifaces.values():
                sigs += [iface.w_stb, getattr(iface, "w_data", iface.w_stb)]
            async for _clk, _rst, *vals in ctx.tick().sample(*sigs):
                for k, p in enumerate(ifaces):
                    if vals[2 * k]:
                        log.setdefault(p, []).append(vals[2 * k + 1])
        return proc
    return make


async def read_ok(ctx, axi, addr, latency=1):
    data, resp, cycles = await axil_read(ctx, axi, addr)
    assert resp == Resp.OKAY.value, hex(addr)
    assert cycles == latency
    return data


def test_bank_signature():
    rm = bank_map()
    bank = RegisterBank(rm)
    assert set(bank.signature.members["fields"].signature.members) == {"ctrl", "status", "doorbell", "irq", "scratch"}
    f = bank.fields
    assert f.ctrl.divisor.data.init == 0x1234 and len(f.ctrl.divisor.data) == 16
    assert len(f.ctrl.enable.w_stb) == 1
    assert len(f.status.count.r_data) == 8
    assert len(f.doorbell.value.w_data) == 16
    assert len(f.irq.flags.set) == 8 and f.irq.flags.data.init == 0x80
    inputs = {".".join(path) for path, m in bank.signature.members["fields"].signature.members.flatten()
              if m.flow == wiring.In}
    assert inputs == {"status.busy.r_data", "status.count.r_data", "irq.flags.set", "irq.err.set"}


@pytest.mark.parametrize("latency", [1, 2, 3])
def test_bank_reset_values_and_rw(latency):
    rm = bank_map()
    log = {}

    async def tb(ctx, axi, bank):
        assert await read_ok(ctx, axi, 0x00, latency) == 0x1234_0015          # divisor, mode 5, en
        assert await read_ok(ctx, axi, 0x04, latency) == 0x5a00               # R init = reset
        assert await read_ok(ctx, axi, 0x08, latency) == 0                    # W reads 0
        assert await read_ok(ctx, axi, 0x0c, latency) == 0x80
        assert await read_ok(ctx, axi, 0x10, latency) == 0xdeadbeef
        assert ctx.get(bank.fields.ctrl.divisor.data) == 0x1234
        # RW read-back; bits outside fields read 0 and are not stored.
        assert await axil_write(ctx, axi, 0x00, 0xffff_ffff) == Resp.OKAY.value
        assert await read_ok(ctx, axi, 0x00, latency) == 0xffff_001d
        assert ctx.get(bank.fields.ctrl.mode.data) == 7
        assert await axil_write(ctx, axi, 0x00, 0x0000_0008) == Resp.OKAY.value
        assert await read_ok(ctx, axi, 0x00, latency) == 0x0000_0008
        assert ctx.get(bank.fields.ctrl.enable.data) == 0
        # Lane bits of the address are ignored.
        assert await axil_write(ctx, axi, 0x13, 0x0123_4567) == Resp.OKAY.value
        assert await read_ok(ctx, axi, 0x11, latency) == 0x0123_4567

    run_bank(rm, tb, read_latency=latency,
             processes=[pulse_monitor(log, "ctrl.enable", "ctrl.divisor", "scratch.data")])
    assert len(log["ctrl.enable"]) == 2 and len(log["ctrl.divisor"]) == 2
    assert len(log["scratch.data"]) == 1


def test_bank_rw_w_stb_timing():
    """RW w_stb is high in the first cycle data shows the written value, for one cycle."""
    rm = bank_map()
    seen = []

    async def tb(ctx, axi, bank):
        d = bank.fields.scratch.data
        ctx.set(axi.awaddr, 0x10)
        ctx.set(axi.wdata, 0x55aa)
        ctx.set(axi.wstrb, 0xf)
        ctx.set(axi.awvalid, 1)
        ctx.set(axi.wvalid, 1)
        ctx.set(axi.bready, 1)
        assert ctx.get(axi.awready) and ctx.get(axi.wready)            # accepted at this edge
        await ctx.tick()
        ctx.set(axi.awvalid, 0)
        ctx.set(axi.wvalid, 0)
        for _ in range(3):
            seen.append((ctx.get(d.w_stb), ctx.get(d.data)))
            await ctx.tick()

    run_bank(rm, tb)
    assert seen == [(1, 0x55aa), (0, 0x55aa), (0, 0x55aa)]


def test_bank_byte_strobes():
    rm = bank_map()
    log = {}

    async def tb(ctx, axi, bank):
        await axil_write(ctx, axi, 0x10, 0x1122_3344, strb=0b0101)
        assert await read_ok(ctx, axi, 0x10) == 0xde22_be44
        await axil_write(ctx, axi, 0x10, 0x1122_3344, strb=0b1010)
        assert await read_ok(ctx, axi, 0x10) == 0x1122_3344
        await axil_write(ctx, axi, 0x10, 0xffff_ffff, strb=0)                # nothing written
        assert await read_ok(ctx, axi, 0x10) == 0x1122_3344
        # ctrl: enable/mode live in byte 0, divisor in bytes 2-3.
        await axil_write(ctx, axi, 0x00, 0xabcd_0000, strb=0b1000)
        assert await read_ok(ctx, axi, 0x00) == 0xab34_0015
        # W: value spans bytes 1-2; a write of byte 0 only rings without touching value.
        await axil_write(ctx, axi, 0x08, 0x00ff_ff01, strb=0b0001)
        await axil_write(ctx, axi, 0x08, 0x00ab_cd01, strb=0b0100)           # value[15:8] only
        await axil_write(ctx, axi, 0x08, 0xffff_ffff, strb=0b1000)           # neither field
        # RW1C: flags in byte 0, err in byte 2.
        ctx.set(bank.fields.irq.err.set, 1)
        await ctx.tick()
        ctx.set(bank.fields.irq.err.set, 0)
        assert await read_ok(ctx, axi, 0x0c) == 0x1_0080
        await axil_write(ctx, axi, 0x0c, 0xffff_ffff, strb=0b0100)
        assert await read_ok(ctx, axi, 0x0c) == 0x80
        await axil_write(ctx, axi, 0x0c, 0xffff_ffff, strb=0b0001)
        assert await read_ok(ctx, axi, 0x0c) == 0

    run_bank(rm, tb, processes=[pulse_monitor(log, "ctrl.enable", "ctrl.divisor", "ctrl.mode",
                                              "doorbell.ring", "doorbell.value", "scratch.data")])
    assert log["scratch.data"] == [1, 1]                                      # strb=0: no pulse
    assert len(log["ctrl.divisor"]) == 1 and "ctrl.enable" not in log and "ctrl.mode" not in log
    assert log["doorbell.ring"] == [1]
    assert log["doorbell.value"] == [0xab00]


def test_bank_read_only_driven_by_hardware():
    rm = bank_map()

    async def tb(ctx, axi, bank):
        st = bank.fields.status
        ctx.set(st.busy.r_data, 1)
        ctx.set(st.count.r_data, 0x42)
        assert await read_ok(ctx, axi, 0x04) == 0x4201
        await axil_write(ctx, axi, 0x04, 0)                                   # ignored
        assert await read_ok(ctx, axi, 0x04) == 0x4201
        ctx.set(st.count.r_data, 0x99)
        ctx.set(st.busy.r_data, 0)
        assert await read_ok(ctx, axi, 0x04) == 0x9900

    run_bank(rm, tb)


def test_bank_read_samples_at_r_stb_and_holds():
    """The value read is the one of the r_stb cycle; r_data is held after the R beat."""
    rm = bank_map()

    async def tb(ctx, axi, bank):
        cnt = bank.fields.status.count.r_data
        ctx.set(cnt, 0x11)
        ctx.set(axi.araddr, 0x04)
        ctx.set(axi.arvalid, 1)
        ctx.set(axi.rready, 0)
        assert ctx.get(axi.arready)
        await ctx.tick()
        ctx.set(axi.arvalid, 0)
        ctx.set(cnt, 0x22)                                                    # after the sample
        for _ in range(4):
            await ctx.tick()
            assert ctx.get(axi.rvalid) and ctx.get(axi.rdata) == 0x1100      # held
        ctx.set(axi.rready, 1)
        await ctx.tick()
        ctx.set(axi.rready, 0)
        assert await read_ok(ctx, axi, 0x04, 2) == 0x2200

    run_bank(rm, tb, read_latency=2)


def test_bank_write_action():
    rm = bank_map()
    log = {}

    async def tb(ctx, axi, bank):
        await axil_write(ctx, axi, 0x08, 0x00be_ef01)
        await axil_write(ctx, axi, 0x08, 0x0012_3400)
        assert await read_ok(ctx, axi, 0x08) == 0
        for _ in range(3):
            await ctx.tick()
        # w_data holds the last written value, w_stb is low.
        assert ctx.get(bank.fields.doorbell.value.w_data) == 0x1234
        assert ctx.get(bank.fields.doorbell.value.w_stb) == 0
        # Back to back (the bridge takes a write per cycle): one pulse each.
        ctx.set(axi.awaddr, 0x08)
        ctx.set(axi.wstrb, 0xf)
        ctx.set(axi.awvalid, 1)
        ctx.set(axi.wvalid, 1)
        ctx.set(axi.bready, 1)
        for v in (0x0001_0001, 0x0002_0001, 0x0003_0001):
            ctx.set(axi.wdata, v)
            await ctx.tick().until(axi.awready)
        ctx.set(axi.awvalid, 0)
        ctx.set(axi.wvalid, 0)
        await ctx.tick().until(axi.bvalid)
        await ctx.tick()

    run_bank(rm, tb, processes=[pulse_monitor(log, "doorbell.ring", "doorbell.value")])
    assert log["doorbell.ring"] == [1, 0, 1, 1, 1]
    assert log["doorbell.value"] == [0xbeef, 0x1234, 0x0100, 0x0200, 0x0300]


def test_bank_rw1c():
    rm = bank_map()

    async def tb(ctx, axi, bank):
        flags = bank.fields.irq.flags
        assert await read_ok(ctx, axi, 0x0c) == 0x80                         # reset value
        # Hardware sets (a one-cycle pulse is remembered).
        ctx.set(flags.set, 0b0000_0110)
        await ctx.tick()
        ctx.set(flags.set, 0)
        assert ctx.get(flags.data) == 0x86
        assert await read_ok(ctx, axi, 0x0c) == 0x86
        # Writing 0 has no effect, writing 1 clears.
        await axil_write(ctx, axi, 0x0c, 0)
        assert await read_ok(ctx, axi, 0x0c) == 0x86
        await axil_write(ctx, axi, 0x0c, 0x84)
        assert await read_ok(ctx, axi, 0x0c) == 0x02
        # Set and clear of the same bit (and a clear of another) in the same cycle: set wins.
        ctx.set(axi.awaddr, 0x0c)
        ctx.set(axi.wdata, 0x03)
        ctx.set(axi.wstrb, 0xf)
        ctx.set(axi.awvalid, 1)
        ctx.set(axi.wvalid, 1)
        ctx.set(axi.bready, 1)
        ctx.set(flags.set, 0b0000_0001)
        assert ctx.get(axi.awready) and ctx.get(axi.wready)                  # the write is this cycle
        await ctx.tick()
        ctx.set(flags.set, 0)
        ctx.set(axi.awvalid, 0)
        ctx.set(axi.wvalid, 0)
        await ctx.tick().until(axi.bvalid)
        assert await read_ok(ctx, axi, 0x0c) == 0x01                         # bit 1 cleared, 0 kept
        # A set held high keeps the bit set through clears.
        ctx.set(flags.set, 0x10)
        await axil_write(ctx, axi, 0x0c, 0xff)
        assert await read_ok(ctx, axi, 0x0c) == 0x10
        ctx.set(flags.set, 0)
        await axil_write(ctx, axi, 0x0c, 0xff)
        assert await read_ok(ctx, axi, 0x0c) == 0x00

    run_bank(rm, tb)


@pytest.mark.parametrize("reserved_error", [False, True])
def test_bank_reserved(reserved_error):
    rm = bank_map()
    err = Resp.SLVERR.value if reserved_error else Resp.OKAY.value

    async def tb(ctx, axi, bank):
        before = [(await axil_read(ctx, axi, a))[0] for a in (0x0, 0x4, 0x8, 0xc, 0x10)]
        for addr in (0x14, 0x20, 0x3c, 0x40, 0x44, 0x7c):                    # 0x40..: the array
            assert await axil_write(ctx, axi, addr, 0xffff_ffff) == err
            data, resp, _ = await axil_read(ctx, axi, addr)
            assert (data, resp) == (0, err), hex(addr)
        after = [(await axil_read(ctx, axi, a))[0] for a in (0x0, 0x4, 0x8, 0xc, 0x10)]
        assert before == after
        # Good accesses after an error are OKAY again.
        assert await axil_write(ctx, axi, 0x10, 1) == Resp.OKAY.value
        assert await read_ok(ctx, axi, 0x10) == 1

    run_bank(rm, tb, reserved_error=reserved_error)


def test_bank_register_subset():
    rm = bank_map()

    async def tb(ctx, axi, bank):
        assert set(bank.signature.members["fields"].signature.members) == {"scratch"}
        assert await read_ok(ctx, axi, 0x10) == 0xdeadbeef
        assert await axil_read(ctx, axi, 0x00) == (0, Resp.SLVERR.value, 1)   # not in this bank
        assert await axil_write(ctx, axi, 0x00, 0) == Resp.SLVERR.value

    run_bank(rm, tb, registers=["scratch"], reserved_error=True)


@pytest.mark.parametrize("latency", [1, 2])
def test_bank_64bit(latency):
    rm = bank_map(64)
    log = {}

    async def tb(ctx, axi, bank):
        assert await read_ok(ctx, axi, 0x00, latency) == 0xcafef00d_00000011
        await axil_write(ctx, axi, 0x00, 0x0102_0304_0506_0708, strb=0xff)
        assert await read_ok(ctx, axi, 0x04, latency) == 0x0102_0304_0000_0008  # lane bits ignored
        await axil_write(ctx, axi, 0x00, 0xaabb_ccdd_eeff_0011, strb=0b0110_0001)
        assert await read_ok(ctx, axi, 0x00, latency) == 0x01bb_cc04_0000_0011
        # RW1C above bit 32, R below.
        ctx.set(bank.fields.irq.flags.set, 0b1010)
        ctx.set(bank.fields.irq.stat.r_data, 0xbeef)
        await ctx.tick()
        ctx.set(bank.fields.irq.flags.set, 0)
        assert await read_ok(ctx, axi, 0x08, latency) == (0b1010 << 36) | 0xbeef
        await axil_write(ctx, axi, 0x08, 0xf << 36, strb=0b0000_1111)        # flags not strobed
        assert await read_ok(ctx, axi, 0x08, latency) == (0b1010 << 36) | 0xbeef
        await axil_write(ctx, axi, 0x08, 0x2 << 36, strb=0b0001_0000)
        assert await read_ok(ctx, axi, 0x08, latency) == (0b1000 << 36) | 0xbeef
        # W in bytes 5-6.
        await axil_write(ctx, axi, 0x10, 0x00ab_cd00_0000_0000, strb=0b0110_0000)
        await axil_write(ctx, axi, 0x10, 0xffff_ffff_ffff_ffff, strb=0b0001_1111)  # not strobed
        assert await read_ok(ctx, axi, 0x10, latency) == 0
        # Reserved.
        assert await axil_read(ctx, axi, 0x18) == (0, Resp.SLVERR.value, latency)
        assert await axil_write(ctx, axi, 0x38, 0, strb=0xff) == Resp.SLVERR.value

    run_bank(rm, tb, read_latency=latency, reserved_error=True,
             processes=[pulse_monitor(log, "kick.cmd", "ctrl.hi")])
    assert log["kick.cmd"] == [0xabcd]
    assert len(log["ctrl.hi"]) == 2


# -- the docstring example: a bank for the plain registers, own logic for an array -------------

class MixedBlock(wiring.Component):
    """As in the RegisterBank docstring: plain registers in a bank, the ``table`` array here."""

    def __init__(self, rm):
        self.rm = rm
        self.bank = RegisterBank(rm, read_latency=1)
        super().__init__({"axi": wiring.In(AXI4LiteSignature(addr_width=rm.addr_width, data_width=32))})

    def elaborate(self, platform):
        m = Module()
        rm = self.rm
        m.submodules.bridge = bridge = AXI4LiteBridge(addr_width=rm.addr_width, read_latency=1)
        m.submodules.bank = bank = self.bank
        m.submodules.dec = dec = RegisterDecoder(rm)
        wiring.connect(m, wiring.flipped(self.axi), bridge.axi)
        port = bridge.reg
        for name, member in port.signature.members.items():
            if member.flow == wiring.Out:             # addresses, strobes, write data
                m.d.comb += getattr(bank.port, name).eq(getattr(port, name))
        m.d.comb += dec.addr.eq(port.addr)

        table = Array(Signal(8, name=f"table{i}") for i in range(rm["table"].count))
        with m.If(port.w_stb & dec.hit.table & port.w_strb[0]):
            m.d.sync += table[dec.index.table.i].eq(port.w_data[:8])
        arr_data, err = Signal(rm.data_width), Signal()
        with m.If(port.r_stb):
            m.d.sync += [arr_data.eq(Mux(dec.hit.table, table[dec.index.table.i], 0)),
                         err.eq(dec.reserved)]
        m.d.comb += [
            port.r_data.eq(bank.port.r_data | arr_data),
            port.r_err.eq(err),
            port.w_err.eq(port.w_stb & dec.reserved),
        ]
        return m


def test_bank_with_array_logic():
    rm = bank_map()
    dut = MixedBlock(rm)

    async def tb(ctx):
        axi = dut.axi
        for i in range(3):
            assert await axil_write(ctx, axi, rm["table"].address(i), 0x10 + i) == Resp.OKAY.value
        await axil_write(ctx, axi, 0x10, 0x5555)
        for i in range(3):
            assert await axil_read(ctx, axi, rm["table"].address(i)) == (0x10 + i, Resp.OKAY.value, 1)
        assert await axil_read(ctx, axi, 0x10) == (0x5555, Resp.OKAY.value, 1)
        assert await axil_read(ctx, axi, 0x00) == (0x1234_0015, Resp.OKAY.value, 1)
        assert await axil_read(ctx, axi, 0x4c) == (0, Resp.SLVERR.value, 1)   # table[3]: reserved
        assert await axil_write(ctx, axi, 0x4c, 1) == Resp.SLVERR.value
        assert await axil_write(ctx, axi, 0x14, 1) == Resp.SLVERR.value
        ctx.set(dut.bank.fields.irq.flags.set, 1)
        await ctx.tick()
        ctx.set(dut.bank.fields.irq.flags.set, 0)
        assert await axil_read(ctx, axi, 0x0c) == (0x81, Resp.OKAY.value, 1)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()


@pytest.mark.parametrize("delay", [0, 1, 3])
def test_bridge_deferred_write_response(delay):
    """With ``write_ack`` the B beat follows the target's ``w_ack`` (``delay`` cycles after the
    strobe) by one cycle, carries ``w_err`` of the ack cycle, and no transaction is strobed in
    between (a read offered meanwhile waits)."""
    bridge = AXI4LiteBridge(addr_width=8, data_width=32, read_latency=1, write_ack=True)
    m = Module()
    m.submodules.bridge = bridge
    port = bridge.reg
    countdown, pending, err = Signal(4), Signal(), Signal()
    with m.If(port.w_stb):
        m.d.sync += [pending.eq(delay > 0), countdown.eq(delay - 1 if delay else 0),
                     err.eq(port.w_data[0])]
    with m.Elif(pending & (countdown != 0)):
        m.d.sync += countdown.eq(countdown - 1)
    with m.Elif(pending):
        m.d.sync += pending.eq(0)
    ack_now = (port.w_stb & (delay == 0)) | (pending & (countdown == 0) & ~port.w_stb)
    m.d.comb += [port.w_ack.eq(ack_now), port.w_err.eq(Mux(port.w_stb, port.w_data[0], err))]
    strobes = []

    async def monitor(ctx):
        async for _clk, _rst, w, r in ctx.tick().sample(port.w_stb, port.r_stb):
            strobes.append((w, r))

    async def tb(ctx):
        axi = bridge.axi
        for value, expect in ((0, Resp.OKAY), (1, Resp.SLVERR)):
            strobes.clear()
            ctx.set(axi.awaddr, 4)
            ctx.set(axi.wdata, value)
            ctx.set(axi.wstrb, 0xF)
            ctx.set(axi.awvalid, 1)
            ctx.set(axi.wvalid, 1)
            ctx.set(axi.araddr, 8)
            ctx.set(axi.arvalid, 1)                  # a read offered together with the write
            await ctx.tick().until(axi.awready & axi.wready)
            ctx.set(axi.awvalid, 0)
            ctx.set(axi.wvalid, 0)
            cycles = 0
            while not ctx.get(axi.bvalid):
                assert not ctx.get(axi.arready), "a read accepted before the write's response"
                await ctx.tick()
                cycles += 1
            assert cycles == delay           # B one cycle after the ack (the handshake edge is behind us)
            assert ctx.get(axi.bresp) == expect.value
            ctx.set(axi.bready, 1)
            await ctx.tick().until(axi.arready)
            ctx.set(axi.arvalid, 0)
            ctx.set(axi.bready, 0)
            ctx.set(axi.rready, 1)
            await ctx.tick().until(axi.rvalid)
            ctx.set(axi.rready, 0)
            await ctx.tick()
            assert [s for s in strobes if s != (0, 0)] == [(1, 0), (0, 1)], strobes

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_process(monitor)
    sim.add_testbench(tb)
    sim.run()
