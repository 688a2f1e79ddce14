//! `workspace-*` and `compose-*`: what was found, and whether Compose can
//! resolve the file at all.

use crate::doctor::finding::{CheckId, Edit, Finding, Layer};
use crate::fingerprint::fingerprint;
use crate::workspace::compose::{self, valid_image_reference};
use crate::workspace::context::{Context, Resolver};
use crate::workspace::dockerfile;
use crate::workspace::interpolate::interpolate;
use crate::workspace::python::Value;

pub fn run(ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    let backends: Vec<&str> = ctx.backends.iter().map(|b| b.name()).collect();
    if backends.is_empty() {
        out.push(
            Finding::warn(CheckId::WorkspaceBackends, Layer::Workspace, "found no tracing backend (no OTEL, Honeycomb, X-Ray, CloudWatch or Rollbar settings)")
                .fix("tracelab new --defaults NEW_DIR   # a complete workspace to compare with"),
        );
    } else {
        out.push(Finding::ok(
            CheckId::WorkspaceBackends,
            Layer::Workspace,
            format!("backends in use: {}", backends.join(", ")),
        ));
    }
    for why in &ctx.unreadable {
        out.push(
            Finding::fail(CheckId::WorkspaceUnreadable, Layer::Workspace, why.clone())
                .fix("replace it with the regular text file it stands for"),
        );
    }
    if let Some(broken) = &ctx.broken_compose {
        out.push(broken_compose(broken));
        return out;
    }
    let Some(compose) = &ctx.compose else {
        out.push(Finding::warn(
            CheckId::ComposeFile,
            Layer::Compose,
            "no compose file here: checking this shell as the app's environment",
        ));
        return out;
    };
    let file = compose.file.path.display();
    let resolver = match &compose.resolver {
        Resolver::Builtin => "tracelab's resolver".to_string(),
        Resolver::Compose(bin) => bin.clone(),
    };
    if let Some(finding) = found_only_with_f(ctx) {
        out.push(finding);
    }
    match &compose.backend {
        Some(service) => out.push(Finding::ok(
            CheckId::ComposeFile,
            Layer::Compose,
            format!("{file}: backend service {service:?}, resolved with {resolver}"),
        )),
        None => out.push(Finding::fail(
            CheckId::ComposeFile,
            Layer::Compose,
            format!("{file}: no service sets OTEL_* variables or builds a directory with app.py"),
        ).fix("add the OTEL_* variables to the backend's `environment:` (tracelab new shows them)")),
    }
    if let Some(error) = &compose.error {
        let variable = error
            .split("required variable ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string);
        let mut finding = Finding::fail(
            CheckId::ComposeInterpolation,
            Layer::Compose,
            format!("Compose cannot resolve the file: {error}"),
        );
        if let Some(name) = variable.or_else(|| unset_in_networks(ctx)) {
            finding = finding.var(&name).fix(format!(
                "{}{}",
                super::env::set_command(ctx, &name),
                example_hint(ctx, &name)
            ));
        }
        out.push(finding);
    }
    check_quoted_values(ctx, &mut out);
    check_healthcheck(ctx, &mut out);
    check_image_references(ctx, &mut out);
    check_dockerfile_commands(ctx, &mut out);
    out
}

/// One finding for a compose file Compose cannot read: nothing starts, and
/// whatever would follow from its settings is not guessed at.
fn broken_compose(broken: &crate::workspace::context::BrokenCompose) -> Finding {
    let file = broken.path.display();
    match broken.conflict_line {
        Some(line) => Finding::fail(
            CheckId::ComposeConflict,
            Layer::Compose,
            format!("{file}:{line}: {}: Compose cannot read the file, so nothing starts", {
                let marker = crate::workspace::read::text(&broken.path)
                    .ok()
                    .and_then(|t| t.lines().nth(line.saturating_sub(1)).map(str::to_string))
                    .unwrap_or_default();
                crate::workspace::python::conflict_message(&marker)
            }),
        )
        .fix(format!("{file}:{line}: keep the side you want, delete the <<<<<<<, ======= and >>>>>>> lines, then run: tracelab doctor")),
        None => Finding::fail(
            CheckId::ComposeInvalid,
            Layer::Compose,
            format!("{}: Compose refuses the file, so nothing starts", broken.error),
        )
        .fix(format!("fix {file} at that line; docker compose -f {file} config shows the same error")),
    }
}

/// A variable a service's `networks:` interpolates and nobody sets: the
/// cause of "refers to undefined network -network".
fn unset_in_networks(ctx: &Context) -> Option<String> {
    let compose = ctx.compose.as_ref()?;
    let lookup = |name: &str| ctx.interpolated(name);
    compose
        .file
        .services
        .iter()
        .flat_map(|s| s.networks.iter().flatten())
        .find_map(|raw| interpolate(raw, &lookup).ok()?.unset.into_iter().next())
}

/// The configuration checked is one `docker compose` does not find by
/// itself because of the case of its name: `Docker-compose.yml` is not
/// `docker-compose.yml` on Linux. (A file named otherwise on purpose,
/// `docker-compose-gitpod.yml`, is run with -f by choice: not reported.)
fn found_only_with_f(ctx: &Context) -> Option<Finding> {
    let compose = ctx.compose.as_ref().filter(|_| ctx.primary)?;
    let env = |name: &str| ctx.feeding(name).map(|(_, v)| v.to_string());
    if compose::default_configuration(&ctx.dir, &env).is_some() {
        return None;
    }
    let path = compose.file.path.display();
    let name = compose
        .file
        .path
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let lowered = name.to_ascii_lowercase();
    if !compose::FILE_NAMES.contains(&lowered.as_str()) {
        return None;
    }
    let fix = format!("git mv {name} {lowered}   # or run every command with -f {name}");
    Some(
        Finding::warn(
            CheckId::ComposeFile,
            Layer::Compose,
            format!("{path}: `docker compose up` finds no compose file here (it looks for compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml, and names are case-sensitive): nothing starts unless you pass -f {name}. Checked here as `-f {name}` runs it"),
        )
        .fix(fix),
    )
}

/// An `image:` that interpolates to no reference Docker takes
/// (`${DOCKER_USERNAME}/app` with the variable set nowhere is `/app`):
/// `docker compose up --build` cannot tag it, so the service never starts.
fn check_image_references(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(compose) = &ctx.compose else { return };
    let lookup = |name: &str| ctx.interpolated(name);
    // One finding per variable set nowhere: setting it fixes every image.
    let mut by_variable: Vec<(String, Vec<String>)> = Vec::new();
    for service in &compose.file.services {
        let Some(raw) = service.image.as_deref() else {
            continue;
        };
        let Ok(resolved) = interpolate(raw, &lookup) else {
            continue;
        };
        let Some(unset) = resolved.unset.first() else {
            continue;
        };
        if valid_image_reference(&resolved.value) {
            continue;
        }
        let place = compose.file.place(&service.name, &["image"]);
        let broken = format!(
            "{place}: {} has image {raw:?}, so {:?}",
            service.name, resolved.value
        );
        match by_variable.iter_mut().find(|(v, _)| v == unset) {
            Some((_, services)) => services.push(broken),
            None => by_variable.push((unset.clone(), vec![broken])),
        }
    }
    for (unset, broken) in by_variable {
        out.push(
            Finding::fail(
                CheckId::ComposeImageReference,
                Layer::Compose,
                format!(
                    "{unset} is set nowhere: {}: `docker compose up --build` cannot tag such an image (invalid reference format), so the service never starts",
                    broken.join("; ")
                ),
            )
            .var(&unset)
            .fix(format!("{}{}", super::env::set_command(ctx, &unset), example_hint(ctx, &unset))),
        );
    }
}

/// Each Dockerfile a service builds: an exec-form command that is not JSON
/// runs as a shell string, and the container exits at once.
fn check_dockerfile_commands(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(compose) = &ctx.compose else { return };
    for service in &compose.file.services {
        let Some(path) = service
            .build_context
            .as_deref()
            .and_then(|context| dockerfile::of_build_context(compose.file.dir(), context))
        else {
            continue;
        };
        let Ok(text) = crate::workspace::read::text(&path) else {
            continue;
        };
        if let Some(finding) = script_not_executable(ctx, &path, &text) {
            out.push(finding);
        }
        for instruction in dockerfile::instructions(&text) {
            let Some(why) = dockerfile::broken_exec_form(&instruction) else {
                continue;
            };
            let first = crate::shell::split_words(&instruction.arguments)
                .into_iter()
                .next()
                .unwrap_or_default();
            let finding = Finding::fail(
                CheckId::DockerfileCommand,
                Layer::Workspace,
                format!(
                    "{}:{}: {} {} is not a JSON array ({why}), so Docker runs it as a shell command whose first word is {first:?}: \"not found\", and the {} container exits",
                    path.display(),
                    instruction.line,
                    instruction.keyword,
                    instruction.arguments,
                    service.name
                ),
            );
            let meant = dockerfile::meant_exec_form(&instruction.arguments);
            let edit = meant.and_then(|json| {
                let edit = Edit::replace(&path, instruction.line, "")?;
                // One line as written: the keyword kept, the array fixed.
                let at = edit.old.find('[')?;
                (edit.old.trim_end().ends_with(']')).then(|| Edit {
                    new: format!("{}{json}", &edit.old[..at]),
                    ..edit
                })
            });
            out.push(finding.edit_or(
                edit,
                format!(
                    "{}:{}: write it as JSON: double quotes, a comma between every two words",
                    path.display(),
                    instruction.line
                ),
            ));
        }
    }
}

/// An exec-form ENTRYPOINT or CMD that runs a script git records as not
/// executable (100644): on Linux the container exits with "permission
/// denied". Judged from git's index only: a checkout's own bits are
/// whatever the copy kept.
fn script_not_executable(
    ctx: &Context,
    dockerfile: &std::path::Path,
    text: &str,
) -> Option<Finding> {
    let all = dockerfile::instructions(text);
    let (runs, source) = dockerfile::script_run(&all)?;
    let script = dockerfile.parent()?.join(source);
    let rel = script
        .strip_prefix(&ctx.dir)
        .ok()?
        .to_string_lossy()
        .into_owned();
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(&ctx.dir)
        .args(["ls-files", "--stage", "--", &rel])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let staged = String::from_utf8_lossy(&output.stdout);
    if !staged.starts_with("100644 ") {
        return None;
    }
    Some(
        Finding::fail(
            CheckId::DockerfileCommand,
            Layer::Workspace,
            format!(
                "{}:{}: {} runs {rel}, which git records as not executable (100644): the container exits with \"permission denied\"",
                dockerfile.display(),
                runs.line,
                runs.keyword
            ),
        )
        .command(format!("chmod +x {rel} && git update-index --chmod=+x {rel}")),
    )
}

/// "(.env.example has it: cp .env.example .env)" when that is where it lives.
fn example_hint(ctx: &Context, name: &str) -> String {
    let has = |path: &std::path::Path| {
        crate::workspace::read::text(path).is_ok_and(|t| {
            t.lines()
                .any(|l| l.trim_start().starts_with(&format!("{name}=")))
        })
    };
    let example = ctx.dir.join(".env.example");
    if has(&example) && !ctx.dir.join(".env").exists() {
        "   # .env.example sets it: cp .env.example .env".into()
    } else {
        String::new()
    }
}

/// The services spans and segments pass through: the backend, the daemon,
/// the collectors.
fn pipeline_services(ctx: &Context) -> Vec<String> {
    let mut names: Vec<String> = ctx
        .backend_service()
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Some(compose) = &ctx.compose
        && let Some(daemon) = crate::workspace::xray::daemon(&compose.file)
    {
        names.push(daemon.name.clone());
    }
    names.extend(ctx.collectors.iter().map(|c| c.service.clone()));
    names
}

/// `KEY: "'${VALUE}'"`: the inner quotes are part of the value.
fn check_quoted_values(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(compose) = &ctx.compose else { return };
    for service in pipeline_services(ctx) {
        let Some(env) = ctx.service_env(&service) else {
            continue;
        };
        for (key, value) in env {
            let Some(value) = value else { continue };
            if !crate::rules::values::wrapped_in_quotes(value) {
                continue;
            }
            let place = compose.file.place(&service, &["environment", key]);
            let shown = if value.len() <= 2 {
                format!("{value:?}")
            } else {
                fingerprint(value)
            };
            // A name with quotes still carries the spans, under a dataset
            // called so; a key or token with quotes is refused.
            let finding = if key == "OTEL_SERVICE_NAME" {
                Finding::warn(CheckId::ComposeQuotedValue, Layer::Compose, format!("{place}: {service} gets {key} as {value}: the quotes are part of the name, so the spans land in a dataset called {value}, with its quotes"))
            } else {
                Finding::fail(CheckId::ComposeQuotedValue, Layer::Compose, format!("{place}: {service} gets {key} as {shown}: the quotes are part of the value (quotes inside a quoted YAML string), so whatever reads it gets a wrong value (AWS rejects such a token: \"The security token included in the request is invalid\")"))
            }
            .var(key);
            // The value as written, one pair of quotes fewer.
            let unquoted = super::compose_edits::written(ctx, &service, key).and_then(|raw| {
                let inner = raw
                    .strip_prefix('\'')
                    .and_then(|r| r.strip_suffix('\''))
                    .or_else(|| raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')))?;
                Some(inner.to_string())
            });
            let edit = unquoted
                .and_then(|inner| super::compose_edits::set_value(ctx, &service, key, &inner));
            out.push(finding.edit_or(edit, format!("at {place}: {key}: \"${{{key}}}\"  (one pair of quotes), or delete the line if {service} does not need it")));
        }
    }
}

/// A healthcheck that asks the backend for a path no route serves keeps the
/// container "unhealthy" (and anything that waits on its health waiting).
fn check_healthcheck(ctx: &Context, out: &mut Vec<Finding>) {
    let Some(compose) = &ctx.compose else { return };
    let Some(service) = ctx.backend_service().and_then(|s| compose.file.service(s)) else {
        return;
    };
    let Some(test) = &service.healthcheck else {
        return;
    };
    // `@app.route`, Flask 2's `@app.get`/`@app.post`..., and add_url_rule;
    // a route is a path (so `os.environ.get("X")` is not one).
    let routes: Vec<String> = ctx
        .live_calls()
        .filter(|(_, c)| {
            matches!(
                c.method(),
                "route" | "get" | "post" | "put" | "patch" | "delete" | "add_url_rule"
            )
        })
        .filter_map(|(_, c)| match c.args.first() {
            Some(Value::Str(route)) if route.starts_with('/') => Some(route.clone()),
            _ => None,
        })
        .collect();
    if routes.is_empty() {
        return;
    }
    for word in test.split_whitespace() {
        let Some(rest) = word
            .strip_prefix("http://localhost:")
            .or_else(|| word.strip_prefix("http://127.0.0.1:"))
        else {
            continue;
        };
        let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
        let path = path
            .split('?')
            .next()
            .unwrap_or(path)
            .trim_end_matches(['"', '\'']);
        if routes.iter().any(|r| route_matches(r, path)) {
            continue;
        }
        let place = compose.file.place(&service.name, &["healthcheck", "test"]);
        out.push(
            Finding::warn(CheckId::ComposeHealthcheck, Layer::Compose, format!("{place}: the healthcheck asks for {path}, which no route of the app serves: the container stays unhealthy (telemetry still flows unless something waits on its health)"))
                .fix(format!("at {place}: use a route the app has, such as {}", suggested_route(&routes))),
        );
    }
}

/// A route to probe: a health route, else a plain /api/ one, else the first.
fn suggested_route(routes: &[String]) -> &str {
    routes
        .iter()
        .find(|r| r.contains("health"))
        .or_else(|| {
            routes
                .iter()
                .find(|r| r.starts_with("/api/") && !r.contains('<'))
        })
        .unwrap_or(&routes[0])
}

/// A Flask route (`/api/activities/@<string:handle>`) against a path.
fn route_matches(route: &str, path: &str) -> bool {
    let route_parts: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    let path_parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    route_parts.len() == path_parts.len()
        && route_parts.iter().zip(&path_parts).all(|(r, p)| {
            r == p
                || (r.contains('<') && r.contains('>') && {
                    let prefix = &r[..r.find('<').unwrap_or(0)];
                    p.starts_with(prefix)
                })
        })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, check_after, check_renamed, replace, unchanged};
    use crate::doctor::finding::{CheckId, Status};

    #[test]
    fn an_image_from_a_variable_set_nowhere_is_one_problem() {
        let checked = check(
            "honeycomb",
            replace(
                "docker-compose.yml",
                "    build:\n",
                "    image: ${DOCKER_USERNAME}/backend:dev\n    build:\n",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::ComposeImageReference, Status::Fail);
        assert_eq!(finding.variable.as_deref(), Some("DOCKER_USERNAME"));
    }

    #[test]
    fn an_exec_form_command_that_is_not_json_gets_the_json_it_meant() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/Dockerfile",
                "CMD [\"python3\", \"-m\"",
                "CMD [\"python3\" \"-m\"",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::DockerfileCommand, Status::Fail);
        assert!(
            finding
                .fix
                .as_deref()
                .unwrap()
                .contains("[\"python3\", \"-m\""),
            "{:?}",
            finding.fix
        );
    }

    /// `Docker-compose.yml` is read as the configuration `-f` runs, and
    /// one warning says Compose finds it only so.
    #[test]
    fn a_compose_file_found_only_with_f_is_checked_and_named() {
        let checked = check_renamed(
            "honeycomb",
            unchanged,
            |path| path.replace("docker-compose.yml", "Docker-compose.yml"),
            SHELL,
        );
        let finding = checked.one(CheckId::ComposeFile, Status::Warn);
        assert!(
            finding
                .fix
                .as_deref()
                .unwrap()
                .contains("git mv Docker-compose.yml docker-compose.yml")
        );
        // Its OTEL block is read: nothing is reported missing.
        assert_eq!(checked.ids(Status::Fail), [], "{:#?}", checked.findings);
    }

    /// A script the image runs itself, committed as 100644: git's index
    /// says so, and the fix is the command that marks it executable.
    #[test]
    fn a_script_committed_without_its_exec_bit_is_named() {
        let git = |dir: &std::path::Path, args: &[&str]| {
            let status = std::process::Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .output()
                .expect("git runs");
            assert!(status.status.success(), "git {args:?}: {status:?}");
        };
        let script = |dir: &std::path::Path| {
            std::fs::write(
                dir.join("backend-flask/entrypoint.sh"),
                "#!/bin/sh\nexec \"$@\"\n",
            )
            .unwrap();
            git(dir, &["init", "-q"]);
            git(dir, &["add", "."]);
        };
        let entrypoint = replace(
            "backend-flask/Dockerfile",
            "CMD [",
            "ENTRYPOINT [\"./entrypoint.sh\"]\nCMD [",
        );
        let checked = check_after("honeycomb", &entrypoint, script, SHELL);
        let finding = checked.one(CheckId::DockerfileCommand, Status::Fail);
        assert!(finding.message.contains("100644"), "{}", finding.message);
        assert!(
            finding
                .fix
                .as_deref()
                .unwrap()
                .contains("git update-index --chmod=+x backend-flask/entrypoint.sh")
        );
        // Marked executable in the index: nothing to say.
        let executable = |dir: &std::path::Path| {
            script(dir);
            git(
                dir,
                &["update-index", "--chmod=+x", "backend-flask/entrypoint.sh"],
            );
        };
        let fixed = check_after("honeycomb", &entrypoint, executable, SHELL);
        assert!(
            !fixed
                .findings
                .iter()
                .any(|f| f.id == CheckId::DockerfileCommand)
        );
    }
}
