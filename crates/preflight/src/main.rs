//! `scripts/preflight`'s checker: reads `{"worker":"resolver"|"control","vars":{…},
//! "secrets":[names]|null}` on stdin and writes `{"problems":[{"setting","problem"}],
//! "unchecked":[names]}`. A native program, built beside the tests: the checks are the Workers'
//! own parsers (see `tenant_common::preflight`).

use std::collections::BTreeMap;
use std::io::Read;
use std::process::ExitCode;

#[derive(serde::Deserialize)]
struct Input {
    worker: String,
    vars: BTreeMap<String, String>,
    secrets: Option<Vec<String>>,
}

fn main() -> ExitCode {
    let mut text = String::new();
    let input: Input = match std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_str(&text).map_err(|e| e.to_string()))
    {
        Ok(input) => input,
        Err(e) => {
            eprintln!("preflight: unreadable input: {e}");
            return ExitCode::from(2);
        }
    };
    let secrets = input.secrets.as_deref();
    let report = match input.worker.as_str() {
        "resolver" => tenant_resolver::preflight::resolver(&input.vars, secrets),
        "control" => tenant_control::preflight::control(&input.vars, secrets),
        other => {
            eprintln!("preflight: no Worker {other:?} (resolver or control)");
            return ExitCode::from(2);
        }
    };
    let problems: Vec<_> = report
        .problems
        .iter()
        .map(|(setting, problem)| serde_json::json!({ "setting": setting, "problem": problem }))
        .collect();
    println!(
        "{}",
        serde_json::json!({ "problems": problems, "unchecked": report.unchecked })
    );
    ExitCode::SUCCESS
}
