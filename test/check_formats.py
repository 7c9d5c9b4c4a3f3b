#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Copyright (c) 2026 The sidecore authors
"""Every literal format string given to one of our printf-like functions uses only
conversions that core/fmt.c implements.

The printf-like functions are those declared with __attribute__((format(printf, N, M)))
in the hypervisor, loader and guest sources, and the function-like macros that forward
to them (log_info -> log_msg). There is no libc in any of them: all format with
core/fmt.c. The compiler's -Wformat checks arguments against conversions; this checks
conversions against our formatter, which the compiler knows nothing about.

usage: check_formats.py [ROOT]      scan ROOT (default: the repository)
       check_formats.py --self-test check the checker on made-up sources
"""
import os
import re
import sys

# Folders whose code formats with core/fmt.c (host-only code under test/ and
# bench/ring_host.c uses the C library's printf and is not scanned).
SCANNED = ["boot", "core", "vmexit", "sidecore", "efi", "guest-stubs", "bench/guests", "iommu"]

# What core/fmt.c implements (keep in step with its switch): per conversion, the flags,
# whether a width is allowed, and the length modifiers. No precision anywhere.
INTEGER_LENGTHS = {"", "l", "ll", "z"}
SUPPORTED = {
    "d": ("-0", True, INTEGER_LENGTHS),
    "i": ("-0", True, INTEGER_LENGTHS),
    "u": ("-0", True, INTEGER_LENGTHS),
    "x": ("-0#", True, INTEGER_LENGTHS),
    "X": ("-0#", True, INTEGER_LENGTHS),
    "p": ("", False, {""}),
    "s": ("-", True, {""}),
    "c": ("-", True, {""}),
    "%": ("", False, {""}),
}

SPEC = re.compile(r"%(?P<flags>[-+ #0]*)(?P<width>\*|[0-9]+)?(?:\.(?P<prec>\*|[0-9]*))?"
                  r"(?P<len>hh|h|ll|l|j|z|t|L|q)?(?P<conv>.?)", re.S)

TOKEN = re.compile(r"""
    (?P<ws>\s+|\\\n)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>(?:u8|u|U|L)?"(?:\\.|[^"\\\n])*")
  | (?P<char>(?:u8|u|U|L)?'(?:\\.|[^'\\\n])*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
  | (?P<hash>\#)
  | (?P<punct>.)
""", re.S | re.X)


class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind, self.text, self.line = kind, text, line

    def __repr__(self):
        return f"{self.kind}:{self.text}"


def tokenize(text):
    """C tokens without whitespace and comments; '#' opens a directive, 'eol' ends it."""
    toks, line, in_directive = [], 1, False
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        kind, s = m.lastgroup, m.group()
        if kind in ("ws", "comment"):
            if in_directive and "\n" in s.replace("\\\n", ""):
                toks.append(Tok("eol", "", line))
                in_directive = False
        elif kind == "hash":
            in_directive = True
            toks.append(Tok("punct", "#", line))
        else:
            toks.append(Tok(kind, s, line))
        line += s.count("\n")
        pos = m.end()
    if in_directive:
        toks.append(Tok("eol", "", line))
    return toks


