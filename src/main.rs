//! The `compose2k8s` binary: parse the command line, read the process environment and
//! standard input, call the library, render diagnostics, map to exit codes
//! (0 ok, 1 invalid input or stale output, 2 usage).

mod cli;

fn main() {
    std::process::exit(cli::run());
}
