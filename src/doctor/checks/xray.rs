//! `xray-*`: the hop backend → X-Ray daemon → AWS. The SDK sends segments
//! over UDP to AWS_XRAY_DAEMON_ADDRESS and needs no credentials; the daemon
//! needs credentials and a region, from its environment or its flags, which
//! it parses as Go's `flag` package does.

use crate::backend::Backend;
use crate::doctor::finding::{CheckId, Edit, Finding, Layer, Status};
use crate::rules::Shape;
use crate::rules::aws::region_shape;
use crate::workspace::compose::{ComposeFile, Service};
use crate::workspace::context::Context;
use crate::workspace::python::Value;
use crate::workspace::xray::{self, command_is_one_word, daemon_args, parse_args, pattern_matches};

use super::hops::{self, Reach};

const ADDRESS: &str = "AWS_XRAY_DAEMON_ADDRESS";

pub fn run(ctx: &Context) -> Vec<Finding> {
    if !ctx.uses(Backend::Xray) {
        return dormant_daemon(ctx);
    }
    super::switched_off(
        sdk_disabled(ctx),
        judged_live(ctx),
        "AWS_XRAY_SDK_ENABLED: \"true\" where it is set to false, then run tracelab doctor again: the daemon is judged once X-Ray is on",
    )
}

/// X-Ray as the SDK, switched on, would send: the address, the daemon, the
/// sampling rule.
fn judged_live(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let daemon = ctx.compose.as_ref().and_then(|c| xray::daemon(&c.file));
    let address_ok = check_address(ctx, daemon, &mut out);
    if let Some(daemon) = daemon {
        if address_ok {
            check_reach(ctx, daemon, &mut out);
        }
        check_daemon(ctx, daemon, &mut out);
    }
    check_sampling_rule(ctx, &mut out);
    if out.iter().all(|f| f.status == Status::Info) {
        out.push(Finding::ok(
            CheckId::XrayDaemon,
            Layer::Compose,
            match daemon {
                Some(d) => format!(
                    "segments go to the {} service, which has credentials and a region",
                    d.name
                ),
                None => "X-Ray SDK configured".into(),
            },
        ));
    }
    out
}

