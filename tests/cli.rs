//! End-to-end tests of the command-line contract (README "Command line", mapping.md
//! "Output"): the real binary runs in temporary directories with a controlled
//! environment, offline, without timing assertions. It owns the properties no single
//! fixture can show: determinism across environments and directories, that secret
//! values reach stdout only base64-encoded in a Secret's `data` and never reach stderr
//! (also when a run fails), the `-o` / `--format` / `--check` modes and their
//! atomicity, exit codes, input-size and encoding limits, and compose-file discovery
//! (`COMPOSE_FILE`, `-f -`, `--project-directory`) beyond the `config-*` fixtures. It
//! must not duplicate fixture snapshots (exact texts live there) and must not depend
//! on anything outside its temporary directories except the bundled fixtures and,
//! when present, `kubectl`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_compose2k8s");

// ---------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------

/// What one run of the binary produced.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success, stderr:\n{}", self.stderr);
        self
    }
}

/// Run a prepared command, feeding `stdin` (if any) from a thread so that a binary
/// that stops reading early cannot dead-lock the test. Fails on a panic.
fn exec(mut cmd: Command, stdin: Option<Vec<u8>>) -> Out {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary runs");
    let feeder = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        // The binary may stop reading (size limit): a broken pipe is fine.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        })
    });
    let out = child.wait_with_output().expect("binary finishes");
    if let Some(f) = feeder {
        f.join().expect("stdin feeder");
    }
    let res = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !res.stderr.contains("panicked") && res.code != 101,
        "the binary panicked:\n{}",
        res.stderr
    );
    res
}

/// The binary in `dir` with exactly the environment `env` (nothing inherited).
fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Out {
    exec(command(dir, args, &[]), None)
}

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    exec(command(dir, args, env), None)
}

fn run_stdin(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Out {
    exec(command(dir, args, env), Some(stdin.to_vec()))
}

/// Like [`run_env`], but the process environment is laid out in exactly the given
/// order (`std::process::Command` sorts it, so this goes through `env -i`). Falls
/// back to the sorted order, with a note, when `env` is missing.
fn run_env_ordered(dir: &Path, args: &[&str], env: &[(String, String)]) -> Out {
    let have_env = Command::new("env")
        .arg("-i")
        .arg("true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_env {
        eprintln!("note: `env` not found; the environment is passed in sorted order");
        let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        return run_env(dir, args, &pairs);
    }
    let mut cmd = Command::new("env");
    cmd.arg("-i").current_dir(dir);
    for (k, v) in env {
        cmd.arg(format!("{k}={v}"));
    }
    cmd.arg(BIN).args(args);
    exec(cmd, None)
}

/// Write `content` at `dir/rel`, creating parent folders.
fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(p, content).unwrap();
}

