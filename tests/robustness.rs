//! No input makes compose2k8s panic. Every compose file we have (fixtures and the
//! real-world corpus) is mutated deterministically (truncated, lines dropped or
//! repeated, bytes replaced with YAML indicators and `$`), then loaded, lowered and
//! emitted in process; any panic fails the test with the input that caused it.

mod common;

use compose2k8s::lower::{lower, Options};
use compose2k8s::{emit, load, LoadOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn inputs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")),
        common::shared_dir().join("corpus"),
    ];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn mutate(text: &str, rng: &mut Rng) -> String {
    const BYTES: &[u8] = b":-[]{}&*!|>'\"%@`#, \t\n${}?<";
    let mut b = text.as_bytes().to_vec();
    match rng.below(5) {
        0 => b.truncate(rng.below(b.len() + 1)),
        1 | 2 => {
            for _ in 0..=rng.below(3) {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] = BYTES[rng.below(BYTES.len())];
                }
            }
        }
        _ => {
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                let i = rng.below(lines.len());
                if rng.below(2) == 0 {
                    lines.remove(i);
                } else {
                    let l = lines[i];
                    lines.insert(i, l);
                }
            }
            b = lines.join("\n").into_bytes();
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

fn compile(dir: &Path) {
    let mut env = BTreeMap::new();
    env.insert("TAG".to_string(), "1".to_string());
    let loaded = load(&LoadOptions {
        files: vec!["compose.yaml".into()],
        interpolate: true,
        cwd: dir.to_path_buf(),
        env,
        ..LoadOptions::default()
    });
    if let Some(p) = loaded.project {
        let lowered = lower(&p, &Options::default());
        let _ = emit::render_stream(&lowered.manifests);
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("compose.yaml");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    for input in inputs() {
        let Ok(text) = std::fs::read_to_string(&input) else {
            continue;
        };
        for _ in 0..12 {
            let m = mutate(&text, &mut rng);
            std::fs::write(&file, &m).expect("write");
            let d = dir.path().to_path_buf();
            if std::panic::catch_unwind(move || compile(&d)).is_err() {
                panic!("panic on a mutation of {}:\n{m}", input.display());
            }
            runs += 1;
        }
    }
    println!("robustness: {runs} passed, 0 failed");
}
