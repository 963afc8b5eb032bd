//! Command-line interface (clap). The only place that touches the process: arguments,
//! environment, stdin, stdout/stderr and exit codes. Everything else is the library.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use compose2k8s::compose::load::MAX_FILE_BYTES;
use compose2k8s::compose::model::Project;
use compose2k8s::diag::{self, Diagnostic, Diagnostics};
use compose2k8s::emit::{self, write::Target};
use compose2k8s::lower::{self, Options as LowerOptions};
use compose2k8s::source::{Sources, Span};
use compose2k8s::{config_view, load, LoadOptions};
use std::collections::BTreeMap;
use std::io::Read;

#[derive(Parser, Debug)]
#[command(
    name = "compose2k8s",
    version,
    about = "Compile Docker Compose projects into Kubernetes manifests",
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    front: FrontArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options of the compose front-end, accepted before or after the subcommand.
#[derive(Args, Debug, Clone)]
struct FrontArgs {
    /// Compose file(s), merged in order (`-` reads stdin). Default: compose.yaml &c.
    #[arg(short = 'f', long = "file", global = true, value_name = "FILE")]
    files: Vec<String>,
    /// Env file(s) with variables for interpolation (default: `.env` in the project directory).
    #[arg(long = "env-file", global = true, value_name = "FILE")]
    env_files: Vec<String>,
    /// Project name (default: top-level `name:`, else the project directory's name).
    #[arg(short = 'p', long = "project-name", global = true, value_name = "NAME")]
    project_name: Option<String>,
    /// Project directory (default: the first compose file's directory).
    #[arg(long = "project-directory", global = true, value_name = "DIR")]
    project_directory: Option<String>,
    /// Enable services of this profile (repeatable; `*` enables all).
    #[arg(long = "profile", global = true, value_name = "PROFILE")]
    profiles: Vec<String>,
    /// Keep `${VAR}` references literal.
    #[arg(long = "no-interpolate", global = true)]
    no_interpolate: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the resolved compose project (like `docker compose config`).
    Config {
        #[arg(long, value_enum, default_value_t = ConfigFormat::Yaml)]
        format: ConfigFormat,
    },
    /// Compile the project into Kubernetes manifests.
    #[command(alias = "convert")]
    Build(BuildArgs),
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ConfigFormat {
    Yaml,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum OutFormat {
    Yaml,
    Json,
    Kustomize,
}

#[derive(Args, Debug)]
struct BuildArgs {
    /// Namespace for every namespaced object (default: none; kubectl's context decides).
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Also emit the Namespace object (needs -n).
    #[arg(long, requires = "namespace")]
    create_namespace: bool,
    /// Write to FILE, or one file per object into DIR/ (a trailing `/` or an existing directory).
    #[arg(short = 'o', long = "output", value_name = "FILE|DIR/")]
    output: Option<String>,
    #[arg(long, value_enum, default_value_t = OutFormat::Yaml)]
    format: OutFormat,
    /// Replicas of a service, overriding the compose file (repeatable).
    #[arg(long, value_name = "SERVICE=N", value_parser = parse_scale)]
    scale: Vec<(String, i32)>,
    /// Size of PersistentVolumeClaims without their own size.
    #[arg(long, default_value = "1Gi", value_name = "QUANTITY", value_parser = parse_pvc_size)]
    pvc_size: String,
    /// storageClassName of PersistentVolumeClaims.
    #[arg(long, value_name = "CLASS")]
    storage_class: Option<String>,
    /// Emit Ingresses with this host (minijinja template over service, project, namespace).
    #[arg(long, value_name = "TEMPLATE")]
    ingress_host: Option<String>,
    /// Extra regular expression for sensitive variable names (repeatable, case-insensitive).
    #[arg(long, value_name = "REGEX")]
    secret_pattern: Vec<String>,
    /// Name ConfigMaps/Secrets `<name>-<hash>` (kustomize's hash) and make them immutable.
    #[arg(long)]
    hash_suffix: bool,
    /// Emit NetworkPolicies from compose networks.
    #[arg(long)]
    network_policies: bool,
    /// Turn bind mounts outside the project into hostPath volumes.
    #[arg(long)]
    allow_host_paths: bool,
    /// Treat warnings (unmapped keys, ...) as errors.
    #[arg(long)]
    strict: bool,
    /// Do not write: exit 1 with a diff when the output at -o is stale.
    #[arg(long, requires = "output")]
    check: bool,
}

/// `--pvc-size` is checked when the command line is read (a usage error, exit 2).
fn parse_pvc_size(s: &str) -> Result<String, String> {
    compose2k8s::k8s::quantity::storage(s).map(|_| s.to_string())
}

fn parse_scale(s: &str) -> Result<(String, i32), String> {
    let (svc, n) = s
        .split_once('=')
        .ok_or_else(|| format!("expected SERVICE=N, got `{s}`"))?;
    let n: i32 = n
        .parse()
        .map_err(|_| format!("replicas must be a whole number >= 0, got `{n}`"))?;
    if n < 0 {
        return Err(format!("replicas must be >= 0, got {n}"));
    }
    Ok((svc.to_string(), n))
}

/// Run the CLI; returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    // Usage errors that clap cannot express are reported before any file is read.
    if let Command::Build(a) = &cli.command {
        if a.format == OutFormat::Kustomize && a.output.is_none() {
            eprintln!("error: --format kustomize needs -o DIR");
            return 2;
        }
        if a.output.as_deref() == Some("") {
            eprintln!("error: -o needs a file or directory name");
            return 2;
        }
    }
    let load_opts = match load_options(&cli.front) {
        Ok(o) => o,
        Err(code) => return code,
    };
    match cli.command {
        Command::Config { format } => config(&load_opts, format),
        Command::Build(args) => build(&load_opts, &args),
    }
}

/// The loader's options from the front-end flags, the process environment and (with
/// `-f -`) standard input. On failure the error is already printed; returns the exit code.
fn load_options(f: &FrontArgs) -> Result<LoadOptions, i32> {
    let cwd = std::env::current_dir().map_err(|e| {
        eprintln!("error: cannot read the working directory: {e}");
        1
    })?;
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let stdin = if f.files.iter().any(|x| x == "-") {
        Some(read_stdin()?)
    } else {
        None
    };
    Ok(LoadOptions {
        files: f.files.clone(),
        project_name: f.project_name.clone(),
        project_directory: f.project_directory.clone(),
        env_files: f.env_files.clone(),
        profiles: f.profiles.clone(),
        interpolate: !f.no_interpolate,
        cwd,
        env,
        stdin,
    })
}

/// Standard input as a compose file, with the checks every compose file gets: at most
/// [`MAX_FILE_BYTES`] (only that much is read) and valid UTF-8. Errors are printed;
/// returns the exit code (1: invalid input).
fn read_stdin() -> Result<String, i32> {
    let mut bytes = Vec::new();
    let read = std::io::stdin()
        .lock()
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes);
    if let Err(e) = read {
        eprintln!("error: cannot read standard input: {e}");
        return Err(1);
    }
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    if bytes.len() as u64 > MAX_FILE_BYTES {
        diags.push(
            Diagnostic::error(format!(
                "compose file `-` (standard input) is too large (more than {MAX_FILE_BYTES} bytes)"
            ))
            .help("compose files are configuration; split or generate smaller ones"),
        );
        report(&diags, &sources);
        return Err(1);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
            let col = upto.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
            let id = sources.add("-", String::from_utf8_lossy(e.as_bytes()).into_owned());
            let span = Span::new(
                id,
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(col).unwrap_or(u32::MAX),
                1,
            );
            diags.push(
                Diagnostic::error("compose file `-` (standard input) is not valid UTF-8")
                    .at(span)
                    .help("save the file as UTF-8"),
            );
            report(&diags, &sources);
            Err(1)
        }
    }
}

