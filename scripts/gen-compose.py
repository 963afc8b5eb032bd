#!/usr/bin/env python3
"""Generate a synthetic compose project of N services that uses what real stacks use:
an `x-` anchor merged into every service, ${VAR:-default} in images and environment,
three ports (one UDP), five environment variables of which two are sensitive, a
shell-form healthcheck, deploy.resources, deploy.replicas, a named volume per service
and service-to-service URLs. Deterministic: the same N gives the same bytes.

Usage: gen-compose.py N OUT_DIR   (writes OUT_DIR/compose.yaml and OUT_DIR/.env)
"""
import os
import sys


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    lines = [
        "name: bench",
        "x-defaults: &defaults",
        "  restart: unless-stopped",
        "  labels:",
        "    com.example.team: platform",
        "    com.example.tier: backend",
        "  stop_grace_period: 20s",
        "",
        "services:",
    ]
    vols = ["volumes:"]
    for i in range(n):
        s = f"svc-{i:05d}"
        nxt = f"svc-{(i + 1) % n:05d}"
        lines += [
            f"  {s}:",
            "    <<: *defaults",
            f"    image: ${{REGISTRY:-registry.example.com}}/team/{s}:${{TAG:-1.0.{i % 10}}}",
            "    ports:",
            '      - "8080"',
            '      - "9090"',
            '      - "5353/udp"',
            "    environment:",
            "      LOG_LEVEL: ${LOG_LEVEL:-info}",
            f"      UPSTREAM_URL: http://{nxt}:8080/api",
            f"      METRICS_URL: http://{nxt}:9090/metrics",
            f"      DB_PASSWORD: ${{DB_PASSWORD:-pw-{i:05d}}}",
            f"      API_TOKEN: tok-{i:05d}",
            "    healthcheck:",
            '      test: curl -fsS http://localhost:8080/health || exit 1',
            "      interval: 10s",
            "      timeout: 3s",
            "      retries: 3",
            "      start_period: 30s",
            "    deploy:",
            "      replicas: 2",
            "      resources:",
            '        limits: {cpus: "0.5", memory: 256M}',
            '        reservations: {cpus: "0.1", memory: 64M}',
            "    volumes:",
            f"      - {s}-data:/var/lib/app",
        ]
        vols.append(f"  {s}-data: {{}}")
    with open(os.path.join(out, "compose.yaml"), "w") as fh:
        fh.write("\n".join(lines + [""] + vols) + "\n")
    with open(os.path.join(out, ".env"), "w") as fh:
        fh.write("TAG=2.3.4\nLOG_LEVEL=debug\n")


if __name__ == "__main__":
    main()
