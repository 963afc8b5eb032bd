//! compose2k8s: compile Docker Compose projects into Kubernetes manifests.
//!
//! ```text
//! compose files, .env ──► compose (load, merge, interpolate, validate) ──► model::Project
//!                                                                            │
//!                                         lower (pure) ◄──────────────────────┘
//!                                              │
//!                                    Vec<Manifest> ──► emit (yaml | json | kustomize)
//! ```
//! The library never prints: it returns values and [`diag::Diagnostic`]s, and the
//! binary renders them.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod compose;
pub mod diag;
pub mod emit;
pub mod k8s;
pub mod lower;
pub mod source;