def match_paren(toks, i):
    """Index of the ')' closing the '(' at toks[i]."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text in "([{" and toks[j].kind == "punct":
            depth += 1
        elif toks[j].text in ")]}" and toks[j].kind == "punct":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def split_args(toks, open_i):
    """The argument token lists of the call whose '(' is toks[open_i]."""
    close = match_paren(toks, open_i)
    args, cur, depth = [], [], 0
    for t in toks[open_i + 1:close]:
        if t.kind == "punct" and t.text in "([{":
            depth += 1
        elif t.kind == "punct" and t.text in ")]}":
            depth -= 1
        if depth == 0 and t.kind == "punct" and t.text == ",":
            args.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur or args:
        args.append(cur)
    return args


ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]+|[0-7]{1,3}|.)", re.S)


def literal_value(tok):
    body = tok.text[tok.text.index('"') + 1:-1]
    return ESCAPE.sub("E", body)  # an escape is one character, never a '%'


def format_functions(files):
    """{name: 1-based index of the format argument} from format(printf, N, M) attributes:
    the global ones, and per file the static ones."""
    global_funcs, local = {}, {path: {} for path in files}
    for path, toks in files.items():
        for i, t in enumerate(toks):
            if t.text != "__attribute__":
                continue
            close = match_paren(toks, i + 1)
            inner = toks[i + 1:close + 1]
            for k in range(len(inner) - 4):
                if inner[k].text == "format" and inner[k + 1].text == "(" and \
                        inner[k + 2].text in ("printf", "__printf__"):
                    name, static = attributed_name(toks, i, close)
                    if name:
                        (local[path] if static else global_funcs)[name] = int(inner[k + 4].text, 0)
    return global_funcs, local


def declaration_is_static(toks, name_i):
    for j in range(name_i - 1, -1, -1):
        if toks[j].text in (";", "{", "}") or toks[j].kind == "eol":
            return False
        if toks[j].text == "static":
            return True
    return False


def attributed_name(toks, attr_i, attr_close):
    """(name, static) of the function an attribute belongs to: after a parameter list, the
    name before it; in front of a declaration, the first name followed by '('."""
    if attr_i > 0 and toks[attr_i - 1].text == ")":
        depth = 0
        for j in range(attr_i - 1, 0, -1):
            if toks[j].text == ")":
                depth += 1
            elif toks[j].text == "(":
                depth -= 1
                if depth == 0:
                    if toks[j - 1].kind != "ident":
                        break
                    return toks[j - 1].text, declaration_is_static(toks, attr_i)
        return None, False
    for j in range(attr_close + 1, len(toks) - 1):
        if toks[j].text in (";", "{", "}"):
            break
        if toks[j].kind == "ident" and toks[j + 1].text == "(" and toks[j].text != "__attribute__":
            return toks[j].text, declaration_is_static(toks, j)
    return None, False


def forwarding_macros(files, global_funcs, local):
    """Function-like macros that pass a format on to a printf-like function or macro: those
    of headers are global, those of a .c file are its own."""
    changed = True
    while changed:
        changed = False
        for path, toks in files.items():
            funcs = {**global_funcs, **local[path]}
            for i in range(len(toks) - 3):
                if not (toks[i].text == "#" and toks[i + 1].text == "define" and
                        toks[i + 2].kind == "ident" and toks[i + 3].text == "(" and
                        toks[i + 3].line == toks[i + 2].line):
                    continue
                name = toks[i + 2].text
                if name in funcs:
                    continue
                pclose = match_paren(toks, i + 3)
                params = "".join(t.text for t in toks[i + 4:pclose]).split(",")
                end = next(j for j in range(pclose, len(toks)) if toks[j].kind == "eol")
                for j in range(pclose + 1, end - 1):
                    target = toks[j].text
                    if toks[j].kind != "ident" or target not in funcs or toks[j + 1].text != "(":
                        continue
                    arg_toks = split_args(toks, j + 1)
                    args = [" ".join(t.text for t in a) for a in arg_toks]
                    k = funcs[target]
                    named = [p for p in params if p != "..."]
                    passed = [t.text for t in arg_toks[k - 1]] if k <= len(args) else []
                    given = [p for p in named if p in passed]
                    if given:  # the format, or a literal prefix and the format
                        index = named.index(given[0]) + 1
                    elif "__VA_ARGS__" in args and k >= args.index("__VA_ARGS__") + 1:
                        index = len(named) + k - args.index("__VA_ARGS__")
                    else:
                        continue
                    (global_funcs if path.endswith(".h") else local[path])[name] = index
                    changed = True
                    break
    return global_funcs, local


def string_macros(files):
    """Object-like macros that are one string literal (usable inside a format)."""
    out = {}
    for toks in files.values():
        for i in range(len(toks) - 4):
            if toks[i].text == "#" and toks[i + 1].text == "define" and \
                    toks[i + 3].kind == "string" and toks[i + 4].kind == "eol" and \
                    toks[i + 3].line == toks[i + 2].line:
                out[toks[i + 2].text] = literal_value(toks[i + 3])
    return out


def check_spec(m):
    """None if core/fmt.c implements the conversion m, else why not."""
    conv = m.group("conv")
    if conv == "":
        return "a lone '%' at the end"
    if conv not in SUPPORTED:
        return f"conversion '{conv}' is not implemented"
    flags_ok, width_ok, lengths = SUPPORTED[conv]
    for f in m.group("flags"):
        if f not in flags_ok:
            return f"flag '{f}' is not implemented for %{conv}"
    if m.group("width") and not width_ok:
        return f"a width is not implemented for %{conv}"
    if m.group("prec") is not None:
        return "a precision is not implemented"
    if (m.group("len") or "") not in lengths:
        return f"length modifier '{m.group('len')}' is not implemented for %{conv}"
    return None


def literal_runs(parts, strings):
    """Each run of adjacent string literals (or string macros) in a format argument: the
    whole format, or each branch of `c ? "a" : "b"`, or the literal part of "x: " fmt."""
    runs, cur = [], None
    for p in parts:
        if p.kind == "string" or (p.kind == "ident" and p.text in strings):
            text = literal_value(p) if p.kind == "string" else strings[p.text]
            cur = text if cur is None else cur + text
        else:
            if cur is not None:
                runs.append(cur)
            cur = None
    if cur is not None:
        runs.append(cur)
    return runs


def check_files(files):
    """(problems, number of format strings checked)."""
    global_funcs, local = forwarding_macros(files, *format_functions(files))
    strings = string_macros(files)
    problems, checked = [], 0
    for path, toks in sorted(files.items()):
        funcs = {**global_funcs, **local[path]}
        for i in range(len(toks) - 1):
            t = toks[i]
            if t.kind != "ident" or t.text not in funcs or toks[i + 1].text != "(":
                continue
            args = split_args(toks, i + 1)
            k = funcs[t.text]
            if k > len(args) or not args[k - 1]:
                continue
            runs = literal_runs(args[k - 1], strings)
            if not runs:
                continue  # a format passed through (the compiler checks those callers)
            checked += 1
            for fmt in runs:
                for m in SPEC.finditer(fmt):
                    why = check_spec(m)
                    if why:
                        problems.append(f"{path}:{t.line}: {t.text}: '{m.group()}' in "
                                        f"\"{fmt}\": {why} by core/fmt.c")
    names = set(global_funcs).union(*local.values())
    return problems, checked, {n: global_funcs.get(n) or next(
        f[n] for f in local.values() if n in f) for n in names}


def load_tree(root):
    files = {}
    for top in SCANNED:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    path = os.path.join(dirpath, n)
                    with open(path, encoding="utf-8", errors="replace") as f:
                        files[os.path.relpath(path, root)] = tokenize(f.read())
    return files


SELF_TEST_SOURCE = r'''
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...) log_msg(1, __VA_ARGS__)
#define log_where(where, fmt, ...) log_msg(2, "%s: " fmt, where, __VA_ARGS__)
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
/* ---- */
__attribute__((format(printf, 3, 4))) static int check(int id, int ok, const char *fmt, ...)
{
    return 0;
}
#define GREETING "hello %s"
void f(void)
{
    log_info("fine: %d %i %u %x %X %#x %#018llx %-22s %c %p %zu %zd %ld %% %*d", 1);
    log_msg(0, "BAD1 %5.3e", 1.0);
    log_info("BAD2 %hhd", (char)1);
    panic("BAD3 %.3s" "%s", "a", "b");
    check(1, 0, "BAD4 %+d", 1);
    log_info(GREETING " BAD5 %lf", "x", 1.0);
    log_info("BAD6 %jd", (long)1);
    log_info("BAD7 %#d", 1);
    log_info("BAD8 %o", 1);
    log_info("BAD9 %");
    log_info("BAD10 %20p", (void *)0);
    log_where("w", "BAD11 %5.3e", 1.0);
    log_info("BAD12 %ls", L"x");
}
'''

# A static function of the same name elsewhere is not printf-like.
SELF_TEST_OTHER = r'''
static int check(int id, const char *name, const char *what) { return 0; }
void g(void) { check(1, "x", "%5.3e"); }
'''


def self_test():
    header, source = SELF_TEST_SOURCE.split("/* ---- */")
    problems, checked, funcs = check_files({"selftest.h": tokenize(header),
                                            "selftest.c": tokenize(source),
                                            "other.c": tokenize(SELF_TEST_OTHER)})
    ok = True
    for name, index in {"log_msg": 2, "log_info": 1, "panic": 1, "check": 3,
                        "log_where": 2}.items():
        if funcs.get(name) != index:
            print(f"self-test: {name}: format argument {funcs.get(name)}, expected {index}")
            ok = False
    for n in range(1, 13):
        if sum(f"BAD{n} " in p for p in problems) != 1:
            print(f"self-test: BAD{n} not reported exactly once")
            ok = False
    if any("fine:" in p for p in problems):
        print("self-test: a supported conversion was reported")
        ok = False
    if checked != 14:
        print(f"self-test: {checked} format strings checked, expected 14")
        ok = False
    for p in problems:
        print("  (expected) " + p)
    print("self-test " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems, checked, funcs = check_files(load_tree(root))
    for p in problems:
        print(p)
    print(f"{checked} format strings of {len(funcs)} printf-like functions and macros checked "
          f"against core/fmt.c: {len(problems)} problems")
    if checked == 0:
        print("no format string found: the scan itself is broken")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