/// X-Ray off in the code (commented out, or never set up) sends nothing,
/// whatever the daemon's settings: only a daemon that cannot even start
/// (no region, a flag it refuses) is worth a warning, as compose up shows
/// it exiting, and it is the first thing to fix when X-Ray comes back.
fn dormant_daemon(ctx: &Context) -> Vec<Finding> {
    let Some(daemon) = ctx.compose.as_ref().and_then(|c| xray::daemon(&c.file)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    check_daemon(ctx, daemon, &mut out);
    out.into_iter()
        .filter(|f| {
            f.status == Status::Fail
                && matches!(f.id, CheckId::XrayDaemonRegion | CheckId::XrayDaemonFlags)
        })
        .map(|mut f| {
            f.status = Status::Warn;
            f.message.push_str(
                " (nothing is lost while the backend's X-Ray code is off, but the daemon's container exits)",
            );
            f
        })
        .collect()
}

fn backend_var(ctx: &Context, name: &str) -> Option<String> {
    ctx.app_var(name).map(|(_, v)| v).filter(|v| !v.is_empty())
}

fn sdk_disabled(ctx: &Context) -> Option<Finding> {
    let value = backend_var(ctx, "AWS_XRAY_SDK_ENABLED")?;
    if !value.trim().eq_ignore_ascii_case("false") {
        return None;
    }
    let service = ctx.backend_name();
    let place = ctx
        .compose
        .as_ref()
        .map(|c| {
            c.file
                .place(service, &["environment", "AWS_XRAY_SDK_ENABLED"])
        })
        .unwrap_or_else(|| "the environment".into());
    Some(
        super::compose_edits::fix_value(
            Finding::fail(CheckId::XraySdkDisabled, Layer::Compose, format!("{place}: AWS_XRAY_SDK_ENABLED={value:?} switches the whole X-Ray SDK off: the middleware, capture and subsegments are no-ops and no segment is ever sent"))
                .var("AWS_XRAY_SDK_ENABLED"),
            ctx,
            "AWS_XRAY_SDK_ENABLED",
            "true",
            None,
        ),
    )
}

/// The address the SDK sends to. True when it names a usable host:port.
fn check_address(ctx: &Context, daemon: Option<&Service>, out: &mut Vec<Finding>) -> bool {
    let Some(layer) = ctx.app_layer() else {
        return false;
    };
    let suggested = format!(
        "{}:2000",
        daemon.map(|d| d.name.as_str()).unwrap_or("xray-daemon")
    );
    let place = match (&ctx.compose, ctx.backend_service()) {
        (Some(compose), Some(backend)) => {
            format!(
                "{}: ",
                compose.file.place(backend, &["environment", ADDRESS])
            )
        }
        _ => String::new(),
    };
    // Written again where it stands, or added beside the backend's other
    // variables.
    let fail = |message: String| {
        let finding = Finding::fail(
            CheckId::XrayDaemonAddress,
            layer,
            format!("{place}{message}"),
        )
        .var(ADDRESS);
        // Only a daemon service there is makes the suggested address right.
        let service = ctx.backend_name();
        let edit = daemon.and_then(|_| {
            super::compose_edits::set_value(ctx, service, ADDRESS, &suggested).or_else(|| {
                backend_var(ctx, ADDRESS)
                    .is_none()
                    .then(|| {
                        super::compose_edits::add_entries(ctx, service, &[(ADDRESS, &suggested)])
                    })
                    .flatten()
            })
        });
        finding.edit_or(edit, format!("{place}{ADDRESS}: \"{suggested}\""))
    };
    let Some(address) = backend_var(ctx, ADDRESS).or_else(|| explicit_address(ctx)) else {
        if ctx.compose.is_some() {
            let why = match daemon {
                Some(_) => format!(
                    "{ADDRESS} is not set: the SDK sends to 127.0.0.1:2000, which inside the container is not the daemon"
                ),
                None => format!(
                    "the X-Ray SDK is on, but this configuration has no xray-daemon service and no {ADDRESS}: segments go to 127.0.0.1:2000 inside the container, where nothing listens"
                ),
            };
            out.push(fail(why));
        }
        return false;
    };
    if address.contains("://") {
        out.push(fail(format!("{ADDRESS}={address:?} is a URL: the SDK wants host:port and raises InvalidDaemonAddressException")));
        return false;
    }
    for part in address.split_whitespace() {
        let host_port = part.trim_start_matches("tcp:").trim_start_matches("udp:");
        let Some((host, port)) = host_port.rsplit_once(':') else {
            out.push(fail(format!(
                "{ADDRESS}={address:?} has no port: write host:port"
            )));
            return false;
        };
        if port.parse::<u16>().is_err() {
            out.push(fail(format!("{ADDRESS}: {port:?} is not a port")));
            return false;
        }
        match hops::reach(ctx, host) {
            Reach::UnknownService => {
                let why = if daemon.is_none() {
                    format!(
                        "{ADDRESS} names the host {host:?}, but no compose service is called that (is the daemon service commented out?): every request logs \"Failed to send entity to Daemon\" and nothing reaches X-Ray"
                    )
                } else {
                    format!(
                        "{ADDRESS} names the host {host:?}, but no compose service is called that"
                    )
                };
                let mut finding =
                    Finding::fail(CheckId::XrayDaemonAddress, layer, format!("{place}{why}"))
                        .var(ADDRESS);
                finding = match daemon {
                    Some(_) => super::compose_edits::fix_value(
                        finding,
                        ctx,
                        ADDRESS,
                        &suggested,
                        None,
                    ),
                    None => finding.fix("add (or uncomment) an xray-daemon service: image amazon/aws-xray-daemon, AWS credentials and AWS_REGION in its environment"),
                };
                out.push(finding);
                return false;
            }
            Reach::ContainerItself => {
                out.push(fail(format!("{ADDRESS}={address:?}: inside the container, {host} is the container itself, not the daemon")));
                return false;
            }
            _ => {}
        }
    }
    true
}

/// `xray_recorder.configure(daemon_address=...)`: used only when the
/// environment variable is unset (the SDK reads the variable first).
fn explicit_address(ctx: &Context) -> Option<String> {
    match recorder_setting(ctx, "daemon_address") {
        Some(Value::Str(address)) => Some(address.clone()),
        _ => None,
    }
}

/// The backend and the daemon must share a network.
fn check_reach(ctx: &Context, daemon: &Service, out: &mut Vec<Finding>) {
    if let Some(finding) = hops::network_finding(
        ctx,
        &daemon.name,
        CheckId::XrayDaemonNetwork,
        "the SDK's UDP segments and sampling requests",
    ) {
        out.push(finding);
    }
}

fn check_daemon(ctx: &Context, daemon: &Service, out: &mut Vec<Finding>) {
    let Some(compose) = &ctx.compose else { return };
    let file = &compose.file;
    // A configuration Compose refuses is one finding (compose-interpolation):
    // the daemon's environment is unknown, not empty.
    let Some(env) = ctx.service_env(&daemon.name) else {
        return;
    };
    let env = Some(env);
    let get = |name: &str| {
        env.and_then(|e| e.get(name).cloned().flatten())
            .filter(|v| !v.is_empty())
    };
    let args = parse_args(&daemon_args(daemon));
    let command_place = file.place(&daemon.name, &["command"]);
    if let Some(flag) = &args.unknown {
        out.push(
            Finding::fail(
                CheckId::XrayDaemonFlags,
                Layer::Compose,
                format!(
                    "{command_place}: the daemon does not know the flag {flag:?} and exits at start"
                ),
            )
            .fix(format!(
                "{command_place}: remove {flag:?} (flags: -o, -n REGION, -b HOST:PORT, -l LEVEL)"
            )),
        );
        return;
    }
    let region = match &args.region {
        Some(region) => {
            if let Shape::Wrong(_) = region_shape(region) {
                out.push(
                    Finding::fail(CheckId::XrayDaemonFlags, Layer::Compose, format!("{command_place}: -n (--region) takes the next word as its value, so the daemon's region is {region:?} and no segment reaches X-Ray"))
                        .fix(format!("{command_place}: give -n a region (\"-n\", \"ca-central-1\"), or drop -n and set AWS_REGION in its environment")),
                );
                return;
            }
            Some((region.clone(), "its -n flag".to_string()))
        }
        None => get("AWS_REGION").map(|r| (r, "AWS_REGION".to_string())),
    };
    let ignored_note = if command_is_one_word(daemon) && !args.ignored.is_empty() {
        format!(
            " (its command {:?} is one argument after the image's flags, so Go's flag parser ignores all of it, -o included)",
            args.ignored.join(" ")
        )
    } else {
        String::new()
    };
    if region.is_some() && !args.ignored.is_empty() {
        out.push(Finding::info(
            CheckId::XrayDaemonFlags,
            Layer::Compose,
            format!("{command_place}: the daemon ignores {:?}: Go's flag parser stops at the first word that is not a flag, so none of its flags apply (harmless here: the entrypoint binds 0.0.0.0:2000 and the region comes from AWS_REGION); write one flag per item, e.g. command: [\"-o\"]", args.ignored.join(" ")),
        ));
    }
    match region {
        None => out.push(region_missing(ctx, daemon, &ignored_note)),
        Some((region, source)) => {
            if let Shape::Wrong(reason) = region_shape(&region) {
                out.push(wrong_region(file, daemon, &region, &source, &reason));
            } else if let Some((student, from)) = ctx.student_region()
                && student != region
            {
                // They arrive, but in a console the student never opens: the
                // most frequent "my traces are not in X-Ray".
                let place = file.place(&daemon.name, &["environment", "AWS_REGION"]);
                let finding = Finding::warn(CheckId::XrayDaemonRegion, Layer::Compose, format!("{place}: segments go to {region} (the daemon's {source}), while your {from} is {student}: they are in the X-Ray console of {region}, not yours (https://{region}.console.aws.amazon.com/xray/home?region={region})"))
                    .var("AWS_REGION");
                // The daemon made to take the student's AWS_DEFAULT_REGION,
                // on the line that sets its own.
                let edit = (source == "AWS_REGION" && from.contains("AWS_DEFAULT_REGION"))
                    .then(|| {
                        super::compose_edits::set_value(
                            ctx,
                            &daemon.name,
                            "AWS_REGION",
                            "${AWS_DEFAULT_REGION}",
                        )
                    })
                    .flatten();
                out.push(finding.edit_or(
                    edit,
                    format!("{place}: AWS_REGION: \"${{AWS_DEFAULT_REGION}}\""),
                ));
            }
        }
    }
    // The AWS SDK in the daemon also reads a shared credentials file: a
    // mounted ~/.aws, or a profile named by AWS_PROFILE.
    let shared_credentials = daemon.volumes.iter().any(|m| {
        let target = m.target.trim_end_matches('/');
        target.ends_with("/.aws") || target.ends_with("/.aws/credentials")
    }) || get("AWS_PROFILE").is_some()
        || get("AWS_SHARED_CREDENTIALS_FILE").is_some();
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        if get(name).is_none() && !shared_credentials {
            let declared = daemon.environment.iter().any(|(k, _)| k == name);
            let (why, fix) = if declared {
                (
                    format!("{name} is empty for the daemon"),
                    super::env::set_command(ctx, name),
                )
            } else {
                (
                    format!("the {} service has no {name}", daemon.name),
                    format!(
                        "add to services.{}.environment ({}):  {name}: \"${{{name}}}\"",
                        daemon.name,
                        file.place(&daemon.name, &["environment"])
                    ),
                )
            };
            let finding = Finding::fail(
                CheckId::XrayDaemonCredentials,
                Layer::Compose,
                format!("{why}: the daemon cannot sign its uploads, so no segment reaches X-Ray"),
            )
            .var(name);
            let interpolated = format!("${{{name}}}");
            let added = (!declared)
                .then(|| {
                    super::compose_edits::add_entries(ctx, &daemon.name, &[(name, &interpolated)])
                })
                .flatten();
            out.push(finding.edit_or(added, fix));
        }
    }
    let id = get("AWS_ACCESS_KEY_ID").unwrap_or_default();
    if id.starts_with("ASIA") && get("AWS_SESSION_TOKEN").is_none() {
        let finding = Finding::fail(
            CheckId::AwsSessionToken,
            Layer::Compose,
            format!(
                "the {} service gets a temporary key (ASIA...) but no AWS_SESSION_TOKEN",
                daemon.name
            ),
        )
        .var("AWS_SESSION_TOKEN");
        let added = super::compose_edits::add_entries(
            ctx,
            &daemon.name,
            &[("AWS_SESSION_TOKEN", "${AWS_SESSION_TOKEN}")],
        );
        out.push(finding.edit_or(
            added,
            format!(
                "add to services.{}.environment:  AWS_SESSION_TOKEN: \"${{AWS_SESSION_TOKEN}}\"",
                daemon.name
            ),
        ));
    }
}

