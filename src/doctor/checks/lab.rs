//! `lab-*`: the lab's own manual span. Spans arrive either way, but the
//! lab's queries look for `app.now` and `app.result_length` on the span in
//! services/home_activities.py, so a renamed attribute finds nothing.

use crate::doctor::finding::{CheckId, Edit, Finding, Layer};
use crate::rules::names::edit_distance;
use crate::workspace::context::Context;
use crate::workspace::python::Value;

use crate::rules::lab::{ATTRIBUTES as LAB_ATTRIBUTES, FILE as LAB_FILE};

pub fn run(ctx: &Context) -> Vec<Finding> {
    let Some(file) = ctx
        .code
        .iter()
        .find(|f| f.path.file_name().is_some_and(|n| n == LAB_FILE))
    else {
        return Vec::new();
    };
    if file.syntax_error.is_some()
        || !ctx.code.first().is_some_and(|app| {
            app.facts.has_call("TracerProvider") || ctx.live_call("TracerProvider").is_some()
        })
    {
        return Vec::new();
    }
    let facts = &file.facts;
    let key = |args: &[Value]| match args.first() {
        Some(Value::Str(k)) => Some(k.clone()),
        _ => None,
    };
    let live: Vec<(String, usize)> = facts
        .calls_to("set_attribute")
        .filter_map(|c| Some((key(&c.args)?, c.line)))
        .collect();
    // An attribute that is there but never runs is reported by code-unreachable.
    let dead: Vec<String> = facts
        .dead_calls
        .iter()
        .filter(|d| d.call.method() == "set_attribute")
        .filter_map(|d| key(&d.call.args))
        .collect();
    let place = file.path.display();
    if facts.span_blocks.is_empty() {
        return vec![Finding::info(
            CheckId::LabSpan,
            Layer::Code,
            format!(
                "{place} starts no span of its own: only the automatic Flask and requests spans arrive (the lab adds home-activities-mock-data with app.now and app.result_length)"
            ),
        )];
    }
    let mut out = Vec::new();
    // Attributes with no near miss are one finding for the span, not one each.
    let mut absent: Vec<&str> = Vec::new();
    for wanted in LAB_ATTRIBUTES {
        if live.iter().any(|(k, _)| k == wanted) || dead.iter().any(|k| k == wanted) {
            continue;
        }
        let near = live
            .iter()
            .find(|(k, _)| k.starts_with("app.") && edit_distance(k, wanted) <= 2);
        match near {
            Some((k, line)) => {
                let finding = Finding::warn(
                    CheckId::LabSpan,
                    Layer::Code,
                    format!(
                        "{place}:{line}: the attribute is {k:?}, the lab's is {wanted:?}: queries on {wanted} find nothing"
                    ),
                );
                // The key renamed where it is written, quotes and all.
                let renamed =
                    Edit::rename(&file.path, *line, &format!("{k:?}"), &format!("{wanted:?}"))
                        .or_else(|| {
                            Edit::rename(
                                &file.path,
                                *line,
                                &format!("'{k}'"),
                                &format!("'{wanted}'"),
                            )
                        });
                out.push(finding.edit_or(
                    renamed,
                    format!("{place}:{line}: span.set_attribute(\"{wanted}\", ...)"),
                ));
            }
            None => absent.push(wanted),
        }
    }
    if !absent.is_empty() {
        let set: Vec<&str> = live.iter().map(|(k, _)| k.as_str()).collect();
        let line = facts.span_blocks[0].line;
        let has = if set.is_empty() {
            "sets no attribute".to_string()
        } else {
            format!("sets {}", set.join(", "))
        };
        let fix = absent
            .iter()
            .map(|w| format!("span.set_attribute(\"{w}\", ...)"))
            .collect::<Vec<_>>()
            .join("; ");
        out.push(
            Finding::warn(
                CheckId::LabSpan,
                Layer::Code,
                format!("{place}:{line}: the span {has}, without the lab's {}: queries on them find nothing", absent.join(" and ")),
            )
            .fix(format!("inside the `with` block at {place}:{line}: {fix}")),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{SHELL, check, replace};
    use crate::doctor::finding::{CheckId, Status};

    #[test]
    fn a_renamed_lab_attribute_is_a_warning() {
        let checked = check(
            "honeycomb",
            replace(
                "backend-flask/services/home_activities.py",
                "\"app.result_length\"",
                "\"app.results_length\"",
            ),
            SHELL,
        );
        let finding = checked.one(CheckId::LabSpan, Status::Warn);
        assert!(
            finding.message.contains("app.result_length"),
            "{}",
            finding.message
        );
    }
}
