//! Near-miss variable names: the misspellings students actually make.

/// Optimal-string-alignment distance: edits, with swaps of neighbours as one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::osa_distance(a, b)
}

fn tokens(name: &str) -> Vec<String> {
    let mut tokens: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_uppercase())
        .collect();
    tokens.sort();
    tokens
}

fn squashed(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Whether `candidate` is probably a misspelling of `target`: the same words
/// in another order (API_HONEYCOMB_KEY), another case or separators
/// (HONEYCOMB_APIKEY), spaces around it, or one or two typos.
pub fn is_near_miss(candidate: &str, target: &str) -> bool {
    if candidate == target {
        return false;
    }
    if candidate.trim() == target
        || tokens(candidate) == tokens(target)
        || squashed(candidate) == squashed(target)
    {
        return true;
    }
    let allowed = if target.len() >= 8 { 2 } else { 1 };
    // Each edit changes the length by one at most: most names are too long
    // or too short to be near, and are told apart without the table.
    if candidate.chars().count().abs_diff(target.chars().count()) > allowed {
        return false;
    }
    edit_distance(&candidate.to_ascii_uppercase(), target) <= allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_misspellings_students_make() {
        let target = "HONEYCOMB_API_KEY";
        for near in [
            "API_HONEYCOMB_KEY",
            "HONEYCOMB_APIKEY",
            "HONEYCOMB_API_KEY ",
            "honeycomb_api_key",
            "HONEYCOM_API_KEY",
            "HONEYCOMB_API_KYE",
            "HONEYCOMB_API_KEYS",
        ] {
            assert!(is_near_miss(near, target), "{near}");
        }
        for far in [
            "HONEYCOMB_API_KEY",
            "HONEYCOMB_DATASET",
            "AWS_ACCESS_KEY_ID",
            "HONEYCOMB_SERVICE_NAME",
        ] {
            assert!(!is_near_miss(far, target), "{far}");
        }
        assert!(!is_near_miss("AWS_REGION", "AWS_DEFAULT_REGION"));
        assert_eq!(edit_distance("bakend-flask", "backend-flask"), 1);
    }
}
