//! STUB (owner: workloads helper): the container spec of a service.
