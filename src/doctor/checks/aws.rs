//! `aws-*`: what boto3 (CloudWatch Logs through watchtower) needs in the
//! backend itself: AWS_DEFAULT_REGION (boto3 does not read AWS_REGION), a
//! session token for temporary keys, and the region the logs land in. The
//! X-Ray daemon's needs are checked in xray.rs: the SDK needs none of these.

use crate::backend::Backend;
use crate::doctor::finding::{CheckId, Finding};
use crate::workspace::context::Context;

pub fn run(ctx: &Context) -> Vec<Finding> {
    if !ctx.uses(Backend::Cloudwatch) {
        return Vec::new();
    }
    let Some((layer, env)) = ctx.app_env() else {
        return Vec::new();
    };
    let get = |name: &str| env.get(name).cloned().flatten().filter(|v| !v.is_empty());
    let mut out = Vec::new();
    if get("AWS_DEFAULT_REGION").is_none() && get("AWS_REGION").is_some() {
        out.push(
            Finding::fail(CheckId::AwsRegion, layer, "the backend has AWS_REGION but not AWS_DEFAULT_REGION: boto3 (watchtower, CloudWatch Logs) reads only AWS_DEFAULT_REGION, and the backend fails at import")
                .var("AWS_DEFAULT_REGION")
                .fix("AWS_DEFAULT_REGION: \"${AWS_DEFAULT_REGION}\"   # in the backend's environment"),
        );
    }
    if get("AWS_ACCESS_KEY_ID").is_some_and(|id| id.starts_with("ASIA"))
        && get("AWS_SESSION_TOKEN").is_none()
    {
        out.push(
            Finding::fail(CheckId::AwsSessionToken, layer, "AWS_ACCESS_KEY_ID is a temporary key (ASIA...), which needs AWS_SESSION_TOKEN too")
                .var("AWS_SESSION_TOKEN")
                .fix("AWS_SESSION_TOKEN: \"${AWS_SESSION_TOKEN}\"   # in the backend's environment, and export it"),
        );
    }
    if let Some(region) = get("AWS_DEFAULT_REGION")
        && let Some((student, from)) = ctx.student_region()
        && student != region
    {
        out.push(
            Finding::info(CheckId::AwsRegion, layer, format!("CloudWatch logs go to {region} (the backend's AWS_DEFAULT_REGION, written into the compose file), while your {from} is {student}: look for the log group in {region}, or pass yours through with AWS_DEFAULT_REGION: \"${{AWS_DEFAULT_REGION}}\""))
                .var("AWS_DEFAULT_REGION"),
        );
    }
    if out
        .iter()
        .all(|f| f.status == crate::doctor::finding::Status::Info)
    {
        out.push(Finding::ok(
            CheckId::AwsRegion,
            layer,
            "AWS settings are where boto3 reads them",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, replace, unchanged};
    use crate::doctor::finding::{CheckId, Status};

    /// boto3 reads AWS_DEFAULT_REGION only: the backend given AWS_REGION
    /// alone fails at import.
    #[test]
    fn the_backend_needs_aws_default_region_not_aws_region() {
        let checked = check(
            "honeycomb,cloudwatch",
            replace(
                "docker-compose.yml",
                "      AWS_DEFAULT_REGION: \"${AWS_DEFAULT_REGION}\"\n",
                "      AWS_REGION: \"${AWS_DEFAULT_REGION}\"\n",
            ),
            SHELL,
        );
        let found = checked.one(CheckId::AwsRegion, Status::Fail);
        assert_eq!(found.variable.as_deref(), Some("AWS_DEFAULT_REGION"));
    }

    /// A temporary key (ASIA...) without its session token.
    #[test]
    fn a_temporary_key_needs_its_session_token() {
        let shell: Vec<(&str, &str)> = SHELL
            .iter()
            .map(|&(k, v)| match k {
                "AWS_ACCESS_KEY_ID" => (k, "ASIAZ7Q4R5T6Y7U8I9O0"),
                _ => (k, v),
            })
            .collect();
        let checked = check("honeycomb,cloudwatch", unchanged, &shell);
        checked.one(CheckId::AwsSessionToken, Status::Fail);
        // With the generated workspace as it is, boto3 has what it reads.
        let fine = check("honeycomb,cloudwatch", unchanged, SHELL);
        fine.one(CheckId::AwsRegion, Status::Ok);
    }
}
