"""Calls into gap code and their returns, counted inside QEMU by a small
TCG plugin (grader/callwatch.c), for the observer's pass check.

Gap code is ring-0 code: called from a test, it can rewrite its own return
address, or unwind to the test's frame and jump past the test's checks,
and the test then reaches harness_pass from its own code, in its own frame.
Nothing at the pass stop tells that apart; the counts do: at a genuine
pass, every call from trusted code into gap code came back to the
instruction after it, except the calls still on the stack.

The plugin is built with the host's C compiler into build/qemu-plugin/.
Where it cannot be built or QEMU cannot load plugins, grading goes on
without the counts and says so (unavailable()).
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .build import ROOT

SOURCE = Path(__file__).with_name("callwatch.c")
_SITE = struct.Struct("<II")  # call address, return address
_COUNT = struct.Struct("<QQ")  # calls, returns


@functools.cache
def _plugin() -> tuple[Path | None, str]:
    """(the plugin, "") or (None, why it is unavailable); built and tried
    once per process."""
    source = SOURCE.read_bytes()
    out = ROOT / "build" / "qemu-plugin" / f"callwatch-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".so")
        os.close(fd)
        try:
            cc = subprocess.run([os.environ.get("CC", "cc"), "-O2", "-shared", "-fPIC", "-o", tmp, str(SOURCE)],
                                capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            os.unlink(tmp)
            return None, f"no host C compiler to build it ({e})"
        if cc.returncode != 0:
            os.unlink(tmp)
            return None, f"it does not build: {cc.stderr.strip()[-200:]}"
        os.replace(tmp, out)  # atomic: concurrent graders never see half a file
    return out, _refusal(out)


def _refusal(plugin: Path) -> str:
    """Why QEMU refuses to load `plugin` ("" when it loads), remembered
    next to it for this QEMU binary (trying costs a QEMU start)."""
    from .qemu import QEMU

    binary = shutil.which(QEMU)
    st = os.stat(binary) if binary else None
    identity = f"{binary} {st.st_size} {st.st_mtime_ns}\n" if st else ""
    verdict = plugin.with_suffix(".qemu")
    try:
        known = verdict.read_text()
        if identity and known.startswith(identity):
            return known[len(identity):]
    except OSError:
        pass
    why = _try_loading(plugin)
    if identity:
        fd, tmp = tempfile.mkstemp(dir=plugin.parent)
        with os.fdopen(fd, "w") as f:
            f.write(identity + why)
        os.replace(tmp, verdict)
    return why


def _try_loading(plugin: Path) -> str:
    """Starts QEMU with `plugin`: it prints its QMP greeting on stdout only
    once its plugins are loaded."""
    from .qemu import QEMU

    with tempfile.TemporaryDirectory(prefix="kcw") as tmp:
        sites, counts = Path(tmp) / "sites", Path(tmp) / "counts"
        sites.write_bytes(b"")
        counts.write_bytes(b"")
        try:
            probe = subprocess.run([QEMU, "-M", "none", "-nodefaults", "-display", "none", "-plugin",
                                    f"{plugin},sites={sites},counts={counts}", "-qmp", "stdio"],
                                   input=b'{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n',
                                   capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"QEMU did not start with it ({e})"
    if b'"QMP"' in probe.stdout:
        return ""
    return f"QEMU refuses it: {probe.stderr.decode(errors='replace').strip()[-200:]}"


def unavailable() -> str | None:
    """None when calls are counted; else a note for the grading report."""
    plugin, why = _plugin()
    if plugin is not None and not why:
        return None
    return (f"note: QEMU's call-counting plugin is unavailable ({why}); a return address that gap code rewrites "
            "inside a test is not detected on this machine")


@dataclass(frozen=True)
class CallCounts:
    """The counts of one boot, at the call sites `sites` (sorted)."""

    sites: tuple[tuple[int, int], ...]  # (call address, return address)
    counts_path: Path
    argv: tuple[str, ...]  # the QEMU arguments that load the plugin

    @staticmethod
    def create(folder: Path, sites: tuple[tuple[int, int], ...]) -> CallCounts | None:
        """Files for one boot in `folder`; None when the plugin is unavailable."""
        plugin, why = _plugin()
        if plugin is None or why:
            return None
        sites_path, counts_path = folder / "call-sites", folder / "call-counts"
        sites_path.write_bytes(b"".join(_SITE.pack(*s) for s in sites))
        counts_path.write_bytes(bytes(_COUNT.size * len(sites)))
        return CallCounts(sites, counts_path, ("-plugin", f"{plugin},sites={sites_path},counts={counts_path}"))

    def read(self) -> list[tuple[int, int]]:
        """(calls, returns) of each site so far."""
        return list(_COUNT.iter_unpack(self.counts_path.read_bytes()))
