#!/usr/bin/python3
"""Checks embedps's deployment files without a Docker engine or a cluster.

Usage: check_deploy_files.py SOURCE_DIR BIN_DIR CHECK
CHECK is one of: flagfiles, compose, prometheus, grafana, k8s, docker, slurm.
Exit codes: 0 passed, 1 failed (every problem is printed), 77 skipped (the
reason is printed: no built daemons, or for k8s no kubectl, whose `kubectl
kustomize` renders the overlays; $KUBECTL names another one than PATH's).
Daemon flags are checked against what the built binaries define
(--helpxml), so a typo or a renamed flag fails here.
"""
import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

try:
    import yaml
except ImportError:  # pragma: no cover - depends on the machine
    print("python3-yaml is not installed (apt-get install python3-yaml)")
    sys.exit(77)

SKIP = 77
DAEMONS = ("embedps-scheduler", "embedps-server", "embedps-worker")
# Flags of the HTTP endpoints the monitoring work adds to every daemon. Until
# a build defines them they are accepted (and said so), not failed.
PENDING_FLAGS = set()
HTTP_PORT = 9100
# The Kubernetes overlays rendered (launch/k8s/overlays/NAME), the script that
# makes their CURVE keys, and the key files of the binding nodes.
K8S_OVERLAYS = ("small", "large")
K8S_KEYS_SCRIPT = "launch/k8s/make_keys_secret.sh"
K8S_BINDING_KEYS = frozenset({"cluster.pub", "cluster.secret", "allowed_keys"})


class Skip(Exception):
    """A check that cannot run here; the message says why."""


# Metrics the Grafana dashboard and the alerting rules may use: Prometheus's
# own `up` and every metric docs/operations.md documents for the daemons'
# /metrics (histograms with their _bucket/_sum/_count series), so neither can
# chart or watch a name the daemons do not export.
def documented_metrics(source_dir):
    names = {"up"}
    text = open(os.path.join(source_dir, "docs", "operations.md")).read()
    for cell, kind in re.findall(r"^\| (`[^|]*`) \| (counter|gauge|histogram|summary) \|", text, re.M):
        for name in re.findall(r"`([a-z_][a-z0-9_]*)", cell):
            names.add(name)
            if kind == "histogram":
                names.update(name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


# The Prometheus alerting rules, their promtool unit tests, and the alerts the
# rules must have, each with a metric it must watch.
ALERTS = "launch/docker/alerts.yml"
ALERTS_TEST = "launch/docker/alerts_test.yml"
REQUIRED_ALERTS = {
    "EmbedpsNodeDown": "up",
    "EmbedpsNoTrainingProgress": "embedps_scheduler_rows_total",
    "EmbedpsCheckpointFailed": "embedps_scheduler_checkpoint_failures_total",
    "EmbedpsServerMemoryBudgetReached": "embedps_server_limit_server_memory_total",
}
PROMQL_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
                   "group_right", "inf", "nan", "atan2"}


def promql_selectors(expr):
    """[(metric, label matchers text)] of every series selector in a PromQL
    expression: names not called as functions, without the label lists of
    by/on/..., ranges, strings and numbers."""
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\{[^}]*\}|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-z]*|[a-zA-Z_:][a-zA-Z0-9_:]*|\S',
                        expr)
    found = []
    for i, tok in enumerate(tokens):
        if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", tok) or tok in PROMQL_KEYWORDS:
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if after == "(":
            continue  # a function or an aggregation
        found.append((tok, after[1:-1] if after.startswith("{") else ""))
    return found


def same_value(parsed, written):
    """gflags prints doubles at full precision (0.05 -> 0.050000000000000003)."""
    if parsed == written:
        return True
    try:
        return float(parsed) == float(written)
    except ValueError:
        return False


