#!/usr/bin/python3
"""scripts/long-functions.py on C++ snippets whose function lengths are known."""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "scripts", "long-functions.py")


def body(n):
    return "".join(f"  x += {i};\n" for i in range(n))


# (name, source, expected (name, length) pairs over --max 5)
CASES = [
    ("plain function", "int f() {\n" + body(5) + "}\n", [("f", 7)]),
    ("short function", "int f() {\n" + body(3) + "}\n", []),
    ("namespace and class scope", "namespace a {\nstruct S {\n  void m() {\n" + body(4) + "  }\n};\n}\n",
     [("m", 6)]),
    ("constructor initializer braces", "S::S(int a) : x_{0}, y_(1), z_{a} {\n" + body(4) + "}\n", [("S::S", 6)]),
    ("variable initializer is not a function", "const int kT[] = {\n" + body(8) + "};\n", []),
    ("template class is a container", "template <class T>\nclass C {\n  int g() const {\n" + body(5) + "  }\n};\n",
     [("g", 7)]),
    ("braces in comments and strings", 'int f() {\n  // {{{\n  const char* s = "}}}";\n' + body(3) + "}\n",
     [("f", 7)]),
    ("lambda counts toward its function", "void f() {\n  auto l = [] {\n" + body(3) + "  };\n}\n",
     [("f", 7)]),
    ("enum is data", "enum class E {\n" + "  A,\n" * 9 + "};\n", []),
    ("preprocessor braces ignored", "#define X {\nint f() {\n" + body(2) + "}\n", []),
]


def run(src):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.cpp")
        with open(path, "w") as f:
            f.write(src)
        p = subprocess.run([sys.executable, SCRIPT, "--max", "5", path], capture_output=True, text=True)
        found = [(line.split()[2], int(line.split()[0])) for line in p.stdout.splitlines() if line.strip()]
        return p.returncode, found


def main():
    failed = 0
    for name, src, want in CASES:
        rc, found = run(src)
        if found != want or rc != (1 if want else 0):
            print(f"FAIL {name}: got {found} rc {rc}, want {want}")
            failed += 1
        else:
            print(f"ok   {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
