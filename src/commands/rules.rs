//! `toolmark rules`: what the trace knowledge base holds, and `--check FILE` to
//! validate a rules file before using it with `--rules`.

use std::path::Path;
use std::process::ExitCode;

use super::{Outcome, EXIT_FAILURE};
use crate::traces::{self, KnowledgeBase, RulesError};

/// Runs `toolmark rules [--check FILE] [--json]`.
pub fn run(check: Option<&Path>, json: bool) -> Outcome {
    let loaded = match check {
        Some(path) => traces::load_path(path),
        None => traces::load_embedded(),
    };
    let kb = match loaded {
        Ok(kb) => kb,
        Err(RulesError::Invalid(problems)) => {
            let name =
                check.map_or_else(|| "embedded rules".to_string(), |p| p.display().to_string());
            for p in &problems {
                eprintln!("{name}:{}:{}: {}", p.line, p.column, p.message);
            }
            eprintln!("toolmark: error: {name}: {} problem(s)", problems.len());
            return Ok(ExitCode::from(EXIT_FAILURE));
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        say!("{}", serde_json::to_string_pretty(&kb.summary())?);
    } else {
        print_table(&kb)?;
        if let Some(path) = check {
            say!("{}: valid", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(kb: &KnowledgeBase) -> std::io::Result<()> {
    let summary = kb.summary();
    say!(
        "{:<34} {:<28} {:>7} {:>10} {:>8}",
        "tool",
        "category",
        "anchors",
        "supporting",
        "success"
    );
    for tool in &summary.tools {
        say!(
            "{:<34} {:<28} {:>7} {:>10} {:>8}",
            tool.name,
            tool.category.as_str(),
            tool.counts.anchors,
            tool.counts.supporting,
            tool.counts.success
        );
    }
    say!();
    for category in &summary.categories {
        say!(
            "{:<34} {:>3} tools {:>5} anchors {:>5} supporting",
            category.category.as_str(),
            category.tools,
            category.counts.anchors,
            category.counts.supporting
        );
    }
    let t = &summary.total;
    say!(
        "{} tools, {} traces: {} anchors, {} supporting ({} success indicators)",
        summary.tools.len(),
        t.traces,
        t.anchors,
        t.supporting,
        t.success
    );
    Ok(())
}