/// Print diagnostics in source order (file, line, column); those without a location
/// keep their order after the located ones.
fn report(ds: &Diagnostics, sources: &Sources) {
    if ds.is_empty() {
        return;
    }
    let mut sorted: Vec<Diagnostic> = ds.iter().cloned().collect();
    sorted.sort_by_key(|d| match d.span {
        Some(s) => (0, s.file, s.line, s.col),
        None => (1, Default::default(), 0, 0),
    });
    let mut out = Diagnostics::new();
    out.extend(sorted);
    eprint!("{}", diag::render(&out, sources));
}

/// Load the project, printing diagnostics. `None` when loading failed.
fn front(opts: &LoadOptions, diags: &mut Diagnostics) -> (Option<Project>, Sources) {
    let loaded = load(opts);
    diags.extend(loaded.diagnostics);
    (loaded.project, loaded.sources)
}

fn config(opts: &LoadOptions, format: ConfigFormat) -> i32 {
    let mut diags = Diagnostics::new();
    let (project, sources) = front(opts, &mut diags);
    report(&diags, &sources);
    let Some(project) = project.filter(|_| !diags.has_errors()) else {
        return 1;
    };
    let json = config_view::project_json(&project);
    let text = match format {
        ConfigFormat::Yaml => emit::yaml::to_string(&json).map_err(|e| e.to_string()),
        ConfigFormat::Json => serde_json::to_string_pretty(&json)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
    };
    match text {
        Ok(text) => write_stdout(&[(String::new(), text)]),
        Err(e) => render_failed(&e),
    }
}

