//! The fixture harness: every folder in `fixtures/` with an `args` file is a case. The
//! real binary runs in that folder with a cleared environment (plus the folder's `env`
//! file, if any, and its `stdin` file as standard input); the snapshot in `snapshots/`
//! records the arguments, exit code, stdout and stderr. Outputs of successful `build`
//! runs also pass the output self-check (`tests/common/selfcheck.rs`).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

fn run_fixture(dir: &Path) -> (String, i32, String, String) {
    let args_text = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let args =
        shell_words::split(args_text.trim()).expect("args file must split like a shell line");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_compose2k8s"));
    cmd.args(&args).current_dir(dir).env_clear();
    if let Ok(env) = std::fs::read_to_string(dir.join("env")) {
        for line in env
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (k, v) = line.split_once('=').unwrap_or((line, ""));
            cmd.env(k, v);
        }
    }
    let stdin = std::fs::read(dir.join("stdin")).ok();
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary runs");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut si = child.stdin.take().expect("stdin");
        si.write_all(&input).expect("write stdin");
    }
    let out = child.wait_with_output().expect("binary finishes");
    (
        args_text.trim().to_string(),
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn fixtures() {
    insta::glob!("../fixtures", "*/args", |path| {
        let dir = path.parent().expect("fixture folder");
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let (args, code, stdout, stderr) = run_fixture(dir);
        assert!(
            !stdout.contains("panicked") && !stderr.contains("panicked"),
            "{name}: the binary panicked:\n{stderr}"
        );
        if name.starts_with("err-") {
            assert_ne!(code, 0, "{name}: an err- fixture must fail");
        }
        if code == 0
            && args
                .split_whitespace()
                .any(|a| a == "build" || a == "convert")
            && !args.contains("-o")
        {
            if let Err(problems) = common::selfcheck::check_stream(&stdout, &stderr) {
                panic!("{name}: output self-check failed:\n{}", problems.join("\n"));
            }
            if let Some(dump) = std::env::var_os("MANIFEST_DUMP") {
                if !args.contains("--format") {
                    let d = Path::new(&dump).join("fixtures");
                    std::fs::create_dir_all(&d).expect("dump dir");
                    std::fs::write(d.join(format!("{name}.yaml")), &stdout).expect("dump");
                }
            }
        }
        let snap = format!("args: {args}\nexit: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_suffix("");
        settings.set_input_file(dir.join("args"));
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(name.clone(), snap));
    });
}

/// A snapshot whose fixture was removed or renamed fails the suite.
#[test]
fn no_orphan_snapshots() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(root.join("snapshots"))
        .expect("snapshots/")
        .flatten()
    {
        let f = e.file_name().to_string_lossy().into_owned();
        let Some(case) = f.strip_suffix(".snap") else {
            continue;
        };
        if !root.join("fixtures").join(case).join("args").is_file() {
            orphans.push(f);
        }
    }
    assert!(
        orphans.is_empty(),
        "snapshots without a fixture: {orphans:?}"
    );
}
