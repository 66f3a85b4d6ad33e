//! The CodeDeploy names a release uses come from the stage file's rule
//! (`Stage::codedeploy_application`, `Stage::deployment_group`); a stage's `terraform output`,
//! when it has them, must agree, or the stage was deployed from another stage file.

use outage_config::Stage;

use crate::targets::tf_output::TfOutputs;

/// `Err` naming the first output that disagrees with the stage file.
pub fn cross_check(stage: &Stage, tf: &TfOutputs) -> Result<(), String> {
    if let Some(app) = &tf.codedeploy_application_name {
        let expected = stage.codedeploy_application();
        if *app != expected {
            return Err(format!(
                "terraform output `codedeploy_application_name` is {app:?} but the stage file implies {expected:?}: is the stage deployed from this stage file?"
            ));
        }
    }
    for (key, group) in &tf.deployment_group_names {
        if !stage.functions.contains_key(key) {
            return Err(format!(
                "terraform output `deployment_group_names` has {key:?}, which is not a function of stage {}",
                stage.stage
            ));
        }
        let expected = stage.deployment_group(key);
        if *group != expected {
            return Err(format!(
                "terraform output `deployment_group_names.{key}` is {group:?} but the stage file implies {expected:?}: is the stage deployed from this stage file?"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn dev() -> Stage {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Stage::load_named(&root, "dev").unwrap()
    }

    fn outputs(app: Option<&str>, groups: &[(&str, &str)]) -> TfOutputs {
        TfOutputs {
            api_endpoint: "https://abc.execute-api.eu-west-1.amazonaws.com".into(),
            function_names: BTreeMap::new(),
            alarm_names: Vec::new(),
            dashboard_url: None,
            sns_topic_arn: None,
            region: "eu-west-1".into(),
            stage: "dev".into(),
            codedeploy_application_name: app.map(str::to_owned),
            deployment_group_names: groups
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn outputs_that_agree_or_are_absent_pass() {
        let dev = dev();
        cross_check(&dev, &outputs(None, &[])).unwrap();
        cross_check(
            &dev,
            &outputs(
                Some("dev-outage-lab"),
                &[("auth", "dev-auth"), ("payment-fixed", "dev-payment-fixed")],
            ),
        )
        .unwrap();
    }

    #[test]
    fn a_disagreeing_output_is_named() {
        let dev = dev();
        let e = cross_check(&dev, &outputs(Some("dev-app"), &[])).unwrap_err();
        assert!(
            e.contains("`codedeploy_application_name` is \"dev-app\"") && e.contains("\"dev-outage-lab\""),
            "{e}"
        );
        let e = cross_check(&dev, &outputs(None, &[("auth", "dev-auth-group")])).unwrap_err();
        assert!(e.contains("`deployment_group_names.auth`"), "{e}");
        let e = cross_check(&dev, &outputs(None, &[("billing", "dev-billing")])).unwrap_err();
        assert!(e.contains("\"billing\", which is not a function"), "{e}");
    }
}
