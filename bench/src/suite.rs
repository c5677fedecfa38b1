//! The recorded matrix (`fidelis-bench suite`): the baselines (healthz, ceiling) and Fidelis's scenarios,
//! round after round; then every run as a ratio to its baseline measured in the same round, because this
//! machine's speed varies up to 3× from day to day and only ratios within one run compare across days.

use crate::load::{Measured, Scenario};
use crate::{Backend, HEADER, RunArgs};

/// Most rounds `--repeat` takes.
pub const ROUNDS_MAX: u64 = 20;
/// The fixed-rate runs are a latency check (p99 at a realistic load), not a throughput measurement.
const LATENCY_CHECK_RATE_PER_SECOND: u64 = 2_000;
const LATENCY_CHECK_CONNECTIONS: usize = 32;
/// Dynamic segments of the ingestion-with-segments run.
const SEGMENTS_RUN_COUNT: usize = 50;

/// One round: the baselines first, then one line per run. A new scenario is one more line here (and its
/// baseline in `Scenario::baseline`).
fn matrix(seconds: u64, sqlite_only: bool) -> Vec<RunArgs> {
    let base = RunArgs {
        scenario: Scenario::Orders,
        backend: Backend::Sqlite,
        rate: 0,
        seconds,
        warmup_seconds: 2,
        connections: 64,
        customers: 10_000,
        writers: fidelis_store::POSTGRES_WRITERS_DEFAULT,
        segments: 0,
        earning_rules: false,
        nodes: 1,
    };
    let with_rules = RunArgs { earning_rules: true, ..base.clone() };
    let latency_check =
        RunArgs { rate: LATENCY_CHECK_RATE_PER_SECOND, connections: LATENCY_CHECK_CONNECTIONS, ..base.clone() };
    let mut runs = vec![
        RunArgs { scenario: Scenario::Healthz, ..base.clone() },
        RunArgs { scenario: Scenario::Ceiling, ..base.clone() },
        RunArgs { scenario: Scenario::Events, ..base.clone() },
        base.clone(),
        latency_check.clone(),
        RunArgs { segments: SEGMENTS_RUN_COUNT, ..base.clone() },
        RunArgs { scenario: Scenario::Programs, ..base.clone() },
        with_rules.clone(),
        RunArgs { rate: LATENCY_CHECK_RATE_PER_SECOND, connections: LATENCY_CHECK_CONNECTIONS, ..with_rules.clone() },
        RunArgs { scenario: Scenario::DryOrders, ..with_rules.clone() },
    ];
    if !sqlite_only {
        let postgres = RunArgs { backend: Backend::Postgres, ..base.clone() };
        runs.push(RunArgs { scenario: Scenario::Events, ..postgres.clone() });
        runs.push(postgres.clone());
        runs.push(RunArgs { earning_rules: true, ..postgres.clone() });
        runs.push(RunArgs { backend: Backend::Postgres, ..latency_check });
        let hot_counter = RunArgs { scenario: Scenario::Programs, ..postgres };
        runs.push(hot_counter.clone());
        runs.push(RunArgs { nodes: 2, ..hot_counter });
    }
    runs
}

/// Runs `repeat` rounds of the matrix, printing each run as it finishes, then the ratio table.
pub async fn suite(seconds: u64, sqlite_only: bool, repeat: u64) -> anyhow::Result<()> {
    let matrix = matrix(seconds, sqlite_only);
    println!("{HEADER}");
    let mut rounds = Vec::new();
    for _ in 0..repeat {
        let mut round = Vec::with_capacity(matrix.len());
        for args in &matrix {
            let measured = crate::run(args).await?;
            println!("{}", crate::row(args, &measured));
            round.push(measured);
        }
        rounds.push(round);
    }
    println!();
    println!("{}", ratio_table(&matrix, &rounds));
    Ok(())
}

