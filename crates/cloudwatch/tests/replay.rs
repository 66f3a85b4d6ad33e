//! What-if replays: a recorded failure through other alarm settings and metric delays. The
//! recording below is a drill's shape: 5 s sums, 30 s of baseline zeros, 20 s of failures,
//! then zeros again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lab_cloudwatch::replay::{replay, Recording, ReplayError, Setting};
use lab_cloudwatch::AlarmState;

/// 2026-11-25T14:00:00Z
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_615_200)
}

fn at(s: u64) -> SystemTime {
    t0() + Duration::from_secs(s)
}

/// Failures from +32 s (the fault) to +52 s (the fix), zeros around, 5 s buckets to +120 s.
fn recording() -> Recording {
    Recording {
        points: (0..24)
            .map(|i| {
                let start = i * 5;
                let failing = (30..50).contains(&start);
                (at(start), if failing { 20.0 } else { 0.0 })
            })
            .collect(),
        bucket_s: 5,
        fault_at: at(32),
        fixed_at: Some(at(52)),
    }
}

fn setting(s: &str) -> Setting {
    s.parse().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_stage_window_fires_and_clears_within_its_periods() {
    let o = replay(&recording(), setting("10s:1of1:1"), Duration::ZERO).unwrap();
    // The first failing bucket (+30 s) lies in the period +30..+40, judged at +40.
    let fired = o.fired_after_s.unwrap();
    assert!((8.0..=9.0).contains(&fired), "{o:?}");
    // The last failing bucket ends at +50; +50..+60 is clean, judged at +60: 8 s after the fix.
    let cleared = o.cleared_after_fix_s.unwrap();
    assert!((8.0..=9.0).contains(&cleared), "{o:?}");
    assert_eq!(o.false_alarms, 0);
}

#[test]
fn a_delay_postpones_detection_and_recovery_by_the_lag() {
    let prompt = replay(&recording(), setting("10s:1of1:1"), Duration::ZERO).unwrap();
    // A bucket 5 s late still lands as its period closes: the first half of each period is
    // judged on time, and that half decides here.
    let five = replay(&recording(), setting("10s:1of1:1"), Duration::from_secs(5)).unwrap();
    assert_eq!(
        (five.fired_after_s, five.cleared_after_fix_s),
        (prompt.fired_after_s, prompt.cleared_after_fix_s)
    );
    // 6 s late, nothing of a period is visible at its close: it is judged at the next
    // evaluation, one cadence (10 s) later, both ways.
    let six = replay(&recording(), setting("10s:1of1:1"), Duration::from_secs(6)).unwrap();
    assert_eq!(
        six.fired_after_s.unwrap() - prompt.fired_after_s.unwrap(),
        10.0,
        "{six:?}"
    );
    assert_eq!(
        six.cleared_after_fix_s.unwrap() - prompt.cleared_after_fix_s.unwrap(),
        10.0,
        "{six:?}"
    );
}

#[test]
fn data_later_than_the_evaluation_range_is_never_seen() {
    // A 10 s, 1 of 1 alarm looks back 3 periods (30 s): failures 40 s late arrive after their
    // periods left the range, so the alarm never fires; a 30 s window (90 s back) still does.
    let short = replay(&recording(), setting("10s:1of1:1"), Duration::from_secs(40)).unwrap();
    assert_eq!(short.fired_after_s, None, "{short:?}");
    let wide = replay(&recording(), setting("30s:1of1:1"), Duration::from_secs(40)).unwrap();
    assert!(wide.fired_after_s.is_some(), "{wide:?}");
}

#[test]
fn an_alarm_before_the_fault_or_after_it_cleared_is_a_false_alarm() {
    let mut r = recording();
    r.points[1].1 = 3.0; // a blip at +5 s, before the fault
    r.points[20].1 = 3.0; // and one at +100 s, after the recovery
    let o = replay(&r, setting("10s:1of1:1"), Duration::ZERO).unwrap();
    assert_eq!(o.false_alarms, 2, "{o:?}");
    // A threshold above the blips ignores them.
    let o = replay(&r, setting("10s:1of1:5"), Duration::ZERO).unwrap();
    assert_eq!(o.false_alarms, 0, "{o:?}");
    assert!(o.changes.iter().any(|(_, s)| *s == AlarmState::Alarm));
}

#[test]
fn bad_settings_and_recordings_are_refused_with_the_reason() {
    let err = |s: &str| s.parse::<Setting>().unwrap_err();
    assert!(err("10s").contains("three or four parts"), "{}", err("10s"));
    assert!(err("10:1of1:1").contains("the period must end in 's'"));
    assert!(err("10s:1/1:1").contains("\"1/1\" is not MofN"));
    assert!(
        err("15s:1of1:1").contains("period 15 is not an alarm period"),
        "{}",
        err("15s:1of1:1")
    );
    assert!(
        err("10s:2of1:1").contains("datapoints_to_alarm"),
        "{}",
        err("10s:2of1:1")
    );
    assert!(err("10s:1of1:1:sometimes").contains("\"sometimes\" is not a missing-data rule"));
    assert!(err("10s:1of1:abc").contains("threshold \"abc\" is not a number"));
    assert!(err("10s:xof1:1").contains("M \"x\" is not a whole number"));
    assert_eq!(
        setting("30s:2of3:1:missing").to_string(),
        "30 s, 2 of 3, >= 1, missing"
    );
    let empty = Recording {
        points: Vec::new(),
        ..recording()
    };
    assert_eq!(
        replay(&empty, setting("10s:1of1:1"), Duration::ZERO),
        Err(ReplayError::Empty)
    );
    let coarse = Recording {
        bucket_s: 20,
        ..recording()
    };
    assert_eq!(
        replay(&coarse, setting("10s:1of1:1"), Duration::ZERO)
            .unwrap_err()
            .to_string(),
        "the 10 s period is not a whole number of the recording's 20 s buckets"
    );
}
