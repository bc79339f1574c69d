#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Lay rustfilter into an extracted kernel tree.

Idempotent: run it after every change to the list of files; it only
touches the tree where something is missing, so incremental builds stay
incremental.

 - rust/kernel/**.rs     symlinked into the tree's rust/kernel, and a
                         `pub mod` line added to the parent module
 - rust/helpers/*.c      symlinked into rust/helpers, included from
                         helpers.c in alphabetical order
 - rust/bindings/rustfilter_headers.h
                         each #include line merged alphabetically into
                         rust/bindings/bindings_helper.h
 - include/uapi/linux/rustfilter.h   symlinked into the tree
 - Kbuild, Kconfig, rust/ as net/rustfilter (the in-tree module)
"""
import os
import sys

MARK = "rustfilter: added by scripts/prepare-tree.py"


def symlink(src, dst):
    src = os.path.abspath(src)
    if os.path.islink(dst) and os.readlink(dst) == src:
        return
    if os.path.lexists(dst):
        os.remove(dst)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    os.symlink(src, dst)


def read(path):
    with open(path) as f:
        return f.read()


def write_if_changed(path, text):
    if os.path.exists(path) and read(path) == text:
        return
    with open(path, "w") as f:
        f.write(text)


def merge_sorted_includes(path, new_lines):
    """Insert `new_lines` into the first contiguous block of #include lines."""
    lines = read(path).split("\n")
    first = next(i for i, l in enumerate(lines) if l.startswith("#include"))
    last = first
    while last + 1 < len(lines) and lines[last + 1].startswith("#include"):
        last += 1
    block = set(lines[first:last + 1]) | set(new_lines)
    lines[first:last + 1] = sorted(block)
    write_if_changed(path, "\n".join(lines))


def add_mod_line(parent, name):
    text = read(parent)
    line = f"pub mod {name}; // {MARK}"
    if line in text:
        return
    if not text.endswith("\n"):
        text += "\n"
    write_if_changed(parent, text + line + "\n")


def append_once(path, line):
    text = read(path)
    if line in text:
        return
    if not text.endswith("\n"):
        text += "\n"
    write_if_changed(path, text + f"# {MARK}\n{line}\n")


def main():
    repo, tree = sys.argv[1], sys.argv[2]
    # Abstractions in the kernel crate.
    kroot = os.path.join(repo, "rust/kernel")
    for dirpath, _, files in os.walk(kroot):
        for f in sorted(files):
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), kroot)
            symlink(os.path.join(kroot, rel), os.path.join(tree, "rust/kernel", rel))
            parts = rel[:-3].split("/")
            parent = "lib.rs" if len(parts) == 1 else "/".join(parts[:-1]) + ".rs"
            add_mod_line(os.path.join(tree, "rust/kernel", parent), parts[-1])
    # C helpers for inline functions and macros.
    hroot = os.path.join(repo, "rust/helpers")
    incs = []
    for f in sorted(os.listdir(hroot)):
        if f.endswith(".c"):
            symlink(os.path.join(hroot, f), os.path.join(tree, "rust/helpers", f))
            incs.append(f'#include "{f}"')
    merge_sorted_includes(os.path.join(tree, "rust/helpers/helpers.c"), incs)
    # Headers bindgen must see.
    hdrs = [l.strip() for l in read(os.path.join(repo, "rust/bindings/rustfilter_headers.h")).split("\n")
            if l.startswith("#include")]
    merge_sorted_includes(os.path.join(tree, "rust/bindings/bindings_helper.h"), hdrs)
    # The generic netlink protocol header.
    symlink(os.path.join(repo, "include/uapi/linux/rustfilter.h"),
            os.path.join(tree, "include/uapi/linux/rustfilter.h"))
    # The module, in-tree as net/rustfilter.
    mdir = os.path.join(tree, "net/rustfilter")
    os.makedirs(mdir, exist_ok=True)
    for f in ("Kbuild", "Kconfig", "rust"):
        symlink(os.path.join(repo, f), os.path.join(mdir, f))
    append_once(os.path.join(tree, "net/Kconfig"), 'source "net/rustfilter/Kconfig"')
    append_once(os.path.join(tree, "net/Makefile"), "obj-$(CONFIG_RUSTFILTER) += rustfilter/")


if __name__ == "__main__":
    main()
