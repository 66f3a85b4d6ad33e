//! `outage-lab alarm-replay`: a drill's recorded failures (its `incident.json`) replayed through
//! other alarm settings and metric delays (`lab_cloudwatch::replay`), printed as a table.

use std::path::Path;
use std::time::{Duration, SystemTime};

use incident_report::Incident;
use lab_cloudwatch::replay::{replay, Outcome, Recording, Setting};
use serde_json::json;

/// Tried when no `--setting` is given: the dev stage's fast alarm and its nearest alternatives.
pub const DEFAULT_SETTINGS: [&str; 5] = [
    "10s:1of1:1",
    "20s:1of1:1",
    "30s:1of1:1",
    "10s:2of3:1",
    "60s:1of1:1",
];
/// Tried when no `--delay-s` is given, in seconds.
pub const DEFAULT_DELAYS_S: [f64; 5] = [0.0, 5.0, 15.0, 30.0, 60.0];

/// What was replayed, for the heading.
pub struct Replayed {
    pub stage: String,
    pub drill_id: String,
    pub function: String,
    pub source: String,
    pub fixed: bool,
    pub outcomes: Vec<Outcome>,
}

/// Reads `incident.json` and replays the `function`'s recorded failures (default: the function
/// the drill broke) under every setting and delay.
pub fn run(
    incident: &Path,
    function: Option<&str>,
    settings: &[Setting],
    delays: &[Duration],
) -> anyhow::Result<Replayed> {
    let text = std::fs::read_to_string(incident)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", incident.display()))?;
    let incident: Incident = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not a drill's incident.json: {e}", incident_path(incident)))?;
    let function = function.unwrap_or(&incident.fault.function).to_owned();
    let series = incident
        .metrics
        .errors
        .iter()
        .find(|s| s.name == function)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "the incident records no failures of {function:?}; it has {}",
                incident
                    .metrics
                    .errors
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let recording = Recording {
        points: series
            .points
            .iter()
            .map(|p| (SystemTime::from(p.timestamp), p.value))
            .collect(),
        bucket_s: incident.metrics.period_s,
        fault_at: incident.detection.fault_injected_at.into(),
        fixed_at: incident.detection.fix_applied_at.map(SystemTime::from),
    };
    let mut outcomes = Vec::new();
    for setting in settings {
        for delay in delays {
            outcomes.push(replay(&recording, *setting, *delay)?);
        }
    }
    Ok(Replayed {
        stage: incident.stage,
        drill_id: incident.drill_id,
        function,
        source: incident.metrics.sources.errors,
        fixed: recording.fixed_at.is_some(),
        outcomes,
    })
}

fn incident_path(p: &Path) -> String {
    p.display().to_string()
}

fn secs(v: Option<f64>, missing: &str) -> String {
    v.map_or_else(|| missing.to_owned(), |s| format!("{s:.0} s"))
}

impl Replayed {
    pub fn table(&self) -> String {
        let mut out = format!(
            "alarm replay of drill {} (stage {}): failures of {}, from {}\n",
            self.drill_id, self.stage, self.function, self.source
        );
        out.push_str(&format!(
            "{:<28} {:>7} {:>12} {:>18} {:>13}\n",
            "alarm setting", "delay", "fires after", "clears after fix", "false alarms"
        ));
        for o in &self.outcomes {
            let cleared = if !self.fixed {
                "no fix".to_owned()
            } else {
                secs(
                    o.cleared_after_fix_s,
                    if o.fired_after_s.is_some() {
                        "not cleared"
                    } else {
                        "-"
                    },
                )
            };
            out.push_str(&format!(
                "{:<28} {:>7} {:>12} {:>18} {:>13}\n",
                o.setting.to_string(),
                format!("{:.0} s", o.delay.as_secs_f64()),
                secs(o.fired_after_s, "MISSED"),
                cleared,
                o.false_alarms
            ));
        }
        out
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "stage": self.stage,
            "drill_id": self.drill_id,
            "function": self.function,
            "source": self.source,
            "outcomes": self.outcomes.iter().map(|o| json!({
                "setting": o.setting.to_string(),
                "period_s": o.setting.period_s,
                "evaluation_periods": o.setting.evaluation_periods,
                "datapoints_to_alarm": o.setting.datapoints_to_alarm,
                "threshold": o.setting.threshold,
                "treat_missing_data": o.setting.treat_missing_data.as_str(),
                "delay_s": o.delay.as_secs_f64(),
                "fired_after_s": o.fired_after_s,
                "cleared_after_fix_s": o.cleared_after_fix_s,
                "false_alarms": o.false_alarms,
            })).collect::<Vec<_>>(),
        })
    }
}
