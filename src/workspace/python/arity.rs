//! Whether a call's arguments fit the function it calls, and CPython's
//! words when they do not (the TypeError raised at the call).

use super::{Call, Function, Params};

/// Why a call's arguments do not fit a project function, in CPython's words.
/// `bound` leading parameters (self, cls) are passed by Python itself.
pub fn misfit(call: &Call, function: &Function, bound: usize) -> Option<String> {
    let name = match &function.class {
        Some(class) => format!("{class}.{}", function.name),
        None => function.name.clone(),
    };
    misfit_params(call, &name, &function.params, bound)
}

/// Why a call's arguments do not fit the parameters of `name`, in CPython's
/// words: the checks in the order CPython makes them when it binds the
/// arguments (keywords, then too many positional, then missing positional,
/// then missing keyword-only).
pub fn misfit_params(call: &Call, name: &str, params: &Params, bound: usize) -> Option<String> {
    let given = call.args.len() + bound;
    let count = params.positional.len();
    // Which parameters have a value: positional ones first.
    let mut filled = vec![false; count + params.keyword_only.len()];
    for slot in filled.iter_mut().take(given.min(count)) {
        *slot = true;
    }
    let keywords: Vec<&str> = call.keywords.iter().map(|(k, _)| k.as_str()).collect();
    for keyword in &keywords {
        let slot = params.positional[params.positional_only.min(count)..]
            .iter()
            .position(|p| p == keyword)
            .map(|i| i + params.positional_only)
            .or_else(|| {
                params
                    .keyword_only
                    .iter()
                    .position(|k| k == keyword)
                    .map(|i| i + count)
            });
        match slot {
            Some(slot) if filled[slot] => {
                return Some(format!(
                    "{name}() got multiple values for argument '{keyword}'"
                ));
            }
            Some(slot) => filled[slot] = true,
            None if params.var_keyword => {}
            None => {
                let positional_only: Vec<&str> = params.positional[..params.positional_only]
                    .iter()
                    .filter(|p| keywords.contains(&p.as_str()))
                    .map(String::as_str)
                    .collect();
                if !positional_only.is_empty() {
                    return Some(format!(
                        "{name}() got some positional-only arguments passed as keyword arguments: '{}'",
                        positional_only.join(", ")
                    ));
                }
                return Some(format!(
                    "{name}() got an unexpected keyword argument '{keyword}'"
                ));
            }
        }
    }
    if given > count && !params.var_positional {
        let keyword_only_given = filled[count..].iter().filter(|f| **f).count();
        let (takes, plural) = if params.defaults > 0 {
            (format!("from {} to {count}", count - params.defaults), true)
        } else {
            (count.to_string(), count != 1)
        };
        let keyword_only = if keyword_only_given > 0 {
            format!(
                " positional argument{} (and {keyword_only_given} keyword-only argument{})",
                if given != 1 { "s" } else { "" },
                if keyword_only_given != 1 { "s" } else { "" }
            )
        } else {
            String::new()
        };
        return Some(format!(
            "{name}() takes {takes} positional argument{} but {given}{keyword_only} {} given",
            if plural { "s" } else { "" },
            if given == 1 && keyword_only_given == 0 {
                "was"
            } else {
                "were"
            }
        ));
    }
    let required = count - params.defaults;
    let missing: Vec<&str> = (0..required)
        .filter(|i| !filled[*i])
        .map(|i| params.positional[i].as_str())
        .collect();
    if !missing.is_empty() {
        return Some(missing_message(name, "positional", &missing));
    }
    let missing: Vec<&str> = params
        .required_keywords
        .iter()
        .filter(|k| !keywords.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Some(missing_message(name, "keyword-only", &missing));
    }
    None
}

/// "f() missing 2 required positional arguments: 'a' and 'b'".
fn missing_message(name: &str, kind: &str, missing: &[&str]) -> String {
    let quoted: Vec<String> = missing.iter().map(|n| format!("'{n}'")).collect();
    let names = match quoted.as_slice() {
        [one] => one.clone(),
        [first, second] => format!("{first} and {second}"),
        [rest @ .., before, last] => format!("{}, {before}, and {last}", rest.join(", ")),
        [] => String::new(),
    };
    format!(
        "{name}() missing {} required {kind} argument{}: {names}",
        missing.len(),
        if missing.len() == 1 { "" } else { "s" }
    )
}

/// The parameters a caller passes: `app, token, *, env`.
pub fn signature(function: &Function, bound: usize) -> String {
    signature_of(&function.params, bound)
}

/// The parameters a caller must pass: `app, recorder`.
pub fn signature_of(params: &Params, bound: usize) -> String {
    let positional = params.positional.get(bound..).unwrap_or_default();
    let required = positional.len().saturating_sub(params.defaults);
    let mut parts: Vec<String> = positional[..required].to_vec();
    for keyword in &params.required_keywords {
        parts.push(format!("{keyword}=..."));
    }
    parts.join(", ")
}
