//! The `compose2k8s` binary: parse the command line, read the process environment and
//! standard input, call the library, render diagnostics, map to exit codes
//! (0 ok, 1 invalid input or stale output, 2 usage).

mod cli;

/// A compile is mostly small allocations (spanned trees, strings, objects) made on
/// two threads; mimalloc serves them several times faster than glibc's malloc, whose
/// second-thread arena also grows by hundreds of `mprotect` calls.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
