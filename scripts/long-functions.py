#!/usr/bin/python3
"""List C++ functions longer than a limit; exit 1 if any.

    scripts/long-functions.py [--max N] [paths...]   (default: 100 lines, the
    project's C++ directories)

A function's length is the lines from its opening brace to its closing
brace. This is a lexical reader, not a compiler: it strips comments,
literals and preprocessor lines, then walks the braces. A brace opens a
function body when, at namespace or class scope, the text since the last
`;`, `{` or `}` has a parameter list and no `=` outside parentheses (which
would make it a variable's initializer); braces inside a constructor's
initializer list (`x_{0}`) are skipped. Lambdas and local classes count
toward the function that holds them. CI runs it (scripts/test.sh).
"""
import argparse
import os
import re
import sys

DIRS = ["vtmm", "baselines", "workloads", "tests", "bench", "tools", "agent", "fuzz"]
EXTS = (".cpp", ".hpp", ".cc", ".h")


def strip(text):
    """Comments, string/char literals and preprocessor lines become spaces
    (newlines kept, so line numbers stay)."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c == "#":
            # a preprocessor line, with its continuations
            while i < n and not (text[i] == "\n" and text[i - 1] != "\\"):
                out.append("\n" if text[i] == "\n" else " ")
                i += 1
            continue
        if c == "\n":
            line_start = True
            out.append(c)
            i += 1
            continue
        if not c.isspace():
            line_start = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            if not m:
                out.append(c)
                i += 1
                continue
            end = text.find(")" + m.group(1) + '"', i)
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            if c == "'" and i > 0 and text[i - 1].isalnum():  # digit separator 1'000
                out.append(" ")
                i += 1
                continue
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def without_templates(header):
    """Drops `template <...>` heads so `template <class T>` is not a class."""
    while True:
        m = re.search(r"\btemplate\s*<", header)
        if not m:
            return header
        depth, j = 1, m.end()
        while j < len(header) and depth:
            depth += {"<": 1, ">": -1}.get(header[j], 0)
            j += 1
        header = header[: m.start()] + " " + header[j:]


def top_level_equals(header):
    depth = 0
    for k, ch in enumerate(header):
        if ch in "([<":
            depth += 1
        elif ch in ")]>":
            depth = max(0, depth - 1)
        elif ch == "=" and depth == 0:
            before, after = header[k - 1 : k], header[k + 1 : k + 2]
            if before in "=!<>" or after == "=":
                continue
            if re.search(r"\boperator\s*$", header[:k]):
                continue
            return True
    return False


def kind_of(header):
    """'container', 'function' or 'data' for the brace that ends header."""
    h = without_templates(header).strip()
    if re.match(r"^(inline\s+)?namespace\b", h) or re.match(r'^extern\s*$', h):
        return "container"
    if re.search(r"\benum\b", h):
        return "data"
    if top_level_equals(h):
        return "data"
    if re.match(r"^(\w+\s+)*(class|struct|union)\b", h) and "(" not in h.split(":")[0]:
        return "container"
    if ")" in h:
        return "function"
    return "data"


def skip_braces(s, i):
    """Index just past the brace block that opens at s[i]."""
    depth = 0
    while i < len(s):
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def functions(path):
    """(name, first line, length) of each function body in path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        s = strip(f.read())
    found = []

    def scope(i, end):
        header_start = i
        while i < end:
            c = s[i]
            if c in ";}":
                header_start = i + 1
                i += 1
            elif c == "{":
                header = s[header_start:i]
                kind = kind_of(header)
                in_init = re.search(r"\)\s*(const\s*)?(noexcept\s*)?:(?!:)", header)
                before = s[header_start:i].rstrip()
                if kind == "function" and in_init and before and (before[-1].isalnum() or before[-1] == "_"):
                    i = skip_braces(s, i)  # x_{0} in an initializer list
                    continue
                close = skip_braces(s, i)
                if kind == "container":
                    scope(i + 1, close - 1)
                elif kind == "function":
                    first = s.count("\n", 0, i) + 1
                    last = s.count("\n", 0, close - 1) + 1
                    name = re.sub(r"\s+", " ", header.split("(")[0]).strip().split(" ")[-1]
                    found.append((name, first, last - first + 1))
                i = close
                header_start = i
            else:
                i += 1

    scope(0, len(s))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max", type=int, default=100)
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = a.paths or [os.path.join(root, d) for d in DIRS]
    files = []
    for p in paths:
        if os.path.isfile(p):
            files.append(p)
        for dirpath, _, names in os.walk(p):
            files += [os.path.join(dirpath, x) for x in names if x.endswith(EXTS)]
    over = []
    for path in sorted(files):
        for name, line, length in functions(path):
            if length > a.max:
                over.append((length, f"{os.path.relpath(path, root)}:{line}", name))
    for length, where, name in sorted(over, reverse=True):
        print(f"{length:5d}  {where}  {name}")
    if over:
        print(f"long-functions: {len(over)} function(s) over {a.max} lines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