fn region_missing(ctx: &Context, daemon: &Service, ignored_note: &str) -> Finding {
    let file = &ctx
        .compose
        .as_ref()
        .expect("a daemon comes from a compose file")
        .file;
    let raw = daemon
        .environment
        .iter()
        .find(|(k, _)| k == "AWS_REGION")
        .and_then(|(_, v)| v.clone());
    let has_default = daemon
        .environment
        .iter()
        .any(|(k, _)| k == "AWS_DEFAULT_REGION");
    let place = if raw.is_none() && has_default {
        file.place(&daemon.name, &["environment", "AWS_DEFAULT_REGION"])
    } else {
        file.place(&daemon.name, &["environment", "AWS_REGION"])
    };
    let why = match (&raw, has_default) {
        (Some(raw), _) => {
            format!("{place}: the daemon's AWS_REGION is {raw:?}, which is empty here")
        }
        (None, true) => format!(
            "{place}: the {} service has AWS_DEFAULT_REGION, but the daemon reads only AWS_REGION",
            daemon.name
        ),
        (None, false) => format!("{place}: the {} service has no AWS_REGION", daemon.name),
    };
    let fix = match &raw {
        Some(raw) if raw.contains("${AWS_REGION") => {
            super::env::set_command(ctx, "AWS_REGION")
                + &format!("   # or at {place}: AWS_REGION: \"${{AWS_DEFAULT_REGION}}\"")
        }
        _ if has_default => format!("at {place}: rename AWS_DEFAULT_REGION to AWS_REGION"),
        _ => format!("at {place}:  AWS_REGION: \"${{AWS_DEFAULT_REGION}}\""),
    };
    // Empty because the shell variable it names is unset: that variable is
    // the root cause (env-missing reports it, and this is its echo).
    let variable = raw
        .as_deref()
        .map(crate::workspace::interpolate::referenced)
        .and_then(|names| names.into_iter().find(|n| ctx.feeding(n).is_none()))
        .unwrap_or_else(|| "AWS_REGION".to_string());
    let finding = Finding::fail(CheckId::XrayDaemonRegion, Layer::Compose, format!("{why}{ignored_note}: it finds no region, logs \"Cannot fetch region variable\" and exits, so no segment reaches X-Ray"))
        .var(&variable);
    // The name the daemon reads, where the student wrote the other one; or
    // the entry the template has, beside the daemon's others.
    let edit = match (&raw, has_default) {
        (None, true) => {
            let renamed = super::compose_edits::rename_key(
                ctx,
                &daemon.name,
                "AWS_DEFAULT_REGION",
                "AWS_REGION",
            );
            // The value kept when it is the student's region (or theirs is
            // not known); else the daemon takes theirs, as the template does.
            let written = super::compose_edits::written(ctx, &daemon.name, "AWS_DEFAULT_REGION")
                .unwrap_or_default();
            match ctx.student_region() {
                Some((student, from)) if !written.contains('$') && written != student => renamed
                    .and_then(|edit| {
                        let value = format!("${{{from}}}");
                        let new = super::compose_edits::rewritten(&edit.new, "AWS_REGION", &value)?;
                        Some(Edit { new, ..edit })
                    }),
                _ => renamed,
            }
        }
        (None, false) => super::compose_edits::add_entries(
            ctx,
            &daemon.name,
            &[("AWS_REGION", "${AWS_DEFAULT_REGION}")],
        ),
        _ => None,
    };
    finding.edit_or(edit, fix)
}