/// Rendering failed (a bug: everything we build renders); nothing has been written.
fn render_failed(e: &str) -> i32 {
    eprintln!("error: internal error: could not render the output ({e}); nothing was written");
    1
}

/// Write the contents of `files` to standard output, in order.
fn write_stdout(files: &[(String, String)]) -> i32 {
    match emit::write::write_atomic(&Target::Stdout, files) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            1
        }
    }
}

fn build(opts: &LoadOptions, a: &BuildArgs) -> i32 {
    let mut diags = Diagnostics::new();
    let mut secret_patterns = Vec::new();
    for p in &a.secret_pattern {
        match regex::RegexBuilder::new(p).case_insensitive(true).build() {
            Ok(r) => secret_patterns.push(r),
            Err(e) => {
                eprintln!("error: invalid --secret-pattern `{p}`: {e}");
                return 2;
            }
        }
    }
    let (project, sources) = front(opts, &mut diags);
    let Some(project) = project.filter(|_| !diags.has_errors()) else {
        report(&diags, &sources);
        return 1;
    };
    let lopts = LowerOptions {
        namespace: a.namespace.clone(),
        create_namespace: a.create_namespace,
        scale: a.scale.iter().cloned().collect(),
        pvc_size: a.pvc_size.clone(),
        storage_class: a.storage_class.clone(),
        ingress_host: a.ingress_host.clone(),
        secret_patterns,
        hash_suffix: a.hash_suffix,
        network_policies: a.network_policies,
        allow_host_paths: a.allow_host_paths,
    };
    for svc in a.scale.iter().map(|(s, _)| s) {
        if !project.services.contains_key(svc) {
            diags.push(Diagnostic::error(format!(
                "--scale names unknown service `{svc}`"
            )));
        }
    }
    let lowered = lower::lower(&project, &lopts);
    diags.extend(lowered.diagnostics);
    if a.strict {
        diags.make_strict();
    }
    if diags.has_errors() {
        report(&diags, &sources);
        return 1;
    }
    if !lowered.external.is_empty() {
        let list: Vec<&str> = lowered.external.iter().map(String::as_str).collect();
        diags.push(Diagnostic::warning(format!(
            "these objects are referenced but not generated; create them before deploying: {}",
            list.join(", ")
        )));
    }
    report(&diags, &sources);

    let ms = &lowered.manifests;
    let target = match &a.output {
        None => Target::Stdout,
        // The path as given (relative to the working directory): `--check` diffs name
        // it, and they must not depend on where the checkout lives.
        Some(o) => {
            let p = std::path::PathBuf::from(o);
            if o.ends_with('/') || opts.cwd.join(o).is_dir() || a.format == OutFormat::Kustomize {
                Target::Dir(p)
            } else {
                Target::File(p)
            }
        }
    };
    let one = |text: String| vec![(String::new(), text)];
    let files = match (&target, a.format) {
        (Target::Dir(_), OutFormat::Kustomize) => emit::render_files(ms, emit::Format::Kustomize),
        (Target::Dir(_), OutFormat::Json) => emit::render_files(ms, emit::Format::Json),
        (Target::Dir(_), OutFormat::Yaml) => emit::render_files(ms, emit::Format::Yaml),
        (_, OutFormat::Json) => emit::render_json_list(ms).map(one),
        (_, OutFormat::Yaml) => emit::render_stream_parts(ms)
            .map(|parts| parts.into_iter().map(|p| (String::new(), p)).collect()),
        // Refused in `run` before loading; kept so the match stays total.
        (_, OutFormat::Kustomize) => {
            eprintln!("error: --format kustomize needs -o DIR");
            return 2;
        }
    };
    let files = match files {
        Ok(files) => files,
        Err(e) => return render_failed(&e.to_string()),
    };
    // The process ends after writing: freeing the project and the manifests node by
    // node would only cost time (about a tenth of a large build); the OS reclaims them.
    std::mem::forget(project);
    std::mem::forget(lowered.manifests);
    if let Target::Stdout = target {
        return write_stdout(&files);
    }
    if a.check {
        return match emit::write::check(&target, &files) {
            Ok(outcome) if outcome.is_up_to_date() => 0,
            Ok(outcome) => {
                print!("{}", outcome.diff);
                eprintln!(
                    "error: the output at {} is stale; run without --check to update it",
                    a.output.as_deref().unwrap_or("")
                );
                1
            }
            Err(e) => {
                eprintln!(
                    "error: cannot compare with {}: {e}",
                    a.output.as_deref().unwrap_or("")
                );
                1
            }
        };
    }
    match emit::write::write_atomic(&target, &files) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!(
                "error: cannot write {}: {e}",
                a.output.as_deref().unwrap_or("")
            );
            1
        }
    }
}
