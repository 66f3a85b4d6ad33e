//! Which alarm stopped a deployment. CodeDeploy names the alarms it saw in ALARM in the
//! deployment's errorInformation (code `ALARM_ACTIVE`, "... Activated alarms: <names>") and in
//! its rollbackInfo; when neither names one of the function's alarms, CloudWatch says which of
//! them is in ALARM now.

use outage_config::{AlarmKind, AlarmState, Stage};
use time::OffsetDateTime;

use crate::ports::AlarmSource;

/// The function's own alarms, which its deployment group watches.
pub fn function_alarms(stage: &Stage, key: &str) -> Vec<String> {
    AlarmKind::ALL
        .into_iter()
        .filter(|k| !k.is_api())
        .map(|k| stage.function_alarm_name(key, k))
        .collect()
}

/// The names among `known` that appear as whole words in `texts`, in the order of `known`.
/// Whole words, because one alarm's name can hold another's (`dev-auth-errors` is not
/// `dev-auth-fast-errors`, but a substring search would not know).
pub fn named_in(texts: &[&str], known: &[String]) -> Vec<String> {
    let words: Vec<&str> = texts
        .iter()
        .flat_map(|t| t.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '[' | ']' | '"' | '\'')))
        .map(|w| w.trim_end_matches(['.', ':', ')']).trim_start_matches('('))
        .filter(|w| !w.is_empty())
        .collect();
    known
        .iter()
        .filter(|name| words.contains(&name.as_str()))
        .cloned()
        .collect()
}

/// The first of `alarms` in ALARM now, with when it went there; read errors are skipped (this
/// only explains a deployment that already ended).
pub async fn first_in_alarm<A: AlarmSource>(
    source: &A,
    alarms: &[String],
) -> Option<(String, OffsetDateTime)> {
    for name in alarms {
        match source.alarm(name).await {
            Ok(status) if status.state == AlarmState::Alarm => return Some((status.name, status.updated_at)),
            Ok(_) => {}
            Err(e) => tracing::debug!("DescribeAlarms {name}: {e}"),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        ["dev-auth-fast-errors", "dev-auth-errors", "dev-auth-duration-p99"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn codedeploy_s_message_names_the_alarm() {
        let message = "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: dev-auth-fast-errors";
        assert_eq!(named_in(&[message], &known()), vec!["dev-auth-fast-errors"]);
        assert_eq!(
            named_in(
                &["Activated alarms: dev-auth-errors, dev-auth-duration-p99."],
                &known()
            ),
            vec!["dev-auth-errors", "dev-auth-duration-p99"]
        );
    }

    #[test]
    fn a_name_inside_another_is_not_a_match() {
        assert!(named_in(&["alarm dev-auth-fast-errorsX fired"], &known()).is_empty());
        assert_eq!(
            named_in(&["(dev-auth-fast-errors)"], &known()),
            vec!["dev-auth-fast-errors"]
        );
    }

    #[test]
    fn a_function_s_alarms_are_its_four_kinds() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dev = Stage::load_named(&root, "dev").unwrap();
        assert_eq!(
            function_alarms(&dev, "payment-fixed"),
            vec![
                "dev-payment-fixed-fast-errors",
                "dev-payment-fixed-errors",
                "dev-payment-fixed-duration-p99",
                "dev-payment-fixed-throttles"
            ]
        );
    }
}
