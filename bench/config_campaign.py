#!/usr/bin/env python3
"""A mutated-input campaign against berth's file front end.

Takes seed files — the config examples of README.md and docs/config.md, the
hostile configs of tests/corpus/config/, the example templates of
templates/ and the bad templates of tests/corpus/bad/ — and derives N mutants
from them (byte edits, YAML syntax inserted or removed, aliases and alias
bombs, deep nesting, unclosed quotes, ${VAR} references, special files such
as /dev/zero or a FIFO as key files, huge numbers, splices of two seeds,
truncation). Each mutant is run as

    berth --config MUTANT providers
    berth validate MUTANT

with a per-run time limit and each run's peak RSS read from wait4(). It
reports signals, runs over the time and memory limits, internal errors
(exit 1), exit codes other than 0 and 3, failures without a file:line:col or
file-wide location, and error output that carries a variable's value.
Inputs that broke a rule are kept in the output directory.

    python3 bench/config_campaign.py [--runs 10000] [--seed 1] [--berth build/berth]
                                     [--jobs 2] [--out /tmp/berth-campaign]

Exit status 0 when nothing broke a rule, 1 otherwise.
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TIME_LIMIT_S = 5.0
RSS_LIMIT_KB = 100 * 1024
# The child's address space is capped well above the RSS limit, so that a
# runaway allocation is seen (exit, or the RSS) instead of swapping the host.
AS_LIMIT_BYTES = 2 << 30

# Every variable the seeds and mutations refer to, set to a recognisable
# value: no error message may ever contain one of them.
SECRET_MARK = "campaign-secret"
VARIABLES = {
    name: f"{SECRET_MARK}-{name.lower()}"
    for name in [
        "LAMBDA_API_KEY", "RUNPOD_API_KEY", "VAST_API_KEY", "RUNPOD_TEST_KEY", "LAB_HOST",
        "LAB_USER", "HF_TOKEN", "WANDB_MODE", "GHCR_USER", "GHCR_TOKEN", "REGISTRY_PASSWORD",
        "BERTH_CORPUS_KEY", "BERTH_CORPUS_SECRET", "CAMPAIGN_SECRET",
    ]
}
VARIABLES["CAMPAIGN_CRLF"] = f"{SECRET_MARK}-crlf\r\nX-Injected: 1"
VARIABLES["CAMPAIGN_EMPTY"] = ""

TOKENS = [
    "&a ", "*a", "&a [*a]", "&b {k: *b}", "*undefined", "{", "}", "[", "]", "\"", "'", ",",
    ": ", "- ", "? ", "#", "|", ">-", "|+", "!!binary ", "!!str ", "!custom ", "%YAML 1.2\n",
    "---\n", "...\n", "\t", "\r\n", "\n", "\\", "\"\\0\"", "\"\\x00\"", "\"\\u202e\"",
    "\"\\r\\nX-Injected: 1\"", "${", "}", "${CAMPAIGN_SECRET}", "${CAMPAIGN_CRLF}",
    "${CAMPAIGN_EMPTY}", "${UNSET_CAMPAIGN_VAR}", "${1BAD}", "${A:-${B}}", "$$", "$",
    "\x00", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x80\xae", "\x1b[31m", "\x7f",
]

KEYS = [
    "providers", "ssh", "runtime", "key", "type", "api_key", "api_key_file", "base_url",
    "hosts", "address", "user", "port", "gpus", "model", "count", "price_per_hour", "region",
    "cloud", "cloud_file", "limit", "limit_file", "verified_only", "project_token", "token",
    "password", "name", "image", "command", "entrypoint", "env", "resources", "health",
    "path", "http", "registry_auth", "username", "<<",
]

TYPES = ["lambda", "runpod", "vastai", "ssh", "local", "RUNPOD", "runpod api_key: x", ""]


def values(files):
    return [
        "/dev/zero", "/dev/urandom", "/dev/null", "/proc/self/mem", "/proc/self/environ",
        "/proc/self/maps", files["fifo"], files["dir"], files["big"], files["crlf"], files["nul"],
        files["empty"], files["good"], "~", "~/nope", "-oProxyCommand=touch /tmp/pwned",
        "99999999999999999999999", "-1", "0", "1e309", ".inf", ".nan", "null", "~", "\"\"",
        "''", "\"${CAMPAIGN_SECRET}\"", "${CAMPAIGN_SECRET}", "${CAMPAIGN_CRLF}",
        "\"a\\r\\nb\"", "x" * 10000, "[*a]", "{a: *a}", "&x [*x]", "\"/he alth\"",
        "\"/a\\r\\nX: 1\"", "http://[::1", "https://", "docker", "podman", "true", "False",
        "yes", "3000", "\"3000\"", "0x10", "1_000",
    ] + TYPES


def bomb(levels=9, width=9):
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def markdown_yaml_blocks(path):
    text = open(path, encoding="utf-8").read()
    return [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def load_seeds():
    configs, templates = [], []
    for doc in ["README.md", "docs/config.md"]:
        for block in markdown_yaml_blocks(os.path.join(ROOT, doc)):
            if "providers:" in block or "runtime:" in block or "ssh:" in block:
                configs.append(block.encode())
    for folder, out in [("tests/corpus/config", configs), ("templates", templates),
                        ("tests/corpus/bad", templates)]:
        d = os.path.join(ROOT, folder)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith(".yaml"):
                out.append(open(os.path.join(d, name), "rb").read())
    return configs, templates


class Mutator:
    def __init__(self, rng, seeds, files):
        self.rng = rng
        self.seeds = seeds
        self.values = [v.encode("utf-8", "surrogateescape") for v in values(files)]
        # Byte for byte: "\xff" is the byte 0xFF, "\xe2\x80\xae" the UTF-8 of U+202E.
        self.tokens = [t.encode("latin-1") for t in TOKENS]

    def pos(self, data):
        return self.rng.randrange(len(data) + 1)

    def line_starts(self, data):
        return [0] + [i + 1 for i, b in enumerate(data) if b == 0x0A]

    def op_byte(self, d):
        if not d:
            return d
        i = self.rng.randrange(len(d))
        return d[:i] + bytes([self.rng.choice(b"\x00\xff\r\n\t\"'&*{}[]:#$%!|>-? ,\\")]) + d[i + 1:]

    def op_insert_token(self, d):
        i = self.pos(d)
        return d[:i] + self.rng.choice(self.tokens) + d[i:]

    def op_delete(self, d):
        if not d:
            return d
        i = self.rng.randrange(len(d))
        return d[:i] + d[i + self.rng.randint(1, 40):]

    def op_duplicate_line(self, d):
        lines = d.split(b"\n")
        i = self.rng.randrange(len(lines))
        lines.insert(i, lines[i] * self.rng.choice([1, 1, 2, 50]))
        return b"\n".join(lines)

    def op_value(self, d):
        spots = [m.end() for m in re.finditer(rb": ", d)]
        if not spots:
            return d + b"\nproviders: {x: {type: ssh, hosts: [{address: " + self.rng.choice(self.values) + b"}]}}\n"
        i = self.rng.choice(spots)
        end = d.find(b"\n", i)
        end = len(d) if end < 0 else end
        if self.rng.random() < 0.5:
            # Inside a flow mapping, only up to the next separator.
            for sep in (b",", b"}", b"]"):
                j = d.find(sep, i, end)
                if j >= 0:
                    end = j
        return d[:i] + self.rng.choice(self.values) + d[end:]

    def op_key(self, d):
        spots = [m.start(1) for m in re.finditer(rb"([A-Za-z_][A-Za-z0-9_]*): ", d)]
        if not spots:
            return d
        i = self.rng.choice(spots)
        j = d.find(b":", i)
        return d[:i] + self.rng.choice(KEYS).encode() + d[j:]

    def op_provider_entry(self, d):
        kind = self.rng.choice(TYPES).encode()
        v = self.rng.choice(self.values)
        k = self.rng.choice(KEYS).encode()
        entry = (b"  p" + str(self.rng.randrange(100)).encode() + b": {type: " + kind + b", " + k
                 + b": " + v + b"}\n")
        if b"providers:" in d and self.rng.random() < 0.7:
            i = d.find(b"providers:") + len(b"providers:")
            nl = d.find(b"\n", i)
            nl = len(d) if nl < 0 else nl + 1
            return d[:nl] + entry + d[nl:]
        return d + b"\nproviders:\n" + entry

    def op_nest(self, d):
        n = self.rng.choice([10, 63, 64, 65, 200, 5000])
        i = self.pos(d)
        opener, closer = self.rng.choice([(b"[", b"]"), (b"{a: ", b"}")])
        return d[:i] + opener * n + b"x" + closer * self.rng.choice([0, n]) + d[i:]

    def op_bomb(self, d):
        levels = self.rng.choice([3, 5, 7, 9, 12])
        return bomb(levels).encode() + d

    def op_unclose_quote(self, d):
        quotes = [i for i, b in enumerate(d) if b in (0x22, 0x27)]
        if not quotes:
            i = d.find(b": ")
            if i < 0:
                return d + b'\nruntime: "docker\n'
            return d[:i + 2] + b'"' + d[i + 2:]
        i = self.rng.choice(quotes)
        return d[:i] + d[i + 1:]

    def op_indent(self, d):
        starts = self.line_starts(d)
        i = self.rng.choice(starts)
        return d[:i] + self.rng.choice([b" ", b"  ", b"\t", b"    ", b""]) + d[i + self.rng.choice([0, 0, 1, 2]):]

    def op_truncate(self, d):
        return d[:self.pos(d)]

    def op_splice(self, d):
        other = self.rng.choice(self.seeds)
        return d[:self.pos(d)] + other[self.rng.randrange(len(other) + 1):]

    def op_big(self, d):
        size = self.rng.choice([(1 << 20) - 200, (1 << 20) + 1, 300_000])
        pad = b"# " + b"x" * 98 + b"\n"
        return d + pad * (size // len(pad))

    def op_long_line(self, d):
        i = self.pos(d)
        return d[:i] + self.rng.choice([b"a", b"${", b"\"", b"[", b"&a "]) * self.rng.choice([1000, 100_000]) + d[i:]

    def mutate(self, seed):
        ops = [
            (self.op_byte, 10), (self.op_insert_token, 14), (self.op_delete, 6),
            (self.op_duplicate_line, 4), (self.op_value, 14), (self.op_key, 8),
            (self.op_provider_entry, 10), (self.op_nest, 3), (self.op_bomb, 2),
            (self.op_unclose_quote, 8), (self.op_indent, 6), (self.op_truncate, 3),
            (self.op_splice, 4), (self.op_big, 1), (self.op_long_line, 2),
        ]
        fns, weights = zip(*ops)
        d = seed
        for _ in range(self.rng.choice([1, 1, 2, 2, 3, 4])):
            d = self.rng.choices(fns, weights)[0](d)
        return d


def limit_child():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT_BYTES, AS_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(argv, cwd, env, usage_file):
    """(exit status, signal, killed for time, seconds, peak RSS KB, stdout, stderr).

    berth runs under /usr/bin/time, whose small process forks it: wait4() on a
    child of this Python process would also count the Python image it was
    forked from (ru_maxrss keeps the high-water mark across exec)."""
    start = time.monotonic()
    p = subprocess.Popen(["/usr/bin/time", "-q", "-f", "%M %x", "-o", usage_file] + argv, cwd=cwd,
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=limit_child)
    out, err = [], []
    readers = [threading.Thread(target=lambda s=s, b=b: b.append(s.read()))
               for s, b in ((p.stdout, out), (p.stderr, err))]
    for t in readers:
        t.start()
    killed = threading.Event()

    def kill():
        killed.set()
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(TIME_LIMIT_S, kill)
    timer.start()
    p.wait()
    elapsed = time.monotonic() - start
    timer.cancel()
    for t in readers:
        t.join()
    # time(1) reports "Command terminated by signal N" and exits 128+N when
    # berth was killed; its -o file has the peak RSS (KB) and the status.
    report = open(usage_file).read().split("\n")
    sig = 0
    for line in report:
        m = re.match(r"Command terminated by signal (\d+)", line)
        if m:
            sig = int(m.group(1))
    rss, code = 0, p.returncode
    fields = [l for l in report if re.match(r"^\d+ -?\d+$", l)]
    if fields:
        rss = int(fields[-1].split()[0])
        code = int(fields[-1].split()[1])
    if killed.is_set() and not sig:
        sig = signal.SIGKILL
    return code, sig, killed.is_set(), elapsed, rss, out[0], err[0]


LOCATED = re.compile(rb"^[^\n]*?:\d+:\d+: error: ", re.M)


def judge(kind, name, result):
    """The rules a run breaks: a list of short names."""
    code, sig, timed_out, elapsed, rss, out, err = result
    broken = []
    if timed_out or elapsed > TIME_LIMIT_S:
        broken.append("time")
    elif sig:
        broken.append(f"signal-{sig}")
    if rss > RSS_LIMIT_KB:
        broken.append("rss")
    if code == 1:
        broken.append("internal-error")
    elif code not in (0, 3) and not sig and not timed_out:
        broken.append(f"exit-{code}")
    if code == 3:
        # Every error names the file, with line:col where it has them; a
        # whole-file error ("FILE: error: ...") is the only other form.
        located = LOCATED.search(err) or (name.encode() + b": error: ") in err
        if not located:
            broken.append("no-location")
    leaked = [v for k, v in VARIABLES.items() if v and v.encode() in (err if code else b"")]
    if leaked:
        broken.append("leak")
    if code == 0 and any(VARIABLES[k].encode() in out + err
                         for k in ("LAMBDA_API_KEY", "RUNPOD_API_KEY", "VAST_API_KEY", "HF_TOKEN")):
        broken.append("leak")
    return broken


def prepare_files(work):
    files = {
        "fifo": os.path.join(work, "fifo.key"),
        "dir": os.path.join(work, "keys.d"),
        "big": os.path.join(work, "big.key"),
        "crlf": os.path.join(work, "crlf.key"),
        "nul": os.path.join(work, "nul.key"),
        "empty": os.path.join(work, "empty.key"),
        "good": os.path.join(work, "good.key"),
    }
    os.mkfifo(files["fifo"], 0o600)
    os.mkdir(files["dir"])
    open(files["big"], "wb").write(b"k" * 200_000)
    open(files["crlf"], "wb").write(f"{SECRET_MARK}-file\r\nX-Injected: 1\n".encode())
    open(files["nul"], "wb").write(f"{SECRET_MARK}-nul\0x\n".encode())
    open(files["empty"], "wb").write(b"\n")
    open(files["good"], "wb").write(b"good-key-from-file\n")
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--berth", default=os.path.join(ROOT, "build", "berth"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "berth-campaign"))
    args = ap.parse_args()

    berth = os.path.abspath(args.berth)
    configs, templates = load_seeds()
    if not configs or not templates:
        sys.exit("no seeds found")
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(os.path.join(args.out, "findings"))
    work = tempfile.mkdtemp(prefix="berth-campaign-")
    files = prepare_files(work)
    home = os.path.join(work, "home")
    # What the documented examples refer to, so that the seeds themselves load.
    for rel, content in ((".config/berth/vast.key", f"{SECRET_MARK}-vast-file\n"),
                         (".config/berth/runpod.key", f"{SECRET_MARK}-runpod-file\n"),
                         (".ssh/id_ed25519", "not a real key\n"),
                         (".ssh/id_ed25519.pub", "ssh-ed25519 AAAA campaign\n")):
        os.makedirs(os.path.dirname(os.path.join(home, rel)), exist_ok=True)
        open(os.path.join(home, rel), "w").write(content)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "XDG_STATE_HOME": os.path.join(home, "state"),
           "XDG_CONFIG_HOME": os.path.join(home, "config"), "LANG": "C.UTF-8"}
    env.update(VARIABLES)

    rng = random.Random(args.seed)
    mutator = Mutator(rng, configs + templates, files)
    mutants = []
    for i in range(args.runs):
        seed = rng.choice(configs) if i % 2 == 0 else rng.choice(templates)
        mutants.append(mutator.mutate(seed))

    stats = {"runs": 0, "inputs": len(mutants), "exit_codes": {}, "broken": {}, "times": [],
             "rss": [], "slowest": (0, ""), "largest": (0, "")}
    lock = threading.Lock()

    def one(index):
        path = os.path.join(work, f"m{index}.yaml")
        with open(path, "wb") as f:
            f.write(mutants[index])
        name = os.path.basename(path)
        results = []
        for kind, argv in (("providers", [berth, "--config", name, "providers"]),
                           ("validate", [berth, "validate", name])):
            results.append((kind, run(argv, work, env, path + ".usage")))
        os.unlink(path + ".usage")
        with lock:
            for kind, r in results:
                stats["runs"] += 1
                code = r[0] if not r[1] else f"signal {r[1]}"
                stats["exit_codes"][f"{kind} {code}"] = stats["exit_codes"].get(f"{kind} {code}", 0) + 1
                stats["times"].append(r[3])
                stats["rss"].append(r[4])
                if r[3] > stats["slowest"][0]:
                    stats["slowest"] = (r[3], f"m{index} {kind}")
                if r[4] > stats["largest"][0]:
                    stats["largest"] = (r[4], f"m{index} {kind}")
                broken = judge(kind, name, r)
                for b in broken:
                    stats["broken"][b] = stats["broken"].get(b, 0) + 1
                if broken:
                    keep = os.path.join(args.out, "findings", f"m{index}-{kind}")
                    open(keep + ".yaml", "wb").write(mutants[index])
                    open(keep + ".txt", "wb").write(
                        (f"{' '.join(broken)}\nexit {r[0]} signal {r[1]} {r[3]:.3f}s "
                         f"{r[4]} KB\n").encode() + b"--- stderr\n" + r[6][:4000])
        os.unlink(path)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(one, range(len(mutants))))
    wall = time.monotonic() - started
    shutil.rmtree(work, ignore_errors=True)

    times = sorted(stats["times"])
    rss = sorted(stats["rss"])
    summary = {
        "inputs": stats["inputs"],
        "runs": stats["runs"],
        "seed": args.seed,
        "wall_seconds": round(wall, 1),
        "signals": sum(v for k, v in stats["broken"].items() if k.startswith("signal")),
        "over_5s": stats["broken"].get("time", 0),
        "over_100MB": stats["broken"].get("rss", 0),
        "internal_errors": stats["broken"].get("internal-error", 0),
        "errors_without_location": stats["broken"].get("no-location", 0),
        "leaks": stats["broken"].get("leak", 0),
        "broken": stats["broken"],
        "exit_codes": dict(sorted(stats["exit_codes"].items())),
        "time_ms": {"median": round(statistics.median(times) * 1000, 1),
                    "p99": round(times[int(len(times) * 0.99)] * 1000, 1),
                    "max": round(times[-1] * 1000, 1), "slowest": stats["slowest"][1]},
        "rss_MB": {"median": round(statistics.median(rss) / 1024, 1),
                   "max": round(rss[-1] / 1024, 1), "largest": stats["largest"][1]},
    }
    json.dump(summary, open(os.path.join(args.out, "summary.json"), "w"), indent=2)
    print(json.dumps(summary, indent=2))
    print(f"findings: {os.path.join(args.out, 'findings')}", file=sys.stderr)
    sys.exit(1 if stats["broken"] else 0)


if __name__ == "__main__":
    main()
