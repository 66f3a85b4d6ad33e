//! The deployed stage as `terraform output -json` describes it: `{"name": {"value": ..,
//! "type": .., "sensitive": ..}}` with `api_endpoint`, `function_names` (key -> deployed name),
//! `alarm_names`, `dashboard_url`, `sns_topic_arn`, `region` and `stage`; since releases go
//! through CodeDeploy also `codedeploy_application_name` and `deployment_group_names`, read
//! when present (the stage file's naming rule is the source of truth; these only cross-check it).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("terraform output {source_name}: {message}")]
pub struct TfOutputError {
    pub source_name: String,
    pub message: String,
}

/// What the smoke test needs from a deployed stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfOutputs {
    pub api_endpoint: String,
    /// Function key -> deployed Lambda name.
    pub function_names: BTreeMap<String, String>,
    /// Every alarm name the stage deployed (the map's values).
    pub alarm_names: Vec<String>,
    pub dashboard_url: Option<String>,
    pub sns_topic_arn: Option<String>,
    pub region: String,
    pub stage: String,
    /// `codedeploy_application_name`, when the stage outputs it.
    pub codedeploy_application_name: Option<String>,
    /// `deployment_group_names` (function key -> group), empty when the stage has none.
    pub deployment_group_names: BTreeMap<String, String>,
}

impl TfOutputs {
    pub fn load(path: &Path) -> Result<TfOutputs, TfOutputError> {
        let text = std::fs::read_to_string(path).map_err(|e| TfOutputError {
            source_name: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        TfOutputs::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, source_name: &str) -> Result<TfOutputs, TfOutputError> {
        let err = |message: String| TfOutputError {
            source_name: source_name.to_owned(),
            message,
        };
        let doc: Value = serde_json::from_str(text).map_err(|e| err(format!("not JSON: {e}")))?;
        let value = |name: &str| -> Result<&Value, TfOutputError> {
            doc.get(name)
                .ok_or_else(|| err(format!("output `{name}` is missing")))?
                .get("value")
                .ok_or_else(|| {
                    err(format!(
                        "output `{name}` has no `value` (is this `terraform output -json`?)"
                    ))
                })
        };
        let string = |name: &str| -> Result<String, TfOutputError> {
            value(name)?
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| err(format!("output `{name}` must be a string")))
        };
        let optional = |name: &str| {
            doc.get(name)
                .and_then(|o| o.get("value"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let function_names = value("function_names")?
            .as_object()
            .ok_or_else(|| err("output `function_names` must be a map of function key to name".into()))?
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|s| (k.clone(), s.to_owned()))
                    .ok_or_else(|| err(format!("output `function_names.{k}` must be a string")))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let alarm_names = match value("alarm_names")? {
            Value::Object(m) => m.values().filter_map(Value::as_str).map(str::to_owned).collect(),
            Value::Array(a) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
            _ => return Err(err("output `alarm_names` must be a map or a list of names".into())),
        };
        let deployment_group_names = match doc.get("deployment_group_names").and_then(|o| o.get("value")) {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), s.to_owned()))
                        .ok_or_else(|| err(format!("output `deployment_group_names.{k}` must be a string")))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(err(
                    "output `deployment_group_names` must be a map of function key to group name".into(),
                ))
            }
        };
        let api_endpoint = string("api_endpoint")?;
        if !api_endpoint.starts_with("https://") && !api_endpoint.starts_with("http://") {
            return Err(err(format!(
                "output `api_endpoint` {api_endpoint:?} is not a URL"
            )));
        }
        Ok(TfOutputs {
            api_endpoint,
            function_names,
            alarm_names,
            dashboard_url: optional("dashboard_url"),
            sns_topic_arn: optional("sns_topic_arn"),
            region: string("region")?,
            stage: string("stage")?,
            codedeploy_application_name: optional("codedeploy_application_name"),
            deployment_group_names,
        })
    }

    /// The API id in `https://<id>.execute-api.<region>.amazonaws.com`, if it has that shape.
    pub fn api_id(&self) -> Option<&str> {
        let host = self.api_endpoint.split("://").nth(1)?.split('/').next()?;
        host.contains(".execute-api.")
            .then(|| host.split('.').next())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "api_endpoint": {"value": "https://abc123.execute-api.eu-west-1.amazonaws.com", "type": "string", "sensitive": false},
      "function_names": {"value": {"payment-fixed": "dev-payment-fixed", "auth": "dev-auth"}, "type": ["map", "string"], "sensitive": false},
      "alarm_names": {"value": {"payment-fixed-fast-errors": "dev-payment-fixed-fast-errors"}, "type": ["map", "string"], "sensitive": false},
      "dashboard_url": {"value": "https://console.aws.amazon.com/cloudwatch/home#dashboards:name=dev", "type": "string", "sensitive": false},
      "sns_topic_arn": {"value": "arn:aws:sns:eu-west-1:123456789012:dev-alarms", "type": "string", "sensitive": false},
      "region": {"value": "eu-west-1", "type": "string", "sensitive": false},
      "stage": {"value": "dev", "type": "string", "sensitive": false}
    }"#;

    #[test]
    fn reads_terraform_output_json() {
        let o = TfOutputs::parse(SAMPLE, "tf.json").unwrap();
        assert_eq!(o.function_names["payment-fixed"], "dev-payment-fixed");
        assert_eq!(o.alarm_names, vec!["dev-payment-fixed-fast-errors".to_owned()]);
        assert_eq!((o.region.as_str(), o.stage.as_str()), ("eu-west-1", "dev"));
        assert_eq!(o.api_id(), Some("abc123"));
        // A stage deployed before releases has no CodeDeploy outputs.
        assert_eq!(o.codedeploy_application_name, None);
        assert!(o.deployment_group_names.is_empty());
    }

    #[test]
    fn reads_the_codedeploy_outputs_when_present() {
        let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
        v["codedeploy_application_name"] = serde_json::json!({"value": "dev-outage-lab"});
        v["deployment_group_names"] = serde_json::json!({"value": {"auth": "dev-auth"}});
        let o = TfOutputs::parse(&v.to_string(), "tf.json").unwrap();
        assert_eq!(o.codedeploy_application_name.as_deref(), Some("dev-outage-lab"));
        assert_eq!(o.deployment_group_names["auth"], "dev-auth");
        v["deployment_group_names"] = serde_json::json!({"value": ["dev-auth"]});
        let e = TfOutputs::parse(&v.to_string(), "tf.json").unwrap_err();
        assert!(e.to_string().contains("deployment_group_names"), "{e}");
    }

    #[test]
    fn names_the_missing_or_malformed_output() {
        let mut v: Value = serde_json::from_str(SAMPLE).unwrap();
        v.as_object_mut().unwrap().remove("region");
        let e = TfOutputs::parse(&v.to_string(), "tf.json").unwrap_err();
        assert!(e.to_string().contains("`region` is missing"), "{e}");
        let e = TfOutputs::parse(r#"{"function_names": {"value": 3}}"#, "tf.json").unwrap_err();
        assert!(e.to_string().contains("function_names"), "{e}");
        let e = TfOutputs::parse(r#"{"stage": "dev"}"#, "tf.json").unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