/// A keyword of `xray_recorder.configure(...)` in live code.
fn recorder_setting<'a>(ctx: &'a Context, keyword: &str) -> Option<&'a Value> {
    ctx.live_calls()
        .find(|(_, c)| c.method() == "configure" && c.name.contains("xray_recorder"))
        .and_then(|(_, c)| c.keyword(keyword))
}

/// The sampling rule applies only to the service name it names.
fn check_sampling_rule(ctx: &Context, out: &mut Vec<Finding>) {
    let recorder = backend_var(ctx, "AWS_XRAY_TRACING_NAME").or_else(|| {
        match recorder_setting(ctx, "service") {
            Some(Value::Str(name)) => Some(name.clone()),
            _ => None,
        }
    });
    let Some(recorder) = recorder else { return };
    for rule in &ctx.sampling_rules {
        if pattern_matches(&rule.service_name, &recorder) {
            continue;
        }
        let place = match rule.line {
            Some(line) => format!("{}:{line}", rule.path.display()),
            None => rule.path.display().to_string(),
        };
        out.push(Finding::info(
            CheckId::XraySamplingRule,
            Layer::Code,
            format!("{place}: the sampling rule names ServiceName {:?}, the recorder {recorder:?}: that rule never applies and X-Ray's default rule samples instead (1 request a second, then 5%); set ServiceName to {recorder:?} if you want yours", rule.service_name),
        ));
    }
}