/// Every file and folder under `dir` (relative path -> content; folders map to
/// `None`), for "nothing changed" assertions.
fn tree(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Option<Vec<u8>>>) {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else {
                out.insert(rel, Some(fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The documents of a YAML stream as JSON values.
fn yaml_docs(stream: &str) -> Vec<Json> {
    serde_yaml::Deserializer::from_str(stream)
        .map(|d| <Json as serde::Deserialize>::deserialize(d).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

/// `Kind/namespace/name` -> object, to compare object sets regardless of order.
fn by_id(objs: impl IntoIterator<Item = Json>) -> BTreeMap<String, Json> {
    let mut out = BTreeMap::new();
    for o in objs {
        let id = format!(
            "{}/{}/{}",
            o["kind"].as_str().unwrap_or(""),
            o["metadata"]["namespace"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap_or("")
        );
        assert!(out.insert(id.clone(), o).is_none(), "object {id} twice");
    }
    out
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// A copy of the bundled example (it has `name: voting-app`).
fn voting_app(dir: &Path) {
    let text = fs::read(fixture("example-voting-app").join("compose.yaml")).unwrap();
    write(dir, "compose.yaml", text);
}

fn have_kubectl() -> bool {
    let ok = Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: kubectl not on PATH, skipping the kubectl kustomize check");
    }
    ok
}

// ---------------------------------------------------------------------------------
// 1. Determinism
// ---------------------------------------------------------------------------------

/// A project with every input kind that reads files: `.env`, `env_file`, top-level
/// `configs` (file and content) and `secrets`, a bind-mounted file and folder, a
/// named volume. `reverse` writes the files in the opposite order (directory
/// listings must not leak into the output).
fn shop(dir: &Path, reverse: bool) {
    let mut files: Vec<(&str, &str)> = vec![
        (
            "compose.yaml",
            r#"services:
  api:
    image: example/api:1.2
    env_file: [api.env]
    environment:
      LOG_LEVEL: info
      DB_PASSWORD: ${DB_PASSWORD}
      REGION: ${REGION:-eu}
    secrets: [db_password]
    configs:
      - source: app_conf
        target: /etc/app/app.conf
      - inline_conf
    volumes:
      - ./static:/usr/share/static:ro
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
      - data:/var/lib/api
    ports: ["8080:8080"]
  worker:
    image: example/worker
    environment:
      QUEUE: jobs
      MODE: ${MODE}
    depends_on: [api]
configs:
  app_conf:
    file: ./app.conf
  inline_conf:
    content: |
      mode=${MODE:-prod}
secrets:
  db_password:
    file: ./db_password.txt
volumes:
  data:
"#,
        ),
        (".env", "DB_PASSWORD=dotenv-password\nMODE=from-dotenv\n"),
        ("api.env", "API_TOKEN=token-1\nFEATURE=on\n"),
        ("app.conf", "listen=8080\n"),
        ("static/a.html", "<h1>a</h1>\n"),
        ("static/m.css", "body {}\n"),
        ("static/z.js", "let z = 1;\n"),
        ("static/b.txt", "b\n"),
        ("nginx.conf", "events {}\n"),
        ("db_password.txt", "file-password"),
    ];
    if reverse {
        files.reverse();
    }
    for (rel, content) in files {
        write(dir, rel, content);
    }
}

/// The host name, when the system tells it.
fn host_name() -> Option<String> {
    let from_proc = fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let name = from_proc.or_else(|| {
        let out = Command::new("hostname").output().ok()?;
        String::from_utf8(out.stdout).ok()
    })?;
    let name = name.trim().to_string();
    (!name.is_empty()).then_some(name)
}

fn contains_word(text: &str, word: &str) -> bool {
    let re = regex::Regex::new(&format!(
        r"(^|[^A-Za-z0-9]){}($|[^A-Za-z0-9])",
        regex::escape(word)
    ))
    .unwrap();
    re.is_match(text)
}

/// Nothing in `text` may depend on the machine: the project's absolute path, the host
/// name, the date or the tool's version.
fn assert_machine_independent(what: &str, text: &str, inputs: &str, roots: &[&Path]) {
    for root in roots {
        for p in [root.to_path_buf(), root.canonicalize().unwrap()] {
            let p = p.to_string_lossy().into_owned();
            assert!(!text.contains(&p), "{what}: contains the path {p}");
        }
    }
    match host_name() {
        Some(h) if contains_word(inputs, &h) => {
            eprintln!("note: host name `{h}` appears in the inputs; not checked");
        }
        Some(h) => assert!(
            !contains_word(text, &h),
            "{what}: contains the host name {h}"
        ),
        None => eprintln!("note: host name unknown; not checked"),
    }
    let date = regex::Regex::new(r"(19|20)\d\d-[01]\d-[0-3]\d|\b\d\d:\d\d:\d\d\b").unwrap();
    assert!(
        !date.is_match(text),
        "{what}: contains a date or time: {:?}",
        date.find(text).map(|m| m.as_str())
    );
    let version = env!("CARGO_PKG_VERSION");
    if !inputs.contains(version) {
        assert!(
            !text.contains(version),
            "{what}: contains the tool version {version}"
        );
    }
}

/// Two environments with the same project variables in different orders, and
/// different irrelevant variables.
fn two_environments(a: &Path, b: &Path) -> [Vec<(String, String)>; 2] {
    let project = [
        ("POSTGRES_PASSWORD", "pg-pass"),
        ("VOTE_TAG", "v7"),
        ("REGION", "us"),
    ];
    let s = |k: &str, v: &str| (k.to_string(), v.to_string());
    let mut first: Vec<(String, String)> = project.iter().map(|(k, v)| s(k, v)).collect();
    first.extend([
        s("HOME", &a.to_string_lossy()),
        s("PWD", &a.to_string_lossy()),
        s("HOSTNAME", "alpha-host"),
        s("TZ", "UTC"),
        s("LANG", "C"),
        s("USER", "alice"),
        s("EXTRA_ONE", "1"),
    ]);
    let mut second = vec![
        s("ZZ_UNRELATED", "zz"),
        s("TZ", "Pacific/Chatham"),
        s("LANG", "de_DE.UTF-8"),
        s("LC_ALL", "tr_TR.UTF-8"),
        s("HOSTNAME", "beta-host.example.org"),
        s("HOME", &b.to_string_lossy()),
        s("PWD", &b.to_string_lossy()),
        s("USER", "bob"),
        s("TERM", "xterm-256color"),
        s("COLUMNS", "37"),
        s("SOURCE_DATE_EPOCH", "0"),
    ];
    second.extend(project.iter().rev().map(|(k, v)| s(k, v)));
    [first, second]
}

#[test]
fn same_bytes_across_environments_and_directories() {
    let tmp_a = tempfile::tempdir().unwrap();
    let tmp_b = tempfile::tempdir().unwrap();
    let variants: &[&[&str]] = &[
        &["build"],
        &["build", "--format", "json"],
        &[
            "build",
            "-n",
            "prod",
            "--create-namespace",
            "--hash-suffix",
            "--network-policies",
            "--ingress-host",
            "{{ service }}.{{ namespace }}.example.com",
        ],
        &["config"],
        &["config", "--format", "json"],
    ];
    for project in ["voting-app", "shop"] {
        let a = tmp_a.path().join(project);
        let b = tmp_b.path().join("deeper/nested").join(project);
        if project == "shop" {
            shop(&a, false);
            shop(&b, true);
        } else {
            voting_app(&a);
            voting_app(&b);
        }
        let inputs: String = tree(&a)
            .into_values()
            .flatten()
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .collect();
        let [env_a, env_b] = two_environments(tmp_a.path(), tmp_b.path());
        for args in variants {
            let what = format!("{project}: {}", args.join(" "));
            let one = run_env_ordered(&a, args, &env_a);
            let two = run_env_ordered(&b, args, &env_b);
            one.ok();
            two.ok();
            assert!(!one.stdout.is_empty(), "{what}: no output");
            assert!(one.stdout == two.stdout, "{what}: stdout differs");
            assert_eq!(one.stderr, two.stderr, "{what}: diagnostics differ");
            let roots = [tmp_a.path(), tmp_b.path()];
            assert_machine_independent(&what, &one.stdout, &inputs, &roots);
            assert_machine_independent(&what, &one.stderr, &inputs, &roots);
        }
        // Directory output: the same files with the same bytes.
        for args in [
            &["build", "-o", "out/"][..],
            &["build", "--format", "kustomize", "-o", "k"],
        ] {
            let what = format!("{project}: {}", args.join(" "));
            run_env_ordered(&a, args, &env_a).ok();
            run_env_ordered(&b, args, &env_b).ok();
            let dir = args[args.len() - 1];
            assert!(
                tree(&a.join(dir)) == tree(&b.join(dir)),
                "{what}: files differ"
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// 2. Secret values
// ---------------------------------------------------------------------------------

/// One unique value per way a secret can enter a project.
const SENTINELS: &[(&str, &str)] = &[
    ("literal in environment", "SENTINEL_7f3a_LITERAL_VALUE"),
    ("list-form environment", "SENTINEL_7f3a_LISTFORM_VALUE"),
    ("${VAR} from .env", "SENTINEL_7f3a_DOTENV_VALUE"),
    ("${VAR} from the process", "SENTINEL_7f3a_PROCENV_VALUE"),
    ("env_file", "SENTINEL_7f3a_ENVFILE_VALUE"),
    ("secrets: file:", "SENTINEL_7f3a_SECRETFILE_VALUE"),
    ("secrets: environment:", "SENTINEL_7f3a_SECRETENV_VALUE"),
    ("bind-mounted key file", "SENTINEL_7f3a_KEYFILE_VALUE"),
];

const SECRET_COMPOSE: &str = r#"services:
  web:
    image: nginx:1.27
    environment:
      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE
      FROM_DOTENV_PASSWORD: ${DOTENV_DB_PASSWORD}
      FROM_PROCESS_SECRET: ${PROC_PW}
      PLAIN_SETTING: hello
    env_file: app.env
    secrets:
      - db_pw
      - env_secret
    volumes:
      - ./tls/server.key:/etc/tls/server.key:ro
    ports: ["8080:80"]
  worker:
    image: busybox:1.36
    command: ["sleep", "infinity"]
    environment:
      - SESSION_SECRET=SENTINEL_7f3a_LISTFORM_VALUE
      - QUEUE=jobs
secrets:
  db_pw:
    file: ./db_pw.txt
  env_secret:
    environment: ENV_SECRET_VAR
"#;

/// The process environment of every secret run.
const SECRET_ENV: &[(&str, &str)] = &[
    ("PROC_PW", "SENTINEL_7f3a_PROCENV_VALUE"),
    ("ENV_SECRET_VAR", "SENTINEL_7f3a_SECRETENV_VALUE"),
];

fn secret_project(dir: &Path) {
    write(dir, "compose.yaml", SECRET_COMPOSE);
    write(
        dir,
        ".env",
        "DOTENV_DB_PASSWORD=SENTINEL_7f3a_DOTENV_VALUE\n",
    );
    write(
        dir,
        "app.env",
        "API_TOKEN=SENTINEL_7f3a_ENVFILE_VALUE\nPLAIN_FROM_FILE=ok\n",
    );
    write(dir, "db_pw.txt", "SENTINEL_7f3a_SECRETFILE_VALUE");
    write(
        dir,
        "tls/server.key",
        "-----BEGIN PRIVATE KEY-----\nSENTINEL_7f3a_KEYFILE_VALUE\n-----END PRIVATE KEY-----\n",
    );
}

/// The base64 text that any encoding of a string containing `s` must contain, for
/// each of the three alignments of `s` (only the 4-character groups made entirely of
/// bytes of `s`).
fn base64_cores(s: &str) -> Vec<String> {
    (0..3)
        .map(|k| {
            let mut bytes = vec![b'x'; k];
            bytes.extend_from_slice(s.as_bytes());
            let enc = B64.encode(&bytes);
            let (from, to) = (k.div_ceil(3), (k + s.len()) / 3);
            enc[4 * from..4 * to].to_string()
        })
        .collect()
}

/// The sentinels found in `text`, plain or base64-encoded.
fn sentinels_in(text: &str) -> Vec<&'static str> {
    SENTINELS
        .iter()
        .map(|(_, s)| *s)
        .filter(|s| text.contains(s) || base64_cores(s).iter().any(|c| text.contains(c)))
        .collect()
}

/// Every string (keys included) of a JSON value, with its path.
fn strings<'a>(v: &'a Json, path: &str, out: &mut Vec<(String, &'a str)>) {
    match v {
        Json::String(s) => out.push((path.to_string(), s)),
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, &format!("{path}[{i}]"), out);
            }
        }
        Json::Object(map) => {
            for (k, item) in map {
                let p = format!("{path}.{k}");
                out.push((format!("{p} (key)"), k));
                strings(item, &p, out);
            }
        }
        _ => {}
    }
}

/// Checks the objects of one `build`: every sentinel is in some Secret's decoded
/// `data` and nowhere else (no other object, no Secret metadata, no `stringData`).
fn assert_sentinels_only_in_secret_data(what: &str, objects: &[Json]) {
    let mut found: BTreeSet<&str> = BTreeSet::new();
    let mut problems = Vec::new();
    for o in objects {
        let id = format!(
            "{}/{}",
            o["kind"].as_str().unwrap_or(""),
            o["metadata"]["name"].as_str().unwrap_or("")
        );
        let mut all = Vec::new();
        if o["kind"] == "Secret" {
            let obj = o.as_object().unwrap();
            assert!(
                !obj.contains_key("stringData"),
                "{what}: {id} has stringData"
            );
            for (k, v) in obj {
                if k == "data" {
                    for (key, val) in v.as_object().unwrap() {
                        all.push((format!(".data.{key} (key)"), key.as_str()));
                        let bytes = B64.decode(val.as_str().unwrap()).unwrap();
                        let text = String::from_utf8_lossy(&bytes);
                        found.extend(
                            SENTINELS
                                .iter()
                                .map(|(_, s)| *s)
                                .filter(|s| text.contains(s)),
                        );
                    }
                } else {
                    strings(v, &format!(".{k}"), &mut all);
                }
            }
        } else {
            strings(o, "", &mut all);
        }
        for (path, s) in all {
            for leaked in sentinels_in(s) {
                problems.push(format!("{id}{path} holds {leaked}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{what}: secret values leak:\n{}",
        problems.join("\n")
    );
    for (source, s) in SENTINELS {
        assert!(
            found.contains(s),
            "{what}: the value from {source} ({s}) is in no Secret"
        );
    }
}

#[test]
fn secret_values_only_in_secret_data() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    secret_project(dir);
    for args in [
        &["build"][..],
        &["build", "--hash-suffix", "-n", "team", "--network-policies"],
    ] {
        let what = args.join(" ");
        let out = run_env(dir, args, SECRET_ENV);
        out.ok();
        assert_sentinels_only_in_secret_data(&what, &yaml_docs(&out.stdout));
        for (_, s) in SENTINELS {
            assert!(!out.stdout.contains(s), "{what}: {s} in plain text");
        }
        assert_eq!(
            sentinels_in(&out.stderr),
            Vec::<&str>::new(),
            "{what}: stderr"
        );
    }
    let out = run_env(dir, &["build", "--format", "json"], SECRET_ENV);
    out.ok();
    let list: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_sentinels_only_in_secret_data("json", list["items"].as_array().unwrap());
    assert_eq!(
        sentinels_in(&out.stderr),
        Vec::<&str>::new(),
        "json: stderr"
    );
}

/// A failing variant of the secret project: replace `from` by `to` in `file`.
struct FailCase {
    name: &'static str,
    file: &'static str,
    from: &'static str,
    to: &'static str,
    args: &'static [&'static str],
}

const WEB_ENV_BLOCK: &str = "      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE\n";
/// The whole `environment:` of `web` in [`SECRET_COMPOSE`].
const WEB_ENV: &str = "    environment:
      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE
      FROM_DOTENV_PASSWORD: ${DOTENV_DB_PASSWORD}
      FROM_PROCESS_SECRET: ${PROC_PW}
      PLAIN_SETTING: hello
";

/// Each must fail (exit 1) and print no secret value.
const FAIL_CASES: &[FailCase] = &[
    FailCase {
        name: "unknown key next to the secret",
        file: "compose.yaml",
        from: "    env_file: app.env\n",
        to: "    env_file: app.env\n    imagee: nginx\n",
        args: &["build"],
    },
    FailCase {
        name: "unknown key next to the secret (config)",
        file: "compose.yaml",
        from: "    env_file: app.env\n",
        to: "    env_file: app.env\n    imagee: nginx\n",
        args: &["config"],
    },
    FailCase {
        name: "required variable missing on the secret's line",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE${MISSING_X:?set MISSING_X}\n",
        args: &["build"],
    },
    FailCase {
        name: "required variable missing on a list-form secret line (config)",
        file: "compose.yaml",
        from: "      - SESSION_SECRET=SENTINEL_7f3a_LISTFORM_VALUE\n",
        to: "      - SESSION_SECRET=SENTINEL_7f3a_LISTFORM_VALUE${MISSING_X:?set it}\n",
        args: &["config"],
    },
    FailCase {
        name: "malformed interpolation on the secret's line",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE${oops\n",
        args: &["build"],
    },
    FailCase {
        name: "wrong type under a secret name",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      DB_PASSWORD: [SENTINEL_7f3a_LITERAL_VALUE]\n",
        args: &["build"],
    },
    FailCase {
        name: "duplicate secret key",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE\n      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE\n",
        args: &["build"],
    },
    FailCase {
        name: "unterminated quote on the secret's line",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      DB_PASSWORD: \"SENTINEL_7f3a_LITERAL_VALUE\n",
        args: &["build"],
    },
    FailCase {
        name: "tab indentation on the secret's line",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "\tDB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE\n",
        args: &["build"],
    },
    FailCase {
        name: "bad env_file line holding a secret (space in the key)",
        file: "app.env",
        from: "API_TOKEN=",
        to: "API TOKEN=",
        args: &["build"],
    },
    FailCase {
        name: "bad .env line holding a secret (config)",
        file: ".env",
        from: "DOTENV_DB_PASSWORD=",
        to: "DOTENV_DB PASSWORD=",
        args: &["config"],
    },
    FailCase {
        name: "sensitive name that is not a Secret key",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE\n      1ST_TOKEN~: SENTINEL_7f3a_LITERAL_VALUE\n",
        args: &["build"],
    },
    FailCase {
        name: "--strict turns the warnings into errors",
        file: "compose.yaml",
        from: "",
        to: "",
        args: &["build", "--strict"],
    },
    FailCase {
        name: "--strict with a relaxed-name secret",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE\n      1ST_TOKEN: SENTINEL_7f3a_LITERAL_VALUE\n",
        args: &["build", "--strict"],
    },
    FailCase {
        name: "--scale names an unknown service",
        file: "compose.yaml",
        from: "",
        to: "",
        args: &["build", "--scale", "nope=2"],
    },
    FailCase {
        name: "secret from an unset variable",
        file: "compose.yaml",
        from: "environment: ENV_SECRET_VAR",
        to: "environment: UNSET_SECRET_VAR",
        args: &["build"],
    },
    // Lines that used to leak: flow collections, block scalars, quoted keys with `:`,
    // env-file lines, dotenv messages, secret values quoted in other messages.
    FailCase {
        name: "flow mapping: the whole line is shown unredacted",
        file: "compose.yaml",
        from: WEB_ENV,
        to: "    environment: {DB_PASSWORD: SENTINEL_7f3a_LITERAL_VALUE, X: \"${MISSING_X:?err}\"}\n",
        args: &["build"],
    },
    FailCase {
        name: "flow sequence: the whole line is shown unredacted",
        file: "compose.yaml",
        from: "    environment:\n      - SESSION_SECRET=SENTINEL_7f3a_LISTFORM_VALUE\n      - QUEUE=jobs\n",
        to: "    environment: [\"SESSION_SECRET=SENTINEL_7f3a_LISTFORM_VALUE\", \"Q=${MISSING_X:?err}\"]\n",
        args: &["build"],
    },
    FailCase {
        name: "block scalar: an error inside the value shows its line",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      PRIVATE_KEY: |\n        SENTINEL_7f3a_LITERAL_VALUE ${MISSING_X:?err}\n",
        args: &["build"],
    },
    FailCase {
        name: "quoted sensitive key containing `:`",
        file: "compose.yaml",
        from: WEB_ENV_BLOCK,
        to: "      \"DB:PASSWORD\": SENTINEL_7f3a_LITERAL_VALUE\n",
        args: &["build"],
    },
    FailCase {
        name: "env_file line without `=`",
        file: "app.env",
        from: "API_TOKEN=",
        to: "API_TOKEN ",
        args: &["build"],
    },
    FailCase {
        name: ".env line without `=`",
        file: ".env",
        from: "DOTENV_DB_PASSWORD=",
        to: "DOTENV_DB_PASSWORD ",
        args: &["config"],
    },
    FailCase {
        name: ".env line whose name does not look sensitive: shown whole",
        file: ".env",
        from: "DOTENV_DB_PASSWORD=",
        to: "DB PW=",
        args: &["config"],
    },
    FailCase {
        name: "env_file unterminated quote: the message quotes the value",
        file: "app.env",
        from: "API_TOKEN=SENTINEL_7f3a_ENVFILE_VALUE\n",
        to: "API_TOKEN=\"SENTINEL_7f3a_ENVFILE_VALUE\n",
        args: &["build"],
    },
    FailCase {
        name: "a secret variable interpolated into a port: the message quotes it",
        file: "compose.yaml",
        from: "    ports: [\"8080:80\"]\n",
        to: "    ports: [\"${PROC_PW}\"]\n",
        args: &["build"],
    },
];

/// Runs one failing case; returns the sentinels its stderr shows.
fn fail_case_leaks(case: &FailCase) -> Vec<&'static str> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    secret_project(dir);
    let text = fs::read_to_string(dir.join(case.file)).unwrap();
    assert!(
        text.contains(case.from),
        "{}: `{}` not in {}",
        case.name,
        case.from,
        case.file
    );
    write(dir, case.file, text.replacen(case.from, case.to, 1));
    let out = run_env(dir, case.args, SECRET_ENV);
    assert_eq!(
        out.code, 1,
        "{}: must fail with 1:\n{}",
        case.name, out.stderr
    );
    assert!(
        out.stderr.contains("error"),
        "{}: no error shown",
        case.name
    );
    sentinels_in(&out.stderr)
}

#[test]
fn failing_runs_never_print_secret_values() {
    let mut problems = Vec::new();
    for case in FAIL_CASES {
        let leaked = fail_case_leaks(case);
        if !leaked.is_empty() {
            problems.push(format!("{}: {leaked:?}", case.name));
        }
    }
    assert!(
        problems.is_empty(),
        "stderr shows secret values:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// 3. Output modes
// ---------------------------------------------------------------------------------

/// The YAML stream's documents as text, each ending with a newline.
fn stream_docs(stream: &str) -> Vec<String> {
    stream
        .split("\n---\n")
        .map(|d| {
            if d.ends_with('\n') {
                d.to_string()
            } else {
                format!("{d}\n")
            }
        })
        .collect()
}

/// `<name>-<kind>.yaml` of a YAML document.
fn file_name_of(doc: &str) -> String {
    let v: Json = serde_yaml::from_str(doc).unwrap();
    format!(
        "{}-{}.yaml",
        v["metadata"]["name"].as_str().unwrap(),
        v["kind"].as_str().unwrap().to_lowercase()
    )
}

#[test]
fn output_file_is_the_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    let stream = run(dir, &["build"]).ok().stdout.clone();
    let out = run(dir, &["build", "-o", "out.yaml"]);
    out.ok();
    assert_eq!(out.stdout, "", "-o FILE prints nothing");
    assert_eq!(fs::read_to_string(dir.join("out.yaml")).unwrap(), stream);
    // Into a new subfolder, and over an existing file.
    run(dir, &["build", "-o", "sub/dir/out.yaml"]).ok();
    assert_eq!(
        fs::read_to_string(dir.join("sub/dir/out.yaml")).unwrap(),
        stream
    );
    write(dir, "out.yaml", "old content\n");
    run(dir, &["build", "-o", "out.yaml"]).ok();
    assert_eq!(fs::read_to_string(dir.join("out.yaml")).unwrap(), stream);
    // JSON into a file is the same List as on stdout.
    let json = run(dir, &["build", "--format", "json"]).ok().stdout.clone();
    run(dir, &["build", "--format", "json", "-o", "out.json"]).ok();
    assert_eq!(fs::read_to_string(dir.join("out.json")).unwrap(), json);
}

#[test]
fn output_dir_has_one_file_per_object() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    let stream = run(dir, &["build"]).ok().stdout.clone();
    let docs = stream_docs(&stream);
    assert!(docs.len() > 10, "the example has many objects");
    let expected: BTreeMap<String, Option<Vec<u8>>> = docs
        .iter()
        .map(|d| (file_name_of(d), Some(d.clone().into_bytes())))
        .collect();
    assert_eq!(expected.len(), docs.len(), "file names are unique");
    // Trailing slash, and an existing directory without one.
    fs::create_dir(dir.join("existing")).unwrap();
    for target in ["out/", "existing"] {
        let out = run(dir, &["build", "-o", target]);
        out.ok();
        assert_eq!(out.stdout, "");
        assert_eq!(tree(&dir.join(target)), expected, "-o {target}");
    }
    // In stream order, the files' concatenation is the stream's content.
    let joined: String = docs
        .iter()
        .map(|d| fs::read_to_string(dir.join("out").join(file_name_of(d))).unwrap())
        .collect::<Vec<_>>()
        .join("---\n");
    assert_eq!(joined, stream);
}

#[test]
fn json_is_a_list_of_the_same_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    for extra in [
        &[][..],
        &["-n", "demo", "--create-namespace", "--hash-suffix"],
    ] {
        let yaml_args: Vec<&str> = [&["build"][..], extra].concat();
        let json_args: Vec<&str> = [&["build", "--format", "json"][..], extra].concat();
        let stream = yaml_docs(&run(dir, &yaml_args).ok().stdout);
        let list: Json = serde_json::from_str(&run(dir, &json_args).ok().stdout).unwrap();
        assert_eq!(list["apiVersion"], "v1");
        assert_eq!(list["kind"], "List");
        let items = list["items"].as_array().unwrap().clone();
        assert_eq!(items, stream, "same objects in the same order ({extra:?})");
    }
}

#[test]
fn kustomize_dir_builds_to_the_same_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    for extra in [&[][..], &["-n", "demo", "--create-namespace"]] {
        let yaml_args: Vec<&str> = [&["build"][..], extra].concat();
        let k_args: Vec<&str> =
            [&["build", "--format", "kustomize", "-o", "k"][..], extra].concat();
        let stream = yaml_docs(&run(dir, &yaml_args).ok().stdout);
        let out = run(dir, &k_args);
        out.ok();
        assert_eq!(out.stdout, "");
        let files = tree(&dir.join("k"));
        assert!(files.contains_key("kustomization.yaml"));
        assert_eq!(
            files.len(),
            stream.len() + 1,
            "one file per object + kustomization"
        );
        if !have_kubectl() {
            return;
        }
        let built = Command::new("kubectl")
            .arg("kustomize")
            .arg(dir.join("k"))
            .output()
            .unwrap();
        assert!(
            built.status.success(),
            "kubectl kustomize failed: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        let built = yaml_docs(&String::from_utf8(built.stdout).unwrap());
        assert_eq!(
            by_id(built),
            by_id(stream),
            "kustomize build differs ({extra:?})"
        );
    }
}

#[test]
fn check_file_target() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    // Missing: stale, nothing written.
    let out = run(dir, &["build", "--check", "-o", "out.yaml"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.starts_with("--- /dev/null\n+++ b/out.yaml\n"),
        "{}",
        out.stdout
    );
    assert!(!dir.join("out.yaml").exists(), "--check wrote the file");
    // Fresh.
    run(dir, &["build", "-o", "out.yaml"]).ok();
    let fresh = run(dir, &["build", "--check", "-o", "out.yaml"]);
    fresh.ok();
    assert_eq!(fresh.stdout, "");
    // Stale: a diff naming the path as given (no absolute path), file untouched.
    let mut text = fs::read_to_string(dir.join("out.yaml")).unwrap();
    text.push_str("# hand edit\n");
    write(dir, "out.yaml", &text);
    let out = run(dir, &["build", "--check", "-o", "out.yaml"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.starts_with("--- a/out.yaml\n+++ b/out.yaml\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\n-# hand edit\n"));
    assert!(out.stderr.contains("stale"), "{}", out.stderr);
    assert!(!out.stdout.contains(&*dir.to_string_lossy()));
    assert_eq!(fs::read_to_string(dir.join("out.yaml")).unwrap(), text);
}

#[test]
fn check_dir_target() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    run(dir, &["build", "-o", "out/"]).ok();
    write(dir, "out/README.md", "not ours\n");
    let fresh = run(dir, &["build", "--check", "-o", "out/"]);
    fresh.ok();
    assert_eq!(fresh.stdout, "", "fresh, foreign files ignored");
    let clean = tree(&dir.join("out"));

    type Tamper = fn(&Path);
    let cases: &[(&str, Tamper, &str)] = &[
        (
            "modified",
            |d| {
                let p = d.join("out/redis-service.yaml");
                let t = fs::read_to_string(&p).unwrap();
                let edited = t.replace("clusterIP: None", "clusterIP: 10.0.0.1");
                assert_ne!(t, edited);
                fs::write(p, edited).unwrap();
            },
            "--- a/redis-service.yaml\n+++ b/redis-service.yaml\n",
        ),
        (
            "deleted",
            |d| fs::remove_file(d.join("out/vote-service.yaml")).unwrap(),
            "--- /dev/null\n+++ b/vote-service.yaml\n",
        ),
        (
            "extra object",
            |d| {
                fs::write(
                    d.join("out/old-configmap.yaml"),
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n",
                )
                .unwrap()
            },
            "--- a/old-configmap.yaml\n+++ /dev/null\n",
        ),
    ];
    for (name, tamper, header) in cases {
        run(dir, &["build", "-o", "out/"]).ok();
        assert_eq!(tree(&dir.join("out")), clean);
        tamper(dir);
        let before = tree(&dir.join("out"));
        let out = run(dir, &["build", "--check", "-o", "out/"]);
        assert_eq!(out.code, 1, "{name}: stale must exit 1");
        assert!(out.stdout.contains(header), "{name}: diff:\n{}", out.stdout);
        assert!(out.stderr.contains("stale"), "{name}: {}", out.stderr);
        assert_eq!(tree(&dir.join("out")), before, "{name}: --check wrote");
    }
}

#[test]
fn failed_run_leaves_outputs_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    let targets: &[&[&str]] = &[
        &["-o", "out.yaml"],
        &["-o", "out/"],
        &["--format", "json", "-o", "out.json"],
        &["--format", "kustomize", "-o", "k"],
    ];
    for t in targets {
        run(dir, &[&["build"][..], t].concat()).ok();
    }
    write(dir, "out/README.md", "keep me\n");
    let before = tree(dir);
    // Invalid compose: a load error.
    let broken = fs::read_to_string(dir.join("compose.yaml"))
        .unwrap()
        .replacen(
            "services:\n",
            "services:\n  broken:\n    image: [not, a, string]\n",
            1,
        );
    assert!(broken.contains("broken:"));
    write(dir, "compose.yaml", &broken);
    let before: BTreeMap<_, _> = before
        .into_iter()
        .map(|(k, v)| {
            if k == "compose.yaml" {
                (k, Some(broken.clone().into_bytes()))
            } else {
                (k, v)
            }
        })
        .collect();
    for t in targets {
        let out = run(dir, &[&["build"][..], t].concat());
        assert_eq!(out.code, 1, "{t:?}: {}", out.stderr);
        assert_eq!(out.stdout, "");
        for check in [false, true] {
            let args = [
                &["build"][..],
                if check { &["--check"][..] } else { &[] },
                t,
            ]
            .concat();
            assert_eq!(run(dir, &args).code, 1);
        }
        assert!(
            tree(dir) == before,
            "{t:?}: a failed run changed the outputs"
        );
    }
    // A compile error after a successful load (--strict) does not write either.
    voting_app(dir);
    let before = tree(dir);
    for t in targets {
        let out = run(dir, &[&["build", "--strict"][..], t].concat());
        assert_eq!(out.code, 1, "{t:?}");
        assert!(
            tree(dir) == before,
            "{t:?}: --strict failure changed the outputs"
        );
    }
}

#[test]
fn output_below_a_regular_file_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    voting_app(dir);
    write(dir, "afile", "I am a file\n");
    let before = tree(dir);
    for args in [
        &["build", "-o", "afile/out.yaml"][..],
        &["build", "-o", "afile/out/"],
        &["build", "-o", "afile/"],
        &["build", "--format", "kustomize", "-o", "afile/k"],
        &["build", "--format", "kustomize", "-o", "afile"],
        &["build", "--check", "-o", "afile/out/"],
    ] {
        let out = run(dir, args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("error: "), "{args:?}: no message");
        assert!(
            out.stderr.contains("afile"),
            "{args:?}: the message names the path"
        );
        assert_eq!(out.stdout, "");
        assert!(tree(dir) == before, "{args:?}: left something behind");
    }
}

// ---------------------------------------------------------------------------------
// 4. Exit codes
// ---------------------------------------------------------------------------------

#[test]
fn exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    let bad = tmp.path().join("bad");
    voting_app(&good);
    write(
        &bad,
        "compose.yaml",
        "services:\n  web:\n    imagee: nginx\n",
    );
    let usage: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["build", "--bogus"],
        &["--bogus", "config"],
        &["build", "--scale", "vote"],
        &["build", "--scale", "vote=-1"],
        &["build", "--scale", "vote=many"],
        &["build", "--check"],
        &["build", "--format", "kustomize"],
        &["build", "--format", "yml"],
        &["build", "--create-namespace"],
        &["build", "--secret-pattern", "("],
        &["build", "-o", ""],
        &["config", "--format", "kustomize"],
        &["config", "-o", "x.yaml"],
    ];
    for args in usage {
        // Usage errors win over invalid input: nothing is loaded.
        for dir in [&good, &bad] {
            let out = run(dir, args);
            assert_eq!(out.code, 2, "{args:?} in {dir:?}: {}", out.stderr);
            assert_eq!(out.stdout, "", "{args:?}");
            assert!(!out.stderr.is_empty(), "{args:?}: no message");
            assert!(
                !out.stderr.contains("-->") && !out.stderr.contains("warning"),
                "{args:?}: the project was loaded before the usage error:\n{}",
                out.stderr
            );
        }
    }
    for args in [
        &["build"][..],
        &["config"],
        &["convert"],
        &["--help"],
        &["build", "--help"],
    ] {
        run(&good, args).ok();
    }
    let version = run(&good, &["--version"]);
    version.ok();
    assert!(version.stdout.contains(env!("CARGO_PKG_VERSION")));
    for (dir, args) in [
        (&bad, &["build"][..]),
        (&bad, &["config"]),
        (&good, &["build", "--scale", "nope=2"]),
        (&good, &["build", "--strict"]),
        (&good, &["build", "-f", "missing.yaml"]),
    ] {
        let out = run(dir, args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(out.stderr.contains("error"), "{args:?}");
    }
}

// ---------------------------------------------------------------------------------
// 5. Input limits and encodings
// ---------------------------------------------------------------------------------

const SMALL: &str = "services:\n  web:\n    image: nginx\n";

/// Just over the 32 MiB input limit, and still valid YAML.
fn huge_compose() -> Vec<u8> {
    let mut text = SMALL.as_bytes().to_vec();
    let line = format!("# {}\n", "x".repeat(1021));
    while text.len() <= 33 * 1024 * 1024 {
        text.extend_from_slice(line.as_bytes());
    }
    text
}

#[test]
fn huge_inputs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let huge = huge_compose();
    write(dir, "compose.yaml", &huge);
    for args in [&["config"][..], &["build"]] {
        let out = run(dir, args);
        assert_eq!(out.code, 1, "{args:?}");
        assert!(
            out.stderr
                .contains("compose file `compose.yaml` is too large"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // An env file, named by --env-file.
    write(dir, "compose.yaml", SMALL);
    write(dir, "big.env", &huge);
    let out = run(dir, &["config", "--env-file", "big.env"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("`big.env` is too large"),
        "{}",
        out.stderr
    );
    // Standard input.
    let out = run_stdin(dir, &["config", "-f", "-"], &[], &huge);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("compose file `-` (standard input) is too large"),
        "{}",
        out.stderr
    );
}

#[test]
fn invalid_utf8_and_empty_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let bad = b"services:\n  web:\n    image: \"ng\xffinx\"\n";
    write(dir, "compose.yaml", bad);
    let out = run(dir, &["config"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("`compose.yaml` is not valid UTF-8"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("compose.yaml:3:15"), "{}", out.stderr);

    write(dir, "compose.yaml", SMALL);
    for args in [&["config", "-f", "-"][..], &["build", "-f", "-"]] {
        let out = run_stdin(dir, args, &[], bad);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("`-` (standard input) is not valid UTF-8"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("-:3:15"), "{}", out.stderr);

        for empty in [&b""[..], b"\n\n", b"# only a comment\n"] {
            let out = run_stdin(dir, args, &[], empty);
            assert_eq!(out.code, 1, "{args:?} {empty:?}");
            assert!(
                out.stderr.contains("compose file `-` is empty"),
                "{}",
                out.stderr
            );
            assert_eq!(out.stdout, "");
        }
        // No stdin at all (closed) is empty too.
        let out = run(dir, args);
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.contains("compose file `-` is empty"),
            "{}",
            out.stderr
        );
    }
    // A byte-order mark is accepted, from a file and from stdin.
    let bom = [&b"\xef\xbb\xbf"[..], SMALL.as_bytes()].concat();
    run_stdin(dir, &["config", "-f", "-"], &[], &bom).ok();
    write(dir, "compose.yaml", &bom);
    run(dir, &["config"]).ok();
}

// ---------------------------------------------------------------------------------
// 6. Finding the compose files (beyond fixtures/config-*)
// ---------------------------------------------------------------------------------

/// The project name and the image of service `web` from `config --format json`.
fn name_and_image(out: &Out) -> (String, String) {
    out.ok();
    let v: Json = serde_json::from_str(&out.stdout).unwrap();
    (
        v["name"].as_str().unwrap().to_string(),
        v["services"]["web"]["image"]
            .as_str()
            .unwrap_or("")
            .to_string(),
    )
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[test]
fn compose_file_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("proj");
    write(&dir, "a.yaml", "services:\n  web:\n    image: a\n");
    write(&dir, "b.yaml", "services:\n  web:\n    image: b\n");
    write(
        &dir,
        "compose.yaml",
        "services:\n  web:\n    image: default\n",
    );
    let cfg = &["config", "--format", "json"];
    // Separator from COMPOSE_PATH_SEPARATOR; later files win.
    let out = run_env(
        &dir,
        cfg,
        &[
            ("COMPOSE_FILE", "a.yaml;b.yaml"),
            ("COMPOSE_PATH_SEPARATOR", ";"),
        ],
    );
    assert_eq!(name_and_image(&out), pair("proj", "b"));
    let out = run_env(&dir, cfg, &[("COMPOSE_FILE", "b.yaml:a.yaml")]);
    assert_eq!(name_and_image(&out), pair("proj", "a"));
    // -f wins over COMPOSE_FILE; an empty COMPOSE_FILE means the default lookup.
    let out = run_env(
        &dir,
        &["config", "--format", "json", "-f", "a.yaml"],
        &[("COMPOSE_FILE", "b.yaml")],
    );
    assert_eq!(name_and_image(&out), pair("proj", "a"));
    let out = run_env(&dir, cfg, &[("COMPOSE_FILE", "")]);
    assert_eq!(name_and_image(&out), pair("proj", "default"));
    // A missing file named by COMPOSE_FILE is an error.
    let out = run_env(&dir, cfg, &[("COMPOSE_FILE", "a.yaml:nope.yaml")]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("nope.yaml"), "{}", out.stderr);
}

#[test]
fn default_lookup_walks_up_to_the_project() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    write(
        &proj,
        "compose.yaml",
        "services:\n  web:\n    image: nginx:${TAG}\n",
    );
    write(
        &proj,
        "compose.override.yaml",
        "services:\n  web:\n    labels: [from=override]\n",
    );
    write(&proj, ".env", "TAG=from-project\n");
    let deep = proj.join("src/deeper");
    write(&deep, ".env", "TAG=from-cwd\n");
    let out = run(&deep, &["config", "--format", "json"]);
    assert_eq!(name_and_image(&out), pair("proj", "nginx:from-project"));
    let v: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["services"]["web"]["labels"]["from"], "override");
    // The project name: -p, else COMPOSE_PROJECT_NAME, else the folder.
    let out = run_env(
        &deep,
        &["config", "--format", "json"],
        &[("COMPOSE_PROJECT_NAME", "From_Env")],
    );
    assert_eq!(name_and_image(&out).0, "from_env");
    let out = run_env(
        &deep,
        &["-p", "cli", "config", "--format", "json"],
        &[("COMPOSE_PROJECT_NAME", "env")],
    );
    assert_eq!(name_and_image(&out).0, "cli");
}

#[test]
fn stdin_and_project_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("work");
    let other = tmp.path().join("other");
    let compose = "services:\n  web:\n    image: nginx:${TAG:-unset}\n    env_file: [{path: app.env, required: false}]\n";
    write(&cwd, ".env", "TAG=from-cwd\n");
    write(&cwd, "app.env", "WHERE=cwd\n");
    write(&other, ".env", "TAG=from-other\n");
    write(&other, "app.env", "WHERE=other\n");
    write(&other, "compose.yaml", compose);
    let cfg = ["config", "--format", "json"];
    let where_ = |out: &Out| -> String {
        let v: Json = serde_json::from_str(&out.stdout).unwrap();
        v["services"]["web"]["environment"]["WHERE"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // `-f -`: the project directory is the working directory.
    let out = run_stdin(
        &cwd,
        &[&["-f", "-"][..], &cfg].concat(),
        &[],
        compose.as_bytes(),
    );
    assert_eq!(name_and_image(&out), pair("work", "nginx:from-cwd"));
    assert_eq!(where_(&out), "cwd");
    // `-f -` with --project-directory: .env, relative paths and the name from there.
    let out = run_stdin(
        &cwd,
        &[&["-f", "-", "--project-directory", "../other"][..], &cfg].concat(),
        &[],
        compose.as_bytes(),
    );
    assert_eq!(name_and_image(&out), pair("other", "nginx:from-other"));
    assert_eq!(where_(&out), "other");
    // A file elsewhere: its folder is the project directory (-f is relative to cwd).
    let out = run(&cwd, &[&["-f", "../other/compose.yaml"][..], &cfg].concat());
    assert_eq!(name_and_image(&out), pair("other", "nginx:from-other"));
    assert_eq!(where_(&out), "other");
    // ... unless --project-directory says otherwise (options after the subcommand too).
    let out = run(
        &cwd,
        &[
            &cfg[..],
            &["-f", "../other/compose.yaml", "--project-directory", "."],
        ]
        .concat(),
    );
    assert_eq!(name_and_image(&out), pair("work", "nginx:from-cwd"));
    assert_eq!(where_(&out), "cwd");
    // stdin merged after a file.
    let out = run_stdin(
        &cwd,
        &[&["-f", "../other/compose.yaml", "-f", "-"][..], &cfg].concat(),
        &[],
        b"services:\n  web:\n    image: from-stdin\n",
    );
    assert_eq!(name_and_image(&out), pair("other", "from-stdin"));
}

#[test]
fn project_directory_without_file_finds_its_compose_file() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("work");
    let other = tmp.path().join("other");
    fs::create_dir_all(&cwd).unwrap();
    write(
        &other,
        "compose.yaml",
        "services:\n  web:\n    image: nginx:${TAG}\n",
    );
    write(&other, ".env", "TAG=from-other\n");
    let out = run(
        &cwd,
        &[
            "--project-directory",
            "../other",
            "config",
            "--format",
            "json",
        ],
    );
    assert_eq!(name_and_image(&out), pair("other", "nginx:from-other"));
}