/// The run a ratio is taken against: the baseline scenario at maximum rate on SQLite without segments.
fn baseline_index(matrix: &[RunArgs], scenario: Scenario) -> Option<usize> {
    let wanted = scenario.baseline();
    matrix.iter().position(|a| {
        a.scenario == wanted
            && a.backend == Backend::Sqlite
            && a.rate == 0
            && a.segments == 0
            && !a.earning_rules
            && a.nodes == 1
    })
}

/// Throughput of every maximum-rate run over its baseline's in the same round, one column per round; with
/// more than one round also the median and the spread ((max − min) / median) as an estimate of the noise.
fn ratio_table(matrix: &[RunArgs], rounds: &[Vec<Measured>]) -> String {
    let many = rounds.len() > 1;
    let mut out = String::from("| scenario | backend | load | connections | ratio to |");
    let mut rule = String::from("|---|---|---|---|---|");
    for round in 1..=rounds.len() {
        out.push_str(&format!(" round {round} |"));
        rule.push_str("---|");
    }
    if many {
        out.push_str(" median | spread |");
        rule.push_str("---|---|");
    }
    out = format!("{out}\n{rule}");
    let mut above_ceiling = Vec::new();
    for (i, args) in matrix.iter().enumerate().filter(|(_, a)| a.rate == 0) {
        let Some(baseline) = baseline_index(matrix, args.scenario) else { continue };
        let ratios: Vec<Option<f64>> = rounds.iter().map(|r| ratio(&r[i], &r[baseline])).collect();
        let cells: Vec<String> = ratios.iter().map(|r| r.map_or("n/a".to_owned(), |r| format!("{r:.3}"))).collect();
        let name = crate::label(args);
        out.push_str(&format!(
            "\n| {name} | {:?} | {} | {} | {:?} | {} |",
            args.backend,
            crate::load_label(args),
            args.connections,
            args.scenario.baseline(),
            cells.join(" | ")
        ));
        let known: Vec<f64> = ratios.iter().flatten().copied().collect();
        if many {
            out.push_str(&spread_cells(&known));
        }
        if args.scenario.baseline() == Scenario::Ceiling && known.iter().any(|r| *r > 1.0) {
            above_ceiling.push(format!("{name} on {:?}", args.backend));
        }
    }
    if !above_ceiling.is_empty() {
        out.push_str(&format!(
            "\n\nWARNING: faster than the ceiling in some round: {}. The ceiling is meant to be the upper bound \
             of a durable HTTP write; look at the ceiling server (or at noise) before recording these.",
            above_ceiling.join(", ")
        ));
    }
    out.push_str("\n\nFixed-rate runs are latency checks and have no ratio; see their percentiles above.");
    out
}

/// `None` when either run failed to measure anything.
fn ratio(run: &Measured, baseline: &Measured) -> Option<f64> {
    let (run, baseline) = (run.throughput(), baseline.throughput());
    (run > 0.0 && baseline > 0.0).then(|| run / baseline)
}

fn spread_cells(ratios: &[f64]) -> String {
    let mut sorted = ratios.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else { return " n/a | n/a |".to_owned() };
    let middle = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 { sorted[middle] } else { (sorted[middle - 1] + sorted[middle]) / 2.0 };
    format!(" {median:.3} | {:.1} % |", (max - min) / median * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_maximum_rate_run_of_the_matrix_has_its_baseline_in_the_matrix() {
        for sqlite_only in [true, false] {
            let matrix = matrix(1, sqlite_only);
            for args in matrix.iter().filter(|a| a.rate == 0) {
                assert!(baseline_index(&matrix, args.scenario).is_some(), "{} has no baseline", crate::label(args));
            }
        }
    }

    #[test]
    fn the_baselines_run_first_in_a_round() {
        let matrix = matrix(1, false);
        assert_eq!(matrix[0].scenario, Scenario::Healthz);
        assert_eq!(matrix[1].scenario, Scenario::Ceiling);
    }
}
