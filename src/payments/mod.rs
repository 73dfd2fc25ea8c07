//! Payments adapter: the YooKassa API client (`yookassa`) and the retry policy its calls use.
//!
//! `retry` is shared with the webinar adapter: both talk to outside HTTP APIs whose transient
//! failures (timeouts, 429, 5xx) are worth a few patient retries.
pub mod yookassa;

pub use retry::RetryPolicy;
pub use yookassa::{
    parse_notification, parse_payment, Cancellation, ConfigError, NewPayment, Notification,
    NotificationError, NotificationEvent, Payment, PaymentError, PaymentStatus, YooKassa,
    YooKassaParams,
};

/// Retries with exponential backoff for outside HTTP APIs.
pub mod retry {
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use rand::Rng;
    use reqwest::{header::RETRY_AFTER, RequestBuilder, StatusCode};

    /// How many times, and how patiently, a call that failed transiently is repeated.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RetryPolicy {
        /// Tries in all, the first included: 1 means no retry.
        pub max_attempts: u32,
        /// Pause before the first retry; it doubles for every further one.
        pub base_delay: Duration,
        /// The longest single pause, ours or one a server asks for with `Retry-After`.
        /// A server that asks for more is not waited for: the call gives up at once.
        pub max_delay: Duration,
        /// The whole call, every attempt and pause, ends by then: someone may be waiting
        /// for it (a learner who pressed «Оплатить»), and a server that hangs on every
        /// attempt would otherwise hold them for `max_attempts` timeouts.
        pub give_up_after: Duration,
    }

    impl Default for RetryPolicy {
        fn default() -> Self {
            Self {
                max_attempts: 4,
                base_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(10),
                give_up_after: Duration::from_secs(30),
            }
        }
    }

    impl RetryPolicy {
        /// The pause before retry number `retry` (1 for the first retry): `base · 2^(retry-1)`,
        /// capped at `max_delay`, with jitter in its upper half so that clients retrying
        /// together do not hammer the server in step.
        pub fn backoff(&self, retry: u32) -> Duration {
            let exponent = retry.saturating_sub(1).min(20);
            let full = self
                .base_delay
                .saturating_mul(1u32 << exponent)
                .min(self.max_delay);
            let half = full / 2;
            let jitter_ms = u64::try_from((full - half).as_millis()).unwrap_or(u64::MAX);
            half + Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms))
        }

        /// The pause before retry number `retry`, honouring a server's `Retry-After`;
        /// `None` when the server wants a longer pause than this policy accepts.
        pub fn pause(&self, retry: u32, retry_after: Option<Duration>) -> Option<Duration> {
            match retry_after {
                Some(asked) if asked > self.max_delay => None,
                Some(asked) => Some(asked.max(self.backoff(retry))),
                None => Some(self.backoff(retry)),
            }
        }
    }

    /// Statuses that say "not now" rather than "never": rate limits and server trouble.
    pub fn is_retryable_status(status: StatusCode) -> bool {
        status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
    }

    /// `Retry-After` as delta-seconds or as an HTTP-date (RFC 9110 §10.2.3).
    pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        let at = DateTime::parse_from_rfc2822(value)
            .ok()?
            .with_timezone(&Utc);
        Some((at - now).to_std().unwrap_or(Duration::ZERO))
    }

    /// A whole answer: status, the pause the server asked for, and the body read to the end.
    #[derive(Debug, Clone)]
    pub struct RawResponse {
        pub status: StatusCode,
        pub retry_after: Option<Duration>,
        pub body: Vec<u8>,
    }

    /// The server could not be reached or did not answer in time, on every attempt.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TransportError {
        pub timed_out: bool,
        /// The cause, without the URL.
        pub detail: String,
        pub attempts: u32,
    }

    impl std::fmt::Display for TransportError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            let what = if self.timed_out {
                "timed out"
            } else {
                "failed"
            };
            write!(
                f,
                "request {what} after {} attempt(s): {}",
                self.attempts, self.detail
            )
        }
    }

    /// Sends the request `build` makes until an answer is final or `policy` gives up.
    ///
    /// Connection errors, timeouts (the client's own per-request timeout), 429 and 5xx are
    /// retried; any other answer is returned at once. When attempts run out on a retryable
    /// status, that last answer is returned for the caller to map. `build` is called once per
    /// attempt and must rebuild the very same request (for a POST, with the same idempotence key).
    pub async fn send_with_retry<F>(
        policy: &RetryPolicy,
        what: &'static str,
        mut build: F,
    ) -> Result<RawResponse, TransportError>
    where
        F: FnMut() -> RequestBuilder,
    {
        let attempts = policy.max_attempts.max(1);
        let deadline = tokio::time::Instant::now() + policy.give_up_after;
        let mut attempt = 1;
        loop {
            let outcome = match tokio::time::timeout_at(deadline, attempt_once(build())).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    return Err(TransportError {
                        timed_out: true,
                        detail: format!(
                            "no answer within {} s in all",
                            policy.give_up_after.as_secs()
                        ),
                        attempts: attempt,
                    })
                }
            };
            let retry_after = match outcome {
                Ok(response) if !is_retryable_status(response.status) => return Ok(response),
                Ok(ref response) => response.retry_after,
                Err(_) => None,
            };
            let pause = if attempt < attempts {
                policy.pause(attempt, retry_after)
            } else {
                None
            };
            // A pause that ends past the deadline leaves no time for the attempt after it.
            let pause = pause.filter(|p| tokio::time::Instant::now() + *p < deadline);
            let Some(pause) = pause else {
                return outcome.map_err(|(timed_out, detail)| TransportError {
                    timed_out,
                    detail,
                    attempts: attempt,
                });
            };
            match &outcome {
                Ok(response) => tracing::warn!(
                    api = what,
                    attempt,
                    status = response.status.as_u16(),
                    pause_ms = pause.as_millis() as u64,
                    "transient HTTP status, retrying"
                ),
                Err((timed_out, detail)) => tracing::warn!(
                    api = what,
                    attempt,
                    timed_out,
                    error = %detail,
                    pause_ms = pause.as_millis() as u64,
                    "request failed, retrying"
                ),
            }
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }

    async fn attempt_once(request: RequestBuilder) -> Result<RawResponse, (bool, String)> {
        let response = request.send().await.map_err(describe)?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        // The body is read inside the attempt: a timeout while reading it is retried too.
        let body = response.bytes().await.map_err(describe)?.to_vec();
        Ok(RawResponse {
            status,
            retry_after,
            body,
        })
    }

    /// `(timed_out, cause chain)` of a reqwest error, without the URL.
    fn describe(error: reqwest::Error) -> (bool, String) {
        let timed_out = error.is_timeout();
        let error = error.without_url();
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        (timed_out, detail)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use chrono::TimeZone;

        fn policy() -> RetryPolicy {
            RetryPolicy {
                max_attempts: 5,
                base_delay: Duration::from_millis(100),
                max_delay: Duration::from_millis(1000),
                ..RetryPolicy::default()
            }
        }

        #[test]
        fn backoff_doubles_within_jitter_and_is_capped() {
            let p = policy();
            for _ in 0..50 {
                let first = p.backoff(1);
                assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
                let third = p.backoff(3);
                assert!(third >= Duration::from_millis(200) && third <= Duration::from_millis(400));
                let tenth = p.backoff(10);
                assert!(
                    tenth >= Duration::from_millis(500) && tenth <= Duration::from_millis(1000)
                );
            }
        }

        #[test]
        fn retry_after_is_honoured_unless_too_long() {
            let p = policy();
            assert_eq!(
                p.pause(1, Some(Duration::from_millis(900))),
                Some(Duration::from_millis(900))
            );
            assert_eq!(p.pause(1, Some(Duration::from_secs(5))), None);
            assert!(p.pause(1, Some(Duration::ZERO)).unwrap() >= Duration::from_millis(50));
        }

        #[test]
        fn retry_after_parses_seconds_and_http_dates() {
            let now = Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap();
            assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
            assert_eq!(
                parse_retry_after("Sat, 01 Mar 2025 10:00:30 GMT", now),
                Some(Duration::from_secs(30))
            );
            assert_eq!(
                parse_retry_after("Sat, 01 Mar 2025 09:00:00 GMT", now),
                Some(Duration::ZERO)
            );
            assert_eq!(parse_retry_after("soon", now), None);
        }

        #[test]
        fn only_rate_limits_and_server_errors_are_retryable() {
            assert!(is_retryable_status(StatusCode::TOO_MANY_REQUESTS));
            assert!(is_retryable_status(StatusCode::INTERNAL_SERVER_ERROR));
            assert!(is_retryable_status(StatusCode::BAD_GATEWAY));
            assert!(!is_retryable_status(StatusCode::BAD_REQUEST));
            assert!(!is_retryable_status(StatusCode::UNAUTHORIZED));
            assert!(!is_retryable_status(StatusCode::OK));
        }
    }
}
