//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod selfcheck;

use std::path::PathBuf;

/// The `shared/` folder: beside the checkout (CI) or two levels up (worktrees).
pub fn shared_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for c in [root.join("../shared"), root.join("../../shared")] {
        if c.is_dir() {
            return c;
        }
    }
    panic!("shared/ not found next to {}", root.display());
}
