//! Health checks: compose `healthcheck` (or `x-kubernetes.http-probe`) -> the
//! container's readiness, startup and liveness probes.
//!
//! Reads: `healthcheck` (`test`, `interval`, `timeout`, `retries`, `start_period`,
//! `start_interval`, `disable`), `x-kubernetes.liveness` / `http-probe`, the named
//! ports of the plan. Produces: [`Probes`] for `container`. Docker's defaults apply
//! (interval 30s, timeout 30s, retries 3, start_interval 5s), written out explicitly
//! because Kubernetes' defaults differ. Durations round up to whole seconds (at least
//! 1), since probes count in seconds.
//! Not supported: a `healthcheck` without `test` (the image's HEALTHCHECK is invisible
//! to Kubernetes) gives a warning and no probe. It must not emit objects.
use super::{Ctx, Plan};
use crate::compose::model::Healthcheck;
use k8s_openapi::api::core::v1::{ExecAction, HTTPGetAction, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::time::Duration;

use super::container::{ceil_secs, units};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Probes {
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    pub startup: Option<Probe>,
}

/// Probe timing in whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub period: i32,
    pub timeout: i32,
    pub retries: i32,
    /// `start_period` in seconds (0 = none).
    pub start_period: i64,
    pub start_interval: Option<i32>,
}

const DEFAULT_INTERVAL: i32 = 30;
const DEFAULT_TIMEOUT: i32 = 30;
const DEFAULT_RETRIES: i32 = 3;
/// Docker's default `start_interval` (used when the key is given as `0`).
const DEFAULT_START_INTERVAL: i32 = 5;

/// The check a healthcheck's `test` describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Test {
    /// No probe (`disable: true`, `["NONE"]`).
    None,
    /// An exec command.
    Exec(Vec<String>),
    /// No `test` given: inherited from the image.
    Inherited,
    /// Something unusable (message).
    Invalid(String),
}

/// Interpret `healthcheck.test`.
pub fn test_of(hc: &Healthcheck) -> Test {
    if hc.disable == Some(true) {
        return Test::None;
    }
    let Some(t) = &hc.test else {
        return Test::Inherited;
    };
    match t.split_first() {
        None => Test::Inherited,
        Some((first, rest)) => match first.as_str() {
            "NONE" => Test::None,
            "CMD" if !rest.is_empty() => Test::Exec(rest.to_vec()),
            "CMD-SHELL" if !rest.is_empty() => {
                Test::Exec(vec!["/bin/sh".into(), "-c".into(), rest.join(" ")])
            }
            "CMD" | "CMD-SHELL" => {
                Test::Invalid(format!("healthcheck test {first} has no command"))
            }
            other => Test::Invalid(format!(
                "healthcheck test must start with CMD, CMD-SHELL or NONE, not {other:?}"
            )),
        },
    }
}

fn secs(ctx: &mut Ctx, plan: &Plan, key: &str, v: Option<&str>, default: i32) -> i32 {
    let Some(s) = v else { return default };
    match units::parse_duration(s) {
        Ok(d) if d == Duration::ZERO => default,
        Ok(d) => i32::try_from(ceil_secs(d, 1)).unwrap_or(i32::MAX),
        Err(e) => {
            ctx.error(
                plan.svc.span_of(&["healthcheck", key]),
                format!("healthcheck.{key}: {e}"),
            );
            default
        }
    }
}

/// Timing from the healthcheck (Docker defaults where unset).
pub fn timing(ctx: &mut Ctx, plan: &Plan, hc: Option<&Healthcheck>) -> Timing {
    let Some(hc) = hc else {
        return Timing {
            period: DEFAULT_INTERVAL,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            start_period: 0,
            start_interval: None,
        };
    };
    let period = secs(
        ctx,
        plan,
        "interval",
        hc.interval.as_deref(),
        DEFAULT_INTERVAL,
    );
    let timeout = secs(ctx, plan, "timeout", hc.timeout.as_deref(), DEFAULT_TIMEOUT);
    let start_period = match hc.start_period.as_deref() {
        None => 0,
        Some(_) => i64::from(secs(
            ctx,
            plan,
            "start_period",
            hc.start_period.as_deref(),
            0,
        )),
    };
    let start_interval = hc
        .start_interval
        .as_deref()
        .map(|s| secs(ctx, plan, "start_interval", Some(s), DEFAULT_START_INTERVAL));
    let retries = match &hc.retries {
        None => DEFAULT_RETRIES,
        Some(v) => match super::workload::json_int(v) {
            Some(0) => DEFAULT_RETRIES,
            Some(n) if n > 0 => i32::try_from(n).unwrap_or(i32::MAX),
            _ => {
                ctx.error(
                    plan.svc.span_of(&["healthcheck", "retries"]),
                    format!("healthcheck.retries must be a positive whole number, not {v}"),
                );
                DEFAULT_RETRIES
            }
        },
    };
    Timing {
        period,
        timeout,
        retries,
        start_period,
        start_interval,
    }
}

