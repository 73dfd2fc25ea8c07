//! Outside services that fail for a while (the mail server, the payment provider): staff
//! hear once when one has been failing for `alert_after`, not once per letter or payment,
//! and once more when it works again. Kept in memory: after a restart a service still
//! failing is reported again, which is what staff need to know.
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub struct Health {
    alert_after: i64,
    failing: Mutex<HashMap<String, Failing>>,
}

#[derive(Debug, Clone, Copy)]
struct Failing {
    since: i64,
    alerted: bool,
}

/// What a failure or a success means for staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to say (yet, or again).
    Quiet,
    /// The service has been failing long enough: tell staff.
    Alert,
    /// The service works again after staff were told it failed; it failed since then.
    Recovered { since: i64 },
}

impl Health {
    pub fn new(alert_after_seconds: u64) -> Self {
        Self {
            alert_after: alert_after_seconds as i64,
            failing: Mutex::new(HashMap::new()),
        }
    }

    /// A call to `service` failed at `now`; `at_once` when staff must hear now (a learner
    /// was turned away).
    pub fn failed(&self, service: &str, now: i64, at_once: bool) -> Verdict {
        let mut failing = self.failing.lock().expect("health lock");
        let entry = failing.entry(service.to_owned()).or_insert(Failing {
            since: now,
            alerted: false,
        });
        if !entry.alerted && (at_once || now - entry.since >= self.alert_after) {
            entry.alerted = true;
            Verdict::Alert
        } else {
            Verdict::Quiet
        }
    }

    /// Since when `service` has been failing, if it is.
    pub fn failing_since(&self, service: &str) -> Option<i64> {
        let failing = self.failing.lock().expect("health lock");
        failing.get(service).map(|f| f.since)
    }

    /// A call to `service` went through.
    pub fn succeeded(&self, service: &str) -> Verdict {
        let mut failing = self.failing.lock().expect("health lock");
        match failing.remove(service) {
            Some(Failing {
                since,
                alerted: true,
            }) => Verdict::Recovered { since },
            _ => Verdict::Quiet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_alert_after_a_while_and_one_when_back() {
        let h = Health::new(60);
        assert_eq!(h.failed("smtp", 100, false), Verdict::Quiet);
        assert_eq!(h.failed("smtp", 130, false), Verdict::Quiet);
        assert_eq!(h.failed("smtp", 160, false), Verdict::Alert);
        assert_eq!(h.failed("smtp", 500, false), Verdict::Quiet);
        assert_eq!(h.failing_since("smtp"), Some(100));
        assert_eq!(h.succeeded("smtp"), Verdict::Recovered { since: 100 });
        assert_eq!(h.failing_since("smtp"), None);
        assert_eq!(h.succeeded("smtp"), Verdict::Quiet);
    }

    #[test]
    fn a_short_hiccup_stays_quiet_and_urgent_failures_alert_at_once() {
        let h = Health::new(60);
        assert_eq!(h.failed("smtp", 100, false), Verdict::Quiet);
        assert_eq!(h.succeeded("smtp"), Verdict::Quiet);
        assert_eq!(h.failed("yookassa", 100, true), Verdict::Alert);
        assert_eq!(h.failed("smtp", 100, false), Verdict::Quiet);
    }
}
