//! A closed-loop load generator: N workers, each running its scenario again and again until the
//! time or the operation budget is spent, every request timed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// Latencies of one kind of request, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<u64>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_micros().min(u128::from(u64::MAX)) as u64);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    /// The `q`-quantile (0..=1) in milliseconds, nearest rank.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        v[rank - 1] as f64 / 1000.0
    }
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Report {
    pub elapsed: Duration,
    pub ok: u64,
    pub failed: u64,
    pub first_error: Option<String>,
    /// Per request kind.
    pub samples: BTreeMap<&'static str, Samples>,
}

impl Report {
    pub fn all(&self) -> Samples {
        let mut all = Samples::default();
        for s in self.samples.values() {
            all.extend(s);
        }
        all
    }

    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Times requests for one worker; handed to the scenario.
pub struct Timer {
    samples: BTreeMap<&'static str, Samples>,
    ok: u64,
    failed: u64,
    first_error: Option<String>,
    budget: Arc<AtomicU64>,
    deadline: Instant,
}

impl Timer {
    /// Runs one request and records its latency under `kind`. Returns `None` when it failed
    /// (the scenario should then start over) or when the run is over.
    pub async fn time<T, F>(&mut self, kind: &'static str, f: F) -> Option<T>
    where
        F: Future<Output = anyhow::Result<T>>,
    {
        if self.over() {
            return None;
        }
        let t0 = Instant::now();
        let r = f.await;
        let d = t0.elapsed();
        match r {
            Ok(v) => {
                self.samples.entry(kind).or_default().push(d);
                self.ok += 1;
                Some(v)
            }
            Err(e) => {
                self.failed += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(format!("{kind}: {e:#}"));
                }
                None
            }
        }
    }

    /// True once the time is up or the operation budget is spent (the budget is taken here).
    fn over(&self) -> bool {
        if Instant::now() >= self.deadline {
            return true;
        }
        self.budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
            .is_err()
    }

    pub fn finished(&self) -> bool {
        Instant::now() >= self.deadline || self.budget.load(Ordering::Relaxed) == 0
    }
}

/// Runs `workers` copies of `scenario` for at most `duration` and at most `max_requests`
/// requests in all. `scenario(worker, timer)` runs one round; it is called again until the end.
pub async fn run<S, Fut>(
    workers: usize,
    duration: Duration,
    max_requests: u64,
    scenario: S,
) -> Report
where
    S: Fn(usize, Timer) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Timer> + Send + 'static,
{
    let scenario = Arc::new(scenario);
    let budget = Arc::new(AtomicU64::new(max_requests));
    let deadline = Instant::now() + duration;
    let report = Arc::new(Mutex::new(Report::default()));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (scenario, budget, report) = (scenario.clone(), budget.clone(), report.clone());
        tasks.push(tokio::spawn(async move {
            let mut timer = Timer {
                samples: BTreeMap::new(),
                ok: 0,
                failed: 0,
                first_error: None,
                budget,
                deadline,
            };
            // A scenario that keeps failing must not spin: a bounded number of failed rounds.
            let mut failed_rounds = 0u32;
            while !timer.finished() && failed_rounds < 50 {
                let before = timer.failed;
                timer = scenario(w, timer).await;
                if timer.failed > before {
                    failed_rounds += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            let mut r = report.lock().await;
            r.ok += timer.ok;
            r.failed += timer.failed;
            if r.first_error.is_none() {
                r.first_error = timer.first_error;
            }
            for (k, s) in timer.samples {
                r.samples.entry(k).or_default().extend(&s);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let mut report = Arc::try_unwrap(report)
        .map(Mutex::into_inner)
        .unwrap_or_default();
    report.elapsed = t0.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let mut s = Samples::default();
        for ms in 1..=100u64 {
            s.push(Duration::from_millis(ms));
        }
        assert_eq!(s.quantile_ms(0.5), 50.0);
        assert_eq!(s.quantile_ms(0.99), 99.0);
        assert_eq!(s.quantile_ms(1.0), 100.0);
        assert!(Samples::default().quantile_ms(0.5).is_nan());
    }

    #[tokio::test]
    async fn the_request_budget_bounds_the_run() {
        let r = run(4, Duration::from_secs(30), 37, |_, mut t| async move {
            t.time("noop", async { anyhow::Ok(()) }).await;
            t
        })
        .await;
        assert_eq!(r.ok, 37);
        assert_eq!(r.samples["noop"].len(), 37);
    }
}
