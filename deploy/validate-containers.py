#!/usr/bin/env python3
"""Checks deploy/Dockerfile and docker-compose.yml without a Docker engine (none runs here).

    deploy/validate-containers.py BIN_DIR   # BIN_DIR holds the built gts-* binaries

- Dockerfile: every base image is pinned to an exact version; nothing is downloaded
  (no curl, wget or remote ADD: every binary is built from this repository); the
  production stage (runtime) receives only the four services and the health probe, and
  only the dev stage adds the fake TONE3000 and the fixtures.
- Compose: every image is pinned; the four services run the production target, the fake
  the dev one; sign-in works from a browser on the host (the authorize URL and the
  callback name published ports on 127.0.0.1, never a name only containers resolve);
  and each service's environment, exactly as compose passes it, is accepted by the real
  binary's configuration (it gets past configuration and fails only on reaching the
  network's hosts, which do not exist here).
"""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"auth": "gts-auth", "shootout": "gts-shootout", "worker": "gts-worker",
            "gateway": "gts-gateway"}
RUNTIME_BINARIES = {"gts-auth", "gts-shootout", "gts-worker", "gts-gateway", "gts-health-probe"}
PINNED = re.compile(r"^[\w./-]+:\d+(\.\d+)+[\w.-]*(@sha256:[0-9a-f]{64})?$")

problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


def dockerfile():
    text = (ROOT / "deploy/Dockerfile").read_text()
    lines = [l for l in text.replace("\\\n", " ").splitlines() if not l.lstrip().startswith("#")]
    stages = {}
    current = None
    for line in lines:
        words = line.split()
        if not words:
            continue
        if words[0] == "FROM":
            image = words[1]
            check(PINNED.match(image) or image in stages,
                  f"Dockerfile: base image {image} is not pinned to an exact version")
            current = words[3] if len(words) > 3 and words[2].upper() == "AS" else image
            stages[current] = []
        elif current:
            stages[current].append(line)
        check(not re.search(r"\b(curl|wget)\b", line) and not re.match(r"ADD\s+https?://", line),
              f"Dockerfile: a download: {line.strip()}")
    builder = " ".join(stages.get("builder", []))
    copied = re.search(r"cp\s+((?:target/release/\S+\s+)+)/out/", builder)
    check(copied, "Dockerfile: the builder does not copy the runtime binaries to /out/")
    if copied:
        names = {Path(p).name for p in copied.group(1).split()}
        check(names == RUNTIME_BINARIES,
              f"Dockerfile: the production image gets {sorted(names)}, not only the services")
    runtime = " ".join(stages.get("runtime", []))
    check("fixtures" not in runtime and "/out-dev" not in runtime,
          "Dockerfile: the production stage adds the fake or the fixtures")
    check("/out-dev" in " ".join(stages.get("dev", [])), "Dockerfile: no dev stage adds the fake")


def published(service):
    """Host ports a compose service publishes on 127.0.0.1, mapped to container ports."""
    ports = {}
    for spec in service.get("ports", []):
        host_ip, host_port, container_port = spec.split(":")
        check(host_ip == "127.0.0.1", f"compose: {spec} is published beyond the host")
        ports[int(host_port)] = int(container_port)
    return ports


def host_reachable(url, service, what):
    parsed = urlparse(url)
    check(parsed.hostname in ("127.0.0.1", "localhost"),
          f"compose: {what} {url} names a host a browser on the host cannot resolve")
    check(parsed.port in published(service),
          f"compose: {what} {url} is not on a port the {service} publishes")


def compose(bin_dir):
    document = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = document["services"]
    for name, service in services.items():
        image = service.get("image", "")
        check(PINNED.match(image), f"compose: {name} runs {image!r}, not an exact version")
    for name in SERVICES:
        target = services[name].get("build", {}).get("target")
        check(target == "runtime", f"compose: {name} builds target {target!r}, not runtime")
    fake = services["fake-tone3000"]
    check(fake["build"]["target"] == "dev", "compose: the fake does not run the dev image")

    auth_env = services["auth"]["environment"]
    browser_url = auth_env.get("GTS_TONE3000_BROWSER_URL", auth_env.get("GTS_TONE3000_URL"))
    host_reachable(browser_url, fake, "the sign-in page")
    callback = auth_env["GTS_TONE3000_REDIRECT_URI"]
    host_reachable(callback, services["gateway"], "the sign-in callback")
    check(urlparse(callback).path == "/auth/callback", f"compose: callback {callback}")

    for name, binary in SERVICES.items():
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        # Give up on the (unresolvable) network's hosts at once instead of after 30 s.
        env["GTS_STARTUP_TIMEOUT_MS"] = "300"
        env["PATH"] = "/usr/bin:/bin"
        run = subprocess.run([str(Path(bin_dir) / binary)], env=env, capture_output=True,
                             text=True, timeout=60)
        check(run.returncode not in (0, 2) and "configuration error" not in run.stderr,
              f"compose: {binary} refuses compose's environment (exit {run.returncode}): "
              f"{run.stderr.strip()[-400:]}")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    dockerfile()
    compose(sys.argv[1])
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print("Dockerfile and docker-compose.yml: pinned, no downloads, production image holds "
          "only the services, sign-in reachable from the host, every service accepts "
          "compose's environment")


if __name__ == "__main__":
    main()
