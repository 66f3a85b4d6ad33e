//! Renders an incident report and PNGs of its errors, invocations and alarm-state charts for
//! the README.
//!
//! ```text
//! cargo run -p incident-report --example render_example [-- INCIDENT_JSON [OUT_DIR]]
//! ```
//!
//! Without arguments it renders the sample incident into `docs/report-example/`. Given the
//! `incident.json` of a real drill it renders that instead. The PNG is taken with headless
//! Chromium (Debian's `chromium`); without it the PNG step is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use incident_report::{read_incident, sample, write_report};
use time::macros::datetime;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().and_then(Path::parent).unwrap_or(manifest);
    let incident = match args.next() {
        Some(path) => match read_incident(&path) {
            Ok(incident) => incident,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => sample::incident(datetime!(2026-11-25 14:02:05 UTC)),
    };
    let out = args
        .next()
        .map_or_else(|| root.join("docs/report-example"), PathBuf::from);
    let files = match write_report(&incident, &out) {
        Ok(files) => files,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("report: {}", files.html.display());
    for chart in &files.charts {
        if let Some(name) = chart.file_name().and_then(|n| n.to_str()) {
            let png = out.join(name.replace(".svg", ".png"));
            if ["errors.svg", "invocations.svg", "alarm-state.svg"].contains(&name) {
                match screenshot(chart, &png) {
                    Ok(()) => println!("png: {}", png.display()),
                    Err(e) => eprintln!("skipping {}: {e}", png.display()),
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// Reads the SVG's own size so the PNG has no margins, then screenshots it.
fn screenshot(svg: &Path, png: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(svg).map_err(|e| e.to_string())?;
    let attr = |name: &str| -> Option<u32> {
        let start = text.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = start + text[start..].find('"')?;
        text[start..end].parse::<f64>().ok().map(|v| v.ceil() as u32)
    };
    let (w, h) = (attr("width").unwrap_or(900), attr("height").unwrap_or(400));
    let profile = tempfile_dir()?;
    let status = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--window-size={w},{h}"))
        .arg(svg.canonicalize().map_err(|e| e.to_string())?)
        .output()
        .map_err(|e| format!("cannot run chromium: {e}"))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !status.status.success() || !png.exists() {
        return Err(format!(
            "chromium failed: {}",
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("render-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}