/// The daemon's region is no region. Interpolated from a variable, that
/// variable is the cause (env-shape reports it with the command that sets
/// it, and this is its echo); written in the file, the fix is that line.
fn wrong_region(
    file: &ComposeFile,
    daemon: &Service,
    region: &str,
    source: &str,
    reason: &str,
) -> Finding {
    let place = file.place(&daemon.name, &["environment", "AWS_REGION"]);
    let raw = daemon
        .environment
        .iter()
        .find(|(k, _)| k == "AWS_REGION")
        .and_then(|(_, v)| v.clone())
        .unwrap_or_default();
    let finding = Finding::fail(
        CheckId::XrayDaemonRegion,
        Layer::Compose,
        format!("{place}: the daemon's {source} {reason}"),
    );
    if let Some(variable) = crate::workspace::interpolate::referenced(&raw)
        .into_iter()
        .next()
    {
        return finding.var(&variable).fix(format!(
            "set {variable} to a region: the daemon's AWS_REGION is \"{raw}\""
        ));
    }
    let finding = finding.var("AWS_REGION");
    let edit = crate::rules::aws::closest_region(region).and_then(|right| {
        let (path, line) = place.rsplit_once(':')?;
        let line: usize = line.parse().ok()?;
        let edit = Edit::replace(std::path::Path::new(path), line, "")?;
        edit.old.contains(region).then(|| Edit {
            new: edit.old.replacen(region, right, 1),
            ..edit
        })
    });
    finding.edit_or(
        edit,
        format!("{place}: AWS_REGION: \"${{AWS_DEFAULT_REGION}}\""),
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, replace};
    use crate::doctor::finding::{CheckId, Status};

    #[test]
    fn a_daemon_in_another_region_is_a_warning_naming_its_console() {
        let checked = check(
            "honeycomb,xray",
            replace(
                "docker-compose.yml",
                "AWS_REGION: \"${AWS_DEFAULT_REGION}\"",
                "AWS_REGION: \"us-east-1\"",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::XrayDaemonRegion, Status::Warn);
        assert!(finding.message.contains("us-east-1"), "{}", finding.message);
    }

    /// X-Ray off in the code: a daemon in another region loses nothing;
    /// one with no region exits at start, which is worth a warning.
    #[test]
    fn with_x_ray_off_the_daemon_is_judged_only_if_it_cannot_start() {
        let daemon = |environment: &'static str| {
            move |file: &str, text: String| match file {
                "docker-compose.yml" => format!(
                    "{text}\n  xray-daemon:\n    image: amazon/aws-xray-daemon:3.x\n    environment:\n      AWS_ACCESS_KEY_ID: \"${{AWS_ACCESS_KEY_ID}}\"\n      AWS_SECRET_ACCESS_KEY: \"${{AWS_SECRET_ACCESS_KEY}}\"\n{environment}    command: [\"-o\"]\n"
                ),
                _ => text,
            }
        };
        let elsewhere = check(
            "honeycomb",
            daemon("      AWS_REGION: \"us-east-1\"\n"),
            SHELL,
        );
        assert!(
            !elsewhere
                .findings
                .iter()
                .any(|f| f.id.as_str().starts_with("xray")),
            "{:#?}",
            elsewhere.findings
        );
        let nowhere = check("honeycomb", daemon(""), SHELL);
        let finding = nowhere.one(CheckId::XrayDaemonRegion, Status::Warn);
        assert!(
            finding.message.contains("X-Ray code is off"),
            "{}",
            finding.message
        );
    }
}
