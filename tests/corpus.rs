//! Every real-world compose file in `../shared/corpus/` must load (`config`) and compile
//! (`build`, with a clean output self-check), run from its own folder with its `.env`,
//! as a user would. With `MANIFEST_DUMP=DIR` set, outputs are written there for the
//! external checks in `scripts/validate-manifests.sh` (kubernetes-validate, kubectl
//! kustomize).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus_dirs() -> Vec<PathBuf> {
    let root = common::shared_dir().join("corpus");
    let mut dirs = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.file_name().and_then(|n| n.to_str()),
                Some("compose.yaml" | "compose.yml" | "docker-compose.yml" | "docker-compose.yaml")
            ) {
                dirs.push(d.clone());
            }
        }
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_compose2k8s"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn corpus_compiles() {
    let dirs = corpus_dirs();
    assert!(!dirs.is_empty(), "no corpus found");
    let dump = std::env::var_os("MANIFEST_DUMP").map(PathBuf::from);
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let (code, _, stderr) = run(dir, &["config"]);
        if code != 0 {
            failures.push(format!("{name}: config exited {code}:\n{stderr}"));
            continue;
        }
        let (code, stdout, stderr) = run(dir, &["build"]);
        if code != 0 {
            failures.push(format!("{name}: build exited {code}:\n{stderr}"));
            continue;
        }
        if let Err(p) = common::selfcheck::check_stream(&stdout, &stderr) {
            failures.push(format!("{name}: self-check:\n{}", p.join("\n")));
        }
        if let Some(d) = &dump {
            let corpus = d.join("corpus");
            std::fs::create_dir_all(&corpus).expect("dump dir");
            std::fs::write(corpus.join(format!("{name}.yaml")), &stdout).expect("dump");
            let kdir = d.join("kustomize").join(&name);
            let k = kdir.to_string_lossy().into_owned();
            let (code, _, stderr) = run(dir, &["build", "--format", "kustomize", "-o", &k]);
            if code != 0 {
                failures.push(format!("{name}: kustomize build exited {code}:\n{stderr}"));
            }
            let hdir = d.join("kustomize-hash").join(&name);
            let h = hdir.to_string_lossy().into_owned();
            let (code, _, stderr) = run(
                dir,
                &["build", "--hash-suffix", "--format", "kustomize", "-o", &h],
            );
            if code != 0 {
                failures.push(format!(
                    "{name}: kustomize --hash-suffix exited {code}:\n{stderr}"
                ));
            }
        }
    }
    println!(
        "corpus: {} passed, {} failed",
        dirs.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
