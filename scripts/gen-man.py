#!/usr/bin/env python3
"""Regenerates man/berth.1 from man/berth.1.in and the built binary's own
--help output, so the COMMANDS section always lists every command and flag
berth accepts. A unit test fails when the committed page differs."""
import re
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
binary = sys.argv[1] if len(sys.argv) > 1 else str(root / "build" / "berth")


def roff(text):
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return re.sub(r"^([.'])", r"\\&\1", text)


def help_of(args):
    return subprocess.run([binary, *args, "--help"], capture_output=True, text=True,
                          check=True).stdout


def sections(text):
    """Splits CLI11 help into its description, usage and named blocks."""
    lines = text.splitlines()
    description = lines[0]
    usage = next(l for l in lines if l.startswith("Usage:"))[len("Usage: "):]
    blocks, current = {}, None
    for line in lines:
        if line in ("Positionals:", "Options:"):
            current = line[:-1]
            blocks[current] = []
        elif line.startswith("Exit codes") or line.startswith("Examples") or not line.strip():
            current = None if not line.strip() else None
        elif current and line.startswith("  "):
            if line.startswith("    ") and blocks[current]:
                blocks[current][-1][1] += " " + line.strip()
            else:
                parts = re.split(r"\s{2,}", line.strip(), maxsplit=1)
                blocks[current].append([parts[0], parts[1] if len(parts) > 1 else ""])
    return description, usage, blocks


def commands():
    top = help_of([])
    names, inside = [], False
    for line in top.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
        elif inside and line.startswith("  "):
            names.append(line.split()[0])
        elif inside and not line.strip():
            break
    return names


out = []
for name in commands():
    description, usage, blocks = sections(help_of([name]))
    out.append(".SS " + roff(usage).replace("[OPTIONS]", "[\\fIOPTIONS\\fR]"))
    out.append(roff(description) + ".")
    for spec, text in blocks.get("Positionals", []):
        out.append(".TP")
        out.append("\\fI" + roff(spec.split()[0]) + "\\fR")
        out.append(roff(text))
    for spec, text in blocks.get("Options", []):
        if spec.startswith("-h,--help"):
            continue
        out.append(".TP")
        out.append("\\fB" + roff(spec) + "\\fR")
        out.append(roff(text))

page = (root / "man" / "berth.1.in").read_text()
(root / "man" / "berth.1").write_text(page.replace("@COMMANDS@\n", "\n".join(out) + "\n"))
