//! AWS credentials and regions. IAM only promises 16-128 word characters for
//! key ids, so unusual shapes warn; a region that does not exist fails.

use super::Shape;
use super::names::edit_distance;

/// Public commercial, GovCloud and China regions.
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// Whether `text` goes on as an access key id does after its `AKIA` or
/// `ASIA`: 16 uppercase letters or digits.
pub fn goes_on_as_access_key_id(text: &str) -> bool {
    text.as_bytes().get(..16).is_some_and(|tail| {
        tail.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

pub fn access_key_shape(id: &str) -> Shape {
    let standard = id.len() == 20
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    match &id.get(..4) {
        Some("AKIA") if standard => Shape::Fits("long-term access key id".into()),
        Some("ASIA") if standard => {
            Shape::Fits("temporary access key id (needs AWS_SESSION_TOKEN)".into())
        }
        _ => Shape::Unusual(format!(
            "does not look like an access key id (AKIA or ASIA and 16 more uppercase letters \
             or digits; this one has {} characters)",
            id.chars().count()
        )),
    }
}

pub fn secret_key_shape(secret: &str) -> Shape {
    let charset = secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+');
    if secret.len() == 40 && charset {
        Shape::Fits("40-character secret access key".into())
    } else {
        Shape::Unusual(format!(
            "secret access keys are 40 characters of letters, digits, / and +; this one has {}",
            secret.chars().count()
        ))
    }
}

pub fn region_shape(region: &str) -> Shape {
    if REGIONS.contains(&region) {
        return Shape::Fits("known region".into());
    }
    match closest_region(region) {
        Some(guess) => Shape::Wrong(format!(
            "is {region:?}, which is no AWS region: did you mean {guess}?"
        )),
        None => Shape::Wrong(format!(
            "is {region:?}, which is no AWS region (e.g. us-east-1, ca-central-1)"
        )),
    }
}

pub fn closest_region(region: &str) -> Option<&'static str> {
    let lower = region.trim().to_ascii_lowercase();
    REGIONS
        .iter()
        .map(|r| (edit_distance(&lower, r), *r))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(matches!(
            access_key_shape("AKIAIOSFODNN7EXAMPLE"),
            Shape::Fits(_)
        ));
        assert!(matches!(
            access_key_shape("akiaiosfodnn7example"),
            Shape::Unusual(_)
        ));
        assert!(matches!(
            secret_key_shape("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            Shape::Fits(_)
        ));
        assert!(matches!(secret_key_shape("short"), Shape::Unusual(_)));
        assert_eq!(closest_region("can-central-1"), Some("ca-central-1"));
        assert!(matches!(region_shape("ca-central-1"), Shape::Fits(_)));
        match region_shape("can-central-1") {
            Shape::Wrong(m) => assert!(m.contains("did you mean ca-central-1")),
            other => panic!("{other:?}"),
        }
    }
}
