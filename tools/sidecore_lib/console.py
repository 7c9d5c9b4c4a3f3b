# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""The hypervisor's console as lines, whichever emulator produced the bytes."""
import re

ANSI = re.compile(r"\x1b\[[0-9;=?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\r")
# loaders' error prefixes (UEFI loader, Multiboot2 loader): a run stops at once
LOADER_ERRORS = ("sidecore-efi: error:", "sidecore-mb2: error:")


class Console:
    """Bytes in, lines out: echoed, logged, kept; a loader's error line is noticed."""

    def __init__(self, echo, log_path=None):
        self.echo = echo
        self.logf = open(log_path, "w") if log_path else None
        self.lines = []
        self.pending = b""
        self.loader_error = False

    def feed(self, chunk):
        self.pending += chunk
        *complete, self.pending = self.pending.split(b"\n")
        for raw in complete:
            self._line(raw)

    def _line(self, raw):
        line = ANSI.sub("", raw.decode("utf-8", "replace"))
        self.lines.append(line)
        if self.echo:
            print(line, flush=True)
        if self.logf:
            self.logf.write(line + "\n")
        if any(e in line for e in LOADER_ERRORS):
            self.loader_error = True

    def close(self):
        if self.pending:
            self._line(self.pending)
            self.pending = b""
        if self.logf:
            self.logf.close()
            self.logf = None
        return self.lines