class Checker:
    def __init__(self, source, bins):
        self.source = source
        self.bins = bins
        self.problems = []
        self.notes = set()
        self._flags = {}

    def fail(self, where, message):
        self.problems.append(f"{where}: {message}")

    def expect(self, cond, where, message):
        if not cond:
            self.fail(where, message)
        return cond

    def path(self, *parts):
        return os.path.join(self.source, *parts)

    def load_yaml(self, *parts, many=False):
        with open(self.path(*parts)) as f:
            return list(yaml.safe_load_all(f)) if many else yaml.safe_load(f)

    # ---- daemon flags -------------------------------------------------------
    def flag_values(self, binary, flagfile=None):
        """{name: current value} of `binary`, after reading `flagfile`."""
        key = (binary, flagfile)
        if key not in self._flags:
            args = [os.path.join(self.bins, binary)]
            if flagfile:
                args.append(f"--flagfile={flagfile}")
            out = subprocess.run(args + ["--helpxml"], capture_output=True, text=True, timeout=30)
            root = ET.fromstring(out.stdout)
            self._flags[key] = {f.findtext("name"): f.findtext("current") or "" for f in root.iter("flag")}
        return self._flags[key]

    def check_flag_name(self, where, binary, name):
        if name in self.flag_values(binary):
            return True
        if name in PENDING_FLAGS:
            self.notes.add(f"--{name} is not defined by this build's daemons yet (expected from the "
                           f"monitoring work); accepted")
            return True
        self.fail(where, f"{binary} has no flag --{name}")
        return False

    def check_args(self, where, binary, args):
        """Checks a daemon's command-line flags; returns {name: value}."""
        if binary not in DAEMONS:
            self.fail(where, f"unknown daemon {binary!r}")
            return {}
        values = {}
        for arg in args:
            m = re.fullmatch(r"--([A-Za-z0-9_]+)(?:=(.*))?", arg)
            if not self.expect(m, where, f"{arg!r} is not a --flag=value argument"):
                continue
            name, value = m.group(1), m.group(2) if m.group(2) is not None else "true"
            if name != "flagfile":
                self.check_flag_name(where, binary, name)
            values[name] = value
        return values

    def parse_flagfile(self, where, text):
        """{program or None: {flag: value}} from gflags flagfile text with sections."""
        sections = {None: {}}
        current = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("-"):
                m = re.fullmatch(r"--([A-Za-z0-9_]+)=(.*)", line)
                if self.expect(m, f"{where}:{number}", f"expected --name=value, got {line!r}"):
                    sections[current][m.group(1)] = m.group(2)
            else:
                current = line
                self.expect(line in DAEMONS, f"{where}:{number}", f"section {line!r} names no daemon")
                sections.setdefault(current, {})
        return sections

    def check_flagfile(self, where, text):
        """Checks a flagfile with the real gflags parser of every daemon: each
        daemon must end up with exactly the values its sections give it."""
        sections = self.parse_flagfile(where, text)
        self._tmp_count = getattr(self, "_tmp_count", 0) + 1
        tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                           f"embedps-check-{os.getpid()}-{self._tmp_count}.flags")
        with open(tmp, "w") as f:
            f.write(text)
        try:
            for binary in DAEMONS:
                wanted = dict(sections[None])
                wanted.update(sections.get(binary, {}))
                parsed = self.flag_values(binary, tmp)
                for name, value in wanted.items():
                    if not self.check_flag_name(where, binary, name) or name not in parsed:
                        continue
                    self.expect(same_value(parsed[name], value), where,
                                f"{binary} reads --{name}={parsed[name]!r}, the file says {value!r}")
        finally:
            os.remove(tmp)
        return sections

    def check_generated(self, where, text):
        """The job flags under a `# embedps node-flags ARGS` comment must be
        what that command prints now (launch/job_settings.cc), so the static
        flagfiles give the daemons the flags every launcher would."""
        lines = [l.strip() for l in text.splitlines()]
        found = 0
        for i, line in enumerate(lines):
            m = re.fullmatch(r"# (embedps node-flags .*)", line)
            if not m:
                continue
            found += 1
            args = shlex.split(m.group(1))[1:]
            out = subprocess.run([os.path.join(self.bins, "embedps")] + args, capture_output=True, text=True,
                                 timeout=30)
            if not self.expect(out.returncode == 0, where, f"`{m.group(1)}` failed: {out.stderr.strip()}"):
                continue
            want = out.stdout.splitlines()
            have = lines[i + 1:i + 1 + len(want)]
            self.expect(have == want, where,
                        f"the lines under `# {m.group(1)}` are not its output; run it again and paste: " +
                        "; ".join(w[:80] for w in want))
        self.expect(found == 3, where, f"expected one `# embedps node-flags --role=...` block per daemon, found {found}")

    # ---- the checks --------------------------------------------------------
    def check_flagfiles(self):
        text = open(self.path("launch/docker/job.flags")).read()
        self.check_flagfile("launch/docker/job.flags", text)
        self.check_generated("launch/docker/job.flags", text)
        text = open(self.path("launch/k8s/base/job.flags")).read()
        self.check_flagfile("launch/k8s/base/job.flags", text)
        self.check_generated("launch/k8s/base/job.flags", text)

    def check_compose(self):
        where = "launch/docker/docker-compose.yml"
        if shutil.which("docker-compose"):
            out = subprocess.run(["docker-compose", "-f", self.path(where), "config", "-q"],
                                 capture_output=True, text=True, timeout=60)
            self.expect(out.returncode == 0, where, "docker-compose config: " + out.stderr.strip())
        else:
            self.notes.add("docker-compose is not installed: only the structural checks ran")
        compose = self.load_yaml(where)
        services = compose["services"]
        sections = self.check_flagfile("launch/docker/job.flags", open(self.path("launch/docker/job.flags")).read())
        sched = sections.get("embedps-scheduler", {})
        daemons = {}
        for name, svc in services.items():
            command = svc.get("command") or []
            if command and command[0] in DAEMONS:
                daemons[name] = (command[0], self.check_args(f"{where} {name}", command[0], command[1:]))
        roles = {d: [n for n, (b, _) in daemons.items() if b == d] for d in DAEMONS}
        self.expect(len(roles["embedps-scheduler"]) == 1, where, "exactly one scheduler service expected")
        # Spares (standby-N) take over a dead server's rank; the others hold one each.
        primaries = [n for n in roles["embedps-server"] if not n.startswith("standby-")]
        standbys = [n for n in roles["embedps-server"] if n.startswith("standby-")]
        self.expect(str(len(primaries)) == sched.get("num_servers"), where,
                    f"{len(primaries)} server services but --num_servers={sched.get('num_servers')}")
        self.expect(len(standbys) >= 1, where, "no standby server service (a spare that takes over a dead rank)")
        for name in standbys:
            deps = services[name].get("depends_on", {})
            self.expect(all(p in deps for p in primaries), f"{where} {name}",
                        "a standby must start after every primary server (depends_on), so it registers last")
        self.expect(str(len(roles["embedps-worker"])) == sched.get("num_workers"), where,
                    f"{len(roles['embedps-worker'])} worker services but --num_workers={sched.get('num_workers')}")
        for need in ("datagen", "keygen", "prometheus", "grafana"):
            self.expect(need in services, where, f"no {need} service")
        # CURVE on by default: keygen writes one role-bound key per daemon.
        keygen = " ".join((services.get("keygen") or {}).get("command") or [])
        for flag in ("--out=/data/keys", f"--servers={sched.get('num_servers')}",
                     f"--workers={sched.get('num_workers')}", f"--standby_servers={len(standbys)}"):
            self.expect(flag in keygen, f"{where} keygen", f"embedps keygen must get {flag}")
        sched_name = roles["embedps-scheduler"][0] if roles["embedps-scheduler"] else "scheduler"
        sched_port = daemons.get(sched_name, (None, {}))[1].get("bind", "").rsplit(":", 1)[-1]
        # Fault tolerance: checkpoints, resume on restart, restarts on failure.
        self.expect(sched.get("checkpoint_dir") and sched.get("resume") == "auto", "launch/docker/job.flags",
                    "the scheduler needs --checkpoint_dir and --resume=auto (a restarted scheduler resumes)")
        self.expect("version" not in compose, where, "the obsolete top-level 'version' key is back")
        for name, (binary, flags) in daemons.items():
            w = f"{where} {name}"
            svc = services[name]
            self.expect(svc.get("restart") == "on-failure", w, "daemons restart on failure (restart: on-failure)")
            self.expect(bool(svc.get("stop_grace_period")), w, "daemons need a stop_grace_period to stop well")
            self.expect(flags.get("flagfile") == "/etc/embedps/job.flags", w, "does not read the job flagfile")
            self.expect("./job.flags:/etc/embedps/job.flags:ro" in svc.get("volumes", []), w,
                        "does not mount ./job.flags at /etc/embedps/job.flags")
            self.expect(flags.get("http_port") == str(HTTP_PORT) and flags.get("http_bind") == "0.0.0.0", w,
                        f"must serve /metrics: --http_port={HTTP_PORT} --http_bind=0.0.0.0")
            deps = svc.get("depends_on", {})
            self.expect(flags.get("curve_dir") == "/data/keys", w, "CURVE must be on: --curve_dir=/data/keys")
            if binary != "embedps-scheduler":
                self.expect(flags.get("curve_key") == name, w, "--curve_key must be the service name")
            if binary == "embedps-scheduler":
                for need in ("datagen", "keygen"):
                    cond = deps.get(need, {}).get("condition") if isinstance(deps, dict) else None
                    self.expect(cond == "service_completed_successfully", w,
                                f"must wait for {need} to complete (service_completed_successfully)")
            else:
                self.expect(sched_name in deps, w, f"must depend on {sched_name}")
                self.expect(flags.get("scheduler") == f"tcp://{sched_name}:{sched_port}", w,
                            f"--scheduler must be tcp://{sched_name}:{sched_port}")
            if binary == "embedps-server":
                self.expect(flags.get("advertise_host") == name, w, "--advertise_host must be the service name")
        self.compose = compose
        self.daemon_services = daemons

    def check_prometheus(self):
        where = "launch/docker/prometheus.yml"
        if shutil.which("promtool"):
            out = subprocess.run(["promtool", "check", "config", self.path(where)],
                                 capture_output=True, text=True, timeout=60)
            self.expect(out.returncode == 0, where, "promtool: " + (out.stdout + out.stderr).strip())
        else:
            self.notes.add("promtool is not installed (Debian package prometheus): only the structural checks ran")
        config = self.load_yaml(where)
        targets = set()
        for job in config.get("scrape_configs", []):
            self.expect(job.get("metrics_path", "/metrics") == "/metrics", where, "scrapes a path other than /metrics")
            for static in job.get("static_configs", []):
                targets.update(static.get("targets", []))
        services = self.load_yaml("launch/docker/docker-compose.yml")["services"]
        nodes = {f"{name}:{HTTP_PORT}" for name, svc in services.items()
                 if (svc.get("command") or [""])[0] in DAEMONS}
        self.expect(targets == nodes, where, f"scrape targets {sorted(targets)} are not every node {sorted(nodes)}")
        jobs = [job.get("job_name") for job in config.get("scrape_configs", [])]
        self.check_alerts(config, services, jobs[0] if len(jobs) == 1 else None)

    def check_alerts(self, config, services, scrape_job):
        """The alerting rules: loaded by prometheus.yml from the file compose
        mounts next to it, valid (promtool check rules), doing what their unit
        tests say (promtool test rules), on documented metrics of the scrape job."""
        where = ALERTS
        rule_file = os.path.basename(ALERTS)
        self.expect(config.get("rule_files") == [rule_file], "launch/docker/prometheus.yml",
                    f"rule_files must be [{rule_file}] (the file compose mounts next to prometheus.yml)")
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services.get("prometheus", {}).get("volumes", [])}
        config_dir = os.path.dirname(next((t for t, s in mounts.items() if s == "./prometheus.yml"), "/?/"))
        self.expect(mounts.get(f"{config_dir}/{rule_file}") == f"./{rule_file}", "launch/docker/docker-compose.yml",
                    f"the prometheus service must mount ./{rule_file} at {config_dir}/{rule_file}")
        if shutil.which("promtool"):
            for args, f in ((["check", "rules"], ALERTS), (["test", "rules"], ALERTS_TEST)):
                out = subprocess.run(["promtool", *args, os.path.basename(f)], capture_output=True, text=True,
                                     timeout=60, cwd=self.path(os.path.dirname(f)))
                self.expect(out.returncode == 0, f, f"promtool {' '.join(args)}: " + (out.stdout + out.stderr).strip())
        rules = [r for g in (self.load_yaml(ALERTS) or {}).get("groups", []) for r in g.get("rules", [])]
        documented = documented_metrics(self.source)
        alerts = {}
        for r in rules:
            name = r.get("alert") or r.get("record")
            w = f"{where} {name}"
            self.expect(r.get("alert"), w, "only alerting rules belong here")
            self.expect(r.get("labels", {}).get("severity") in ("warning", "critical"), w,
                        "needs labels.severity warning or critical")
            self.expect(r.get("annotations", {}).get("summary") and r.get("annotations", {}).get("description"), w,
                        "needs annotations summary and description")
            selectors = promql_selectors(r.get("expr", ""))
            alerts[name] = {metric for metric, _ in selectors}
            for metric, labels in selectors:
                self.expect(metric in documented, w,
                            f"metric {metric} is not documented in docs/operations.md (not exported?)")
                self.expect(scrape_job and f'job="{scrape_job}"' in labels, w,
                            f'{metric} must be scoped to the scrape job: {{job="{scrape_job}"}}')
        for name, metric in REQUIRED_ALERTS.items():
            self.expect(metric in alerts.get(name, ()), where, f"no alert {name} on {metric}")
        tests = self.load_yaml(ALERTS_TEST) or {}
        tested = {t.get("alertname") for case in tests.get("tests", []) for t in case.get("alert_rule_test", [])}
        for name in alerts:
            self.expect(name in tested, ALERTS_TEST, f"no unit test of alert {name}")

    def check_grafana(self):
        base = "launch/docker/grafana"
        services = self.load_yaml("launch/docker/docker-compose.yml")["services"]
        volumes = services["grafana"].get("volumes", [])
        mounts = {v.split(":")[1]: v.split(":")[0] for v in volumes}
        self.expect(mounts.get("/etc/grafana/provisioning") == "./grafana/provisioning", base,
                    "compose must mount ./grafana/provisioning at /etc/grafana/provisioning")
        ds = self.load_yaml(base, "provisioning/datasources/prometheus.yml")
        sources = ds.get("datasources", [])
        self.expect(ds.get("apiVersion") == 1 and len(sources) == 1, base, "one provisioned datasource expected")
        source = sources[0] if sources else {}
        self.expect(source.get("type") == "prometheus" and source.get("url") == "http://prometheus:9090", base,
                    "the datasource must be the compose Prometheus at http://prometheus:9090")
        prov = self.load_yaml(base, "provisioning/dashboards/embedps.yml")
        paths = [p.get("options", {}).get("path") for p in prov.get("providers", [])]
        self.expect(len(paths) == 1 and mounts.get(paths[0]) == "./grafana/dashboards", base,
                    f"the dashboard provider path {paths} must be where compose mounts ./grafana/dashboards")
        with open(self.path(base, "dashboards/embedps.json")) as f:
            dash = json.load(f)
        self.expect(dash.get("uid") and dash.get("title"), base, "dashboard without uid or title")
        titles = " | ".join(p.get("title", "") for p in dash.get("panels", [])).lower()
        for topic in ("up", "throughput", "loss", "rows per table", "memory", "latency"):
            self.expect(topic in titles, base, f"no panel about {topic!r} (panels: {titles})")
        ids = [p.get("id") for p in dash.get("panels", [])]
        self.expect(len(ids) == len(set(ids)), base, "panel ids are not unique")
        # A `job` variable (the scrape job, a label prometheus.yml gives every
        # target) that every query is scoped to, so one Grafana can show one
        # of several jobs; its values come from a metric every daemon exports.
        variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
        job = variables.get("job", {})
        query = job.get("query", "")
        query = query.get("query", "") if isinstance(query, dict) else query
        self.expect(job.get("type") == "query" and job.get("datasource", {}).get("uid") == source.get("uid"), base,
                    "needs a template variable `job` of type query on the provisioned datasource")
        m = re.fullmatch(r"label_values\((\w+)\s*,\s*job\)", query.strip())
        self.expect(m and m.group(1) in documented_metrics(self.source), base,
                    f"the job variable's query must be label_values(METRIC, job) of a documented metric, got {query!r}")
        for p in dash.get("panels", []):
            w = f"{base} panel {p.get('title')!r}"
            self.expect(p.get("datasource", {}).get("uid") == source.get("uid"), w, "uses another datasource")
            self.expect(p.get("targets"), w, "has no queries")
            for t in p.get("targets", []):
                expr = t.get("expr", "")
                self.expect(expr.count("(") == expr.count(")"), w, f"unbalanced query {expr!r}")
                selectors = promql_selectors(expr)
                self.expect(selectors, w, f"query {expr!r} selects no series")
                for metric, labels in selectors:
                    self.expect(metric in documented_metrics(self.source), w, f"metric {metric} is not documented in docs/operations.md (not exported?)")
                    self.expect('job="$job"' in labels, w, f'{metric} must be scoped to the job variable: {{job="$job"}}')

    # ---- Kubernetes (kustomize) ---------------------------------------------
    def kustomize(self, kubectl, rel):
        """The objects `kubectl kustomize` renders from launch/k8s/REL, or None."""
        out = subprocess.run([kubectl, "kustomize", self.path(rel)], capture_output=True, text=True, timeout=120)
        # (kustomize v5 warns that bases: and patchesStrategicMerge: are deprecated; v2.0.3 needs them.)
        errors = [l for l in out.stderr.splitlines() if l.strip() and not l.startswith("# Warning:")]
        if not self.expect(out.returncode == 0, rel, "kubectl kustomize failed: " + " ".join(errors)):
            return None
        return [d for d in yaml.safe_load_all(out.stdout) if d]

    def check_k8s(self):
        kubectl = os.environ.get("KUBECTL") or shutil.which("kubectl")
        if not kubectl:
            raise Skip("kubectl is not installed (Debian 12: apt-get install kubernetes-client, which "
                       "scripts/setup.sh adds): the kustomize overlays in launch/k8s were not rendered")
        version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True, timeout=30)
        self.notes.add(f"rendered with {kubectl}: {' '.join(version.stdout.split())[:120]}")
        sizes = {}
        for rel in ("launch/k8s/base", *(f"launch/k8s/overlays/{o}" for o in K8S_OVERLAYS)):
            docs = self.kustomize(kubectl, rel)
            if docs is not None:
                sizes[rel] = self.check_k8s_render(rel, docs)
        overlays = {rel: size for rel, size in sizes.items() if "/overlays/" in rel and all(size)}
        self.expect(len(overlays) < len(K8S_OVERLAYS) or len(set(overlays.values())) == len(overlays),
                    "launch/k8s/overlays",
                    f"the overlays must give different (servers, workers): {overlays}")
        for rel, (servers, workers) in overlays.items():
            if servers and workers:
                self.check_k8s_keys_script(kubectl, rel, servers, workers)
        if shutil.which("shellcheck"):
            out = subprocess.run(["shellcheck", self.path(K8S_KEYS_SCRIPT)], capture_output=True, text=True)
            self.expect(out.returncode == 0, K8S_KEYS_SCRIPT, "shellcheck: " + out.stdout.strip())

    def check_k8s_render(self, where, docs):
        """Checks one rendered overlay; returns its (servers, workers), (0, 0) when unknown."""
        by_kind = {}
        for d in docs:
            by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
        problems = len(self.problems)
        configs = [n for n in by_kind.get("ConfigMap", {}) if re.fullmatch(r"embedps-config(-[a-z0-9]+)?", n)]
        self.expect(len(configs) == 1, where, f"expected one ConfigMap embedps-config(-HASH), got {configs}")
        for kind, name in (("Service", "embedps-scheduler"), ("Job", "embedps-scheduler"),
                           ("Service", "embedps-server"), ("StatefulSet", "embedps-server"),
                           ("Job", "embedps-worker"), ("PersistentVolumeClaim", "embedps-data")):
            self.expect(name in by_kind.get(kind, {}), where, f"no {kind} {name}")
        self.expect("Deployment" not in by_kind, where,
                    "no Deployment: the scheduler is a Job (a finished job's scheduler must not start again)")
        if len(self.problems) > problems:
            return (0, 0)
        config = by_kind["ConfigMap"][configs[0]]
        job_flags = config["data"]["job.flags"]
        self.expect(job_flags == open(self.path("launch/k8s/base/job.flags")).read(), where,
                    "the ConfigMap's job.flags is not launch/k8s/base/job.flags")
        self.check_flagfile(f"{where} ConfigMap", job_flags)
        sched_job = by_kind["Job"]["embedps-scheduler"]
        sched_svc = by_kind["Service"]["embedps-scheduler"]
        server_svc = by_kind["Service"]["embedps-server"]
        sts = by_kind["StatefulSet"]["embedps-server"]
        job = by_kind["Job"]["embedps-worker"]
        self.expect(server_svc["spec"].get("clusterIP") == "None", where, "the server Service must be headless")
        self.expect(sts["spec"].get("serviceName") == "embedps-server", where,
                    "StatefulSet serviceName must be the headless Service")
        # The scheduler: a Job whose pod is restarted on failure (it resumes
        # from the checkpoint) a bounded number of times; once it completed,
        # nothing starts it again.
        sched_pod = sched_job["spec"]["template"]["spec"]
        self.expect(sched_pod.get("restartPolicy") in ("Never", "OnFailure"), where,
                    "the scheduler Job's restartPolicy must be Never or OnFailure")
        self.expect(isinstance(sched_job["spec"].get("backoffLimit"), int), where,
                    "the scheduler Job needs a backoffLimit (how often a failed scheduler is restarted)")
        self.expect(sched_job["spec"].get("completions", 1) == 1 and sched_job["spec"].get("parallelism", 1) == 1,
                    where, "one scheduler: completions and parallelism 1")
        sched = sched_pod["containers"][0]
        sched_flags = self.check_args(f"{where} embedps-scheduler", sched["command"][0],
                                      [self.expand_env(sched, a) for a in sched["command"][1:]])
        servers, workers = sched_flags.get("num_servers"), sched_flags.get("num_workers")
        self.expect(servers and servers.isdigit() and workers and workers.isdigit(), where,
                    f"the scheduler must get --num_servers and --num_workers as numbers, got {servers!r}, {workers!r}")
        self.expect(str(sts["spec"].get("replicas")) == servers, where,
                    f"StatefulSet replicas {sts['spec'].get('replicas')} must equal --num_servers={servers}")
        self.expect(job["spec"].get("completionMode") == "Indexed", where, "the worker Job must be Indexed")
        self.expect(str(job["spec"].get("completions")) == workers == str(job["spec"].get("parallelism")), where,
                    f"the worker Job's completions {job['spec'].get('completions')} and parallelism "
                    f"{job['spec'].get('parallelism')} must equal --num_workers={workers}")
        sched_ports = {p["name"]: p["port"] for p in sched_svc["spec"]["ports"]}
        workloads = (sched_job, sts, job)
        for wl in workloads:
            self.check_k8s_workload(where, wl, sched_ports, configs[0])
        self.check_k8s_keys(where, workloads)
        try:
            return (int(servers), int(workers))
        except (TypeError, ValueError):
            return (0, 0)

    @staticmethod
    def expand_env(container, arg):
        """$(VAR) in a command, as the kubelet expands it from the container's env values."""
        env = {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
        return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), arg)

    def check_k8s_keys(self, where, workloads):
        """CURVE on by default: each pod mounts the Secret its role needs (what
        is in them is checked with make_keys_secret.sh's output)."""
        need = {
            # secret, items (None: the whole Secret), --curve_key
            "embedps-scheduler": ("embedps-keys", K8S_BINDING_KEYS, None),
            "embedps-server": ("embedps-keys", None, "server-$(POD_INDEX)"),
            "embedps-worker": ("embedps-worker-keys", None, "worker-$(WORKER_INDEX)"),
        }
        for wl in workloads:
            pod = wl["spec"]["template"]["spec"]
            w = f"{where} {wl['metadata']['name']}"
            secret = {v["name"]: v.get("secret") for v in pod.get("volumes", [])}.get("keys") or {}
            items = {i["key"] for i in secret.get("items", [])} or None
            for c in pod["containers"]:
                binary, args = c["command"][0], c["command"][1:]
                name, files, key = need[binary]
                self.expect(secret.get("secretName") == name, w, f"needs volume keys from Secret {name}")
                self.expect(items == files, w, f"Secret items {items}, expected {files or 'the whole Secret'}")
                mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
                flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
                self.expect(flags.get("curve_dir") == mounts.get("keys"), w, "--curve_dir must be the keys mount")
                self.expect(flags.get("curve_key") == key, w, f"--curve_key must be {key}")

    def check_k8s_keys_script(self, kubectl, rel, servers, workers):
        """make_keys_secret.sh for an overlay: a key per node of the overlay's
        size, each in the Secret its pod mounts; cluster.secret never in the
        workers' Secret."""
        embedps = os.path.join(self.bins, "embedps")
        if not os.access(embedps, os.X_OK):
            self.notes.add(f"{embedps} is not built: {K8S_KEYS_SCRIPT} was not run")
            return
        where = f"{K8S_KEYS_SCRIPT} {rel}"
        env = dict(os.environ, EMBEDPS=embedps, KUBECTL=kubectl)
        out = subprocess.run([self.path(K8S_KEYS_SCRIPT), self.path(rel)], capture_output=True, text=True,
                             env=env, timeout=120)
        if not self.expect(out.returncode == 0, where, f"failed: {out.stderr.strip()}"):
            return
        secrets = {d["metadata"]["name"]: d for d in yaml.safe_load_all(out.stdout) if d and d["kind"] == "Secret"}
        node_keys = lambda role, n: {f"{role}-{i}.{e}" for i in range(n) for e in ("pub", "secret")}
        want = {"embedps-keys": K8S_BINDING_KEYS | node_keys("server", servers),
                "embedps-worker-keys": {"cluster.pub"} | node_keys("worker", workers)}
        self.expect(set(secrets) == set(want), where, f"printed Secrets {sorted(secrets)}, expected {sorted(want)}")
        for name, keys in want.items():
            have = set((secrets.get(name) or {}).get("data") or {})
            self.expect(have == keys, f"{where} {name}",
                        f"keys {sorted(have - keys)} extra, {sorted(keys - have)} missing")
        allowed = base64.b64decode(((secrets.get("embedps-keys") or {}).get("data") or {}).get("allowed_keys", ""))
        admitted = [l.split() for l in allowed.decode().splitlines() if l.strip() and not l.startswith("#")]
        want_nodes = [[f"server-{i}", "server"] for i in range(servers)] + [[f"worker-{i}", "worker"] for i in range(workers)]
        self.expect([[a[0], a[-1]] for a in admitted] == want_nodes, f"{where} allowed_keys",
                    f"must admit exactly server-0..{servers - 1} and worker-0..{workers - 1} in their roles, "
                    f"got {[a[0] for a in admitted]}")

    @staticmethod
    def mebibytes(quantity):
        """A Kubernetes memory quantity (4Gi, 512Mi, 1G, 1048576) in MiB."""
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]i?|)", str(quantity))
        if not m:
            return None
        scale = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
        return float(m.group(1)) * scale[m.group(2)] / 2**20

    def check_k8s_workload(self, where, wl, sched_ports, config_name):
        name = wl["metadata"]["name"]
        spec = wl["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        annotations = spec["template"]["metadata"].get("annotations", {})
        selector = spec.get("selector", {}).get("matchLabels", {})
        self.expect(all(labels.get(k) == v for k, v in selector.items()), f"{where} {name}",
                    "selector does not match the pod labels")
        self.expect(annotations.get("prometheus.io/scrape") == "true" and
                    annotations.get("prometheus.io/port") == str(HTTP_PORT), f"{where} {name}",
                    f"pods need the prometheus.io/scrape and prometheus.io/port={HTTP_PORT} annotations")
        # Long enough for SIGTERM's final checkpoint before the SIGKILL.
        grace = pod.get("terminationGracePeriodSeconds")
        self.expect(isinstance(grace, int) and grace >= 60, f"{where} {name}",
                    f"terminationGracePeriodSeconds must be at least 60 (a final checkpoint), got {grace}")
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod.get("initContainers", []) + pod["containers"]:
            w = f"{where} {name}/{c['name']}"
            self.expect(c.get("image") == "embedps:latest", w, "image must be embedps:latest")
            for m in c.get("volumeMounts", []):
                self.expect(m["name"] in volumes, w, f"mounts undefined volume {m['name']}")
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                self.expect(all(res.get(kind, {}).get(r) for r in ("cpu", "memory")), w,
                            f"needs resources.{kind} for cpu and memory")
            request, limit = (self.mebibytes(res.get(k, {}).get("memory", "")) for k in ("requests", "limits"))
            self.expect(not (request and limit) or request <= limit, w, "memory request must be at most the limit")
        for c in pod["containers"]:
            w = f"{where} {name}/{c['name']}"
            binary, args = c["command"][0], c["command"][1:]
            env = {e["name"] for e in c.get("env", [])}
            for arg in args:
                for var in re.findall(r"\$\((\w+)\)", arg):
                    self.expect(var in env, w, f"$({var}) is not defined in env")
            flags = self.check_args(w, binary, args)
            self.expect(flags.get("flagfile") == "/etc/embedps/job.flags", w, "does not read the job flagfile")
            config = volumes.get("config", {}).get("configMap", {}).get("name")
            mount = [m for m in c.get("volumeMounts", []) if m["name"] == "config"]
            self.expect(config == config_name and mount and mount[0]["mountPath"] == "/etc/embedps", w,
                        f"must mount ConfigMap {config_name} at /etc/embedps")
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            self.expect(flags.get("http_port") == str(ports.get("http")) == str(HTTP_PORT) and
                        flags.get("http_bind") == "0.0.0.0", w,
                        f"--http_port must be the container's http port {HTTP_PORT}, --http_bind 0.0.0.0")
            for kind, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                probe = c.get(kind, {}).get("httpGet", {})
                self.expect(probe.get("path") == path and probe.get("port") in ("http", ports.get("http")), w,
                            f"{kind} must GET {path} on the http port")
            if "bind" in flags:
                self.expect(flags["bind"].rsplit(":", 1)[-1] == str(ports.get("zmq")), w,
                            "--bind port must be the container's zmq port")
            if binary != "embedps-scheduler":
                self.expect(flags.get("scheduler") == f"tcp://embedps-scheduler:{sched_ports.get('zmq')}", w,
                            "--scheduler must be the scheduler Service's zmq port")
            if binary == "embedps-server":
                self.expect(flags.get("advertise_host") == "$(POD_NAME).embedps-server", w,
                            "servers must advertise their stable name $(POD_NAME).embedps-server")
                # The default budget (80% of the node's RAM) does not see the
                # container's limit: the rows must stop growing before the OOM kill.
                budget = flags.get("max_server_memory_mb", "")
                limit = self.mebibytes(c.get("resources", {}).get("limits", {}).get("memory", ""))
                self.expect(budget.isdigit() and limit and 0 < int(budget) < limit, w,
                            f"--max_server_memory_mb ({budget or 'unset'}) must be below the memory limit ({limit} MiB)")

    def check_docker(self):
        where = "Dockerfile"
        text = open(self.path(where)).read()
        stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
        self.expect(len(stages) >= 2 and all(s[0] == "debian:12" for s in stages), where,
                    f"expected a multi-stage build on debian:12, got {stages}")
        build, runtime = text.split("\nFROM ")[1], text.split("\nFROM ")[-1]
        self.expect("scripts/setup.sh" in build, where, "the build stage must install packages with scripts/setup.sh")
        self.expect("COPY --from=" in runtime, where, "the runtime stage must copy the binaries from the build stage")
        for b in ("embedps", *DAEMONS):
            self.expect(re.search(rf"/bin/{b}\b", runtime), where, f"the runtime stage does not get {b}")
        m = re.search(r"apt-get install[^\n]*\\?\n((?:.*\\\n)*.*)", runtime)
        packages = set(re.findall(r"\b((?:lib|zlib)[a-z0-9.+-]+)", m.group(0) if m else ""))
        self.expect(packages, where, "no runtime packages installed")
        ignore = open(self.path(".dockerignore")).read().split()
        self.expect("build" in ignore, ".dockerignore", "must exclude build/")
        if not shutil.which("dpkg") or not shutil.which("readelf"):
            self.notes.add("dpkg/readelf missing: runtime libraries not checked")
            return
        # Every library the binaries load comes from a package the runtime
        # stage installs (or from libc6/libgcc-s1 of the base image).
        base = {"libc6", "libgcc-s1"}
        needs = {}  # library -> (binary, path ldd found)
        for b in ("embedps", *DAEMONS):
            out = subprocess.run(["ldd", os.path.join(self.bins, b)], capture_output=True, text=True).stdout
            needed = subprocess.run(["readelf", "-d", os.path.join(self.bins, b)], capture_output=True, text=True).stdout
            for lib in re.findall(r"Shared library: \[(.+?)\]", needed):
                path = re.search(rf"{re.escape(lib)} => (\S+)", out)
                if self.expect(path, where, f"{b}: {lib} not found by ldd"):
                    needs.setdefault(lib, (b, path.group(1)))
        # One dpkg query for all candidates (with usrmerge a file may be
        # registered under /lib or /usr/lib).
        candidates = {}
        for lib, (_, path) in needs.items():
            real = os.path.realpath(path)
            candidates[lib] = [path, real, real.replace("/usr/lib/", "/lib/", 1)]
        query = sorted({c for cs in candidates.values() for c in cs})
        owners = {}
        for line in subprocess.run(["dpkg", "-S", *query], capture_output=True, text=True).stdout.splitlines():
            pkg, _, file = line.partition(": ")
            owners[file.strip()] = pkg.split(":")[0]
        for lib, (b, _) in sorted(needs.items()):
            owner = next((owners[c] for c in candidates[lib] if c in owners), None)
            if owner is None:
                self.notes.add(f"{lib} belongs to no Debian package here (not checked)")
                continue
            self.expect(owner in packages | base, where,
                        f"{b} needs {lib} from {owner}, which the runtime stage does not install")
        if shutil.which("apt-cache"):
            out = subprocess.run(["apt-cache", "show", "--no-all-versions", *sorted(packages)],
                                 capture_output=True, text=True).stdout
            known = set(re.findall(r"^Package: (\S+)", out, re.M))
            for p in sorted(packages - known):
                self.fail(where, f"no Debian package {p}")

    def check_slurm(self):
        scripts = ["launch/slurm/embedps.sbatch", "tests/launchers/fake_slurm/srun",
                   "tests/launchers/fake_slurm/scontrol"]
        for s in scripts:
            out = subprocess.run(["bash", "-n", self.path(s)], capture_output=True, text=True)
            self.expect(out.returncode == 0, s, "bash -n: " + out.stderr.strip())
        if not shutil.which("shellcheck"):
            self.notes.add("shellcheck is not installed: only bash -n ran")
            return
        out = subprocess.run(["shellcheck", *[self.path(s) for s in scripts]], capture_output=True, text=True)
        self.expect(out.returncode == 0, "shellcheck", out.stdout.strip())


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    source, bins, check = argv[1:]
    c = Checker(source, bins)
    if not os.access(os.path.join(bins, "embedps-server"), os.X_OK):
        print(f"no built daemons in {bins}")
        return SKIP
    try:
        getattr(c, "check_" + check)()
    except Skip as skip:
        print(f"{check}: skipped: {skip}")
        return SKIP
    for note in sorted(c.notes):
        print("note:", note)
    for p in c.problems:
        print("FAIL:", p)
    print(f"{check}: {'ok' if not c.problems else str(len(c.problems)) + ' problem(s)'}")
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
