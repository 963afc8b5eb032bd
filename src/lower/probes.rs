//! STUB (owner: workloads helper): healthcheck -> readiness / startup / liveness probes.
