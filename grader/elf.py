"""A minimal reader of 32-bit little-endian ELF files: sections, symbols
(with the source file each local symbol came from) and bytes at an address.

Enough for the grader to know the trusted kernel from its ELF, without
running binutils at every boot.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

SHT_SYMTAB = 2
STT_NOTYPE, STT_FUNC, STT_FILE = 0, 2, 4
STB_LOCAL = 0


class ElfError(Exception):
    """Not an ELF32 little-endian file, or a broken one."""


@dataclass(frozen=True)
class Section:
    name: str
    addr: int
    offset: int
    size: int
    type: int


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int
    type: int
    local: bool
    file: str  # the source file of a local symbol ("" for globals)

    @property
    def is_function(self) -> bool:
        return self.type == STT_FUNC


@dataclass(frozen=True)
class Elf:
    data: bytes
    sections: tuple[Section, ...]
    symbols: tuple[Symbol, ...]

    @staticmethod
    def read(path: Path) -> Elf:
        data = path.read_bytes()
        if data[:6] != b"\x7fELF\x01\x01":
            raise ElfError(f"{path}: not a 32-bit little-endian ELF file")
        try:
            sections = _sections(data)
            return Elf(data, sections, _symbols(data, sections))
        except (struct.error, IndexError, UnicodeDecodeError) as e:
            raise ElfError(f"{path}: broken ELF file ({e})") from e

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise ElfError(f"no section {name}")

    def symbol(self, name: str, file: str | None = None) -> Symbol:
        """The global symbol `name`, or the local one of source `file`."""
        found = [s for s in self.symbols if s.name == name and (s.file == file if file else not s.local)]
        if len(found) != 1:
            raise ElfError(f"{len(found)} symbols named {name}" + (f" in {file}" if file else ""))
        return found[0]

    def bytes_at(self, addr: int, size: int) -> bytes:
        """`size` bytes of the loaded image at `addr` (within one section)."""
        return bytes(self.view(addr, size))

    def view(self, addr: int, size: int) -> memoryview:
        """bytes_at() without a copy."""
        for s in self.sections:
            if s.addr and s.addr <= addr and addr + size <= s.addr + s.size:
                return memoryview(self.data)[s.offset + addr - s.addr:s.offset + addr - s.addr + size]
        raise ElfError(f"{addr:#x}+{size:#x} is not inside one section")

    def string_at(self, addr: int) -> str:
        """The NUL-terminated string at `addr` of the loaded image."""
        for s in self.sections:
            if s.addr and s.addr <= addr < s.addr + s.size:
                return _string(self.data, s.offset + addr - s.addr)
        raise ElfError(f"{addr:#x} is not inside a section")


def _sections(data: bytes) -> tuple[Section, ...]:
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    raw = [struct.unpack_from("<IIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    names = raw[shstrndx][4]
    return tuple(Section(_string(data, names + r[0]), r[3], r[4], r[5], r[1]) for r in raw)


def _symbols(data: bytes, sections: tuple[Section, ...]) -> tuple[Symbol, ...]:
    symtab = next((s for s in sections if s.type == SHT_SYMTAB), None)
    if symtab is None:
        return ()
    # The string table is the section the symbol table links to (sh_link).
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, = struct.unpack_from("<H", data, 0x2E)
    link, = struct.unpack_from("<I", data, shoff + sections.index(symtab) * shentsize + 24)
    strtab = sections[link].offset
    out, file = [], ""
    for i in range(symtab.size // 16):
        name, value, size, info, _, _ = struct.unpack_from("<IIIBBH", data, symtab.offset + i * 16)
        kind, local = info & 0xF, info >> 4 == STB_LOCAL
        text = _string(data, strtab + name)
        if kind == STT_FILE:
            file = text  # the local symbols that follow come from this file
            continue
        out.append(Symbol(text, value, size, kind, local, file if local else ""))
    return tuple(out)


def _string(data: bytes, at: int) -> str:
    return data[at:data.index(b"\0", at)].decode()
