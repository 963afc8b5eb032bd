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
//! binary renders them. [`load`], [`lower()`](lower::lower) and [`emit`] are separate
//! stages so that callers (the CLI, benchmarks, a future `apply`) can time or reuse them.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod compose;
pub mod config_view;
pub mod diag;
pub mod emit;
pub mod k8s;
pub mod lower;
pub mod source;

pub use compose::load::{load, LoadOptions, Loaded};