/// The startup probe's period and failure threshold, when `start_period` is set: it
/// checks every `start_interval` (else every `interval`) and gives up after enough
/// failed checks to cover `start_period` plus `retries` more, which is when Docker
/// would first report a container that never came up as unhealthy.
pub fn startup_timing(t: &Timing) -> Option<(i32, i32)> {
    if t.start_period <= 0 {
        return None;
    }
    let period = t.start_interval.unwrap_or(t.period).max(1);
    let p = i64::from(period);
    let checks = (t.start_period + p - 1) / p;
    let threshold = checks.max(1) + i64::from(t.retries);
    Some((period, i32::try_from(threshold).unwrap_or(i32::MAX)))
}

/// Probes for `plan`'s container.
pub fn lower(ctx: &mut Ctx, plan: &Plan) -> Probes {
    let svc = plan.svc;
    let hc = svc.healthcheck.as_deref();
    let mut handler: Option<Probe> = None;
    if let Some(hp) = &plan.ext.http_probe {
        let port = match hp.port.parse::<i32>() {
            Ok(n) => IntOrString::Int(n),
            Err(_) => {
                if !plan.ports.iter().any(|p| p.name == hp.port) {
                    let names: Vec<&str> = plan.ports.iter().map(|p| p.name.as_str()).collect();
                    ctx.error(
                        svc.span_of(&["x-kubernetes", "http-probe", "port"]),
                        format!(
                            "http-probe port {:?} is not a port name of this service",
                            hp.port
                        ),
                    )
                    .help = Some(if names.is_empty() {
                        "the service has no ports; give a port number".into()
                    } else {
                        format!("its port names are: {}", names.join(", "))
                    });
                }
                IntOrString::String(hp.port.clone())
            }
        };
        handler = Some(Probe {
            http_get: Some(HTTPGetAction {
                path: Some(hp.path.clone()),
                port,
                ..HTTPGetAction::default()
            }),
            ..Probe::default()
        });
    } else if let Some(hc) = hc {
        match test_of(hc) {
            Test::None => {}
            Test::Exec(cmd) => {
                handler = Some(Probe {
                    exec: Some(ExecAction { command: Some(cmd) }),
                    ..Probe::default()
                })
            }
            Test::Inherited => {
                ctx.warn(
                    svc.span_of(&["healthcheck"]),
                    "healthcheck without test is not mapped: the image's HEALTHCHECK is not visible to Kubernetes",
                )
                .help = Some("copy the image's HEALTHCHECK command into healthcheck.test".into());
            }
            Test::Invalid(msg) => {
                ctx.error(svc.span_of(&["healthcheck", "test"]), msg);
            }
        }
    }
    let Some(base) = handler else {
        if plan.ext.liveness {
            ctx.warn(
                svc.span_of(&["x-kubernetes", "liveness"]),
                "x-kubernetes.liveness has no effect: the service has no healthcheck test or http-probe",
            );
        }
        return Probes::default();
    };
    let t = timing(ctx, plan, hc);
    let timed = |period: i32, threshold: i32| Probe {
        period_seconds: Some(period),
        timeout_seconds: Some(t.timeout),
        failure_threshold: Some(threshold),
        ..base.clone()
    };
    Probes {
        readiness: Some(timed(t.period, t.retries)),
        liveness: plan.ext.liveness.then(|| timed(t.period, t.retries)),
        startup: startup_timing(&t).map(|(p, n)| timed(p, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(test: &[&str]) -> Healthcheck {
        Healthcheck {
            test: Some(test.iter().map(|s| s.to_string()).collect()),
            ..Healthcheck::default()
        }
    }

    #[test]
    fn tests_of_healthchecks() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            test_of(&hc(&["CMD", "curl", "-f", "http://localhost"])),
            Test::Exec(s(&["curl", "-f", "http://localhost"]))
        );
        assert_eq!(
            test_of(&hc(&["CMD-SHELL", "pg_isready -U postgres"])),
            Test::Exec(s(&["/bin/sh", "-c", "pg_isready -U postgres"]))
        );
        assert_eq!(test_of(&hc(&["NONE"])), Test::None);
        assert_eq!(test_of(&Healthcheck::default()), Test::Inherited);
        let disabled = Healthcheck {
            disable: Some(true),
            ..hc(&["CMD", "x"])
        };
        assert_eq!(test_of(&disabled), Test::None);
        assert!(matches!(test_of(&hc(&["CMD"])), Test::Invalid(_)));
        assert!(matches!(test_of(&hc(&["RUN", "x"])), Test::Invalid(_)));
    }

    #[test]
    fn startup_thresholds() {
        let t = |period, start_period, start_interval| Timing {
            period,
            timeout: 5,
            retries: 3,
            start_period,
            start_interval,
        };
        for (timing, want) in [
            (t(30, 0, None), None),
            (t(10, 60, None), Some((10, 9))),
            (t(10, 65, None), Some((10, 10))),
            (t(30, 60, Some(5)), Some((5, 15))),
            (t(30, 1, None), Some((30, 4))),
        ] {
            assert_eq!(startup_timing(&timing), want, "{timing:?}");
        }
    }
}
